/* SPDX-License-Identifier: MIT */
/*
 * Under `uffd run`, read(2), readv(2) and poll(2) on a user-backend
 * userfaultfd follow the kernel's rules (EINVAL and POLLERR before
 * UFFDIO_API, EINVAL for less than a message, whole messages, POLLERR without
 * O_NONBLOCK): the unmodified client test/prog/read-rules.c prints the same
 * on both backends.  (Linked programs without the shim keep the pipe's
 * behaviour: the limits named in read-short-buffer and poll.)
 */
#include "run.h"

static void scenario(void)
{
	tr_prog(NULL, "read-rules", NULL);
}

T_MAIN("run-read-rules", scenario)
