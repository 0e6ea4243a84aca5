/* SPDX-License-Identifier: MIT */
/*
 * libuffd: the Linux userfaultfd system with two backends, the kernel's own
 * userfaultfd passed through and a complete implementation of the same ABI
 * in user space.  The ABI (struct uffd_msg, struct uffdio_*, UFFDIO_*) is in
 * <uffd/abi.h>; every fd from uffd_open() speaks it.
 */
#ifndef LIBUFFD_H
#define LIBUFFD_H

#include <stddef.h>
#include <uffd/abi.h>

#ifdef __cplusplus
extern "C" {
#endif

enum uffd_backend {
	UFFD_BACKEND_AUTO = 0,   /* the kernel's if it opens (user-mode-only where only
				  * vm.unprivileged_userfaultfd=0 refuses the full one),
				  * else the user backend */
	UFFD_BACKEND_KERNEL = 1, /* the kernel's userfaultfd */
	UFFD_BACKEND_USER = 2,   /* libuffd's user-space implementation */
};

/*
 * Extra uffd_open() flag: when the kernel refuses a full userfaultfd for lack
 * of privilege (vm.unprivileged_userfaultfd=0), accept one that handles
 * user-mode faults only (UFFD_USER_MODE_ONLY) instead of failing.
 */
#define UFFD_OPEN_ALLOW_USER_MODE_ONLY (1 << 30)

/*
 * Open a userfaultfd.  flags: O_CLOEXEC, O_NONBLOCK, UFFD_USER_MODE_ONLY,
 * UFFD_OPEN_ALLOW_USER_MODE_ONLY.  Returns the fd, or -1 with errno set;
 * uffd_strerror() then says why in words.  With UFFD_BACKEND_AUTO the
 * environment variable UFFD_BACKEND=kernel|user forces a backend.
 */
int uffd_open(int flags, enum uffd_backend backend);

/* ioctl(2) on a userfaultfd of either backend, with ioctl(2)'s contract. */
int uffd_ioctl(int fd, unsigned long request, void *arg);

/* The backend an fd belongs to, or -1 with errno EBADF/EINVAL (not a uffd). */
int uffd_fd_backend(int fd);

/* "auto", "kernel" or "user". */
const char *uffd_backend_name(enum uffd_backend backend);

/* Why the calling thread's last failed uffd_open() failed, in words. */
const char *uffd_strerror(void);

/* Whether a backend can be opened here, and how. */
struct uffd_backend_info {
	int available;   /* 1: uffd_open(flags, backend) succeeds now */
	int error;       /* the errno when not available */
	char how[64];    /* e.g. "syscall", "/dev/userfaultfd", "user" */
	char why[192];   /* why not, when not available */
};
int uffd_backend_probe(enum uffd_backend backend, int flags,
		       struct uffd_backend_info *info);

#ifdef __cplusplus
}
#endif

#endif /* LIBUFFD_H */
