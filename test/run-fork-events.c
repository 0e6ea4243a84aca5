/* SPDX-License-Identifier: MIT */
/*
 * UFFD_FEATURE_EVENT_FORK under the shim, CRIU-style (test/prog/fork-events.c):
 * the handler gets the child's userfaultfd in UFFD_EVENT_FORK, resolves the
 * child's faults through it, and the child's REMOVE, REMAP and UNMAP events
 * arrive on it, each call in the child waiting until its event is read.
 * Run under `uffd run` on both backends; the output must be the same.
 */
#include <unistd.h>
#include "run.h"

static void scenario(void)
{
	if (geteuid() != 0)
		t_skip("UFFD_FEATURE_EVENT_FORK needs CAP_SYS_PTRACE");
	tr_prog(NULL, "fork-events", NULL);
}

T_MAIN("run-fork-events", scenario)
