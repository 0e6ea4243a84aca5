/* SPDX-License-Identifier: MIT */
/*
 * Minor faults on shared memory (UFFD_FEATURE_MINOR_SHMEM): a memfd with
 * some pages written (in the page cache) mapped MAP_SHARED and registered
 * MINOR.  Touching a cached page gives a message with UFFD_PAGEFAULT_FLAG_MINOR
 * (and WRITE for a write); the handler changes the page through a second
 * mapping and resolves with UFFDIO_CONTINUE: the faulting thread sees the
 * changed contents (a write lands over them).  A hole page raises no minor
 * fault (it is allocated, zero).  CONTINUE on a page not in the page cache
 * fails with EFAULT.  Registered MISSING|MINOR: a hole page gives a missing
 * fault (flags without MINOR), a cached page a minor one.  Last, under
 * MINOR and MISSING|MINOR: a page that enters the page cache after
 * registering (written through the other mapping) faults as minor.
 */
#include "acc.h"
#include "oracle.h"

#define NPAGES 8



static int cont(int fd, char *addr, long npages, const char *what)
{
	struct uffdio_continue c = { .range = { (uintptr_t)addr, npages * t_page } };
	errno = 0;
	int r = uffd_ioctl(fd, UFFDIO_CONTINUE, &c);
	int e = errno;
	T_OBS("%s: CONTINUE %d %s mapped %lld", what, r, r ? t_errname(e) : "ok",
	      (long long)c.mapped);
	errno = e;
	return r;
}

static void minor_only(void)
{
	int fd = t_uffd_api(O_CLOEXEC | O_NONBLOCK, UFFD_FEATURE_MINOR_SHMEM);
	int mfd = orc_memfd(NPAGES * t_page);
	char *alias = orc_mmap(NPAGES * t_page, PROT_READ | PROT_WRITE, MAP_SHARED, mfd);
	char *sh = orc_mmap(NPAGES * t_page, PROT_READ | PROT_WRITE, MAP_SHARED, mfd);
	char *want = t_map(t_page);

	for (int i = 0; i < 4; i++)   /* pages 0-3 in the page cache */
		t_fill(alias + i * t_page, t_page, 40 + i);
	uint64_t ioctls = t_register(fd, sh, NPAGES * t_page, UFFDIO_REGISTER_MODE_MINOR);
	T_OBS("minor: register ioctls 0x%llx", (unsigned long long)ioctls);
	T_EXPECT(ioctls & (1ULL << _UFFDIO_CONTINUE));

	/* A read of a cached page: MINOR; the handler changes the page
	 * through the other mapping, then CONTINUE. */
	struct acc_thread t;
	struct uffd_msg msg;
	acc_start(&t, sh + t_page + 100, 0, 0);
	orc_fault_msg(fd, &msg, "minor: read of page 1", sh);
	T_EXPECT_EQ(msg.arg.pagefault.flags, UFFD_PAGEFAULT_FLAG_MINOR);
	T_EXPECT_EQ(ORC_PG((char *)(uintptr_t)msg.arg.pagefault.address, sh), 1);
	t_fill(alias + t_page, t_page, 141);
	T_EXPECT_EQ(cont(fd, sh + t_page, 1, "minor: page 1"), 0);
	char got = acc_join(&t);
	T_OBS("minor: reader saw the changed page: %d", got == alias[t_page + 100]);
	T_EXPECT_EQ(got, alias[t_page + 100]);
	int here = t_check(sh + t_page, t_page, 141);
	T_OBS("minor: page 1 here is the changed page: %d", here);
	T_EXPECT(here);
	T_OBS("minor: nothing else queued: %d", orc_nothing_queued(fd));

	/* A write to a cached page: MINOR|WRITE; the write lands over the
	 * handler's change. */
	acc_start(&t, sh + 2 * t_page + 3000, 1, 0x5a);
	orc_fault_msg(fd, &msg, "minor: write of page 2", sh);
	T_EXPECT_EQ(msg.arg.pagefault.flags,
		    UFFD_PAGEFAULT_FLAG_MINOR | UFFD_PAGEFAULT_FLAG_WRITE);
	T_EXPECT_EQ(ORC_PG((char *)(uintptr_t)msg.arg.pagefault.address, sh), 2);
	t_fill(alias + 2 * t_page, t_page, 142);
	T_EXPECT_EQ(cont(fd, sh + 2 * t_page, 1, "minor: page 2"), 0);
	acc_join(&t);
	t_fill(want, t_page, 142);
	want[3000] = 0x5a;
	here = !memcmp(sh + 2 * t_page, want, t_page);
	int there = !memcmp(alias + 2 * t_page, want, t_page);
	T_OBS("minor: page 2 = changed page + the write: here %d, other mapping %d",
	      here, there);
	T_EXPECT(here && there);

	/* Resolved pages are mapped: touching them again raises nothing. */
	sh[t_page] = 1;
	T_OBS("minor: page 1 written again without a fault: %d; nothing queued %d",
	      alias[t_page], orc_nothing_queued(fd));

	/* CONTINUE on a page that is not in the page cache: EFAULT; on
	 * resolved page 1: EEXIST; on page 3 (cached, unmapped): ok. */
	errno = 0;
	T_EXPECT_EQ(cont(fd, sh + 5 * t_page, 1, "minor: page 5 (hole)"), -1);
	T_EXPECT_EQ(errno, EFAULT);
	errno = 0;
	T_EXPECT_EQ(cont(fd, sh + t_page, 1, "minor: page 1 (mapped)"), -1);
	T_EXPECT_EQ(errno, EEXIST);
	T_EXPECT_EQ(cont(fd, sh + 3 * t_page, 1, "minor: page 3 (no fault)"), 0);
	T_OBS("minor: page 3 reads the cache: %d; nothing queued %d",
	      t_check(sh + 3 * t_page, t_page, 43), orc_nothing_queued(fd));

	/* A hole page under MINOR alone: no fault; it reads zero and a write
	 * through it reaches the other mapping. */
	memset(want, 0, t_page);
	int zero = !memcmp(sh + 6 * t_page, want, t_page);
	sh[6 * t_page + 5] = 0x33;
	T_OBS("minor: hole page 6 read zero %d, write seen through the other mapping 0x%x, "
	      "nothing queued %d", zero, (unsigned char)alias[6 * t_page + 5],
	      orc_nothing_queued(fd));
	T_EXPECT(zero);

	/* Page 6 is in the cache now; CONTINUE on it says EEXIST (it is
	 * mapped here). */
	errno = 0;
	T_EXPECT_EQ(cont(fd, sh + 6 * t_page, 1, "minor: page 6 (mapped)"), -1);
	T_EXPECT_EQ(errno, EEXIST);

	close(fd);
	munmap(sh, NPAGES * t_page);
	munmap(alias, NPAGES * t_page);
	munmap(want, t_page);
	close(mfd);
}

static void missing_minor(void)
{
	int fd = t_uffd_api(O_CLOEXEC | O_NONBLOCK, UFFD_FEATURE_MINOR_SHMEM);
	int mfd = orc_memfd(4 * t_page);
	char *alias = orc_mmap(4 * t_page, PROT_READ | PROT_WRITE, MAP_SHARED, mfd);
	char *sh = orc_mmap(4 * t_page, PROT_READ | PROT_WRITE, MAP_SHARED, mfd);
	char *src = t_map(t_page);

	t_fill(alias, t_page, 70);   /* page 0 cached, pages 1-3 holes */
	uint64_t ioctls = t_register(fd, sh, 4 * t_page,
				     UFFDIO_REGISTER_MODE_MISSING | UFFDIO_REGISTER_MODE_MINOR);
	T_OBS("missing|minor: register ioctls 0x%llx", (unsigned long long)ioctls);

	/* A hole: a missing fault, flags 0 for a read; COPY resolves it. */
	struct acc_thread t;
	struct uffd_msg msg;
	acc_start(&t, sh + t_page + 8, 0, 0);
	orc_fault_msg(fd, &msg, "missing|minor: read of hole page 1", sh);
	T_EXPECT_EQ(msg.arg.pagefault.flags, 0);
	T_EXPECT_EQ(ORC_PG((char *)(uintptr_t)msg.arg.pagefault.address, sh), 1);
	t_fill(src, t_page, 71);
	struct uffdio_copy c = { .dst = (uintptr_t)(sh + t_page), .src = (uintptr_t)src,
				 .len = t_page };
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_COPY, &c));
	char got = acc_join(&t);
	T_OBS("missing|minor: reader got the copy %d, other mapping sees it %d",
	      got == src[8], t_check(alias + t_page, t_page, 71));
	T_EXPECT_EQ(got, src[8]);

	/* A write to a hole: WRITE without MINOR. */
	acc_start(&t, sh + 2 * t_page, 1, 0x44);
	orc_fault_msg(fd, &msg, "missing|minor: write of hole page 2", sh);
	T_EXPECT_EQ(msg.arg.pagefault.flags, UFFD_PAGEFAULT_FLAG_WRITE);
	struct uffdio_zeropage z = { .range = { (uintptr_t)(sh + 2 * t_page), t_page } };
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_ZEROPAGE, &z));
	acc_join(&t);
	T_OBS("missing|minor: page 2 byte 0 = 0x%x, byte 1 = %d", (unsigned char)sh[2 * t_page],
	      sh[2 * t_page + 1]);

	/* The cached page: a minor fault; CONTINUE. */
	acc_start(&t, sh + 50, 0, 0);
	orc_fault_msg(fd, &msg, "missing|minor: read of cached page 0", sh);
	T_EXPECT_EQ(msg.arg.pagefault.flags, UFFD_PAGEFAULT_FLAG_MINOR);
	T_EXPECT_EQ(ORC_PG((char *)(uintptr_t)msg.arg.pagefault.address, sh), 0);
	T_EXPECT_EQ(cont(fd, sh, 1, "missing|minor: page 0"), 0);
	got = acc_join(&t);
	T_OBS("missing|minor: reader got the cached page %d", got == alias[50]);
	T_EXPECT_EQ(got, alias[50]);

	/* CONTINUE on the remaining hole: EFAULT. */
	errno = 0;
	T_EXPECT_EQ(cont(fd, sh + 3 * t_page, 1, "missing|minor: page 3 (hole)"), -1);
	T_EXPECT_EQ(errno, EFAULT);
	T_OBS("missing|minor: nothing queued %d", orc_nothing_queued(fd));

	close(fd);
	munmap(sh, 4 * t_page);
	munmap(alias, 4 * t_page);
	munmap(src, t_page);
	close(mfd);
}

/* Pages that enter the page cache after registering (written through the
 * other mapping): under MINOR, and under MISSING|MINOR (a hole at
 * registration), touching one is a minor fault. */
static void cached_after_register(uint64_t mode, const char *what)
{
	int fd = t_uffd_api(O_CLOEXEC | O_NONBLOCK, UFFD_FEATURE_MINOR_SHMEM);
	int mfd = orc_memfd(2 * t_page);
	char *alias = orc_mmap(2 * t_page, PROT_READ | PROT_WRITE, MAP_SHARED, mfd);
	char *sh = orc_mmap(2 * t_page, PROT_READ | PROT_WRITE, MAP_SHARED, mfd);

	t_register(fd, sh, 2 * t_page, mode);
	t_fill(alias + t_page, t_page, 90);
	for (int wr = 0; wr <= 1; wr++) {
		struct orc_toucher x;
		struct uffd_msg msg;
		if (wr)
			t_fill(alias, t_page, 91);
		char *a = wr ? sh + 3 : sh + t_page + 9;
		orc_touch_start(&x, a, wr, 0x21);
		int first = orc_touch_or_msg(&x, fd, &msg);
		T_OBS("%s: %s of a page cached after registering: %s", what,
		      wr ? "write" : "read",
		      first ? "a message" : "done, no message");
		T_EXPECT_EQ(first, 1);
		if (first) {
			T_OBS("%s:   flags 0x%llx page %ld", what,
			      (unsigned long long)msg.arg.pagefault.flags,
			      ORC_PG((char *)(uintptr_t)msg.arg.pagefault.address, sh));
			T_EXPECT_EQ(msg.arg.pagefault.flags, UFFD_PAGEFAULT_FLAG_MINOR |
				    (wr ? UFFD_PAGEFAULT_FLAG_WRITE : 0));
			T_EXPECT_EQ(ORC_PG((char *)(uintptr_t)msg.arg.pagefault.address, sh),
				    wr ? 0 : 1);
			if (cont(fd, wr ? sh : sh + t_page, 1, what) != 0) {
				t_fail_at(__FILE__, __LINE__, "%s: CONTINUE: %s", what,
					  t_errname(errno));
				close(fd);   /* releases the blocked thread */
				fd = -1;
				orc_touch_join(&x);
				break;
			}
		}
		char v = orc_touch_join(&x);
		if (wr)
			T_OBS("%s: the write landed 0x%x, the rest is the cache %d", what,
			      (unsigned char)alias[3], alias[4] == sh[4] && alias[2] == sh[2]);
		else
			T_OBS("%s: reader got the cached byte %d", what, v == alias[t_page + 9]);
	}
	if (fd >= 0)
		close(fd);
	munmap(sh, 2 * t_page);
	munmap(alias, 2 * t_page);
	close(mfd);
}

static void scenario(void)
{
	minor_only();
	missing_minor();
	cached_after_register(UFFDIO_REGISTER_MODE_MINOR, "minor, cached later");
	cached_after_register(UFFDIO_REGISTER_MODE_MISSING | UFFDIO_REGISTER_MODE_MINOR,
			      "missing|minor, cached later");
}
T_MAIN("shmem-minor-fault", scenario)
