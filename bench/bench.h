/* SPDX-License-Identifier: MIT */
/*
 * `uffd bench`: the scenarios and what they share.
 *
 *   setup.c     options, clock, errors, mappings, opening a backend, page
 *               contents and their check, random orders, CPUs, /proc figures
 *   handler.c   the handler thread: poll, read, resolve (COPY, ZEROPAGE,
 *               WRITEPROTECT), counting what it did
 *   touch.c     first touch: the floor, handler thread, SIGBUS, threads, pinning,
 *               many registered ranges
 *   copy.c      UFFDIO_COPY of 1, 16, 64 contiguous pages
 *   wp.c        the write-protect round trip
 *   forkwp.c    write protection across fork(), with and without EVENT_FORK
 *   sparse.c    16 GiB sparse, random touches
 *   postcopy.c  QEMU-postcopy-like throughput
 *   remote.c    a handler in another process (the fd sent over SCM_RIGHTS)
 *   pager.c     the pager: lazy against eager restore of 1 GiB, faults/s by handler threads
 *   scenarios.c the table of scenarios
 *
 * A scenario runs one measured round on one backend and fills a sample; it
 * checks every page it placed and fails (never on time) when one is wrong.
 */
#ifndef UFFD_BENCH_H
#define UFFD_BENCH_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uffd.h>

enum { B_KERNEL, B_USER, B_COUNT };

struct bench_opts {
	size_t pages;            /* pages per first-touch round */
	int reps;                /* measured repetitions */
	long count;              /* sparse: random touches */
	unsigned sparse_gib;     /* sparse: region size */
	unsigned post_mib;       /* postcopy: region size */
	int post_faulters, post_handlers;
	bool umo;                /* kernel backend with UFFD_USER_MODE_ONLY */
};
extern struct bench_opts bench_opt;
extern size_t bench_page;

#define BENCH_EXTRAS 4
struct sample {
	double v;                      /* the scenario's figure */
	double x[BENCH_EXTRAS];        /* its extra figures */
};

/* A round's outcome. */
enum { BENCH_OK = 0, BENCH_FAILED = -1, BENCH_UNSUPPORTED = -2 };

struct scenario {
	const char *name;
	const char *help;
	const char *unit;        /* "us/fault", "faults/s", ... */
	bool higher_better;      /* throughput: best is the highest */
	bool no_uffd;            /* the floor: runs once, no backend */
	bool warmup;             /* one unmeasured round first */
	const char *extra[BENCH_EXTRAS];
	const void *arg;
	int (*run)(const struct scenario *s, int backend, struct sample *out,
		   char *err, size_t errlen);
};
extern const struct scenario bench_scenarios[];
extern const size_t bench_nscenarios;

/* ---- setup.c ---- */
uint64_t bench_now_ns(void);
/* Fill err and return BENCH_FAILED (or BENCH_UNSUPPORTED). */
int bench_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Anonymous private memory, THP off (one fault per page); NULL on failure. */
void *bench_map(size_t len, bool noreserve);
enum uffd_backend bench_backend_id(int backend);
/* Open (flags), handshake (features), register [base, base+len) with mode.
 * -1 with err filled. */
int bench_uffd(int backend, int flags, uint64_t features, void *base, size_t len,
	       uint64_t mode, char *err, size_t errlen);
/* A page's expected content: the template with the page's index stamped at
 * byte 8; byte 0 is left to the toucher. */
#define BENCH_TOUCH 0x5a
void bench_page_fill(unsigned char *dst, size_t index);
uint64_t bench_stamp(size_t index);
/* 1 when page index holds its content (byte 0 == first unless first < 0). */
bool bench_page_ok(const unsigned char *pg, size_t index, int first);
/* Pages 0..pages-1 from base all hold their content: 0, or BENCH_FAILED. */
int bench_check_pages(const unsigned char *base, size_t pages, int first, char *err,
		      size_t errlen);
/* A reproducible random permutation of 0..n-1. */
size_t *bench_perm(size_t n, uint64_t seed);
uint64_t bench_rand(uint64_t *state);
/* The CPUs this process may run on: the current one and another (-1 if none). */
void bench_cpus(int *here, int *other);
int bench_pin(int cpu);          /* 0 or -errno; cpu < 0 lifts the pin */
long bench_maps_lines(void);
long bench_rss_kib(void);

/* ---- handler.c ---- */
enum handler_op { H_COPY, H_ZERO, H_UNPROTECT };
struct handler {
	int fd, stopfd;
	enum handler_op op;
	unsigned char *base;
	size_t len;
	int cpu;                 /* pin here, or -1 */
	pthread_t tid;
	_Atomic long msgs, done, eexist, errors;
	int first_errno;
};
/* Start a handler thread on fd; it resolves each fault with op.  0 or -1. */
int handler_start(struct handler *h, int fd, enum handler_op op, void *base,
		  size_t len, int cpu);
/* Stop it and wait for it; 0, or -1 when it saw an error. */
int handler_stop(struct handler *h);

#endif
