/* SPDX-License-Identifier: MIT */
/*
 * UFFD_FEATURE_EVENT_FORK with the handler in another process (the fd sent
 * over a unix socket, as to CRIU's lazy-pages daemon), under the shim
 * (test/prog/fork-remote.c): the fork event's fd is one of the handler's
 * own, the child's fault and UNMAP arrive on it.  Run under `uffd run` on
 * both backends; the output must be the same.
 */
#include <unistd.h>
#include "run.h"

static void scenario(void)
{
	if (geteuid() != 0)
		t_skip("UFFD_FEATURE_EVENT_FORK needs CAP_SYS_PTRACE");
	tr_prog(NULL, "fork-remote", NULL);
}

T_MAIN("run-fork-remote", scenario)
