/* SPDX-License-Identifier: MIT */
/* Handing a file descriptor to another process over a unix socket
 * (SCM_RIGHTS), as a Firecracker-style VMM hands its userfaultfd to a
 * page-fault handler process. */
#ifndef LIBUFFD_TEST_PASSFD_H
#define LIBUFFD_TEST_PASSFD_H

#include <stddef.h>
#include "passfd_io.h"   /* pfd_send(), pfd_recv(), pfd_spawn() */

/* Fork a handler process that runs fn(sock, arg) and exits with its return
 * value; the parent gets its end of the unix socket pair in *sock.  Fatal
 * on failure. */
pid_t pfd_fork(int (*fn)(int sock, void *arg), void *arg, int *sock);
/* As a VMM does: open a userfaultfd on this half's backend, register
 * [mem, mem+len) MISSING, send the fd to the handler over sock and close it
 * here (the handler then holds the only reference).  Fatal on failure. */
void pfd_hand_over(int sock, void *mem, size_t len);

#endif
