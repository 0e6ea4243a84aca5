/* SPDX-License-Identifier: MIT */
/* The scenarios of `uffd bench`, in the order they run. */
#include "bench.h"
#include "touch.h"

int copy_run(const struct scenario *s, int backend, struct sample *out, char *err,
	     size_t errlen);
int wp_run(const struct scenario *s, int backend, struct sample *out, char *err,
	   size_t errlen);
int sparse_run(const struct scenario *s, int backend, struct sample *out, char *err,
	       size_t errlen);
int postcopy_run(const struct scenario *s, int backend, struct sample *out, char *err,
		 size_t errlen);
int forkwp_run(const struct scenario *s, int backend, struct sample *out, char *err,
	       size_t errlen);
int remote_run(const struct scenario *s, int backend, struct sample *out, char *err,
	       size_t errlen);
int pager_restore_run(const struct scenario *s, int backend, struct sample *out, char *err,
		      size_t errlen);
int pager_faults_run(const struct scenario *s, int backend, struct sample *out, char *err,
		     size_t errlen);

#define TOUCH(...) (&(const struct touch_arg){ __VA_ARGS__ })
#define US "us/fault"

const struct scenario bench_scenarios[] = {
	{ "floor-seq", "first touch without uffd, in address order (the floor)", "us/page",
	  .no_uffd = true, .warmup = true, .arg = TOUCH(.threads = 1), .run = touch_run },
	{ "floor-random", "first touch without uffd, random order", "us/page",
	  .no_uffd = true, .warmup = true, .arg = TOUCH(.threads = 1, .random = true),
	  .run = touch_run },
	{ "thread-copy-seq", "handler thread, UFFDIO_COPY, address order", US,
	  .warmup = true, .arg = TOUCH(.resolve = T_THREAD_COPY, .threads = 1), .run = touch_run },
	{ "thread-copy-random", "handler thread, UFFDIO_COPY, random order", US,
	  .warmup = true, .arg = TOUCH(.resolve = T_THREAD_COPY, .threads = 1, .random = true),
	  .run = touch_run },
	{ "thread-zeropage", "handler thread, UFFDIO_ZEROPAGE, address order", US,
	  .warmup = true, .arg = TOUCH(.resolve = T_THREAD_ZERO, .threads = 1), .run = touch_run },
	{ "threads2-copy", "2 faulting threads (own slices, random), one handler thread", US,
	  .warmup = true, .arg = TOUCH(.resolve = T_THREAD_COPY, .threads = 2, .random = true),
	  .run = touch_run },
	{ "threads4-copy", "4 faulting threads (own slices, random), one handler thread", US,
	  .warmup = true, .arg = TOUCH(.resolve = T_THREAD_COPY, .threads = 4, .random = true),
	  .run = touch_run },
	{ "pinned-same", "handler thread pinned to the faulting thread's CPU", US,
	  .warmup = true, .arg = TOUCH(.resolve = T_THREAD_COPY, .threads = 1, .pin = PIN_SAME),
	  .run = touch_run },
	{ "pinned-other", "handler thread pinned to another CPU", US,
	  .warmup = true, .arg = TOUCH(.resolve = T_THREAD_COPY, .threads = 1, .pin = PIN_OTHER),
	  .run = touch_run },
	{ "sigbus-seq", "synchronous: UFFD_FEATURE_SIGBUS, UFFDIO_COPY in the SIGBUS handler", US,
	  .warmup = true, .arg = TOUCH(.resolve = T_SIGBUS, .threads = 1), .run = touch_run,
	  .extra = { "signals", "eexist" } },
	{ "sigbus-random", "synchronous, random order", US,
	  .warmup = true, .arg = TOUCH(.resolve = T_SIGBUS, .threads = 1, .random = true),
	  .run = touch_run, .extra = { "signals", "eexist" } },
	{ "sigbus-4t-shared", "synchronous, 4 threads touching random pages of the whole region",
	  "us/touch", .warmup = true,
	  .arg = TOUCH(.resolve = T_SIGBUS, .threads = 4, .shared = true), .run = touch_run,
	  .extra = { "signals", "eexist" } },
	{ "copy-1", "UFFDIO_COPY alone, 1 page per ioctl", "us/page",
	  .warmup = true, .arg = (const void *)1, .run = copy_run },
	{ "copy-16", "UFFDIO_COPY alone, 16 contiguous pages per ioctl", "us/page",
	  .warmup = true, .arg = (const void *)16, .run = copy_run },
	{ "copy-64", "UFFDIO_COPY alone, 64 contiguous pages per ioctl", "us/page",
	  .warmup = true, .arg = (const void *)64, .run = copy_run },
	{ "wp-roundtrip", "write-protect fault, lifted by UFFDIO_WRITEPROTECT in a handler thread",
	  US, .warmup = true, .run = wp_run },
	{ "ranges-1", "synchronous fault path, random pages of 1 registered range", US,
	  .warmup = true, .arg = TOUCH(.resolve = T_SIGBUS, .threads = 1, .random = true, .ranges = 1),
	  .run = touch_run, .extra = { "signals", "eexist" } },
	{ "ranges-100", "the same, 100 registered ranges", US,
	  .warmup = true, .arg = TOUCH(.resolve = T_SIGBUS, .threads = 1, .random = true, .ranges = 100),
	  .run = touch_run, .extra = { "signals", "eexist" } },
	{ "ranges-4000", "the same, 4000 registered ranges", US,
	  .warmup = true, .arg = TOUCH(.resolve = T_SIGBUS, .threads = 1, .random = true, .ranges = 4000),
	  .run = touch_run, .extra = { "signals", "eexist" } },
	{ "remote-copy", "a handler process (fd sent over SCM_RIGHTS) resolving with UFFDIO_COPY",
	  US, .warmup = true, .arg = (const void *)1, .run = remote_run },
	{ "remote-wake", "UFFDIO_WAKE from another process, nothing waiting (the channel alone)",
	  "us/call", .warmup = true, .run = remote_run },
	{ "fork-wp", "fork() with every other page of -n (at most 4096) write-protected, no EVENT_FORK: "
	  "fork to the exit of the child, which writes every page", "us/fork", .warmup = true,
	  .run = forkwp_run, .extra = { "fork-us" } },
	{ "fork-wp-event", "the same with UFFD_FEATURE_EVENT_FORK: the child's protected writes "
	  "fault, lifted through the fork event's fd", "us/fault", .warmup = true,
	  .arg = (const void *)1, .run = forkwp_run, .extra = { "fork-us" } },
	{ "sparse", "--count random touches of a --sparse-gib region, handler thread", US,
	  .run = sparse_run, .extra = { "faults", "maps-lines", "rss-MiB" } },
	{ "postcopy", "faulting threads, handler threads and a background COPY stream",
	  "faults/s", .higher_better = true, .run = postcopy_run,
	  .extra = { "pages/s", "eexist", "faults" } },
	{ "pager-restore-eager", "1 GiB file read whole (pread), then one read per page", "ms",
	  .no_uffd = true, .warmup = true, .arg = NULL, .run = pager_restore_run },
	{ "pager-restore-lazy", "the same file mapped lazily by the pager (readahead), one read per page",
	  "ms", .warmup = true, .arg = (const void *)1, .run = pager_restore_run,
	  .extra = { "faulted", "read-ahead" } },
	{ "pager-faults-1", "pager: 4 threads touch 64 MiB at random, no readahead, 1 handler thread",
	  "faults/s", .higher_better = true, .arg = (const void *)1, .run = pager_faults_run,
	  .extra = { "pages" } },
	{ "pager-faults-2", "the same, 2 handler threads", "faults/s", .higher_better = true,
	  .arg = (const void *)2, .run = pager_faults_run, .extra = { "pages" } },
	{ "pager-faults-4", "the same, 4 handler threads", "faults/s", .higher_better = true,
	  .arg = (const void *)4, .run = pager_faults_run, .extra = { "pages" } },
};
const size_t bench_nscenarios = sizeof(bench_scenarios) / sizeof(bench_scenarios[0]);
