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

static int open_how(int flags, enum uffd_backend backend, char *how,
		    size_t howlen)
{
	int fd;

	if (backend == UFFD_BACKEND_AUTO)
		backend = auto_choice();
	switch (backend) {
	case UFFD_BACKEND_KERNEL:
		return uffd_kernel_open(flags, how, howlen);
	case UFFD_BACKEND_USER:
		fd = uffd_user_open(flags);
		if (fd >= 0)
			snprintf(how, howlen, "user");
		return fd;
	case UFFD_BACKEND_AUTO:
		fd = uffd_kernel_open(flags, how, howlen);
		if (fd >= 0)
			return fd;
		char kernel_why[sizeof(last_why)];
		memcpy(kernel_why, last_why, sizeof(kernel_why));
		fd = uffd_user_open(flags);
		if (fd >= 0) {
			snprintf(how, howlen, "user");
			return fd;
		}
		int err = errno;
		char user_why[sizeof(last_why)];
		memcpy(user_why, last_why, sizeof(user_why));
		uffd_set_why("kernel: %.120s; user: %.120s", kernel_why, user_why);
		errno = err;
		return -1;
	}
	uffd_set_why("unknown backend %d", (int)backend);
	errno = EINVAL;
	return -1;
}

int uffd_open(int flags, enum uffd_backend backend)
{
	char how[64];

	last_why[0] = 0;
	return open_how(flags, backend, how, sizeof(how));
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
	close(fd);
	return 0;
}
