/* SPDX-License-Identifier: MIT */
/*
 * A userfaultfd client that says what its descriptors are: one from the
 * system call, one from /dev/userfaultfd + USERFAULTFD_IOC_NEW, each after
 * UFFDIO_API.  Prints "syscall KIND" and "device KIND", KIND being "kernel"
 * (an anon_inode:[userfaultfd]), "user" (libuffd's pipe) or "error ERRNO".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef USERFAULTFD_IOC_NEW
#define USERFAULTFD_IOC_NEW _IO(0xAA, 0x00)
#endif

static void say(const char *how, long fd)
{
	char path[64], link[256];
	struct uffdio_api api = { .api = UFFD_API };

	if (fd < 0) {
		printf("%s error %s\n", how, strerror(errno));
		return;
	}
	if (ioctl((int)fd, UFFDIO_API, &api)) {
		printf("%s UFFDIO_API error %s\n", how, strerror(errno));
		return;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%ld", fd);
	ssize_t n = readlink(path, link, sizeof(link) - 1);
	link[n > 0 ? n : 0] = 0;
	printf("%s %s\n", how, !strcmp(link, "anon_inode:[userfaultfd]") ? "kernel" :
	       !strncmp(link, "pipe:", 5) ? "user" : link);
	close((int)fd);
}

int main(void)
{
	say("syscall", syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK));
	int dev = open("/dev/userfaultfd", O_RDWR | O_CLOEXEC);
	if (dev < 0) {
		printf("device error %s\n", strerror(errno));
		return 0;
	}
	say("device", ioctl(dev, USERFAULTFD_IOC_NEW, O_CLOEXEC | O_NONBLOCK));
	close(dev);
	return 0;
}
