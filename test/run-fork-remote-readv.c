/* SPDX-License-Identifier: MIT */
/*
 * run-fork-remote with the handler reading its messages with readv(2), and
 * with syscall(SYS_readv), each message split over two buffers: the fork
 * event's fd is the handler's own whichever way it reads (the shim opens it
 * for the reader on every read path it interposes).  pread(2) on the
 * userfaultfd reads nothing (ESPIPE) on both backends.
 */
#include <unistd.h>
#include "run.h"

static void scenario(void)
{
	if (geteuid() != 0)
		t_skip("UFFD_FEATURE_EVENT_FORK needs CAP_SYS_PTRACE");
	tr_prog(NULL, "fork-remote", "readv");
	tr_prog(NULL, "fork-remote", "sys-readv");
}

T_MAIN("run-fork-remote-readv", scenario)
