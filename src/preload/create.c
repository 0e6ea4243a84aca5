/* SPDX-License-Identifier: MIT */
/*
 * Where a program gets a userfaultfd: syscall(SYS_userfaultfd), the C
 * library's userfaultfd() where it has one, and /dev/userfaultfd followed by
 * USERFAULTFD_IOC_NEW.  Backends, as `uffd run --backend` chose:
 *   kernel  everything passes through untouched;
 *   user    always libuffd's user backend;
 *   auto    the kernel's userfaultfd (system call, else /dev/userfaultfd),
 *           and the user backend where the kernel refuses.
 * Where /dev/userfaultfd cannot be opened (or the user backend is forced),
 * open() hands out a stand-in (an fd on /dev/null) whose USERFAULTFD_IOC_NEW
 * makes the userfaultfd.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>

#include "preload.h"

#define KERNEL_FLAGS (O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY)

int shim_userfaultfd(int flags)
{
	if (shim_backend == UFFD_BACKEND_KERNEL)
		return sys_userfaultfd(flags);
	if (flags & ~KERNEL_FLAGS) {
		errno = EINVAL;   /* as new_userfaultfd() */
		return -1;
	}
	const int saved = errno;
	int fd = uffd_open(flags, shim_backend);
	if (fd >= 0)
		errno = saved;   /* a kernel refusal before the fallback is no error */
	return fd;
}

/* ---- /dev/userfaultfd ---- */
#define DEVICE_FDS 65536
static _Atomic unsigned char device_fds[DEVICE_FDS];

int shim_is_device(int fd)
{
	return fd >= 0 && fd < DEVICE_FDS &&
	       atomic_load_explicit(&device_fds[fd], memory_order_relaxed);
}

void shim_forget_fd(int fd)
{
	if (shim_is_device(fd))
		atomic_store(&device_fds[fd], 0);
}

static int is_device_path(int dirfd, const char *path)
{
	(void)dirfd;   /* only an absolute path names it */
	return path && !strcmp(path, "/dev/userfaultfd");
}

/* The kernel's device is a misc character device (major 10); a container
 * may have put something else there (/dev/null bound over it). */
static int is_misc_device(int fd)
{
	struct stat st;

	return sys_fstat(fd, &st) == 0 && S_ISCHR(st.st_mode) && major(st.st_rdev) == 10;
}

static int open_device(int dirfd, const char *path, int flags, mode_t mode)
{
	if (shim_backend != UFFD_BACKEND_USER) {
		const int saved = errno;
		int fd = (int)sys_ret(sys_call4(SYS_openat, dirfd, path, flags, mode));
		if (shim_backend == UFFD_BACKEND_KERNEL)
			return fd;
		if (fd >= 0 && is_misc_device(fd))
			return fd;
		if (fd >= 0) {
			sys_close(fd);
		} else if (errno != ENOENT && errno != EACCES && errno != EPERM &&
			   errno != ENXIO && errno != ENODEV) {
			return fd;
		}
		errno = saved;
	}
	int fd = sys_open("/dev/null", O_RDWR | (flags & O_CLOEXEC));
	if (fd < 0)
		return fd;
	if (fd >= DEVICE_FDS) {
		sys_close(fd);
		errno = EMFILE;
		return -1;
	}
	atomic_store(&device_fds[fd], 1);
	return fd;
}

int shim_device_ioctl(int fd, unsigned long request, void *arg)
{
	(void)fd;
	if (request != USERFAULTFD_IOC_NEW) {
		errno = EINVAL;   /* userfaultfd_dev_ioctl() */
		return -1;
	}
	return shim_userfaultfd((int)(long)arg);
}

/* ---- the interposers ---- */
/* fork by system call: libuffd's fork hooks run around it as
 * pthread_atfork runs them around fork() (page-cache backed memory is made
 * anonymous first, so that the child shares none of it). */
static long shim_fork(long n, const long *a)
{
	u_pcache_before_fork();
	long r = sys_ret(sys_call6(n, a[0], a[1], a[2], a[3], a[4], a[5]));
	const int saved = errno;
	u_pcache_fork_done();
	errno = saved;
	return r;
}

/* Six arguments are read whatever the caller passed, as the C library's
 * syscall() does (the sixth from the caller's stack): not an access of the
 * program's memory that AddressSanitizer should judge. */
SHIM_EXPORT __attribute__((no_sanitize_address)) long syscall(long n, ...)
{
	va_list ap;
	long a[6];

	va_start(ap, n);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	switch (n) {
	case SYS_userfaultfd:
		return shim_userfaultfd((int)a[0]);
	case SYS_ioctl:
		return shim_ioctl((int)a[0], (unsigned long)a[1], (void *)a[2]);
	case SYS_read:
		return shim_read((int)a[0], (void *)a[1], (size_t)a[2]);
	case SYS_readv:
		return shim_readv((int)a[0], (const struct iovec *)a[1], (int)a[2]);
	case SYS_close:
		return shim_close((int)a[0]);
	case SYS_fork:
		return shim_fork(n, a);
	case SYS_clone:
		/* A copy of the address space (not a thread, not vfork). */
		if (!(a[0] & CLONE_VM) && !a[1])
			return shim_fork(n, a);
		break;
	}
	/* The C library's syscall() is this and nothing more. */
	return sys_ret(sys_call6(n, a[0], a[1], a[2], a[3], a[4], a[5]));
}

SHIM_EXPORT int userfaultfd(unsigned int flags)
{
	return shim_userfaultfd((int)flags);
}

static mode_t mode_arg(int flags, va_list ap)
{
	return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? va_arg(ap, mode_t) : 0;
}

static int do_openat(int dirfd, const char *path, int flags, mode_t mode)
{
	if (is_device_path(dirfd, path))
		return open_device(dirfd, path, flags, mode);
	if (shim_is_pagemap_path(dirfd, path))
		return shim_note_pagemap((int)sys_ret(sys_call4(SYS_openat, dirfd, path, flags, mode)));
	if (dirfd == AT_FDCWD && shim_real.open)
		return shim_real.open(path, flags, mode);
	if (shim_real.openat)
		return shim_real.openat(dirfd, path, flags, mode);
	return (int)sys_ret(sys_call4(SYS_openat, dirfd, path, flags, mode));
}

SHIM_EXPORT int open(const char *path, int flags, ...)
{
	va_list ap;
	va_start(ap, flags);
	mode_t mode = mode_arg(flags, ap);
	va_end(ap);
	return do_openat(AT_FDCWD, path, flags, mode);
}

SHIM_EXPORT int openat(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	va_start(ap, flags);
	mode_t mode = mode_arg(flags, ap);
	va_end(ap);
	return do_openat(dirfd, path, flags, mode);
}

/* The 64-bit names and _FORTIFY_SOURCE's checked entries (same ABI on LP64). */
SHIM_EXPORT int open64(const char *path, int flags, ...) __attribute__((alias("open")));
SHIM_EXPORT int openat64(int dirfd, const char *path, int flags, ...)
	__attribute__((alias("openat")));

SHIM_EXPORT int __open_2(const char *path, int flags)
{
	return do_openat(AT_FDCWD, path, flags, 0);
}
SHIM_EXPORT int __open64_2(const char *path, int flags) __attribute__((alias("__open_2")));
SHIM_EXPORT int __openat_2(int dirfd, const char *path, int flags)
{
	return do_openat(dirfd, path, flags, 0);
}
SHIM_EXPORT int __openat64_2(int dirfd, const char *path, int flags)
	__attribute__((alias("__openat_2")));
