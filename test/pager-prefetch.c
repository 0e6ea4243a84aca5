/* SPDX-License-Identifier: MIT */
/*
 * Working sets: a region records the order its pages were filled in (with no
 * readahead, exactly the order they were touched in); a second region prefetches
 * that list on background threads, after which touching the same pages
 * faults on none of them, while pages off the list still fault; a prefetch
 * racing the workload leaves every page right and each filled once; unmapping
 * stops a running prefetch; a second prefetch while one runs is EBUSY.
 */
#include "pager_help.h"

#define NPAGES 512
#define NSET   100

static uint64_t set[NSET];

static int touch_all(char *m, const uint64_t *pages, size_t n)
{
	int wrong = 0;
	char v;

	for (size_t i = 0; i < n; i++)
		if (tp_touch(m + pages[i] * (size_t)t_page, 0, &v, NULL) ||
		    !t_check(m + pages[i] * (size_t)t_page, (size_t)t_page, TP_SEED(pages[i])))
			wrong++;
	return wrong;
}

static void toucher(unsigned id, void *arg)
{
	(void)id;
	T_EXPECT_EQ(touch_all(arg, set, NSET), 0);
}

static void scenario(void)
{
	char path[64];
	int fd = tp_file(NPAGES, path, sizeof(path));
	struct uffd_pager *p = tp_pager(2, 0, 0);
	struct uffd_source *src = uffd_source_file(path, 0);
	struct uffd_pager_stats a, b;
	uint64_t rec[NPAGES];

	T_ASSERT(src);
	/* The working set: NSET distinct pages in a scrambled order. */
	for (size_t i = 0; i < NSET; i++)
		set[i] = (i * 157 + 11) % NPAGES;

	/* Record. */
	struct uffd_region *r = uffd_pager_map(p, src, NPAGES * (size_t)t_page, 0, 0);
	T_ASSERT(r);
	T_EXPECT_OK(uffd_region_record_start(r));
	T_EXPECT_EQ(touch_all(uffd_region_addr(r), set, NSET), 0);
	size_t n = uffd_region_record(r, rec, NPAGES);
	T_OBS("recorded %zu pages", n);
	T_EXPECT_EQ(n, NSET);
	T_EXPECT(memcmp(rec, set, sizeof(set)) == 0);
	T_EXPECT_OK(uffd_region_unmap(r));

	/* Prefetch, then run: no fault on the working set, faults off it. */
	r = uffd_pager_map(p, src, NPAGES * (size_t)t_page, 0, 0);
	T_ASSERT(r);
	uffd_pager_stats(p, &a);
	T_EXPECT_OK(uffd_region_prefetch(r, rec, n, 2));
	T_EXPECT_OK(uffd_region_prefetch_wait(r));
	T_EXPECT_EQ(touch_all(uffd_region_addr(r), set, NSET), 0);
	uffd_pager_stats(p, &b);
	T_EXPECT_EQ(b.pages_prefetched - a.pages_prefetched, NSET);
	T_EXPECT_EQ(b.prefetch_bytes - a.prefetch_bytes, NSET * (uint64_t)t_page);
	T_EXPECT_EQ(b.faults - a.faults, 0);
	uint64_t off[3];   /* three pages not in the set */
	for (size_t k = 0, pg = 0; k < 3; pg++) {
		int in = 0;
		for (size_t i = 0; i < NSET; i++)
			in |= set[i] == pg;
		if (!in)
			off[k++] = pg;
	}
	T_EXPECT_EQ(touch_all(uffd_region_addr(r), off, 3), 0);
	uffd_pager_stats(p, &a);
	T_EXPECT_EQ(a.faults - b.faults, 3);
	T_OBS("after prefetch: %llu faults on the set, %llu off it",
	      (unsigned long long)(b.faults - a.faults + 3), (unsigned long long)(a.faults - b.faults));
	T_EXPECT_OK(uffd_region_unmap(r));

	/* Racing: two threads touch the set while it is prefetched. */
	r = uffd_pager_map(p, src, NPAGES * (size_t)t_page, 0, 0);
	T_ASSERT(r);
	uffd_pager_stats(p, &a);
	T_EXPECT_OK(uffd_region_prefetch(r, rec, n, 2));
	errno = 0;
	T_EXPECT_EQ(uffd_region_prefetch(r, rec, n, 1), -1);
	T_OBS("second prefetch: %s", t_errname(errno));
	tp_threads(2, toucher, uffd_region_addr(r));
	T_EXPECT_OK(uffd_region_prefetch_wait(r));
	uffd_pager_stats(p, &b);
	T_EXPECT_EQ(b.pages_filled - a.pages_filled, NSET);   /* each page once */
	T_EXPECT(b.faults - a.faults <= 2 * NSET);
	T_EXPECT_OK(uffd_region_unmap(r));

	/* Unmapping stops a prefetch of every page. */
	uint64_t all[NPAGES];
	for (size_t i = 0; i < NPAGES; i++)
		all[i] = NPAGES - 1 - i;
	r = uffd_pager_map(p, src, NPAGES * (size_t)t_page, 0, 0);
	T_ASSERT(r);
	T_EXPECT_OK(uffd_region_prefetch(r, all, NPAGES, 4));
	T_EXPECT_OK(uffd_region_unmap(r));

	errno = 0;
	T_EXPECT_EQ(uffd_region_prefetch(NULL, rec, 1, 1), -1);
	T_OBS("NULL region: %s", t_errname(errno));
	uffd_pager_destroy(p);
	uffd_source_close(src);
	close(fd);
}

T_MAIN("pager-prefetch", scenario)
