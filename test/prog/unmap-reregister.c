/* SPDX-License-Identifier: MIT */
/*
 * A userfaultfd client without the non-cooperative events: munmap ends a
 * registration (another userfaultfd may register the same addresses
 * afterwards), and memory mremap'ed away from a registration is ordinary
 * (its missing pages read as zeros, no fault), while the registration left
 * in place still faults.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static long page;

static int new_uffd(void)
{
	int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	struct uffdio_api api = { .api = UFFD_API };
	if (fd < 0 || ioctl(fd, UFFDIO_API, &api))
		return -1;
	return fd;
}

static int reg(int fd, void *at, size_t len)
{
	struct uffdio_register r = { .range = { (unsigned long)at, len },
				     .mode = UFFDIO_REGISTER_MODE_MISSING };
	return ioctl(fd, UFFDIO_REGISTER, &r) ? -errno : 0;
}

static int pending(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	return poll(&p, 1, 0);
}

int main(void)
{
	page = sysconf(_SC_PAGESIZE);
	int a = new_uffd(), b = new_uffd();
	if (a < 0 || b < 0) {
		perror("userfaultfd");
		return 1;
	}
	char *area = mmap(NULL, 4 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	printf("register with a: %d\n", reg(a, area, 4 * page));
	printf("register with b while a has it: %s\n", strerrorname_np(-reg(b, area, 4 * page)));
	printf("munmap: %d\n", munmap(area, 4 * page));
	char *again = mmap(area, 4 * page, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	printf("mapped again at the same place: %s\n", again == area ? "yes" : "no");
	printf("register with b: %d\n", reg(b, area, 4 * page));
	struct uffdio_range r = { (unsigned long)area, 4 * page };
	printf("unregister with a: %s\n", ioctl(a, UFFDIO_UNREGISTER, &r) ? strerrorname_np(errno) : "0");

	/* mremap without EVENT_REMAP: the moved pages are ordinary memory. */
	char *target = mmap(NULL, 2 * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *moved = mremap(area, 2 * page, 2 * page, MREMAP_MAYMOVE | MREMAP_FIXED, target);
	printf("mremap: %s\n", moved == target ? "moved" : "failed");
	printf("moved page reads %d, messages pending on b: %d\n", moved[page], pending(b));
	moved[0] = 'x';
	printf("moved page written: '%c'\n", moved[0]);
	printf("register the moved pages with a: %d\n", reg(a, moved, 2 * page));
	r.start = (unsigned long)area + 2 * page;
	r.len = 2 * page;
	printf("the rest is still b's: unregister with b %d\n", ioctl(b, UFFDIO_UNREGISTER, &r));
	return 0;
}
