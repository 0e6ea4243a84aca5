/* SPDX-License-Identifier: MIT */
/*
 * A missing-page fault on shared memory: a MAP_SHARED mapping of a memfd
 * (memfd_create + ftruncate) registered MISSING.  A thread reading a hole
 * page gets a message of flags 0 and the page's start address; UFFDIO_COPY
 * resolves it and the copy is what the reader, a second mapping of the same
 * memfd and pread(2) on the memfd see.  A page written through the other
 * mapping before registering is in the page cache: reading it raises no
 * fault.  A write to a hole page (flags WRITE) resolved with UFFDIO_ZEROPAGE
 * leaves zeros plus the written byte, visible everywhere; ZEROPAGE without a
 * fault, and over a present page EEXIST.  After UNREGISTER a hole page reads
 * zero and a write to it reaches the file.  Registered again: a page
 * punched out of the file (FALLOC_FL_PUNCH_HOLE) is a hole again and faults
 * as missing; a hole page
 * filled through the other mapping after registering is in the page cache:
 * reading it raises no fault.
 */
#include "acc.h"
#include "oracle.h"

#define NPAGES 8




static void scenario(void)
{
	int fd = t_uffd_api(O_CLOEXEC | O_NONBLOCK, UFFD_FEATURE_MISSING_SHMEM);
	int mfd = orc_memfd(NPAGES * t_page);
	char *alias = orc_mmap(NPAGES * t_page, PROT_READ | PROT_WRITE, MAP_SHARED, mfd);
	char *sh = orc_mmap(NPAGES * t_page, PROT_READ | PROT_WRITE, MAP_SHARED, mfd);
	char *src = t_map(t_page);
	char *want = t_map(t_page);

	/* Page 5 is in the page cache before registering. */
	t_fill(alias + 5 * t_page, t_page, 500);
	uint64_t ioctls = t_register(fd, sh, NPAGES * t_page, UFFDIO_REGISTER_MODE_MISSING);
	T_OBS("register: ioctls 0x%llx", (unsigned long long)ioctls);
	T_EXPECT(ioctls & (1ULL << _UFFDIO_COPY));
	T_EXPECT(ioctls & (1ULL << _UFFDIO_ZEROPAGE));

	/* A read of a hole page: a message, resolved with COPY. */
	struct acc_thread t;
	struct uffd_msg msg;
	acc_start(&t, sh + t_page + 100, 0, 0);
	orc_fault_msg(fd, &msg, "read of page 1", sh);
	T_EXPECT_EQ(msg.arg.pagefault.flags, 0);
	T_EXPECT_EQ(ORC_PG((char *)(uintptr_t)msg.arg.pagefault.address, sh), 1);
	t_fill(src, t_page, 101);
	struct uffdio_copy c = { .dst = (uintptr_t)(sh + t_page), .src = (uintptr_t)src,
				 .len = t_page };
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_COPY, &c));
	T_OBS("copy: %lld", (long long)c.copy);
	T_EXPECT_EQ(c.copy, t_page);
	char got = acc_join(&t);
	T_OBS("reader got the copy: %d", got == src[100]);
	T_EXPECT_EQ(got, src[100]);
	int here = t_check(sh + t_page, t_page, 101);
	int there = t_check(alias + t_page, t_page, 101);
	int file = orc_file_is(mfd, 1, src);
	T_OBS("page 1: registered mapping %d, other mapping %d, pread %d", here, there, file);
	T_EXPECT(here && there && file);
	T_OBS("nothing else queued: %d", orc_nothing_queued(fd));

	/* COPY again over the now present page: EEXIST. */
	c = (struct uffdio_copy){ .dst = (uintptr_t)(sh + t_page), .src = (uintptr_t)src,
				  .len = t_page };
	T_EXPECT_ERR(uffd_ioctl(fd, UFFDIO_COPY, &c), EEXIST);
	T_OBS("copy over a present page: copy %lld", (long long)c.copy);

	/* A write through the other mapping shows in the registered one. */
	alias[t_page + 7] = 0x3c;
	T_OBS("write through the other mapping seen: 0x%x", (unsigned char)sh[t_page + 7]);

	/* Page 5 was in the page cache: no fault. */
	int cached = t_check(sh + 5 * t_page, t_page, 500);
	sh[5 * t_page + 9] = 0x42;
	T_OBS("page 5 (cached): contents %d, write seen through the other mapping 0x%x, "
	      "nothing queued %d", cached, (unsigned char)alias[5 * t_page + 9],
	      orc_nothing_queued(fd));
	T_EXPECT(cached);

	/* A write to a hole page: flags WRITE, resolved with ZEROPAGE. */
	acc_start(&t, sh + 2 * t_page + 3000, 1, 0x5a);
	orc_fault_msg(fd, &msg, "write of page 2", sh);
	T_EXPECT_EQ(msg.arg.pagefault.flags, UFFD_PAGEFAULT_FLAG_WRITE);
	T_EXPECT_EQ(ORC_PG((char *)(uintptr_t)msg.arg.pagefault.address, sh), 2);
	struct uffdio_zeropage z = { .range = { (uintptr_t)(sh + 2 * t_page), t_page } };
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_ZEROPAGE, &z));
	T_OBS("zeropage: %lld", (long long)z.zeropage);
	T_EXPECT_EQ(z.zeropage, t_page);
	acc_join(&t);
	memset(want, 0, t_page);
	want[3000] = 0x5a;
	here = !memcmp(sh + 2 * t_page, want, t_page);
	there = !memcmp(alias + 2 * t_page, want, t_page);
	file = orc_file_is(mfd, 2, want);
	T_OBS("page 2 = zeros + the write: registered mapping %d, other mapping %d, pread %d",
	      here, there, file);
	T_EXPECT(here && there && file);

	/* ZEROPAGE on two hole pages without a fault, then a read: no fault. */
	z = (struct uffdio_zeropage){ .range = { (uintptr_t)(sh + 3 * t_page), 2 * t_page } };
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_ZEROPAGE, &z));
	T_OBS("zeropage pages 3-4: %lld", (long long)z.zeropage);
	memset(want, 0, t_page);
	T_OBS("pages 3-4 read zero: %d %d; nothing queued %d",
	      !memcmp(sh + 3 * t_page, want, t_page), !memcmp(sh + 4 * t_page, want, t_page),
	      orc_nothing_queued(fd));
	/* ZEROPAGE over a present page: EEXIST. */
	z = (struct uffdio_zeropage){ .range = { (uintptr_t)(sh + 5 * t_page), t_page } };
	T_EXPECT_ERR(uffd_ioctl(fd, UFFDIO_ZEROPAGE, &z), EEXIST);
	T_OBS("zeropage over a present page: %lld", (long long)z.zeropage);

	/* UNREGISTER: hole pages 6 and 7 read zero, a write reaches the file. */
	struct uffdio_range r = { (uintptr_t)sh, NPAGES * t_page };
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_UNREGISTER, &r));
	T_OBS("after unregister: page 6 byte 0 = %d, page 6 zero %d",
	      sh[6 * t_page], !memcmp(sh + 6 * t_page, want, t_page));
	sh[7 * t_page + 11] = 0x61;
	want[11] = 0x61;
	T_OBS("after unregister: write to page 7 in the file %d, other mapping 0x%x",
	      orc_file_is(mfd, 7, want), (unsigned char)alias[7 * t_page + 11]);
	T_OBS("after unregister: page 1 still the copy (+ write) %d",
	      sh[t_page + 7] == 0x3c && sh[t_page + 100] == src[100]);
	T_OBS("nothing queued after unregister: %d", orc_nothing_queued(fd));

	/* Registered again.  The reader threads tell an eventfd when they are
	 * done: whether a message or that comes first says whether the
	 * access faulted. */
	t_register(fd, sh, NPAGES * t_page, UFFDIO_REGISTER_MODE_MISSING);

	/* Page 5 (present, mapped here) punched out of the file: a hole
	 * again, so reading it here is a missing fault. */
	struct orc_toucher x;
	int first;
	if (t_limit_begin("pages removed from a shared file outside libuffd")) {
		T_EXPECT_OK(fallocate(mfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				      5 * t_page, t_page));
		orc_touch_start(&x, sh + 5 * t_page + 6, 0, 0);
		first = orc_touch_or_msg(&x, fd, &msg);
		T_OBS("page 5 punched after registering: %s",
		      first ? "a message" : "read done, no message");
		T_EXPECT_EQ(first, 1);
		if (first) {
			T_OBS("  message: flags 0x%llx page %ld",
			      (unsigned long long)msg.arg.pagefault.flags,
			      ORC_PG((char *)(uintptr_t)msg.arg.pagefault.address, sh));
			T_EXPECT_EQ(msg.arg.pagefault.flags, 0);
			c = (struct uffdio_copy){ .dst = (uintptr_t)(sh + 5 * t_page),
						  .src = (uintptr_t)src, .len = t_page };
			T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_COPY, &c));
		}
		char v5 = orc_touch_join(&x);
		T_OBS("page 5 read %s", v5 == src[6] ? "the copy" : v5 == 0 ? "zero" : "other");
		t_limit_end();
	}

	/* Page 0 (never touched) written through the other mapping after
	 * registering: it is in the page cache now, so a read here raises no
	 * fault.  A message coming first is wrong (closing the fd releases
	 * the reader then). */
	t_fill(alias, t_page, 600);
	orc_touch_start(&x, sh + 200, 0, 0);
	first = orc_touch_or_msg(&x, fd, &msg);
	T_OBS("page 0 filled after registering: %s",
	      first ? "a message" : "read done, no message");
	T_EXPECT_EQ(first, 0);
	if (first)
		T_OBS("  message: flags 0x%llx page %ld",
		      (unsigned long long)msg.arg.pagefault.flags,
		      ORC_PG((char *)(uintptr_t)msg.arg.pagefault.address, sh));
	close(fd);   /* releases a wrongly blocked reader */
	char v = orc_touch_join(&x);
	T_OBS("page 0 read the other mapping's byte: %d", v == alias[200]);
	T_EXPECT_EQ(v, alias[200]);

	munmap(sh, NPAGES * t_page);
	munmap(alias, NPAGES * t_page);
	munmap(src, t_page);
	munmap(want, t_page);
	close(mfd);
}
T_MAIN("shmem-missing-fault", scenario)
