/* SPDX-License-Identifier: MIT */
#include <errno.h>

#include "harness.h"
#include "passfd.h"

pid_t pfd_fork(int (*fn)(int sock, void *arg), void *arg, int *sock)
{
	pid_t pid = pfd_spawn(fn, arg, sock);

	if (pid < 0)
		T_FATAL("socketpair or fork: %s", t_errname(errno));
	return pid;
}

void pfd_hand_over(int sock, void *mem, size_t len)
{
	int fd = t_uffd_api(O_CLOEXEC | O_NONBLOCK, 0);

	t_register(fd, mem, len, UFFDIO_REGISTER_MODE_MISSING);
	T_ASSERT(pfd_send(sock, fd) == 0);
	close(fd);
}
