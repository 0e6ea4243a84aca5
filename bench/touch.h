/* SPDX-License-Identifier: MIT */
/* The first-touch scenarios' parameters (touch.c), named in scenarios.c. */
#ifndef UFFD_BENCH_TOUCH_H
#define UFFD_BENCH_TOUCH_H

#include "bench.h"

enum touch_resolve { T_NONE, T_THREAD_COPY, T_THREAD_ZERO, T_SIGBUS };
enum touch_pin { PIN_NONE, PIN_SAME, PIN_OTHER };

struct touch_arg {
	enum touch_resolve resolve;
	bool random;             /* pages in a random order */
	int threads;             /* touching threads (1..8) */
	bool shared;             /* threads touch random pages of the whole region */
	enum touch_pin pin;      /* handler (and toucher) CPUs */
	int ranges;              /* split into this many registered ranges */
};

int touch_run(const struct scenario *s, int backend, struct sample *out, char *err,
	      size_t errlen);

#endif
