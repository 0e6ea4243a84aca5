/* SPDX-License-Identifier: MIT */
/*
 * UFFDIO_COPY of several pages whose source becomes unreadable part way
 * (mm/userfaultfd.c, mfill_atomic(): page by page, the source read before
 * the page is placed).  The pages before the first unreadable source page
 * are copied and woken: copy = their bytes, EAGAIN; the rest stay missing.
 * An unreadable first page is EFAULT, copy -EFAULT, nothing done.
 * Unreadable: unmapped, PROT_NONE (in a registered range too), or a page of
 * a registered range that the kernel's copy_from_user() cannot have
 * (missing, with UFFD_FEATURE_SIGBUS, or poisoned): the ioctl's own read of
 * it is EFAULT, no SIGBUS reaches the program, nothing waits forever.
 * Anonymous, shared and private shmem destinations, with and without
 * MODE_WP; hugetlb huge page by huge page.  Found by the differential fuzzer
 * (found-4-1861, found-4-1952, found-4-6540, copy-source-prot-none-in-wp-range,
 * found-6-22287 in test/fuzz-corpus/).
 */
#include "oracle.h"

#define NP 4

static int fd;

static void copy_case(const char *what, char *dst, const char *src, long pages, uint64_t mode,
		      int want)
{
	struct uffdio_copy c = { (uintptr_t)dst, (uintptr_t)src, (uint64_t)pages * t_page, mode, 55 };
	orc_ioctl_case(what, fd, UFFDIO_COPY, &c, "copy", &c.copy, want);
}

/* Which pages of mem are missing (ZEROPAGE says so by succeeding; it fills
 * them, so this is the last look). */
static void missing_pages(const char *what, char *mem, uint64_t mode)
{
	char line[64] = "";
	for (int i = 0; i < NP; i++) {
		struct uffdio_zeropage z = { { (uintptr_t)mem + i * t_page, t_page },
					     UFFDIO_ZEROPAGE_MODE_DONTWAKE, 0 };
		int r = uffd_ioctl(fd, UFFDIO_ZEROPAGE, &z);
		strcat(line, r == 0 ? " missing" : errno == EEXIST ? " there" : " ?");
	}
	T_OBS("%s (mode 0x%llx):%s", what, (unsigned long long)mode, line);
}

static char *dest(int kind, uint64_t mode)
{
	char *mem;
	if (kind == 0) {
		mem = t_map(NP * t_page);
	} else {
		int mfd = orc_memfd(NP * t_page);
		mem = orc_mmap(NP * t_page, PROT_READ | PROT_WRITE,
			       kind == 1 ? MAP_SHARED : MAP_PRIVATE, mfd);
		close(mfd);
	}
	t_register(fd, mem, NP * t_page, UFFDIO_REGISTER_MODE_MISSING |
		   (mode ? UFFDIO_REGISTER_MODE_WP : 0));
	return mem;
}

static void one(int kind, uint64_t mode)
{
	static const char *kinds[] = { "anonymous", "shared shmem", "private shmem" };
	T_OBS("-- %s", kinds[kind]);

	/* src: [data data | unmapped | data], [data | PROT_NONE]. */
	char *src = t_map(4 * t_page);
	t_fill(src, 4 * t_page, 5);
	munmap(src + 2 * t_page, t_page);
	char *mem = dest(kind, mode);
	copy_case("source unmapped from its third page", mem, src, 4, mode, EAGAIN);
	T_OBS("pages 0-1 copied: %d", !memcmp(mem, src, 2 * t_page));
	copy_case("source unmapped at its first page", mem + 2 * t_page, src + 2 * t_page, 2,
		  mode, EFAULT);
	missing_pages("after", mem, mode);
	munmap(mem, NP * t_page);

	mprotect(src + t_page, t_page, PROT_NONE);
	mem = dest(kind, mode);
	copy_case("source PROT_NONE from its second page", mem + t_page, src, 2, mode, EAGAIN);
	missing_pages("after", mem, mode);
	munmap(mem, NP * t_page);
	munmap(src, 4 * t_page);

	/* The source runs into a missing page of a registered range. */
	char *reg = t_map(2 * t_page);
	reg[0] = 7;
	t_register(fd, reg, 2 * t_page, UFFDIO_REGISTER_MODE_MISSING);
	mem = dest(kind, mode);
	copy_case("source runs into a missing registered page", mem, reg, 2, mode, EAGAIN);
	T_OBS("page 0 byte: %d", mem[0]);
	copy_case("source a missing registered page", mem + t_page, reg + t_page, 1, mode, EFAULT);
	/* ... and into a poisoned one. */
	struct uffdio_poison p = { { (uintptr_t)reg + t_page, t_page }, 0, 0 };
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_POISON, &p));
	copy_case("source runs into a poisoned page", mem + 2 * t_page, reg, 2, mode, EAGAIN);
	missing_pages("after", mem, mode);
	munmap(mem, NP * t_page);
	munmap(reg, 2 * t_page);

	/* ... and into a PROT_NONE page of a range registered WP alone (no
	 * userfault there: the ioctl's read is EFAULT at once), onto a page
	 * that holds data (the source is read first) and after a copy. */
	reg = t_map(2 * t_page);
	reg[0] = 9;
	mprotect(reg + t_page, t_page, PROT_NONE);
	t_register(fd, reg, 2 * t_page, UFFDIO_REGISTER_MODE_WP);
	mem = dest(kind, mode);
	copy_case("page 1 filled", mem + t_page, reg, 1, mode, 0);
	copy_case("source runs into PROT_NONE registered WP, onto data", mem, reg, 2, mode,
		  EAGAIN);
	copy_case("source PROT_NONE registered WP, onto data", mem + t_page, reg + t_page, 1,
		  mode, EFAULT);
	missing_pages("after", mem, mode);
	munmap(mem, NP * t_page);
	munmap(reg, 2 * t_page);
}

/* The source is a MINOR registration: its hole reads as zeros (the
 * kernel's read allocates it), its page of the page cache not mapped is a
 * minor fault (EFAULT with UFFD_FEATURE_SIGBUS).  found-6-22287. */
static void minor_source(int shared)
{
	int mfd = orc_memfd(2 * t_page);
	char *minor = orc_mmap(2 * t_page, PROT_READ | PROT_WRITE,
			       shared ? MAP_SHARED : MAP_PRIVATE, mfd);
	T_ASSERT(pwrite(mfd, "\x44", 1, t_page) == 1);
	close(mfd);
	t_register(fd, minor, 2 * t_page, UFFDIO_REGISTER_MODE_MINOR);
	char *mem = dest(0, 0);
	copy_case(shared ? "source: a hole, then a cached page of shared MINOR memory" :
		  "source: a hole, then a cached page of private MINOR memory",
		  mem, minor, 2, 0, EAGAIN);
	missing_pages("after", mem, 0);
	munmap(mem, NP * t_page);
	munmap(minor, 2 * t_page);
}

/* hugetlb: huge page by huge page (the source of the second runs out in
 * its last small page: nothing of it is placed). */
static void huge(int shared)
{
	long reserved, hp = orc_hugepages_reserve(2, &reserved);
	char *mem = mmap(NULL, 2 * hp, PROT_READ | PROT_WRITE,
			 (shared ? MAP_SHARED : MAP_PRIVATE) | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	T_ASSERT(mem != MAP_FAILED);
	char *src = t_map(2 * hp);
	t_fill(src, 2 * hp, 8);
	munmap(src + 2 * hp - t_page, t_page);
	t_register(fd, mem, 2 * hp, UFFDIO_REGISTER_MODE_MISSING);
	struct uffdio_copy c = { (uintptr_t)mem, (uintptr_t)src, 2 * hp, 0, 55 };
	orc_ioctl_case(shared ? "shared hugetlb: source runs out in the second huge page" :
		       "private hugetlb: source runs out in the second huge page",
		       fd, UFFDIO_COPY, &c, "copy", &c.copy, EAGAIN);
	T_OBS("first huge page copied: %d", t_check(mem, hp, 8));
	c = (struct uffdio_copy){ (uintptr_t)mem + hp, (uintptr_t)src, hp, 0, 55 };
	orc_ioctl_case("the second is still missing", fd, UFFDIO_COPY, &c, "copy", &c.copy, 0);
	munmap(mem, 2 * hp);
	munmap(src, 2 * hp);
	orc_hugepages_release(reserved);
}

static void scenario(void)
{
	fd = t_uffd_api(O_CLOEXEC | O_NONBLOCK, UFFD_FEATURE_SIGBUS | UFFD_FEATURE_POISON |
			UFFD_FEATURE_WP_HUGETLBFS_SHMEM | UFFD_FEATURE_MISSING_SHMEM |
			UFFD_FEATURE_MISSING_HUGETLBFS | UFFD_FEATURE_MINOR_SHMEM);
	for (int kind = 0; kind < 3; kind++) {
		one(kind, 0);
		one(kind, UFFDIO_COPY_MODE_WP);
	}
	minor_source(1);
	minor_source(0);
	huge(0);
	huge(1);
	close(fd);
}
T_MAIN("copy-source-runs-out", scenario)
