/* SPDX-License-Identifier: MIT */
/* `uffd demo`: a memory snapshot restored lazily by the pager, against an
 * eager restore.  demo.c runs it from a file; demo_source.c from an image in
 * Redis or memcached (--source), cold then warm with the recorded working
 * set; demo_snapshot.c makes and checks the snapshot's content;
 * demo_report.c prints the progress, table and JSON. */
#ifndef UFFD_TOOLS_DEMO_H
#define UFFD_TOOLS_DEMO_H

#include <stddef.h>
#include <stdint.h>

#include "uffd.h"
#include "uffd/pager.h"

struct demo_opts {
	uint64_t size;
	int want[3];              /* eager, kernel, user */
	unsigned threads;
	int json;
	const char *file;
	const char *source;       /* redis://... or memcached://... (demo_source.c) */
};

/* ---- the workload (demo.c) ---- */
/* 1/16 of the pages at random, each checked; the time of the first byte
 * read goes to *first_ms.  touched (npages bytes, or NULL) gets a 1 for each
 * page touched.  Returns the pages that differed. */
uint64_t demo_touch_random(const char *mem, uint64_t npages, const char *label,
			   double *first_ms, uint8_t *touched);
/* Every page in order, each checked (progress from done of total). */
uint64_t demo_touch_all(const char *mem, uint64_t npages, const char *label, uint64_t done,
			uint64_t total);

struct demo_result;
/* 1 if backend b can open here; 0 with r->why saying why not. */
int demo_backend_usable(enum uffd_backend b, struct demo_result *r);
/* Pages a restore's faults filled: neither read ahead nor prefetched. */
#define demo_faulted(st) ((st)->pages_filled - (st)->pages_read_ahead - (st)->pages_prefetched)

/* ---- restoring from a store (demo_source.c) ---- */
struct demo_report;
/* Fills rep (opens the image, pushing the demo's snapshot when it is not
 * there); 0, or 1 with a message on stderr. */
int demo_source_run(struct demo_opts *o, struct demo_report *rep);

/* ---- the snapshot (demo_snapshot.c) ---- */
/* Where the snapshot of size bytes lives: $XDG_CACHE_HOME/libuffd/ when set,
 * else /var/tmp/libuffd-demo/; the folder is created. */
int demo_snapshot_path(char *buf, size_t len, uint64_t size);
/* Make the file unless one with the right content is there: 0 or -errno;
 * *created says which, *secs how long it took. */
int demo_snapshot_make(const char *path, uint64_t size, long page, int *created, double *secs);
/* Does page idx hold its content?  1 yes, 0 no. */
int demo_page_ok(const void *page, uint64_t idx, long psize);

/* ---- the results (demo_report.c) ---- */
struct demo_result {
	char name[32];            /* "eager (pread)", "lazy, kernel", ... */
	int lazy;
	int ran;                  /* 0: could not run (why says why) */
	char why[200];
	double first_ms, total_ms;
	uint64_t bad_pages;
	uint64_t faulted, read_ahead, p50_ns, p99_ns, errors;
	/* from a store (--source) */
	int store, warm;
	uint64_t net_bytes, requests; /* what the store client received, commands sent */
	uint64_t working_set;         /* distinct pages the timed workload touched */
	uint64_t recorded;            /* cold: the working-set record's pages */
	uint64_t prefetched, hits, late; /* warm: uffd_region_prefetch(), _hits(), in flight */
	uint64_t faults;              /* fault messages (faults that waited for the prefetch too) */
	uint64_t cold_faults;         /* warm: the cold restore's */
};

struct demo_report {
	const char *path;
	uint64_t size;
	int created;
	double create_s;
	unsigned threads;
	const char *source;       /* --source URL, or NULL */
	int pushed;               /* the image was not there: the snapshot was pushed */
	int n;
	struct demo_result r[5];
};

/* A progress line on a terminal (rewritten in place); nothing otherwise. */
void demo_progress(const char *what, uint64_t done, uint64_t total);
void demo_progress_end(void);
void demo_print_table(const struct demo_report *rep);
void demo_print_json(const struct demo_report *rep);
/* 1 when every restore that ran matched every byte (and one ran). */
int demo_all_matched(const struct demo_report *rep);
double demo_now_ms(void);

#endif
