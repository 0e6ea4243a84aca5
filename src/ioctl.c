/* SPDX-License-Identifier: MIT */
/* uffd_ioctl(): one entry point for both backends. */
#include <errno.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

int uffd_ioctl(int fd, unsigned long request, void *arg)
{
	const int hinted = uffd_user_hinted(fd);
	int handled;

	/* Kernel userfaultfds go straight through, at no extra cost; a
	 * user-backend fd under a number of its own (a dup) answers ENOTTY
	 * there, as a pipe, and is then recognised below.  What a pipe would
	 * answer unlike a userfaultfd is asked of the user backend first. */
	const int pipe_answers = request == FIONREAD || request == FIOASYNC;
	if (!hinted && !pipe_answers) {
		int ret = sys_ioctl(fd, request, arg);
		if (ret >= 0 || errno != ENOTTY)
			return ret;
	}
	int ret = uffd_user_ioctl(fd, request, arg, &handled);
	if (handled)
		return ret;
	if (!hinted && !pipe_answers) {
		errno = ENOTTY;
		return -1;
	}
	return sys_ioctl(fd, request, arg);
}

/* A kernel userfaultfd is an anonymous inode whose link reads "anon_inode:[userfaultfd]". */
static int is_kernel_uffd(int fd)
{
	char path[64], target[64];
	int n = snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);

	if (n < 0 || (size_t)n >= sizeof(path))
		return 0;
	ssize_t len = readlink(path, target, sizeof(target) - 1);
	if (len < 0)
		return 0;
	target[len] = 0;
	return !strcmp(target, "anon_inode:[userfaultfd]");
}

int uffd_fd_backend(int fd)
{
	struct stat st;

	if (sys_fstat(fd, &st) < 0)
		return -1;
	if (uffd_user_owns(fd))
		return UFFD_BACKEND_USER;
	if (is_kernel_uffd(fd))
		return UFFD_BACKEND_KERNEL;
	errno = EINVAL;
	return -1;
}
