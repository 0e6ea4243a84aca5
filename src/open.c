/* SPDX-License-Identifier: MIT */
/* uffd_open(): choosing a backend, and saying why none would open. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

static __thread char last_why[256];

void uffd_set_why(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_why, sizeof(last_why), fmt, ap);
	va_end(ap);
}

const char *uffd_strerror(void)
{
	return last_why[0] ? last_why : "no error";
}

const char *uffd_backend_name(enum uffd_backend backend)
{
	switch (backend) {
	case UFFD_BACKEND_AUTO:
		return "auto";
	case UFFD_BACKEND_KERNEL:
		return "kernel";
	case UFFD_BACKEND_USER:
		return "user";
	}
	return "unknown";
}

/* UFFD_BACKEND=kernel|user in the environment forces what AUTO picks. */
static enum uffd_backend auto_choice(void)
{
	const char *env = getenv("UFFD_BACKEND");

	if (env && !strcmp(env, "kernel"))
		return UFFD_BACKEND_KERNEL;
	if (env && !strcmp(env, "user"))
		return UFFD_BACKEND_USER;
	return UFFD_BACKEND_AUTO;
}

#define OPEN_FLAGS (O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY | \
		    UFFD_OPEN_ALLOW_USER_MODE_ONLY)

/* The user backend has no privilege to lack: the kernel-only flag is dropped. */
static int user_open(int flags, char *how, size_t howlen)
{
	int fd = uffd_user_open(flags & ~UFFD_OPEN_ALLOW_USER_MODE_ONLY);

	if (fd >= 0)
		snprintf(how, howlen, "user (%s)", uffd_user_mechanism());
	return fd;
}

static int open_how(int flags, enum uffd_backend backend, char *how,
		    size_t howlen)
{
	int fd;

	/* Bad flags are the caller's error on every backend: no fallback. */
	if (flags & ~OPEN_FLAGS) {
		uffd_set_why("unknown flags 0x%x", (unsigned)(flags & ~OPEN_FLAGS));
		errno = EINVAL;
		return -1;
	}
	if (backend == UFFD_BACKEND_AUTO)
		backend = auto_choice();
	switch (backend) {
	case UFFD_BACKEND_KERNEL:
		return uffd_kernel_open(flags, how, howlen);
	case UFFD_BACKEND_USER:
		return user_open(flags, how, howlen);
	case UFFD_BACKEND_AUTO:
		/* Where only vm.unprivileged_userfaultfd=0 stands in the way,
		 * the kernel's user-mode-only userfaultfd: the same limit as
		 * the user backend (kernel-mode accesses fail with EFAULT),
		 * every kernel feature, and kernel speed (README, Performance). */
		fd = uffd_kernel_open(flags | UFFD_OPEN_ALLOW_USER_MODE_ONLY, how, howlen);
		if (fd >= 0)
			return fd;
		char kernel_why[sizeof(last_why)];
		memcpy(kernel_why, last_why, sizeof(kernel_why));
		last_why[0] = 0;
		fd = user_open(flags, how, howlen);
		if (fd >= 0)
			return fd;
		int err = errno;
		char user_why[sizeof(last_why)];
		memcpy(user_why, last_why, sizeof(user_why));
		uffd_set_why("kernel: %.120s; user: %.120s", kernel_why,
			     user_why[0] ? user_why : strerror(err));
		errno = err;
		return -1;
	}
	uffd_set_why("unknown backend %d", (int)backend);
	errno = EINVAL;
	return -1;
}

/* On success uffd_strerror() says "no error", even after a fallback. */
int uffd_open(int flags, enum uffd_backend backend)
{
	char how[64];

	last_why[0] = 0;
	int fd = open_how(flags, backend, how, sizeof(how));
	if (fd >= 0)
		last_why[0] = 0;
	return fd;
}

int uffd_backend_probe(enum uffd_backend backend, int flags,
		       struct uffd_backend_info *info)
{
	if (!info) {
		errno = EFAULT;
		return -1;
	}
	memset(info, 0, sizeof(*info));
	last_why[0] = 0;
	int fd = open_how(flags | O_CLOEXEC, backend, info->how, sizeof(info->how));
	if (fd < 0) {
		info->error = errno;
		snprintf(info->why, sizeof(info->why), "%s", uffd_strerror());
		return 0;
	}
	info->available = 1;
	last_why[0] = 0;
	sys_close(fd);
	return 0;
}
