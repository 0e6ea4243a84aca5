/* SPDX-License-Identifier: MIT */
/*
 * The stress engine (test/stress-*.c, `make stress`): many faulting threads
 * and several handler threads on one registered area, for a while:
 *   faulters    read and write random pages (each writes only its own word
 *               of a page, and checks what it reads against what it wrote)
 *   resolvers   read the messages and answer: COPY (or ZEROPAGE where the
 *               memory has a zero page), sometimes DONTWAKE then WAKE;
 *               EEXIST is answered with WAKE; a WP fault is answered by
 *               un-protecting the page
 *   churner     write-protects runs of pages, and cycles chunks of the area
 *               through UNREGISTER, dropping some pages (they become missing
 *               again), REGISTER, racing the faults in them
 * At the end every page is checked, and the counters show no fault lost (all
 * threads finished: a lost wake-up would hang them) and no page resolved
 * twice (a COPY or ZEROPAGE that succeeded on a page holding data).
 * STRESS_SECONDS in the environment sets how long each area runs.
 */
#ifndef LIBUFFD_TEST_STRESS_H
#define LIBUFFD_TEST_STRESS_H

#include "harness.h"

enum stress_mem { STRESS_ANON, STRESS_SHMEM, STRESS_HUGETLB };

/* Run the engine on an area of npages pages of this kind for the time
 * STRESS_SECONDS says (default_seconds otherwise); records the outcome as
 * observables and expectations, and the counters on stderr. */
void stress_run(enum stress_mem mem, long npages, double default_seconds);

/* A resolver thread's loop: read fd's messages (up to 8 a read) until
 * stop_fd becomes readable, calling fn for each; a read that fails (but
 * with EAGAIN) calls fn with msg NULL and its errno. */
struct uffd_msg;
void stress_serve(int fd, int stop_fd,
		  void (*fn)(const struct uffd_msg *msg, int err, void *arg), void *arg);

#endif
