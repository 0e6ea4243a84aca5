/* SPDX-License-Identifier: MIT */
/*
 * A CRIU-style non-cooperative client with UFFD_FEATURE_EVENT_FORK: the
 * program registers memory, and a handler thread follows it across fork().
 * The handler gets UFFD_EVENT_FORK with a new userfaultfd for the child's
 * memory and serves the child through it: the child's missing pages
 * (UFFDIO_COPY into the child's memory only), and the child's
 * MADV_DONTNEED (REMOVE), mremap (REMAP) and munmap (UNMAP), each of which
 * the child waits in until the handler has read the event.  The parent's
 * own memory is untouched by all that: its missing page still faults on its
 * own userfaultfd.  The child prints what it read, the parent what it read
 * and then the handler's log.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../lib/prog.h"

#define NPAGES 8
static long page;
static char *area, *target;   /* the child moves area to target */
static int uffd, child_uffd = -1, stop[2];
static char next_fill = 'A';
/* Shared with the child: set while it is inside a call that causes an
 * event (the handler sees it still set when it reads that event). */
static _Atomic int *in_call;

static void where(char *out, size_t len, unsigned long a)
{
	unsigned long b = (unsigned long)area, m = (unsigned long)target;
	if (a >= b && a <= b + NPAGES * page)
		snprintf(out, len, "area+%lu", (a - b) / page);
	else if (a >= m && a <= m + NPAGES * page)
		snprintf(out, len, "target+%lu", (a - m) / page);
	else
		snprintf(out, len, "elsewhere");
}

/* One message from fd (the parent's uffd or the child's); 0 when none. */
static int handle(int fd, const char *who, char *src)
{
	struct uffd_msg msg;
	char a[32];
	const int waiting = *in_call;

	if (read(fd, &msg, sizeof(msg)) != sizeof(msg))
		return 0;
	if (msg.event != UFFD_EVENT_PAGEFAULT && msg.event != UFFD_EVENT_FORK)
		logf_("%s: (the call is waiting: %s) ", who, waiting ? "yes" : "no");
	switch (msg.event) {
	case UFFD_EVENT_PAGEFAULT: {
		unsigned long at = msg.arg.pagefault.address & ~(page - 1);
		where(a, sizeof(a), at);
		memset(src, next_fill, page);
		logf_("%s: PAGEFAULT %s: filled with '%c'\n", who, a, next_fill++);
		struct uffdio_copy c = { .dst = at, .src = (unsigned long)src, .len = page };
		if (ioctl(fd, UFFDIO_COPY, &c))
			logf_("%s: UFFDIO_COPY failed\n", who);
		break;
	}
	case UFFD_EVENT_FORK:
		child_uffd = (int)msg.arg.fork.ufd;
		logf_("%s: FORK: a new userfaultfd (not the parent's: %s)\n", who,
		      child_uffd != uffd && child_uffd >= 0 ? "yes" : "no");
		break;
	default:
		if (!log_range_event(&msg, where, page))
			logf_("%s: event %u\n", who, msg.event);
	}
	return 1;
}

static void *handler(void *arg)
{
	char *src = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	(void)arg;
	for (;;) {
		struct pollfd p[3] = { { .fd = stop[0], .events = POLLIN },
				       { .fd = uffd, .events = POLLIN },
				       { .fd = child_uffd, .events = POLLIN } };
		poll(p, child_uffd >= 0 ? 3 : 2, -1);
		if (p[0].revents)
			return NULL;
		if (p[1].revents)
			handle(uffd, "parent", src);
		/* The child's userfaultfd: its exit hangs it up on some
		 * backends, with nothing left to read. */
		if (child_uffd >= 0 && p[2].revents && !handle(child_uffd, "child", src) &&
		    (p[2].revents & (POLLHUP | POLLERR))) {
			close(child_uffd);
			child_uffd = -1;
		}
	}
}

static void child(void)
{
	char got[8], *moved;
	got[0] = area[0];
	got[1] = area[page];
	*in_call = 1;
	int dontneed = madvise(area + page, page, MADV_DONTNEED);
	*in_call = 0;
	got[2] = area[page];
	*in_call = 1;
	moved = mremap(area, 4 * page, 4 * page, MREMAP_MAYMOVE | MREMAP_FIXED, target);
	*in_call = 0;
	got[3] = moved == target ? moved[page] : '?';
	got[4] = moved == target ? moved[2 * page] : '?';
	*in_call = 1;
	int unmapped = munmap(moved, 4 * page);
	*in_call = 0;
	printf("child: area+0 '%c', area+1 '%c', after DONTNEED (%d) '%c'; moved to target (%s) +1 '%c' +2 '%c'; "
	       "munmap %d\n", got[0], got[1], dontneed, got[2], moved == target ? "yes" : "no",
	       got[3], got[4], unmapped);
	fflush(stdout);
	_exit(0);
}

int main(void)
{
	page = sysconf(_SC_PAGESIZE);
	in_call = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	area = mmap(NULL, NPAGES * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	target = mmap(NULL, NPAGES * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uffd = prog_uffd(UFFD_FEATURE_EVENT_FORK | UFFD_FEATURE_EVENT_REMOVE |
			 UFFD_FEATURE_EVENT_REMAP | UFFD_FEATURE_EVENT_UNMAP,
			 "userfaultfd with EVENT_FORK|REMOVE|REMAP|UNMAP", area, NPAGES * page,
			 UFFDIO_REGISTER_MODE_MISSING);
	if (uffd < 0)
		return 1;
	char *src = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(src, 'P', page);
	struct uffdio_copy c = { .dst = (unsigned long)area, .src = (unsigned long)src, .len = page };
	if (ioctl(uffd, UFFDIO_COPY, &c)) {
		perror("UFFDIO_COPY");
		return 1;
	}
	if (pipe(stop))
		return 1;
	pthread_t t;
	pthread_create(&t, NULL, handler, NULL);

	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0)
		child();
	int status;
	waitpid(pid, &status, 0);
	printf("parent: child exited %d; area+0 '%c', area+1 '%c' (its own fault)\n",
	       WIFEXITED(status) ? WEXITSTATUS(status) : -1, area[0], area[page]);
	if (write(stop[1], "", 1) != 1)
		return 1;
	pthread_join(t, NULL);
	printf("-- the handler's log --\n%s", log_buf);
	return 0;
}
