/* SPDX-License-Identifier: MIT */
/*
 * A source error reaches the thread that touched the page as SIGBUS, never
 * as zeros.  A callback source fails every page p with p % 5 == 3 (EIO);
 * with readahead on, windows holding a bad page fail as a whole and are read
 * again page by page when touched.  Reading and writing every page: the good
 * pages hold their bytes, each bad page raises SIGBUS (the same si_code on
 * both backends) and is counted once as an error; touching a bad page again
 * raises SIGBUS again without another read.  A file truncated after its
 * source was opened: the pages past the new end raise SIGBUS.  Two threads
 * waiting on one bad page both get SIGBUS.
 */
#include "pager_help.h"

#define NPAGES 40

static _Atomic int reads[NPAGES];

static int cb_fill(void *ctx, uint64_t off, void *page, size_t len)
{
	(void)ctx;
	for (size_t i = 0; i < len / (size_t)t_page; i++) {
		size_t pg = off / (uint64_t)t_page + i;
		reads[pg]++;
		if (pg % 5 == 3)
			return -EIO;
		t_fill((char *)page + i * (size_t)t_page, (size_t)t_page, TP_SEED(pg));
	}
	return 0;
}

static char *shared_page;
static _Atomic int both_bus;

static void toucher(unsigned id, void *arg)
{
	char v = 0;
	(void)arg;
	both_bus += tp_touch(shared_page + id, 0, &v, NULL);
}

static void scenario(void)
{
	struct uffd_pager *p = tp_pager(2, 8, 0);
	struct uffd_source *src = uffd_source_callback(cb_fill, NULL, NPAGES * (uint64_t)t_page);
	T_ASSERT(src);
	struct uffd_region *r = uffd_pager_map(p, src, NPAGES * (size_t)t_page, 0, 0);
	T_ASSERT(r);
	char *m = uffd_region_addr(r);
	int bus = 0, wrong = 0, misplaced = 0, code = 0;
	for (size_t i = 0; i < NPAGES; i++) {
		char v = 'w';
		int s = tp_touch(m + i * (size_t)t_page + 100, i & 1, &v, &code);
		bus += s;
		misplaced += s != (i % 5 == 3);
		if (!s && !(i & 1))
			wrong += !t_check(m + i * (size_t)t_page, (size_t)t_page, TP_SEED(i));
	}
	T_OBS("sigbus %d (si_code %d), misplaced %d, wrong %d", bus, code, misplaced, wrong);
	T_EXPECT_EQ(bus, NPAGES / 5);
	T_EXPECT_EQ(misplaced, 0);
	T_EXPECT_EQ(wrong, 0);
	/* again: SIGBUS, and the source is not asked again */
	int before = reads[3], again = 0;
	char v;
	again += tp_touch(m + 3 * (size_t)t_page, 0, &v, NULL);
	again += tp_touch(m + 8 * (size_t)t_page, 1, &v, NULL);
	T_OBS("second touch of bad pages: sigbus %d, new reads %d", again, reads[3] - before);
	T_EXPECT_EQ(again, 2);
	T_EXPECT_EQ(reads[3], before);

	/* two threads on one bad page, fresh region */
	struct uffd_region *r2 = uffd_pager_map(p, src, NPAGES * (size_t)t_page, 0, 0);
	T_ASSERT(r2);
	shared_page = (char *)uffd_region_addr(r2) + 13 * (size_t)t_page;
	tp_threads(2, toucher, NULL);
	T_OBS("two threads on a bad page: sigbus %d", (int)both_bus);
	T_EXPECT_EQ(both_bus, 2);
	T_EXPECT_OK(uffd_region_unmap(r2));
	T_EXPECT_OK(uffd_region_unmap(r));
	struct uffd_pager_stats st;
	uffd_pager_stats(p, &st);
	T_EXPECT_EQ(st.errors, NPAGES / 5 + 1);

	/* a file cut short after it was opened */
	char path[64];
	int fd = tp_file(16, path, sizeof(path));
	struct uffd_source *file = uffd_source_file(path, 0);
	T_ASSERT(file);
	T_ASSERT(ftruncate(fd, 6 * t_page + 100) == 0);
	struct uffd_region *r3 = uffd_pager_map(p, file, 16 * (size_t)t_page, 0, 0);
	T_ASSERT(r3);
	m = uffd_region_addr(r3);
	int cut = 0;
	for (size_t i = 0; i < 16; i++)
		cut += tp_touch(m + i * (size_t)t_page, 0, &v, NULL) << i;
	/* the page holding the new end: its bytes, then zeros */
	static const char zeros[256];
	int tail_ok = t_check(m + 5 * t_page, (size_t)t_page, TP_SEED(5)) &&
		      !memcmp(m + 6 * t_page + 100, zeros, 256);
	T_OBS("truncated file: sigbus mask 0x%x, tail page ok %d", (unsigned)cut, tail_ok);
	T_EXPECT_EQ(cut, 0xff80);
	T_EXPECT(tail_ok);
	T_EXPECT_OK(uffd_region_unmap(r3));
	uffd_pager_destroy(p);
	uffd_source_close(src);
	uffd_source_close(file);
	close(fd);
}

T_MAIN("pager-sigbus", scenario)
