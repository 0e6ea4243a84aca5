/* SPDX-License-Identifier: MIT */
/*
 * For the programs under test/prog/ (built alone, as real userfaultfd
 * clients: header-only, the C library only): their userfaultfd set up as
 * such a program does it, and the handler's log: lines appended by any
 * thread, printed (or sent back) at the end, the non-cooperative events as
 * one line each.
 */
#ifndef LIBUFFD_TEST_PROG_H
#define LIBUFFD_TEST_PROG_H

#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* userfaultfd(2) (non-blocking, close-on-exec), UFFDIO_API with features,
 * and [area, area+len) registered with mode: the fd, or -1 once what
 * failed is on stderr (what: the features' names). */
static inline int prog_uffd(uint64_t features, const char *what, void *area, size_t len,
			    uint64_t mode)
{
	int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	struct uffdio_api api = { .api = UFFD_API, .features = features };
	struct uffdio_register reg = { .range = { (unsigned long)area, len }, .mode = mode };

	if (fd < 0 || ioctl(fd, UFFDIO_API, &api)) {
		perror(what);
		return -1;
	}
	if (ioctl(fd, UFFDIO_REGISTER, &reg)) {
		perror("UFFDIO_REGISTER");
		close(fd);
		return -1;
	}
	return fd;
}

/* A handler thread's loop: each message read from uffd goes to fn, until
 * stop_fd is readable or uffd fails. */
static void __attribute__((unused))
prog_serve(int uffd, int stop_fd, void (*fn)(const struct uffd_msg *msg))
{
	for (;;) {
		struct pollfd p[2] = { { .fd = uffd, .events = POLLIN },
				       { .fd = stop_fd, .events = POLLIN } };
		struct uffd_msg msg;
		if (poll(p, 2, -1) < 0 || p[1].revents || (p[0].revents & (POLLERR | POLLNVAL)) ||
		    read(uffd, &msg, sizeof(msg)) != sizeof(msg))
			return;
		fn(&msg);
	}
}

/* prog_serve() on a thread of its own, until prog_server_stop() (a poll
 * does not see its fd closed: the thread is told). */
struct prog_server {
	pthread_t th;
	int uffd, stop[2];
	void (*fn)(const struct uffd_msg *msg);
};

static void *prog_server_main(void *arg)
{
	struct prog_server *s = arg;

	prog_serve(s->uffd, s->stop[0], s->fn);
	return NULL;
}

/* 0, or -1 (nothing started). */
static int __attribute__((unused))
prog_server_start(struct prog_server *s, int uffd, void (*fn)(const struct uffd_msg *msg))
{
	s->uffd = uffd;
	s->fn = fn;
	if (pipe(s->stop))
		return -1;
	if (!pthread_create(&s->th, NULL, prog_server_main, s))
		return 0;
	close(s->stop[0]);
	close(s->stop[1]);
	s->stop[0] = s->stop[1] = -1;
	return -1;
}

static void __attribute__((unused)) prog_server_stop(struct prog_server *s)
{
	if (write(s->stop[1], "", 1) == 1)
		pthread_join(s->th, NULL);
	close(s->stop[0]);
	close(s->stop[1]);
	s->stop[0] = s->stop[1] = -1;
}

static char log_buf[8192];
static size_t log_len;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static void logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2), unused));
static void logf_(const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&log_lock);
	va_start(ap, fmt);
	log_len += (size_t)vsnprintf(log_buf + log_len, sizeof(log_buf) - log_len, fmt, ap);
	va_end(ap);
	pthread_mutex_unlock(&log_lock);
}

/* Log msg if it is REMOVE, UNMAP or REMAP ("UNMAP area+2..area+4"; where()
 * names an address), page bytes to a page: 1, or 0 for another event. */
static int __attribute__((unused))
log_range_event(const struct uffd_msg *msg, void (*where)(char *out, size_t len, unsigned long a),
		long page)
{
	char a[32], b[32];

	switch (msg->event) {
	case UFFD_EVENT_REMOVE:
	case UFFD_EVENT_UNMAP:
		where(a, sizeof(a), msg->arg.remove.start);
		where(b, sizeof(b), msg->arg.remove.end);
		logf_("%s %s..%s\n", msg->event == UFFD_EVENT_REMOVE ? "REMOVE" : "UNMAP", a, b);
		return 1;
	case UFFD_EVENT_REMAP:
		where(a, sizeof(a), msg->arg.remap.from);
		where(b, sizeof(b), msg->arg.remap.to);
		logf_("REMAP %s -> %s, %llu pages\n", a, b,
		      (unsigned long long)msg->arg.remap.len / (unsigned long long)page);
		return 1;
	}
	return 0;
}

#endif
