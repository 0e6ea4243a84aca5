/* SPDX-License-Identifier: MIT */
/*
 * A userfaultfd client that fills registered anonymous memory with
 * UFFDIO_COPY and then does to it what programs do to anonymous memory:
 * fork (the child's writes stay its own, and the parent's its own),
 * MADV_DONTNEED (dropped pages fault again, or read zeros once
 * unregistered), MADV_FREE, MADV_WIPEONFORK, mremap, munmap of a part,
 * UNREGISTER and close, and reads /proc/self/pagemap's file-page bit.  The
 * user backend fills such memory through a page cache under the shim
 * (src/user/pcache.c); none of it may show.  A handler thread reports every
 * fault and resolves it with UFFDIO_ZEROPAGE.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../lib/prog.h"

#ifndef MADV_WIPEONFORK
#define MADV_WIPEONFORK 18
#endif
#define PAGES 4

static long page;
static char *area;
static int uffd;
static struct prog_server handler;

static void answer(const struct uffd_msg *msg)
{
	if (msg->event != UFFD_EVENT_PAGEFAULT)
		return;
	unsigned long at = msg->arg.pagefault.address & ~(page - 1);
	printf("  fault at page %ld\n", (long)((at - (unsigned long)area) / page));
	struct uffdio_zeropage z = { .range = { at, page } };
	ioctl(uffd, UFFDIO_ZEROPAGE, &z);
}

/* A fresh registered area with pages 0 and 1 copied in ('a', 'b'). */
static void setup(const char *what)
{
	printf("%s\n", what);
	uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	struct uffdio_api api = { .api = UFFD_API };
	area = mmap(NULL, PAGES * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct uffdio_register reg = { .range = { (unsigned long)area, PAGES * page },
				       .mode = UFFDIO_REGISTER_MODE_MISSING };
	if (uffd < 0 || ioctl(uffd, UFFDIO_API, &api) || ioctl(uffd, UFFDIO_REGISTER, &reg)) {
		printf("  no userfaultfd\n");
		return;
	}
	static char src[2 * 65536];
	memset(src, 'a', page);
	memset(src + page, 'b', page);
	struct uffdio_copy c = { .dst = (unsigned long)area, .src = (unsigned long)src, .len = 2 * page };
	int ret = ioctl(uffd, UFFDIO_COPY, &c);
	printf("  UFFDIO_COPY: %d, copied %lld\n", ret, (long long)c.copy);
	prog_server_start(&handler, uffd, answer);
}

static void show(const char *label, const char *at)
{
	int v[PAGES];
	for (int i = 0; i < PAGES; i++)   /* faults report themselves first */
		v[i] = at[i * page + 7];
	printf("  %s:", label);
	for (int i = 0; i < PAGES; i++)
		printf(" %d", v[i]);
	printf("\n");
	fflush(stdout);
}

/* End the handler, then close the userfaultfd. */
static void stop(void)
{
	prog_server_stop(&handler);
	close(uffd);
}

static void teardown(void)
{
	stop();
	munmap(area, PAGES * page);
}

static void forked(void)
{
	setup("fork");
	show("before", area);
	int to_child[2], to_parent[2];
	if (pipe(to_child) || pipe(to_parent))
		return;
	char b = 0;
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		area[7] = 'c';   /* page 0: the child's own */
		if (write(to_parent[1], &b, 1) != 1 || read(to_child[0], &b, 1) != 1)
			_exit(1);
		show("child, after the parent wrote page 1", area);
		_exit(0);
	}
	if (read(to_parent[0], &b, 1) != 1)
		return;
	area[page + 7] = 'd';
	show("parent, after the child wrote page 0", area);
	if (write(to_child[1], &b, 1) != 1)
		return;
	int st;
	waitpid(pid, &st, 0);
	area[3 * page + 7] = 'e';   /* still registered: faults */
	show("parent, page 3 touched", area);
	teardown();
}

static void dropped(int advice, const char *name)
{
	setup(name);
	printf("  madvise page 0: %d\n", madvise(area, page, advice));
	fflush(stdout);
	if (advice != MADV_FREE)   /* MADV_FREE: the kernel may or may not have freed it */
		show("after", area);
	else
		printf("  page 1: %d\n", area[page + 7]);
	teardown();
}

static void wiped(void)
{
	setup("MADV_WIPEONFORK");
	printf("  madvise: %d\n", madvise(area, PAGES * page, MADV_WIPEONFORK));
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		show("child", area);
		_exit(0);
	}
	int st;
	waitpid(pid, &st, 0);
	show("parent", area);
	teardown();
}

static void moved(void)
{
	setup("mremap");
	char *to = mremap(area, PAGES * page, PAGES * page, MREMAP_MAYMOVE | MREMAP_FIXED,
			  mmap(NULL, PAGES * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	if (to == MAP_FAILED) {
		printf("  mremap failed\n");
		return;
	}
	show("moved, no longer registered", to);
	stop();
	munmap(to, PAGES * page);
}

static void cut(void)
{
	setup("munmap of pages 2 and 3");
	printf("  munmap: %d\n", munmap(area + 2 * page, 2 * page));
	printf("  pages 0, 1: %d %d\n", area[7], area[page + 7]);
	fflush(stdout);
	stop();
	munmap(area, 2 * page);
}

static void unregistered(bool by_close)
{
	setup(by_close ? "close, then MADV_DONTNEED and fork" : "UNREGISTER, then MADV_DONTNEED and fork");
	if (by_close) {
		stop();
	} else {
		struct uffdio_range r = { (unsigned long)area, PAGES * page };
		printf("  UFFDIO_UNREGISTER: %d\n", ioctl(uffd, UFFDIO_UNREGISTER, &r));
	}
	show("after", area);
	area[2 * page + 7] = 'f';
	printf("  MADV_DONTNEED page 1: %d\n", madvise(area + page, page, MADV_DONTNEED));
	show("dropped", area);
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		area[7] = 'g';
		show("child", area);
		_exit(0);
	}
	int st;
	waitpid(pid, &st, 0);
	show("parent", area);
	if (!by_close) {
		stop();
	}
	munmap(area, PAGES * page);
}

static void pagemap(void)
{
	setup("pagemap");
	int fd = open("/proc/self/pagemap", O_RDONLY);
	uint64_t e = 0;
	if (fd < 0 || pread(fd, &e, 8, (off_t)((uintptr_t)area / page) * 8) != 8)
		printf("  no pagemap\n");
	else
		printf("  page 0: present %d, file-page %d\n", (int)(e >> 63 & 1), (int)(e >> 61 & 1));
	if (fd >= 0)
		close(fd);
	teardown();
}

int main(void)
{
	page = sysconf(_SC_PAGESIZE);
	setvbuf(stdout, NULL, _IOLBF, 0);
	forked();
	dropped(MADV_DONTNEED, "MADV_DONTNEED");
	dropped(MADV_FREE, "MADV_FREE");
	wiped();
	moved();
	cut();
	unregistered(false);
	unregistered(true);
	pagemap();
	return 0;
}
