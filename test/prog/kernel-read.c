/* SPDX-License-Identifier: MIT */
/*
 * A userfaultfd client that lets the kernel write into registered missing
 * pages: read(2) of a file into a buffer spanning three pages, pread(2),
 * readv(2) into two pages, recv(2) from a socket, and a read(2) from a pipe
 * that waits for its data.  On the kernel each waits for its pages (a write
 * fault each, resolved by the handler thread) and completes.  Prints each
 * result, what landed, and the handler's log of faults.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "../lib/prog.h"

#define NPAGES 16
static long page;
static char *area;
static int uffd, stop[2];

static void *handler(void *arg)
{
	char *src = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(src, '.', page);
	(void)arg;
	for (;;) {
		struct pollfd p[2] = { { .fd = uffd, .events = POLLIN }, { .fd = stop[0], .events = POLLIN } };
		struct uffd_msg msg;
		poll(p, 2, -1);
		if (p[1].revents)
			return NULL;
		if (read(uffd, &msg, sizeof(msg)) != sizeof(msg) || msg.event != UFFD_EVENT_PAGEFAULT)
			continue;
		unsigned long at = msg.arg.pagefault.address & ~(page - 1);
		logf_("fault at page %lu%s\n", (at - (unsigned long)area) / page,
		      msg.arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WRITE ? " (write)" : "");
		struct uffdio_copy c = { .dst = at, .src = (unsigned long)src, .len = page };
		ioctl(uffd, UFFDIO_COPY, &c);
	}
}

static void *late_writer(void *arg)
{
	write(*(int *)arg, "late data", 9);
	return NULL;
}

/* What landed at p: its first and last byte and a checksum-ish count. */
static void show(const char *what, long ret, const char *p, size_t len)
{
	size_t same = 0;
	for (size_t i = 0; i < len; i++)
		same += p[i] == (char)('a' + i % 26);
	printf("%s: %ld, %zu of %zu bytes as the file has them\n", what, ret, same, len);
}

int main(void)
{
	page = sysconf(_SC_PAGESIZE);
	area = mmap(NULL, NPAGES * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uffd = prog_uffd(0, "userfaultfd", area, NPAGES * page, UFFDIO_REGISTER_MODE_MISSING);
	if (uffd < 0)
		return 1;
	pipe(stop);
	pthread_t t;
	pthread_create(&t, NULL, handler, NULL);

	/* A file of 3 pages less 100 bytes: a b c ... z a b ... */
	char tmpl[] = "/tmp/uffd-kernel-read-XXXXXX";
	int f = mkstemp(tmpl);
	unlink(tmpl);
	size_t flen = 3 * page - 100;
	char *content = malloc(flen);
	for (size_t i = 0; i < flen; i++)
		content[i] = (char)('a' + i % 26);
	write(f, content, flen);

	lseek(f, 0, SEEK_SET);
	char *dst = area + 50;   /* pages 0..2 */
	ssize_t n = read(f, dst, 4 * page);
	show("read(file) into pages 0-2", n, dst, n > 0 ? (size_t)n : 0);
	printf("page 3 untouched by it\n");

	n = pread(f, area + 4 * page, page, 0);
	show("pread(file, 1 page) into page 4", n, area + 4 * page, n > 0 ? (size_t)n : 0);

	lseek(f, 0, SEEK_SET);
	struct iovec iov[2] = { { area + 6 * page, 100 }, { area + 8 * page, 100 } };
	n = readv(f, iov, 2);
	printf("readv(file) into pages 6 and 8: %ld, '%.3s' '%.3s'\n", (long)n,
	       area + 6 * page, area + 8 * page);

	int sv[2];
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	send(sv[0], "over the socket", 15, 0);
	n = recv(sv[1], area + 10 * page, 64, 0);
	printf("recv into page 10: %ld, '%.*s'\n", (long)n, (int)(n > 0 ? n : 0), area + 10 * page);

	int p[2];
	pipe(p);
	pthread_t w;
	pthread_create(&w, NULL, late_writer, &p[1]);
	n = read(p[0], area + 12 * page, 64);
	printf("read(pipe) into page 12: %ld, '%.*s'\n", (long)n, (int)(n > 0 ? n : 0), area + 12 * page);
	pthread_join(w, NULL);

	write(stop[1], "", 1);
	pthread_join(t, NULL);
	printf("-- faults --\n%s", log_buf);
	return 0;
}
