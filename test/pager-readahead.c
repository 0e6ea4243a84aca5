/* SPDX-License-Identifier: MIT */
/*
 * Readahead.  One thread reads a 256-page file region page by page: the first
 * fault (at the start of the region) reads 4 pages ahead, and each fault that
 * continues the run doubles the window up to the bound (16 here), so the
 * faults fall at pages 0, 5, 14, 31, then every 17 pages: 17 faults, 239
 * pages read ahead, every byte right.  With readahead 0 every page faults.
 * A run that reaches the end of the source stops there: the region is twice
 * the file, and the last pages of the file read ahead no page past its end
 * (no error, until a page past the end is touched: SIGBUS).  Pages touched in
 * a scattered order start no run.
 */
#include "pager_help.h"

#define NPAGES 256

static void sequential(unsigned readahead, const char *path)
{
	struct uffd_pager *p = tp_pager(1, readahead, 0);
	struct uffd_source *src = uffd_source_file(path, 0);
	T_ASSERT(src);
	struct uffd_region *r = uffd_pager_map(p, src, 2 * NPAGES * (size_t)t_page, 0, 0);
	T_ASSERT(r);
	char *m = uffd_region_addr(r);
	int wrong = 0;
	for (size_t i = 0; i < NPAGES; i++)
		wrong += !t_check(m + i * (size_t)t_page, (size_t)t_page, TP_SEED(i));
	char v;
	int code = 0;
	int bus = tp_touch(m + NPAGES * (size_t)t_page, 0, &v, &code);
	T_EXPECT_OK(uffd_region_unmap(r));
	struct uffd_pager_stats st;
	uffd_pager_stats(p, &st);
	/* A thread may touch a window page while its COPY is under way: that
	 * message is skipped (no work), and whether it happens is timing. */
	const unsigned long long served = st.faults - st.faults_skipped;
	T_OBS("readahead %u: faults served %llu, read ahead %llu, filled %llu, errors %llu, "
	      "wrong %d, sigbus past the end %d", readahead, served,
	      (unsigned long long)st.pages_read_ahead, (unsigned long long)st.pages_filled,
	      (unsigned long long)st.errors, wrong, bus);
	T_EXPECT_EQ(wrong, 0);
	T_EXPECT_EQ(bus, 1);
	T_EXPECT_EQ(st.errors, 1);
	T_EXPECT_EQ(st.pages_filled, NPAGES);
	T_EXPECT_EQ(st.bytes_read, NPAGES * (uint64_t)t_page);
	if (readahead == 16) {
		T_EXPECT_EQ(served, 17 + 1);
		T_EXPECT_EQ(st.pages_read_ahead, NPAGES - 17);
	} else if (readahead == 0) {
		T_EXPECT_EQ(served, NPAGES + 1);
		T_EXPECT_EQ(st.pages_read_ahead, 0);
	}
	uffd_pager_destroy(p);
	uffd_source_close(src);
}

static void scattered(const char *path)
{
	struct uffd_pager *p = tp_pager(1, 16, 0);
	struct uffd_source *src = uffd_source_file(path, 0);
	T_ASSERT(src);
	struct uffd_region *r = uffd_pager_map(p, src, NPAGES * (size_t)t_page, 0, 0);
	T_ASSERT(r);
	char *m = uffd_region_addr(r);
	int wrong = 0;
	/* every 7th page, from the end down: no page continues a run */
	for (long i = NPAGES - 1; i > 0; i -= 7)
		wrong += !t_check(m + i * t_page, (size_t)t_page, TP_SEED(i));
	T_EXPECT_OK(uffd_region_unmap(r));
	struct uffd_pager_stats st;
	uffd_pager_stats(p, &st);
	T_OBS("scattered: faults %llu, read ahead %llu, wrong %d", (unsigned long long)st.faults,
	      (unsigned long long)st.pages_read_ahead, wrong);
	T_EXPECT_EQ(wrong, 0);
	T_EXPECT_EQ(st.pages_read_ahead, 0);
	T_EXPECT_EQ(st.faults, (NPAGES - 1 + 6) / 7);
	uffd_pager_destroy(p);
	uffd_source_close(src);
}

static void scenario(void)
{
	char path[64];
	int fd = tp_file(NPAGES, path, sizeof(path));

	sequential(16, path);
	sequential(0, path);
	scattered(path);
	close(fd);
}

T_MAIN("pager-readahead", scenario)
