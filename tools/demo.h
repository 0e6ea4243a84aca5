/* SPDX-License-Identifier: MIT */
/* `uffd demo`: a memory snapshot restored lazily by the pager, against an
 * eager restore.  demo.c runs it; demo_snapshot.c makes and checks the
 * snapshot's content; demo_report.c prints the progress, table and JSON. */
#ifndef UFFD_TOOLS_DEMO_H
#define UFFD_TOOLS_DEMO_H

#include <stddef.h>
#include <stdint.h>

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
};

struct demo_report {
	const char *path;
	uint64_t size;
	int created;
	double create_s;
	unsigned threads;
	int n;
	struct demo_result r[3];
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
