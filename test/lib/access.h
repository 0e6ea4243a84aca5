/* SPDX-License-Identifier: MIT */
/*
 * A thread that reads or writes one byte and then tells an eventfd it is
 * done, and a wait for whichever comes first: a userfaultfd message or the
 * end of the access.  For checks that an access raises a fault or does not,
 * without timeouts: a faulting access never signals its eventfd before the
 * fault is resolved, one that does not fault queues no message.
 * Header only; every name is prefixed xs_.
 */
#ifndef LIBUFFD_TEST_ACCESS_H
#define LIBUFFD_TEST_ACCESS_H

#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>

#include "harness.h"

struct xs_access {
	pthread_t th;
	volatile char *addr;
	int write;
	char val;       /* written, or read */
	int efd;        /* readable once the access is done */
};

static void *xs_access_fn(void *arg)
{
	struct xs_access *a = arg;
	uint64_t one = 1;

	if (a->write)
		*a->addr = a->val;
	else
		a->val = *a->addr;
	if (write(a->efd, &one, sizeof(one)) != sizeof(one))
		abort();
	return NULL;
}

static inline void xs_start(struct xs_access *a, void *addr, int write, char wval)
{
	a->addr = addr;
	a->write = write;
	a->val = wval;
	a->efd = eventfd(0, EFD_CLOEXEC);
	if (a->efd < 0)
		T_FATAL("eventfd: %s", t_errname(errno));
	errno = pthread_create(&a->th, NULL, xs_access_fn, a);
	if (errno)
		T_FATAL("pthread_create: %s", t_errname(errno));
}

/* Wait (at most 5 s) for the first of: a message on uffd (read into *msg;
 * returns 1) or the access done (returns 0).  -1 when neither came. */
static inline int xs_first(int uffd, struct xs_access *a, struct uffd_msg *msg)
{
	struct pollfd p[2] = { { .fd = a->efd, .events = POLLIN },
			       { .fd = uffd, .events = POLLIN } };

	for (;;) {
		int n = poll(p, 2, 5000);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		if (p[0].revents & POLLIN)
			return 0;
		ssize_t r = read(uffd, msg, sizeof(*msg));
		if (r == sizeof(*msg))
			return 1;
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		T_FATAL("read uffd: %zd %s", r, t_errname(errno));
	}
}

/* Join the thread; returns the byte read (or written). */
static inline char xs_join(struct xs_access *a)
{
	pthread_join(a->th, NULL);
	close(a->efd);
	return a->val;
}

/* Failures inside these report the caller's line (T_AT, harness.h). */
#define xs_start(...) T_AT(xs_start(__VA_ARGS__))
#define xs_first(...) T_AT(xs_first(__VA_ARGS__))

#endif
