/* SPDX-License-Identifier: MIT */
/*
 * Small helpers for the user-backend acceptance scenarios (issue 4), header
 * only; every name is prefixed acc_.
 *   acc_thread   a thread that reads or writes one byte and records its tid
 *   acc_wait_blocked()   wait until a thread sleeps (state S in /proc), used
 *                only where a pending message must stay unread
 *   acc_maps_lines()     lines in /proc/self/maps (_in: those of a region)
 *   acc_stopper  an eventfd that tells handler threads to stop
 */
#ifndef LIBUFFD_TEST_ACC_H
#define LIBUFFD_TEST_ACC_H

#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>

#include "harness.h"

#define ACC_PG(p, base) ((long)(((char *)(uintptr_t)(p) - (char *)(base)) / t_page))

static inline pid_t acc_gettid(void) { return (pid_t)syscall(SYS_gettid); }

struct acc_thread {
	pthread_t th;
	volatile char *addr;
	int write;
	char wval;
	char rval;
	_Atomic pid_t tid;
	_Atomic int started;      /* set just before the access */
};

static void *acc_thread_fn(void *arg)
{
	struct acc_thread *t = arg;

	atomic_store(&t->tid, acc_gettid());
	atomic_store(&t->started, 1);
	if (t->write) {
		*t->addr = t->wval;
		t->rval = t->wval;
	} else {
		t->rval = *t->addr;
	}
	return NULL;
}

static inline void acc_start(struct acc_thread *t, void *addr, int write, char wval)
{
	t->addr = addr;
	t->write = write;
	t->wval = wval;
	t->rval = 0;
	atomic_store(&t->tid, 0);
	atomic_store(&t->started, 0);
	errno = pthread_create(&t->th, NULL, acc_thread_fn, t);
	if (errno)
		T_FATAL("pthread_create: %s", t_errname(errno));
}

static inline char acc_join(struct acc_thread *t)
{
	pthread_join(t->th, NULL);
	return t->rval;
}

static inline pid_t acc_tid(struct acc_thread *t)
{
	while (!atomic_load(&t->started))
		sched_yield();
	return atomic_load(&t->tid);
}

/* The scheduler state letter of one of our threads ('R', 'S', ...). */
static inline char acc_thread_state(pid_t tid)
{
	char path[64], buf[512];

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return '?';
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return '?';
	buf[n] = 0;
	char *p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : '?';
}

/* Wait (at most 5 s) until the thread has started its access and sleeps:
 * it is blocked in the fault.  Fatal otherwise. */
static inline void acc_wait_blocked(struct acc_thread *t)
{
	pid_t tid = acc_tid(t);
	struct timespec t0, now;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		char s = acc_thread_state(tid);
		if (s == 'S' || s == 'D')
			return;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - t0.tv_sec > 5)
			T_FATAL("thread %d never blocked (state %c)", (int)tid, s);
		sched_yield();
	}
}

/* Lines of /proc/self/maps for mappings that overlap [lo, lo + len). */
static inline int acc_maps_lines_in(const void *lo, size_t len)
{
	FILE *f = fopen("/proc/self/maps", "re");
	unsigned long start, end;
	char line[4096];
	int n = 0;

	if (!f)
		T_FATAL("open /proc/self/maps: %s", t_errname(errno));
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%lx-%lx", &start, &end) == 2 &&
		    end > (uintptr_t)lo && (start <= (uintptr_t)lo || start - (uintptr_t)lo < len))
			n++;
	fclose(f);
	return n;
}

static inline int acc_maps_lines(void)
{
	return acc_maps_lines_in(NULL, SIZE_MAX);
}

/* No core files from the children that are meant to die of a signal. */
static inline void acc_no_core(void)
{
	struct rlimit r = { 0, 0 };
	setrlimit(RLIMIT_CORE, &r);
}

/* A deterministic pseudo-random sequence. */
static inline uint32_t acc_rand(uint64_t *s)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return (uint32_t)(*s >> 33);
}

/* Failures inside these report the caller's line (T_AT, harness.h). */
#define acc_start(...) T_AT(acc_start(__VA_ARGS__))
#define acc_wait_blocked(...) T_AT(acc_wait_blocked(__VA_ARGS__))
#define acc_maps_lines(...) T_AT(acc_maps_lines(__VA_ARGS__))
#define acc_maps_lines_in(...) T_AT(acc_maps_lines_in(__VA_ARGS__))

#endif
