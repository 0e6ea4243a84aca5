/* SPDX-License-Identifier: MIT */
/*
 * A userfaultfd client checking the descriptor's read(2), readv(2) and
 * poll(2) rules (fs/userfaultfd.c): EINVAL and POLLERR before UFFDIO_API,
 * EINVAL for a buffer shorter than a message, whole messages only, and
 * POLLERR on a descriptor without O_NONBLOCK.  Prints each outcome.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

static void show(const char *what, long ret)
{
	if (ret < 0)
		printf("%s: -1 %s\n", what, strerrorname_np(errno));
	else
		printf("%s: %ld\n", what, ret);
}

static void show_poll(const char *what, int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int n = poll(&p, 1, 0);
	printf("%s: %d revents%s%s\n", what, n, p.revents & POLLIN ? " POLLIN" : "",
	       p.revents & POLLERR ? " POLLERR" : "");
}

static void *toucher(void *p)
{
	return (void *)(long)*(volatile char *)p;
}

int main(void)
{
	long page = sysconf(_SC_PAGESIZE);
	char buf[64];
	int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	int blocking = (int)syscall(SYS_userfaultfd, O_CLOEXEC);
	struct uffdio_api api = { .api = UFFD_API };

	if (fd < 0 || blocking < 0) {
		perror("userfaultfd");
		return 1;
	}
	show("read before UFFDIO_API", read(fd, buf, sizeof(struct uffd_msg)));
	show_poll("poll before UFFDIO_API", fd);
	show("UFFDIO_API", ioctl(fd, UFFDIO_API, &api));
	api.features = 0;
	show("UFFDIO_API (blocking fd)", ioctl(blocking, UFFDIO_API, &api));
	show_poll("poll on a blocking fd", blocking);
	show_poll("poll, nothing pending", fd);
	show("read, nothing pending", read(fd, buf, sizeof(struct uffd_msg)));
	show("read of 16 bytes", read(fd, buf, 16));

	char *area = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct uffdio_register reg = {
		.range = { (unsigned long)area, page }, .mode = UFFDIO_REGISTER_MODE_MISSING };
	show("UFFDIO_REGISTER", ioctl(fd, UFFDIO_REGISTER, &reg));
	pthread_t t;
	pthread_create(&t, NULL, toucher, area);
	struct pollfd p = { .fd = fd, .events = POLLIN };
	poll(&p, 1, -1);
	show_poll("poll, one fault pending", fd);
	show("read of 16 bytes, one pending", read(fd, buf, 16));
	struct iovec iov[2] = { { buf, 20 }, { buf + 20, 28 } };
	ssize_t n = readv(fd, iov, 2);
	show("readv of 20+28 bytes", n);
	struct uffd_msg msg;
	memcpy(&msg, buf, sizeof(msg));
	printf("message: event %u offset %ld\n", msg.event,
	       (long)(msg.arg.pagefault.address - (unsigned long)area));
	struct uffdio_zeropage zp = { .range = { (unsigned long)area, page } };
	show("UFFDIO_ZEROPAGE", ioctl(fd, UFFDIO_ZEROPAGE, &zp));
	pthread_join(t, NULL);
	show("read after it", read(fd, buf, 48));
	close(blocking);
	close(fd);
	return 0;
}
