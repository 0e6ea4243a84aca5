/* SPDX-License-Identifier: MIT */
/*
 * MADV_DONTNEED on registered anonymous memory without the events: a
 * dropped page of a MISSING range faults again, a dropped page loses its
 * write protection (with and without UFFD_FEATURE_WP_UNPOPULATED, as the
 * kernel does; the user backend used to block the next write in a WP
 * fault). test/prog/dontneed.c
 * Run under `uffd run` on both backends; the output must be the same.
 */
#include "run.h"

static void scenario(void)
{
	tr_prog(NULL, "dontneed", NULL);
}

T_MAIN("run-dontneed", scenario)
