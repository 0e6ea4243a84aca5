/* SPDX-License-Identifier: MIT */
/*
 * Kernel-mode accesses under `uffd run`: read(2) of a file into registered
 * missing pages, pread(2), readv(2), recv(2) and a read(2) from a pipe that
 * waits for its data complete as on the kernel, each page faulting once as
 * a write (test/prog/kernel-read.c).  (Linked programs without the shim:
 * the limit named in kernel-mode-access.)
 */
#include "run.h"

static void scenario(void)
{
	tr_prog(NULL, "kernel-read", NULL);
}

T_MAIN("run-kernel-read", scenario)
