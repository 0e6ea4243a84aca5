/* SPDX-License-Identifier: MIT */
/*
 * Teardown leaves nothing behind.  After a first pager has come and gone
 * (the user backend starts its own machinery once per process), the lines of
 * /proc/self/maps, the entries of /proc/self/fd and the threads in
 * /proc/self/task are counted; then a pager with four handler threads maps a
 * file and a zero region, is used, one region is unmapped by hand and the
 * other left to uffd_pager_destroy(): the counts are back where they were.
 * Each region's address range is unmapped once it is gone.
 * A pager that fails to be created (EINVAL) and one destroyed unused leave
 * nothing either.
 */
#include <sched.h>

#include "pager_help.h"

#define NPAGES 32

static void use(const char *path)
{
	struct uffd_pager *p = tp_pager(4, 8, UFFD_PAGER_WRITEBACK);
	struct uffd_source *file = uffd_source_open(path);
	struct uffd_source *zero = uffd_source_open("zero:1M");
	T_ASSERT(file && zero);
	T_EXPECT_EQ(uffd_source_size(zero), 1 << 20);
	struct uffd_region *a = uffd_pager_map(p, file, NPAGES * (size_t)t_page, 0, 0);
	struct uffd_region *b = uffd_pager_map(p, zero, 1 << 20, 0, 0);
	T_ASSERT(a && b);
	char *m = uffd_region_addr(a), *z = uffd_region_addr(b);
	int wrong = 0;
	for (size_t i = 0; i < NPAGES; i++) {
		wrong += !t_check(m + i * (size_t)t_page, (size_t)t_page, TP_SEED(i));
		wrong += z[i * 3 * (size_t)t_page] != 0;
		z[i * (size_t)t_page] = 1;
	}
	T_EXPECT_EQ(wrong, 0);
	T_EXPECT_EQ(uffd_region_writeback(b), NPAGES);
	T_EXPECT_OK(uffd_region_unmap(a));
	T_EXPECT(tp_unmapped(m, NPAGES * (size_t)t_page));
	uffd_pager_destroy(p);          /* b still mapped */
	T_EXPECT(tp_unmapped(z, 1 << 20));
	uffd_source_close(file);
	uffd_source_close(zero);
}

static void scenario(void)
{
	char path[64];
	int fd = tp_file(NPAGES, path, sizeof(path));

	/* twice: the C library's own caches (thread stacks, malloc arenas)
	 * reach their steady state */
	use(path);
	use(path);
	struct tp_counts before = tp_count();
	use(path);
	uffd_pager_destroy(tp_pager(2, 0, 0));
	struct uffd_pager_config bad = { .backend = t_backend, .threads = 1000 };
	errno = 0;
	T_EXPECT(uffd_pager_create(&bad) == NULL && errno == EINVAL);
	struct tp_counts after = tp_count();
	/* pthread_join() returns once a thread is done with its memory, a
	 * moment before the kernel drops it from /proc/self/task: wait for
	 * that (a thread really left behind never goes). */
	for (int i = 0; i < 10000 && after.tasks > before.tasks; i++) {
		sched_yield();
		after = tp_count();
	}
	T_OBS("maps lines %+d, fds %+d, threads %+d", after.maps - before.maps,
	      after.fds - before.fds, after.tasks - before.tasks);
	T_EXPECT_EQ(after.maps, before.maps);
	T_EXPECT_EQ(after.fds, before.fds);
	T_EXPECT_EQ(after.tasks, before.tasks);
	close(fd);
}

T_MAIN("pager-teardown", scenario)
