/* SPDX-License-Identifier: MIT */
/*
 * Write protection on shared memory (UFFD_FEATURE_WP_HUGETLBFS_SHMEM): a
 * MAP_SHARED memfd mapping holding data, registered WP.  UFFDIO_WRITEPROTECT
 * a present page: a thread writing to it blocks with a message of flags
 * WP|WRITE for that page; meanwhile reads (here and through a second mapping)
 * see the old contents, other pages stay writable; un-protecting wakes the
 * writer and its write lands, visible through the other mapping and pread(2).
 * The protection belongs to the registered mapping: the second mapping writes
 * the protected page freely, and the writer then lands over that.  A page in
 * the page cache but not yet mapped here is protected too (the kernel keeps a
 * marker): its first write faults with WP.  Registered MISSING|WP, COPY with
 * UFFDIO_COPY_MODE_WP fills a hole write-protected; a page filled through
 * the other mapping and protected before this one touched it stays
 * protected after a read here (its first write faults with WP).
 */
#include "acc.h"
#include "oracle.h"

#define NPAGES 4



static void protect(int fd, char *addr, long npages, int on)
{
	struct uffdio_writeprotect w = {
		.range = { (uintptr_t)addr, npages * t_page },
		.mode = on ? UFFDIO_WRITEPROTECT_MODE_WP : 0,
	};
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_WRITEPROTECT, &w));
}

static void wp_msg(int fd, struct uffd_msg *msg, const char *what, char *base, long pg)
{
	orc_fault_msg(fd, msg, what, base);
	T_EXPECT_EQ(msg->arg.pagefault.flags,
		    UFFD_PAGEFAULT_FLAG_WP | UFFD_PAGEFAULT_FLAG_WRITE);
	T_EXPECT_EQ(ORC_PG((char *)(uintptr_t)msg->arg.pagefault.address, base), pg);
}

static void wp_only(void)
{
	int fd = t_uffd_api(O_CLOEXEC | O_NONBLOCK, UFFD_FEATURE_WP_HUGETLBFS_SHMEM);
	int mfd = orc_memfd(NPAGES * t_page);
	char *alias = orc_mmap(NPAGES * t_page, PROT_READ | PROT_WRITE, MAP_SHARED, mfd);
	char *sh = orc_mmap(NPAGES * t_page, PROT_READ | PROT_WRITE, MAP_SHARED, mfd);
	char *want = t_map(t_page);

	for (int i = 0; i < NPAGES; i++)
		t_fill(alias + i * t_page, t_page, 30 + i);
	/* Pages 0-2 mapped here (read); page 3 only in the page cache. */
	int seen = 0;
	for (int i = 0; i < 3; i++)
		seen += t_check(sh + i * t_page, t_page, 30 + i);
	T_OBS("wp: pages mapped here before registering: %d intact", seen);
	uint64_t ioctls = t_register(fd, sh, NPAGES * t_page, UFFDIO_REGISTER_MODE_WP);
	T_OBS("wp: register ioctls 0x%llx", (unsigned long long)ioctls);
	T_EXPECT(ioctls & (1ULL << _UFFDIO_WRITEPROTECT));

	protect(fd, sh + t_page, 1, 1);
	int intact = t_check(sh + t_page, t_page, 31);
	T_OBS("wp: page 1 protected, reads %s", intact ? "intact" : "changed");
	T_EXPECT(intact);

	struct acc_thread t;
	struct uffd_msg msg;
	acc_start(&t, sh + t_page + 40, 1, 0x77);
	wp_msg(fd, &msg, "wp: write of page 1", sh, 1);
	/* The writer is blocked: reads work, contents intact. */
	intact = t_check(sh + t_page, t_page, 31);
	int there = t_check(alias + t_page, t_page, 31);
	T_OBS("wp: while the writer waits: page 1 here %s, other mapping %s",
	      intact ? "intact" : "changed", there ? "intact" : "changed");
	T_EXPECT(intact && there);
	sh[2 * t_page + 5] = 0x12;
	T_OBS("wp: page 2 written meanwhile: 0x%x in the other mapping; nothing queued %d",
	      (unsigned char)alias[2 * t_page + 5], orc_nothing_queued(fd));
	/* The other mapping is not protected: it writes page 1. */
	alias[t_page + 41] = 0x13;
	T_OBS("wp: other mapping wrote page 1: seen here 0x%x", (unsigned char)sh[t_page + 41]);

	protect(fd, sh + t_page, 1, 0);
	acc_join(&t);
	t_fill(want, t_page, 31);
	want[40] = 0x77;
	want[41] = 0x13;
	int here = !memcmp(sh + t_page, want, t_page);
	there = !memcmp(alias + t_page, want, t_page);
	int file = orc_file_is(mfd, 1, want);
	T_OBS("wp: after un-protect: page 1 = old + both writes: here %d, other mapping %d, "
	      "pread %d", here, there, file);
	T_EXPECT(here && there && file);
	sh[t_page + 42] = 0x14;
	T_OBS("wp: second write without a fault: 0x%x; nothing queued %d",
	      (unsigned char)alias[t_page + 42], orc_nothing_queued(fd));

	/* Page 3: cached, not mapped here; protected all the same. */
	protect(fd, sh + 3 * t_page, 1, 1);
	acc_start(&t, sh + 3 * t_page + 7, 1, 0x55);
	wp_msg(fd, &msg, "wp: write of page 3 (not mapped here when protected)", sh, 3);
	intact = t_check(sh + 3 * t_page, t_page, 33);
	T_OBS("wp: page 3 reads while the writer waits: %s", intact ? "intact" : "changed");
	T_EXPECT(intact);
	protect(fd, sh + 3 * t_page, 1, 0);
	acc_join(&t);
	T_OBS("wp: page 3 write landed: 0x%x, other mapping 0x%x",
	      (unsigned char)sh[3 * t_page + 7], (unsigned char)alias[3 * t_page + 7]);
	T_EXPECT_EQ((unsigned char)alias[3 * t_page + 7], 0x55);

	/* Protect everything, then two writers on different pages: two
	 * messages; un-protect one page: only its writer goes on. */
	protect(fd, sh, NPAGES, 1);
	struct acc_thread t0, t2;
	acc_start(&t0, sh + 1, 1, 0x61);
	wp_msg(fd, &msg, "wp: write of page 0", sh, 0);
	acc_start(&t2, sh + 2 * t_page + 1, 1, 0x62);
	wp_msg(fd, &msg, "wp: write of page 2", sh, 2);
	protect(fd, sh + 2 * t_page, 1, 0);
	acc_join(&t2);
	T_OBS("wp: page 2 written 0x%x, page 0 written yet %d (its writer waits)",
	      (unsigned char)alias[2 * t_page + 1], (unsigned char)alias[1] == 0x61);
	protect(fd, sh, 1, 0);
	acc_join(&t0);
	T_OBS("wp: page 0 written 0x%x; nothing queued %d", (unsigned char)alias[1],
	      orc_nothing_queued(fd));

	/* UNREGISTER drops the protection of pages 1 and 3. */
	struct uffdio_range r = { (uintptr_t)sh, NPAGES * t_page };
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_UNREGISTER, &r));
	sh[t_page] = 0x71;
	sh[3 * t_page] = 0x73;
	T_OBS("wp: after unregister, writes land: 0x%x 0x%x", (unsigned char)alias[t_page],
	      (unsigned char)alias[3 * t_page]);

	close(fd);
	munmap(sh, NPAGES * t_page);
	munmap(alias, NPAGES * t_page);
	munmap(want, t_page);
	close(mfd);
}

static void missing_wp(void)
{
	int fd = t_uffd_api(O_CLOEXEC | O_NONBLOCK, UFFD_FEATURE_WP_HUGETLBFS_SHMEM);
	int mfd = orc_memfd(3 * t_page);
	char *alias = orc_mmap(3 * t_page, PROT_READ | PROT_WRITE, MAP_SHARED, mfd);
	char *sh = orc_mmap(3 * t_page, PROT_READ | PROT_WRITE, MAP_SHARED, mfd);
	char *src = t_map(t_page);

	t_register(fd, sh, 3 * t_page, UFFDIO_REGISTER_MODE_MISSING | UFFDIO_REGISTER_MODE_WP);
	t_fill(src, t_page, 80);
	struct uffdio_copy c = { .dst = (uintptr_t)sh, .src = (uintptr_t)src, .len = t_page,
				 .mode = UFFDIO_COPY_MODE_WP };
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_COPY, &c));
	T_OBS("missing|wp: copied %lld; reads the copy %d, other mapping %d", (long long)c.copy,
	      t_check(sh, t_page, 80), t_check(alias, t_page, 80));

	struct acc_thread t;
	struct uffd_msg msg;
	acc_start(&t, sh + 8, 1, 0x66);
	wp_msg(fd, &msg, "missing|wp: write of the copied page", sh, 0);
	T_OBS("missing|wp: while waiting: %s", t_check(sh, t_page, 80) ? "the copy" : "changed");
	protect(fd, sh, 1, 0);
	acc_join(&t);
	T_OBS("missing|wp: the write landed: 0x%x (other mapping)", (unsigned char)alias[8]);
	T_EXPECT_EQ((unsigned char)alias[8], 0x66);

	/* A write to the hole: a missing fault first (WRITE only). */
	acc_start(&t, sh + t_page + 2, 1, 0x67);
	if (!t_read_msg(fd, &msg, 5000))
		T_FATAL("missing|wp: no message for the hole");
	T_OBS("missing|wp: write of the hole: flags 0x%llx page %ld",
	      (unsigned long long)msg.arg.pagefault.flags,
	      ORC_PG((char *)(uintptr_t)msg.arg.pagefault.address, sh));
	T_EXPECT_EQ(msg.arg.pagefault.flags, UFFD_PAGEFAULT_FLAG_WRITE);
	c = (struct uffdio_copy){ .dst = (uintptr_t)(sh + t_page), .src = (uintptr_t)src,
				  .len = t_page };
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_COPY, &c));
	acc_join(&t);
	T_OBS("missing|wp: hole filled and written: 0x%x; nothing queued %d",
	      (unsigned char)alias[t_page + 2], orc_nothing_queued(fd));

	/* Page 2, filled through the other mapping after REGISTER and
	 * protected before this mapping touched it: read first (no fault),
	 * then a write faults with WP (the read did not lift the protection). */
	t_fill(alias + 2 * t_page, t_page, 81);
	protect(fd, sh + 2 * t_page, 1, 1);
	acc_start(&t, sh + 2 * t_page + 3, 0, 0);
	acc_join(&t);
	T_OBS("missing|wp: page 2 filled elsewhere reads %s; nothing queued %d",
	      t_check(sh + 2 * t_page, t_page, 81) ? "its data" : "changed",
	      orc_nothing_queued(fd));
	acc_start(&t, sh + 2 * t_page + 4, 1, 0x68);
	wp_msg(fd, &msg, "missing|wp: write of page 2 after the read", sh, 2);
	protect(fd, sh + 2 * t_page, 1, 0);
	acc_join(&t);
	T_OBS("missing|wp: page 2 written: 0x%x", (unsigned char)alias[2 * t_page + 4]);

	close(fd);
	munmap(sh, 3 * t_page);
	munmap(alias, 3 * t_page);
	munmap(src, t_page);
	close(mfd);
}

static void scenario(void)
{
	wp_only();
	missing_wp();
}
T_MAIN("shmem-wp", scenario)
