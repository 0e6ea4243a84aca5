/* SPDX-License-Identifier: MIT */
/* uffd_ioctl(): one entry point for both backends. */
#include <errno.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

static const struct uffd_ops *const backends[] = {
	&uffd_kernel_ops, &uffd_user_ops, &uffd_remote_ops,
};
#define NBACKENDS (sizeof(backends) / sizeof(backends[0]))

int uffd_ioctl(int fd, unsigned long request, void *arg)
{
	const int saved_errno = errno;
	/* Kernel userfaultfds go straight through, at no extra cost; the fd
	 * numbers the user backend handed out skip that (a pipe answers
	 * ENOTTY); a user-backend fd under another number (a dup, or one
	 * received from another process) is recognised after the kernel's
	 * ENOTTY.  What a pipe answers unlike a userfaultfd (FIONREAD,
	 * FIOASYNC) is asked of the user backend first. */
	const size_t first = uffd_user_hinted(fd) || request == FIONREAD ||
			     request == FIOASYNC ? 1 : 0;
	int ret = -ENOTTY;

	for (size_t i = first; i < NBACKENDS && ret == -ENOTTY; i++)
		ret = backends[i]->ioctl(fd, request, arg);
	/* A hinted number that is no longer a user-backend fd (a user-backend
	 * fd's own ENOTTY, FIOASYNC's, stands). */
	if (ret == -ENOTTY && first && !uffd_user_ops.owns(fd))
		ret = uffd_kernel_ops.ioctl(fd, request, arg);
	if (ret < 0) {
		errno = -ret;
		return -1;
	}
	errno = saved_errno;
	return ret;
}

static int kernel_ioctl(int fd, unsigned long request, void *arg)
{
	int ret = sys_ioctl(fd, request, arg);

	return ret < 0 ? -errno : ret;
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

const struct uffd_ops uffd_kernel_ops = {
	.name = "kernel",
	.backend = UFFD_BACKEND_KERNEL,
	.owns = is_kernel_uffd,
	.ioctl = kernel_ioctl,
};

int uffd_fd_backend(int fd)
{
	struct stat st;

	if (sys_fstat(fd, &st) < 0)
		return -1;
	for (size_t i = 0; i < NBACKENDS; i++)
		if (backends[i]->owns(fd))
			return backends[i]->backend;
	errno = EINVAL;
	return -1;
}
