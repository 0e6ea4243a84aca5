/* SPDX-License-Identifier: MIT */
/*
 * The handler thread of the bench scenarios: polls the userfaultfd (and a
 * stop eventfd), reads up to 16 messages at a time, and resolves each fault
 * with UFFDIO_COPY of the page's content, UFFDIO_ZEROPAGE, or (write-protect
 * faults) UFFDIO_WRITEPROTECT lifting the protection.  Several handlers may
 * share one fd (O_NONBLOCK: a read may find nothing).  EEXIST (the page was
 * placed meanwhile) is counted, not an error.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "bench.h"

static void fail(struct handler *h, int err)
{
	if (!atomic_fetch_add(&h->errors, 1))
		h->first_errno = err;
}

static void resolve(struct handler *h, unsigned char *src, uintptr_t addr)
{
	const uintptr_t page = addr & ~(uintptr_t)(bench_page - 1);
	const size_t index = (page - (uintptr_t)h->base) / bench_page;
	int ret;

	if (page < (uintptr_t)h->base || page >= (uintptr_t)h->base + h->len) {
		fail(h, EFAULT);
		return;
	}
	switch (h->op) {
	case H_COPY: {
		bench_page_fill(src, index);
		struct uffdio_copy c = { .dst = page, .src = (uintptr_t)src, .len = bench_page };
		ret = uffd_ioctl(h->fd, UFFDIO_COPY, &c);
		break;
	}
	case H_ZERO: {
		struct uffdio_zeropage z = { .range = { .start = page, .len = bench_page } };
		ret = uffd_ioctl(h->fd, UFFDIO_ZEROPAGE, &z);
		break;
	}
	default: {
		struct uffdio_writeprotect w = { .range = { .start = page, .len = bench_page } };
		ret = uffd_ioctl(h->fd, UFFDIO_WRITEPROTECT, &w);
		break;
	}
	}
	if (ret == 0)
		atomic_fetch_add(&h->done, 1);
	else if (errno == EEXIST)
		atomic_fetch_add(&h->eexist, 1);
	else
		fail(h, errno);
}

static void *handler_main(void *arg)
{
	struct handler *h = arg;
	struct uffd_msg msgs[16];
	unsigned char *src = aligned_alloc(bench_page, bench_page);

	if (!src) {
		fail(h, ENOMEM);
		return NULL;
	}
	if (h->cpu >= 0 && bench_pin(h->cpu) < 0)
		fail(h, errno);
	for (;;) {
		struct pollfd p[2] = { { .fd = h->fd, .events = POLLIN },
				       { .fd = h->stopfd, .events = POLLIN } };
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			fail(h, errno);
			break;
		}
		if (p[0].revents & (POLLERR | POLLHUP | POLLNVAL)) {
			fail(h, EPIPE);
			break;
		}
		if (p[0].revents & POLLIN) {
			ssize_t n = read(h->fd, msgs, sizeof(msgs));
			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			if (n <= 0 || n % (ssize_t)sizeof(msgs[0])) {
				fail(h, n < 0 ? errno : EIO);
				break;
			}
			for (ssize_t k = 0; k < n / (ssize_t)sizeof(msgs[0]); k++) {
				if (msgs[k].event != UFFD_EVENT_PAGEFAULT) {
					fail(h, EPROTO);
					continue;
				}
				atomic_fetch_add(&h->msgs, 1);
				resolve(h, src, msgs[k].arg.pagefault.address);
			}
			continue;
		}
		if (p[1].revents & POLLIN)
			break;
	}
	free(src);
	return NULL;
}

int handler_start(struct handler *h, int fd, enum handler_op op, void *base,
		  size_t len, int cpu)
{
	memset(h, 0, sizeof(*h));
	h->fd = fd;
	h->op = op;
	h->base = base;
	h->len = len;
	h->cpu = cpu;
	h->stopfd = eventfd(0, EFD_CLOEXEC);
	if (h->stopfd < 0)
		return -1;
	if (pthread_create(&h->tid, NULL, handler_main, h)) {
		close(h->stopfd);
		return -1;
	}
	return 0;
}

int handler_stop(struct handler *h)
{
	uint64_t one = 1;

	if (write(h->stopfd, &one, sizeof(one)) != sizeof(one))
		fail(h, errno);
	pthread_join(h->tid, NULL);
	close(h->stopfd);
	return atomic_load(&h->errors) ? -1 : 0;
}
