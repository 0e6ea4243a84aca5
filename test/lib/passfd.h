/* SPDX-License-Identifier: MIT */
/* Handing a file descriptor to another process over a unix socket
 * (SCM_RIGHTS), as a Firecracker-style VMM hands its userfaultfd to a
 * page-fault handler process. */
#ifndef LIBUFFD_TEST_PASSFD_H
#define LIBUFFD_TEST_PASSFD_H

/* Send fd over the unix socket sock: 0, or -1 with errno. */
int pfd_send(int sock, int fd);
/* Receive one fd from sock (close-on-exec): the fd, or -1 (errno; 0 at EOF). */
int pfd_recv(int sock);

#endif
