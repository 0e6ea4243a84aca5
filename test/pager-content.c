/* SPDX-License-Identifier: MIT */
/*
 * The pager serves every page of a region from its source: a file, zero-fill
 * and a user callback, each mapped by one pager with two handler threads and
 * readahead; four threads touch the pages at once, each in its own
 * pseudo-random order, then every byte is checked.  Each page is read from
 * its source once and installed once (bytes read, pages filled); a fault
 * whose page was already filled costs nothing (faults = filled by a fault +
 * skipped).  A region longer than its source: the pages past the end raise
 * SIGBUS (counted as errors), as a file mapping past EOF does; a file that
 * ends inside a page: that page holds its bytes, then zeros.
 */
#include <pthread.h>

#include "pager_help.h"

#define NPAGES 96

static char *base;
static _Atomic int bad;

static int cb_fill(void *ctx, uint64_t off, void *page, size_t len)
{
	(void)ctx;
	for (size_t i = 0; i < len / (size_t)t_page; i++)
		t_fill((char *)page + i * (size_t)t_page, (size_t)t_page,
		       TP_SEED(off / (uint64_t)t_page + i));
	return 0;
}

static void toucher(unsigned id, void *arg)
{
	unsigned x = 12345 + id * 777;
	(void)arg;
	for (int k = 0; k < NPAGES; k++) {
		x = x * 1103515245u + 12345;
		size_t pg = (x >> 8) % NPAGES;
		char v = 0;
		if (tp_touch(base + pg * (size_t)t_page + (x & 63), 0, &v, NULL))
			bad++;
	}
}

/* Map src, touch from 4 threads, check every page with check(pg). */
static void run(struct uffd_pager *p, struct uffd_source *src, const char *what, int zero)
{
	struct uffd_pager_stats before, after;
	uffd_pager_stats(p, &before);
	struct uffd_region *r = uffd_pager_map(p, src, NPAGES * (size_t)t_page, 0, 0);
	T_ASSERT(r);
	base = uffd_region_addr(r);
	T_EXPECT_EQ(uffd_region_length(r), NPAGES * (size_t)t_page);
	bad = 0;
	tp_threads(4, toucher, NULL);
	int wrong = 0;
	static char zeros[65536];
	for (size_t i = 0; i < NPAGES; i++)
		if (zero ? memcmp(base + i * (size_t)t_page, zeros, (size_t)t_page)
			 : !t_check(base + i * (size_t)t_page, (size_t)t_page, TP_SEED(i)))
			wrong++;
	T_OBS("%s: wrong pages %d, sigbus %d", what, wrong, (int)bad);
	T_EXPECT_EQ(wrong, 0);
	T_EXPECT_EQ(bad, 0);
	/* Once unmapped, no handler thread is still counting for it. */
	T_EXPECT_OK(uffd_region_unmap(r));
	uffd_pager_stats(p, &after);
	T_EXPECT_EQ(after.pages_filled - before.pages_filled, NPAGES);
	T_EXPECT_EQ(after.bytes_read - before.bytes_read, zero ? 0 : NPAGES * (uint64_t)t_page);
	T_EXPECT_EQ(after.errors, 0);
	uint64_t faulted = (after.pages_filled - before.pages_filled) -
			   (after.pages_read_ahead - before.pages_read_ahead);
	T_EXPECT_EQ(after.faults - before.faults,
		    faulted + after.faults_skipped - before.faults_skipped);
	T_EXPECT(after.latency_p50_ns > 0 && after.latency_p99_ns >= after.latency_p50_ns);
}

static void scenario(void)
{
	char path[64];
	int fd = tp_file(NPAGES, path, sizeof(path));
	struct uffd_pager *p = tp_pager(2, 8, 0);

	struct uffd_source *file = uffd_source_file(path, 0);
	T_ASSERT(file);
	T_EXPECT_EQ(uffd_source_size(file), NPAGES * (uint64_t)t_page);
	run(p, file, "file", 0);
	struct uffd_source *zero = uffd_source_zero(NPAGES * (uint64_t)t_page);
	run(p, zero, "zero", 1);
	struct uffd_source *cb = uffd_source_callback(cb_fill, NULL, NPAGES * (uint64_t)t_page);
	run(p, cb, "callback", 0);

	/* Twice the file's length: the second half is past its end. */
	struct uffd_region *r = uffd_pager_map(p, file, 2 * NPAGES * (size_t)t_page, 0, 0);
	T_ASSERT(r);
	char *m = uffd_region_addr(r);
	int code = 0, sig_in = 0, sig_past = 0;
	char v;
	for (size_t i = 0; i < 2 * NPAGES; i += 7) {
		int s = tp_touch(m + i * (size_t)t_page, 0, &v, &code);
		if (i < NPAGES)
			sig_in += s;
		else
			sig_past += s;
	}
	T_OBS("past the end: sigbus inside %d, past %d, si_code %d", sig_in, sig_past, code);
	T_EXPECT_EQ(sig_in, 0);
	T_EXPECT_EQ(sig_past, (2 * NPAGES - NPAGES + 6) / 7);
	T_EXPECT_OK(uffd_region_unmap(r));
	struct uffd_pager_stats st;
	uffd_pager_stats(p, &st);
	T_EXPECT_EQ(st.errors, (uint64_t)sig_past);

	/* A file that ends inside a page: that page holds its bytes, then zeros. */
	T_ASSERT(ftruncate(fd, 10 * t_page + 1000) == 0);
	struct uffd_source *part = uffd_source_file(path, 0);
	T_ASSERT(part);
	r = uffd_pager_map(p, part, 12 * (size_t)t_page, 0, 0);
	T_ASSERT(r);
	m = uffd_region_addr(r);
	static const char zeros[4096];
	int whole = 1;
	for (int i = 0; i < 10; i++)
		whole &= t_check(m + i * t_page, (size_t)t_page, TP_SEED(i));
	char *ref = malloc((size_t)t_page);
	t_fill(ref, (size_t)t_page, TP_SEED(10));
	int tail = !tp_touch(m + 10 * t_page, 0, &v, NULL) && !memcmp(m + 10 * t_page, ref, 1000) &&
		   !memcmp(m + 10 * t_page + 1000, zeros, (size_t)t_page - 1000);
	free(ref);
	int past = tp_touch(m + 11 * t_page, 0, &v, NULL);
	T_OBS("partial last page: whole pages %d, last page %d, past it sigbus %d", whole, tail, past);
	T_EXPECT(whole && tail && past);
	T_EXPECT_OK(uffd_region_unmap(r));
	uffd_source_close(part);

	uffd_pager_destroy(p);
	uffd_source_close(file);
	uffd_source_close(zero);
	uffd_source_close(cb);
	close(fd);
}

T_MAIN("pager-content", scenario)
