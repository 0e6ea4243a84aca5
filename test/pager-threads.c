/* SPDX-License-Identifier: MIT */
/*
 * Several handler threads.  Four handler threads serve eight threads that
 * read and write 1024 pages of a callback source at once, each in its own
 * pseudo-random order, without readahead (every page is a fault).  Every page
 * is filled exactly once however many threads fault on it (the callback runs
 * once per page, pages filled = pages), every message is either a fill or a
 * skipped duplicate, and every byte is right, including the ones written.
 */
#include "pager_help.h"

#define NPAGES   1024
#define NTOUCH   8

static char *base;
static _Atomic int calls[NPAGES], bad;

static int cb_fill(void *ctx, uint64_t off, void *page, size_t len)
{
	(void)ctx;
	for (size_t i = 0; i < len / (size_t)t_page; i++) {
		size_t pg = off / (uint64_t)t_page + i;
		calls[pg]++;
		t_fill((char *)page + i * (size_t)t_page, (size_t)t_page, TP_SEED(pg));
	}
	return 0;
}

static void toucher(unsigned id, void *arg)
{
	unsigned x = 99 + id * 31337;
	(void)arg;
	for (int k = 0; k < NPAGES / 2; k++) {
		x = x * 1103515245u + 12345;
		size_t pg = (x >> 8) % NPAGES;
		char v = (char)id;
		/* each thread writes its id to its own byte of the page's last 64 */
		size_t at = pg * (size_t)t_page + (size_t)t_page - 64 + id;
		if (tp_touch(base + at, k & 1, &v, NULL))
			bad++;
	}
}

static void scenario(void)
{
	struct uffd_pager *p = tp_pager(4, 0, 0);
	struct uffd_source *src = uffd_source_callback(cb_fill, NULL, NPAGES * (uint64_t)t_page);
	T_ASSERT(src);
	struct uffd_region *r = uffd_pager_map(p, src, NPAGES * (size_t)t_page, 0, 0);
	T_ASSERT(r);
	base = uffd_region_addr(r);
	tp_threads(NTOUCH, toucher, NULL);
	/* the bytes the threads may have written, reset to the pattern's */
	char *ref = malloc((size_t)t_page);
	int wrong = 0, twice = 0;
	for (size_t i = 0; i < NPAGES; i++) {
		t_fill(ref, (size_t)t_page, TP_SEED(i));
		char *pg = base + i * (size_t)t_page;
		for (unsigned id = 0; id < NTOUCH; id++) {
			char *b = pg + t_page - 64 + id;
			if (*b == (char)id)
				*b = ref[t_page - 64 + id];
		}
		wrong += !t_check(pg, (size_t)t_page, TP_SEED(i));
		twice += calls[i] != 1;
	}
	free(ref);
	T_EXPECT_OK(uffd_region_unmap(r));
	struct uffd_pager_stats st;
	uffd_pager_stats(p, &st);
	T_OBS("wrong pages %d, pages read more than once %d, sigbus %d, filled %llu",
	      wrong, twice, (int)bad, (unsigned long long)st.pages_filled);
	T_EXPECT_EQ(wrong, 0);
	T_EXPECT_EQ(twice, 0);
	T_EXPECT_EQ(bad, 0);
	T_EXPECT_EQ(st.pages_filled, NPAGES);
	T_EXPECT_EQ(st.faults, st.pages_filled + st.faults_skipped);
	uffd_pager_destroy(p);
	uffd_source_close(src);
}

T_MAIN("pager-threads", scenario)
