/* SPDX-License-Identifier: MIT */
/*
 * Kernel backend: open the kernel's userfaultfd, by the system call, else by
 * /dev/userfaultfd, else (when the caller allows it) with UFFD_USER_MODE_ONLY;
 * when no way works, say which refusal stopped each way.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../internal.h"

#ifndef __NR_userfaultfd
#define __NR_userfaultfd -1
#endif

#define KERNEL_FLAGS (O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY)

static int by_syscall(int flags)
{
	if (__NR_userfaultfd < 0) {
		errno = ENOSYS;
		return -1;
	}
	return sys_userfaultfd(flags);
}

static int by_device(int flags)
{
	int dev = sys_open("/dev/userfaultfd", O_RDWR | O_CLOEXEC);

	if (dev < 0)
		return -1;
	int fd = sys_ioctl(dev, USERFAULTFD_IOC_NEW, (void *)(long)flags);
	int err = errno;
	sys_close(dev);
	errno = err;
	return fd;
}

/* The value of a "Name:" line of this thread's /proc status, or -1. */
static long long status_field(const char *name, int base)
{
	char line[128];
	long long value = -1;
	size_t len = strlen(name);
	/* Seccomp filters are per thread: not /proc/self, the thread group leader. */
	FILE *f = fopen("/proc/thread-self/status", "re");

	if (!f)
		f = fopen("/proc/self/status", "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, name, len) && line[len] == ':')
			value = strtoll(line + len + 1, NULL, base);
	fclose(f);
	return value;
}

/* 1 when a seccomp filter is attached to this thread. */
static int under_seccomp(void)
{
	return status_field("Seccomp", 10) == 2;
}

/* 1 when the effective capabilities include CAP_SYS_PTRACE (bit 19). */
static int has_sys_ptrace(void)
{
	long long caps = status_field("CapEff", 16);

	return caps >= 0 && (caps >> 19 & 1);
}

static int unprivileged_sysctl(void)
{
	char buf[8] = "";
	int fd = sys_open("/proc/sys/vm/unprivileged_userfaultfd", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	ssize_t n = sys_read(fd, buf, sizeof(buf) - 1);
	sys_close(fd);
	return n > 0 ? buf[0] - '0' : -1;
}

static const char *syscall_refusal(int err, int flags)
{
	if (err == ENOSYS)
		return under_seccomp() ? "ENOSYS (refused by a seccomp filter)"
				       : "ENOSYS (kernel built without CONFIG_USERFAULTFD)";
	if (err == EPERM) {
		/* The sysctl cannot be the reason for a privileged or user-mode-only caller. */
		int sysctl_allows = unprivileged_sysctl() != 0 || has_sys_ptrace() ||
				    (flags & UFFD_USER_MODE_ONLY);
		if (under_seccomp())
			return sysctl_allows ? "EPERM (refused by a seccomp filter)"
				: "EPERM (a seccomp filter or vm.unprivileged_userfaultfd=0)";
		if (!sysctl_allows)
			return "EPERM (vm.unprivileged_userfaultfd=0 and no CAP_SYS_PTRACE)";
		return "EPERM";
	}
	return strerror(err);
}

static const char *device_refusal(int err)
{
	switch (err) {
	case ENOENT:
		return "no device node";
	case EACCES:
	case EPERM:
		return "permission denied on the device node";
	case ENODEV:
	case ENXIO:
		return "device not provided by this kernel";
	case ENOTTY:
		return "not the userfaultfd device (ENOTTY)";
	}
	return strerror(err);
}

int uffd_kernel_open(int flags, char *how, size_t howlen)
{
	const int want_umo = flags & UFFD_OPEN_ALLOW_USER_MODE_ONLY;
	int sys_err, dev_err;
	int fd;

	flags &= ~UFFD_OPEN_ALLOW_USER_MODE_ONLY;
	if (flags & ~KERNEL_FLAGS) {
		uffd_set_why("unknown flags 0x%x", flags & ~KERNEL_FLAGS);
		errno = EINVAL;
		return -1;
	}
	fd = by_syscall(flags);
	if (fd >= 0) {
		snprintf(how, howlen, "syscall%s",
			 flags & UFFD_USER_MODE_ONLY ? "+UFFD_USER_MODE_ONLY" : "");
		return fd;
	}
	sys_err = errno;
	if (sys_err == EINVAL) {
		uffd_set_why("userfaultfd(2): EINVAL");
		errno = EINVAL;
		return -1;
	}
	fd = by_device(flags);
	if (fd >= 0) {
		snprintf(how, howlen, "/dev/userfaultfd");
		return fd;
	}
	dev_err = errno;
	if (want_umo && !(flags & UFFD_USER_MODE_ONLY) && sys_err == EPERM) {
		fd = by_syscall(flags | UFFD_USER_MODE_ONLY);
		if (fd >= 0) {
			snprintf(how, howlen, "syscall+UFFD_USER_MODE_ONLY");
			return fd;
		}
	}
	uffd_set_why("userfaultfd(2): %s; /dev/userfaultfd: %s",
		     syscall_refusal(sys_err, flags), device_refusal(dev_err));
	/* The device's errno only when it says more than ENOSYS: a node that refused us. */
	errno = sys_err == ENOSYS && (dev_err == EACCES || dev_err == EPERM ||
				      dev_err == ENODEV || dev_err == ENXIO)
		? dev_err : sys_err;
	return -1;
}
