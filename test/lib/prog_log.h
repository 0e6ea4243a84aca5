/* SPDX-License-Identifier: MIT */
/*
 * The handler's log of the programs under test/prog/ (built alone, as real
 * userfaultfd clients: header-only, the C library only): lines appended by
 * any thread, printed (or sent back) at the end, and the non-cooperative
 * events as one line each.
 */
#ifndef LIBUFFD_TEST_PROG_LOG_H
#define LIBUFFD_TEST_PROG_LOG_H

#include <linux/userfaultfd.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>

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
