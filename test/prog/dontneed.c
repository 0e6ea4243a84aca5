/* SPDX-License-Identifier: MIT */
/*
 * A userfaultfd client that drops registered anonymous pages with
 * madvise(MADV_DONTNEED) (as allocators and garbage collectors do) and
 * touches them again, without the non-cooperative events: in a MISSING
 * range a dropped page faults again; in a write-protected range a dropped
 * page's protection goes as the kernel's does (with and without
 * UFFD_FEATURE_WP_UNPOPULATED).  A handler thread reports every message it
 * gets and resolves it, so a fault the kernel would not raise shows in the
 * output instead of blocking.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../lib/prog.h"

#ifndef UFFD_FEATURE_WP_UNPOPULATED
#define UFFD_FEATURE_WP_UNPOPULATED (1 << 13)
#endif

static long page;
static char *area;
static int uffd;

static void answer(const struct uffd_msg *msg)
{
	if (msg->event != UFFD_EVENT_PAGEFAULT) {
		printf("  message: event %u\n", msg->event);
		return;
	}
	unsigned long at = msg->arg.pagefault.address & ~(page - 1);
	int wp = !!(msg->arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WP);
	printf("  fault at page %ld: %s%s\n", (long)((at - (unsigned long)area) / page),
	       wp ? "WP" : "MISSING",
	       msg->arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WRITE ? " write" : "");
	fflush(stdout);
	if (wp) {
		struct uffdio_writeprotect w = { .range = { at, page }, .mode = 0 };
		ioctl(uffd, UFFDIO_WRITEPROTECT, &w);
	} else {
		struct uffdio_zeropage z = { .range = { at, page } };
		ioctl(uffd, UFFDIO_ZEROPAGE, &z);
	}
}

static void run(const char *what, unsigned long mode, unsigned long long features)
{
	uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	struct uffdio_api api = { .api = UFFD_API, .features = features };
	if (uffd < 0 || ioctl(uffd, UFFDIO_API, &api)) {
		printf("%s: no userfaultfd\n", what);
		return;
	}
	area = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(area, 'x', 2 * page);    /* present before registering */
	struct uffdio_register reg = { .range = { (unsigned long)area, 2 * page }, .mode = mode };
	if (ioctl(uffd, UFFDIO_REGISTER, &reg)) {
		printf("%s: UFFDIO_REGISTER failed\n", what);
		return;
	}
	struct prog_server handler;
	if (prog_server_start(&handler, uffd, answer))
		return;
	printf("%s\n", what);
	if (mode & UFFDIO_REGISTER_MODE_WP) {
		struct uffdio_writeprotect w = { .range = { (unsigned long)area, 2 * page },
						 .mode = UFFDIO_WRITEPROTECT_MODE_WP };
		printf("  UFFDIO_WRITEPROTECT: %d\n", ioctl(uffd, UFFDIO_WRITEPROTECT, &w));
	}
	printf("  MADV_DONTNEED page 0: %d\n", madvise(area, page, MADV_DONTNEED));
	fflush(stdout);
	char c = area[10];
	printf("  page 0 reads %d\n", c);
	fflush(stdout);
	area[20] = 'y';
	printf("  page 0 written, reads '%c'\n", area[20]);
	fflush(stdout);
	area[page] = 'z';
	printf("  page 1 (kept) written, reads '%c'\n", area[page]);
	fflush(stdout);
	prog_server_stop(&handler);
	close(uffd);
	munmap(area, 2 * page);
}

int main(void)
{
	page = sysconf(_SC_PAGESIZE);
	setvbuf(stdout, NULL, _IOLBF, 0);
	run("MISSING", UFFDIO_REGISTER_MODE_MISSING, 0);
	run("WP", UFFDIO_REGISTER_MODE_WP, 0);
	run("WP, WP_UNPOPULATED", UFFDIO_REGISTER_MODE_WP, UFFD_FEATURE_WP_UNPOPULATED);
	run("MISSING|WP", UFFDIO_REGISTER_MODE_MISSING | UFFDIO_REGISTER_MODE_WP, 0);
	run("MISSING|WP, WP_UNPOPULATED", UFFDIO_REGISTER_MODE_MISSING | UFFDIO_REGISTER_MODE_WP,
	    UFFD_FEATURE_WP_UNPOPULATED);
	return 0;
}
