/* SPDX-License-Identifier: MIT */
/*
 * A snapshot while the region is written to.  A 64-page file is mapped with
 * write-back tracking; pages 16-63 are read and each gets an 'A' at byte 100
 * (present, dirty); pages 0-15 are not touched before the snapshot.  A thread
 * takes the snapshot into a buffer; its sink, saving page 0 (from the file),
 * waits until the main thread has written 'B' at byte 200 of every page, from
 * the last to the first.  So each of pages 16-63 is written before the
 * snapshot's thread gets to it: the write-protect fault must save it first
 * (48 pages saved from handler threads).  The snapshot holds every page as it
 * was at its instant ('A' at 100 for pages 16-63, the file's bytes
 * elsewhere, no 'B'); the region holds the 'B's; 64 pages are saved.
 * Afterwards write-back still writes every page written (all 64), and
 * without tracking a snapshot is refused (EINVAL).
 */
#include <pthread.h>

#include "pager_help.h"

#define NPAGES 64
#define FIRST_TOUCHED 16

static char *snapbuf;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int page0_entered, writer_done, sink_calls, by_faults;
static pthread_t snap_thread;
static struct uffd_region *region;
static long snap_ret;

static int sink(void *ctx, uint64_t off, const void *page, size_t len)
{
	(void)ctx;
	memcpy(snapbuf + off, page, len);
	pthread_mutex_lock(&mu);
	sink_calls++;
	by_faults += !pthread_equal(pthread_self(), snap_thread);
	if (off == 0) {
		page0_entered = 1;
		pthread_cond_broadcast(&cv);
		while (!writer_done)
			pthread_cond_wait(&cv, &mu);
	}
	pthread_mutex_unlock(&mu);
	return 0;
}

static void *snapper(void *arg)
{
	(void)arg;
	snap_ret = uffd_region_snapshot(region, sink, NULL);
	return NULL;
}

static void scenario(void)
{
	char path[64];
	int fd = tp_file(NPAGES, path, sizeof(path));
	struct uffd_pager *p = tp_pager(2, 0, UFFD_PAGER_WRITEBACK);
	struct uffd_source *src = uffd_source_file(path, O_RDWR);
	T_ASSERT(src);
	region = uffd_pager_map(p, src, NPAGES * (size_t)t_page, 0, 0);
	T_ASSERT(region);
	char *m = uffd_region_addr(region);
	snapbuf = calloc(NPAGES, (size_t)t_page);
	T_ASSERT(snapbuf);
	for (int i = FIRST_TOUCHED; i < NPAGES; i++)
		m[i * t_page + 100] = 'A';

	pthread_mutex_lock(&mu);
	T_ASSERT(pthread_create(&snap_thread, NULL, snapper, NULL) == 0);
	while (!page0_entered)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	for (int i = NPAGES - 1; i >= 0; i--)
		m[i * t_page + 200] = 'B';
	pthread_mutex_lock(&mu);
	writer_done = 1;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
	pthread_join(snap_thread, NULL);

	char *ref = malloc((size_t)t_page);
	int bad = 0, mem_bad = 0;
	for (int i = 0; i < NPAGES; i++) {
		t_fill(ref, (size_t)t_page, TP_SEED(i));
		if (i >= FIRST_TOUCHED)
			ref[100] = 'A';
		bad += memcmp(snapbuf + (size_t)i * t_page, ref, (size_t)t_page) != 0;
		ref[200] = 'B';
		mem_bad += memcmp(m + (size_t)i * t_page, ref, (size_t)t_page) != 0;
	}
	free(ref);
	T_OBS("snapshot: returned %ld, sink calls %d (by write faults %d), pages differing %d; "
	      "memory differing %d", snap_ret, sink_calls, by_faults, bad, mem_bad);
	T_EXPECT_EQ(snap_ret, NPAGES);
	T_EXPECT_EQ(sink_calls, NPAGES);
	T_EXPECT_EQ(by_faults, NPAGES - FIRST_TOUCHED);
	T_EXPECT_EQ(bad, 0);
	T_EXPECT_EQ(mem_bad, 0);
	long n = uffd_region_writeback(region);
	T_OBS("write-back after the snapshot: %ld pages", n);
	T_EXPECT_EQ(n, NPAGES);
	T_EXPECT_OK(uffd_region_unmap(region));
	uffd_pager_destroy(p);

	p = tp_pager(1, 0, 0);
	region = uffd_pager_map(p, src, NPAGES * (size_t)t_page, 0, 0);
	T_ASSERT(region);
	T_EXPECT_ERR(uffd_region_snapshot(region, sink, NULL), EINVAL);
	uffd_pager_destroy(p);
	uffd_source_close(src);
	free(snapbuf);
	close(fd);
}

T_MAIN("pager-snapshot", scenario)
