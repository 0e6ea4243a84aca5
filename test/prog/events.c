/* SPDX-License-Identifier: MIT */
/*
 * A non-cooperative userfaultfd client (as CRIU's lazy-pages daemon): with
 * UFFD_FEATURE_EVENT_REMOVE, EVENT_REMAP and EVENT_UNMAP it follows what the
 * program does to registered memory: MADV_DONTNEED (REMOVE, then the pages
 * fault again), mremap to a new place (REMAP; the registration moves along),
 * munmap (UNMAP).  The thread doing each of these waits until the handler
 * has read the event, so the message stream is in program order: the
 * handler logs it and the program prints the log and what it read.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../lib/prog.h"

#define NPAGES 8
static long page;
static char *area, *moved;
static int uffd, stop[2];
static char next_fill = 'A';
/* Set while the program is inside a call that causes an event: the
 * handler sees it still set when it reads that event (the caller waits). */
static _Atomic int in_call;

/* An address as "area+N" / "moved+N" pages (+ bytes). */
static void where(char *out, size_t len, unsigned long a)
{
	unsigned long b = (unsigned long)area, m = (unsigned long)moved;
	if (a >= b && a <= b + NPAGES * page)
		snprintf(out, len, "area+%lu", (a - b) / page);
	else if (moved && a >= m && a <= m + NPAGES * page)
		snprintf(out, len, "moved+%lu", (a - m) / page);
	else
		snprintf(out, len, "elsewhere");
}

static void *handler(void *arg)
{
	char *src = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	(void)arg;
	for (;;) {
		struct pollfd p[2] = { { .fd = uffd, .events = POLLIN }, { .fd = stop[0], .events = POLLIN } };
		struct uffd_msg msg;
		char a[32];
		poll(p, 2, -1);
		if (p[1].revents)
			return NULL;
		const int waiting = in_call;
		if (read(uffd, &msg, sizeof(msg)) != sizeof(msg))
			continue;
		if (msg.event != UFFD_EVENT_PAGEFAULT)
			logf_("(the call is waiting: %s) ", waiting ? "yes" : "no");
		switch (msg.event) {
		case UFFD_EVENT_PAGEFAULT: {
			unsigned long at = msg.arg.pagefault.address & ~(page - 1);
			where(a, sizeof(a), at);
			memset(src, next_fill, page);
			logf_("PAGEFAULT %s: filled with '%c'\n", a, next_fill++);
			struct uffdio_copy c = { .dst = at, .src = (unsigned long)src, .len = page };
			if (ioctl(uffd, UFFDIO_COPY, &c))
				logf_("UFFDIO_COPY failed\n");
			break;
		}
		default:
			if (!log_range_event(&msg, where, page))
				logf_("event %u\n", msg.event);
		}
	}
}

int main(void)
{
	page = sysconf(_SC_PAGESIZE);
	area = mmap(NULL, NPAGES * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *target = mmap(NULL, NPAGES * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uffd = prog_uffd(UFFD_FEATURE_EVENT_REMOVE | UFFD_FEATURE_EVENT_REMAP |
			 UFFD_FEATURE_EVENT_UNMAP, "userfaultfd with EVENT_REMOVE|REMAP|UNMAP",
			 area, NPAGES * page, UFFDIO_REGISTER_MODE_MISSING);
	if (uffd < 0)
		return 1;
	pipe(stop);
	pthread_t t;
	pthread_create(&t, NULL, handler, NULL);

	printf("area+0 reads '%c'\n", area[0]);
	printf("area+1 reads '%c'\n", area[page]);
	in_call = 1;
	int ret = madvise(area, 2 * page, MADV_DONTNEED);
	in_call = 0;
	printf("madvise(DONTNEED, area+0, 2 pages): %d\n", ret);
	printf("area+0 reads '%c' again\n", area[0]);

	in_call = 1;
	moved = mremap(area, 4 * page, 4 * page, MREMAP_MAYMOVE | MREMAP_FIXED, target);
	in_call = 0;
	printf("mremap(area+0, 4 pages) to target: %s\n", moved == target ? "moved" : "failed");
	printf("moved+0 reads '%c' (no fault: it moved with its page)\n", moved[0]);
	printf("moved+2 reads '%c'\n", moved[2 * page]);
	printf("area+5 reads '%c'\n", area[5 * page]);
	in_call = 1;
	ret = munmap(moved + 2 * page, 2 * page);
	in_call = 0;
	printf("munmap(moved+2, 2 pages): %d\n", ret);
	in_call = 1;
	ret = munmap(area + 4 * page, 4 * page);
	in_call = 0;
	printf("munmap(area+4, 4 pages): %d\n", ret);
	struct uffdio_range r = { (unsigned long)moved, 2 * page };
	printf("UFFDIO_UNREGISTER(moved+0, 2 pages): %d\n", ioctl(uffd, UFFDIO_UNREGISTER, &r));
	r.start = (unsigned long)area;
	printf("UFFDIO_UNREGISTER(area+0, 2 pages): %d\n", ioctl(uffd, UFFDIO_UNREGISTER, &r));

	write(stop[1], "", 1);
	pthread_join(t, NULL);
	printf("-- the handler's log --\n%s", log_buf);
	return 0;
}
