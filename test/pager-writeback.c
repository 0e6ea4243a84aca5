/* SPDX-License-Identifier: MIT */
/*
 * Write-back of dirty pages only.  A 64-page file is mapped by a pager that
 * tracks dirty pages.  After reading every page nothing is dirty (write-back
 * writes 0 pages).  Writing one byte into pages 3, 10, 11 and 40: write-back
 * writes exactly those 4 pages and the file holds the new bytes, every other
 * page unchanged; again: 0.  A page written again after its write-back is
 * dirty again (1).  A page whose first access is a write (a missing fault
 * with the write flag) is dirty from the start.  Without tracking, or with a
 * read-only source, write-back is refused (EINVAL, EROFS).
 */
#include "pager_help.h"

#define NPAGES 64

static int file_pages_ok(int fd, const unsigned char *changed)
{
	char *buf = malloc((size_t)t_page);
	int bad = 0;

	T_ASSERT(buf);
	for (size_t i = 0; i < NPAGES; i++) {
		T_ASSERT(pread(fd, buf, (size_t)t_page, (off_t)(i * (size_t)t_page)) == t_page);
		if (changed[i]) {
			char want = buf[200];
			buf[200] = 0;
			char *ref = malloc((size_t)t_page);
			t_fill(ref, (size_t)t_page, TP_SEED(i));
			ref[200] = 0;
			bad += memcmp(buf, ref, (size_t)t_page) != 0 || want != (char)changed[i];
			free(ref);
		} else {
			bad += !t_check(buf, (size_t)t_page, TP_SEED(i));
		}
	}
	free(buf);
	return bad;
}

static void scenario(void)
{
	char path[64];
	int fd = tp_file(NPAGES, path, sizeof(path));
	struct uffd_pager *p = tp_pager(2, 8, UFFD_PAGER_WRITEBACK);
	struct uffd_source *src = uffd_source_file(path, O_RDWR);
	T_ASSERT(src);
	struct uffd_region *r = uffd_pager_map(p, src, NPAGES * (size_t)t_page, 0, 0);
	T_ASSERT(r);
	char *m = uffd_region_addr(r);
	unsigned char changed[NPAGES] = { 0 };

	int wrong = 0;
	for (size_t i = 0; i < NPAGES; i++)
		wrong += !t_check(m + i * (size_t)t_page, (size_t)t_page, TP_SEED(i));
	T_EXPECT_EQ(wrong, 0);
	long n = uffd_region_writeback(r);
	T_OBS("after reading: written %ld", n);
	T_EXPECT_EQ(n, 0);

	static const int pages[] = { 3, 10, 11, 40 };
	for (size_t k = 0; k < 4; k++) {
		m[pages[k] * t_page + 200] = (char)(0x40 + k);
		changed[pages[k]] = (unsigned char)(0x40 + k);
	}
	n = uffd_region_writeback(r);
	int bad = file_pages_ok(fd, changed);
	T_OBS("after writing 4 pages: written %ld, file pages wrong %d", n, bad);
	T_EXPECT_EQ(n, 4);
	T_EXPECT_EQ(bad, 0);
	n = uffd_region_writeback(r);
	T_OBS("again: written %ld", n);
	T_EXPECT_EQ(n, 0);

	m[10 * t_page + 200] = 0x55;
	changed[10] = 0x55;
	n = uffd_region_writeback(r);
	bad = file_pages_ok(fd, changed);
	T_OBS("page 10 written again: written %ld, file pages wrong %d", n, bad);
	T_EXPECT_EQ(n, 1);
	T_EXPECT_EQ(bad, 0);
	T_EXPECT_OK(uffd_region_unmap(r));

	/* first access a write */
	r = uffd_pager_map(p, src, NPAGES * (size_t)t_page, 0, 0);
	T_ASSERT(r);
	m = uffd_region_addr(r);
	m[20 * t_page + 200] = 0x66;
	changed[20] = 0x66;
	int intact = t_check(m + 21 * t_page, (size_t)t_page, TP_SEED(21));
	n = uffd_region_writeback(r);
	bad = file_pages_ok(fd, changed);
	T_OBS("write as first access: written %ld, file pages wrong %d, neighbour intact %d",
	      n, bad, intact);
	T_EXPECT_EQ(n, 1);
	T_EXPECT_EQ(bad, 0);
	T_EXPECT(intact);
	T_EXPECT_OK(uffd_region_unmap(r));
	struct uffd_pager_stats st;
	uffd_pager_stats(p, &st);
	T_EXPECT_EQ(st.pages_written, 6);
	T_EXPECT_EQ(st.wp_faults, 5);

	/* read-only source: EROFS; a pager that does not track: EINVAL */
	struct uffd_source *ro = uffd_source_file(path, 0);
	T_ASSERT(ro);
	r = uffd_pager_map(p, ro, NPAGES * (size_t)t_page, 0, 0);
	T_ASSERT(r);
	T_EXPECT_ERR(uffd_region_writeback(r), EROFS);
	T_EXPECT_OK(uffd_region_unmap(r));
	uffd_pager_destroy(p);
	p = tp_pager(1, 0, 0);
	r = uffd_pager_map(p, src, NPAGES * (size_t)t_page, 0, 0);
	T_ASSERT(r);
	T_EXPECT_ERR(uffd_region_writeback(r), EINVAL);
	uffd_pager_destroy(p);
	uffd_source_close(ro);
	uffd_source_close(src);
	close(fd);
}

T_MAIN("pager-writeback", scenario)
