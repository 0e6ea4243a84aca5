/* SPDX-License-Identifier: MIT */
/* `uffd bench`: the results of a run (bench.c runs, bench_report.c prints). */
#ifndef UFFD_TOOLS_BENCH_H
#define UFFD_TOOLS_BENCH_H

#include <stdio.h>

#include "../bench/bench.h"

enum cell_status { C_OK, C_UNAVAILABLE, C_UNSUPPORTED, C_FAILED };

struct cell {
	enum cell_status status;
	char why[224];
	int n;                        /* samples taken */
	struct sample *s;
	double best, med, worst;      /* over s[].v */
	double xmed[BENCH_EXTRAS];    /* medians of the extras */
};

struct bench_run {
	const char *command;          /* as typed */
	bool want[64];                /* per scenario */
	bool backends[B_COUNT];       /* asked for */
	bool avail[B_COUNT];
	char how[B_COUNT][64];
	char why[B_COUNT][224];
	unsigned long long features[B_COUNT];
	struct cell cells[64][B_COUNT];   /* no_uffd scenarios: [B_KERNEL] */
};

void bench_summarize(const struct scenario *sc, struct cell *c);
/* user median / kernel median, or 0 when either is missing. */
double bench_ratio(const struct bench_run *r, size_t i);
void bench_print_table(FILE *f, const struct bench_run *r);
void bench_print_json(FILE *f, const struct bench_run *r);

#endif
