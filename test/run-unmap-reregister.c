/* SPDX-License-Identifier: MIT */
/*
 * Without the events: munmap ends a registration (another userfaultfd
 * registers the same addresses again), and memory mremap'ed out of a
 * registration is ordinary. test/prog/unmap-reregister.c
 * Run under `uffd run` on both backends; the output must be the same.
 */
#include "run.h"

static void scenario(void)
{
	tr_prog(NULL, "unmap-reregister", NULL);
}

T_MAIN("run-unmap-reregister", scenario)
