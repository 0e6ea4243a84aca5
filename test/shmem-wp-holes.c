/* SPDX-License-Identifier: MIT */
/*
 * WRITEPROTECT over holes of shared memory: the kernel keeps write
 * protection of file memory in page table markers, and puts one on a page
 * that holds nothing too (userfaultfd_wp_use_markers(): file memory always,
 * with or without UFFD_FEATURE_WP_UNPOPULATED).  Such a page reads as usual
 * (a hole: zeros, or the page cache's page) and its first write is a WP
 * fault; POISON there says EEXIST (a marker is no empty entry); COPY and
 * ZEROPAGE of a MISSING|WP range fill it (a marker counts as empty for
 * them).  Un-protecting takes the markers away.  Shared and private memfd
 * mappings, registered WP, MISSING|WP and MINOR|WP; faults are seen as
 * SIGBUS (UFFD_FEATURE_SIGBUS).  Found by the differential fuzzer
 * (found-5-34328 in test/fuzz-corpus/).
 */
#include "oracle.h"

#define NP 4

static int fd;

static const char *mode_name(uint64_t mode)
{
	return mode == UFFDIO_REGISTER_MODE_WP ? "WP" :
	       mode & UFFDIO_REGISTER_MODE_MISSING ? "MISSING|WP" : "MINOR|WP";
}

/* Pages [hole, data, hole, hole], registered mode, all protected. */
static char *protected(int shared, uint64_t mode)
{
	int mfd = orc_memfd(NP * t_page);
	char *mem = orc_mmap(NP * t_page, PROT_READ | PROT_WRITE,
			     shared ? MAP_SHARED : MAP_PRIVATE, mfd);
	close(mfd);
	mem[t_page] = 0x11;
	t_register(fd, mem, NP * t_page, mode);
	struct uffdio_writeprotect w = { { (uintptr_t)mem, NP * t_page },
					 UFFDIO_WRITEPROTECT_MODE_WP };
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_WRITEPROTECT, &w));
	return mem;
}

static void ioctl_at(const char *what, unsigned long req, char *at, uint64_t mode)
{
	char *src = t_map(t_page);
	memset(src, 0x22, t_page);
	struct uffdio_copy c = { (uintptr_t)at, (uintptr_t)src, t_page, mode, 0 };
	errno = 0;
	int ret = uffd_ioctl(fd, req, &c);
	T_OBS("%s: %d %s", what, ret, ret ? t_errname(errno) : "");
	munmap(src, t_page);
}

static void one(int shared, uint64_t mode)
{
	char r[8], w[8];
	T_OBS("-- %s, %s", shared ? "shared" : "private", mode_name(mode));

	char *mem = protected(shared, mode);
	struct uffdio_poison p = { { (uintptr_t)mem + 2 * t_page, t_page }, 0, 0 };
	errno = 0;
	int ret = uffd_ioctl(fd, UFFDIO_POISON, &p);
	T_OBS("POISON a protected hole: %d %s", ret, ret ? t_errname(errno) : "");
	if (mode & UFFDIO_REGISTER_MODE_MISSING) {
		struct uffdio_zeropage z = { { (uintptr_t)mem + 3 * t_page, t_page }, 0, 0 };
		errno = 0;
		ret = uffd_ioctl(fd, UFFDIO_ZEROPAGE, &z);
		T_OBS("ZEROPAGE a protected hole: %d %s", ret, ret ? t_errname(errno) : "");
		ioctl_at("COPY a protected hole", UFFDIO_COPY, mem, 0);
	}
	for (int i = 0; i < NP; i++) {
		orc_bus_touch(mem + i * t_page, 0, r);
		orc_bus_touch(mem + i * t_page, 1, w);
		T_OBS("page %d: read %s write %s", i, r, w);
	}
	munmap(mem, NP * t_page);

	/* Un-protected: the holes are ordinary again. */
	mem = protected(shared, mode);
	struct uffdio_writeprotect un = { { (uintptr_t)mem, NP * t_page }, 0 };
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_WRITEPROTECT, &un));
	p.range.start = (uintptr_t)mem + 2 * t_page;
	errno = 0;
	ret = uffd_ioctl(fd, UFFDIO_POISON, &p);
	T_OBS("POISON an un-protected hole: %d %s", ret, ret ? t_errname(errno) : "");
	orc_bus_touch(mem + 3 * t_page, 1, w);
	T_OBS("page 3 after un-protect: write %s", w);
	munmap(mem, NP * t_page);
}

static void scenario(void)
{
	fd = t_uffd_api(O_CLOEXEC | O_NONBLOCK, UFFD_FEATURE_SIGBUS | UFFD_FEATURE_POISON |
			UFFD_FEATURE_WP_HUGETLBFS_SHMEM | UFFD_FEATURE_MISSING_SHMEM |
			UFFD_FEATURE_MINOR_SHMEM);
	static const uint64_t modes[] = {
		UFFDIO_REGISTER_MODE_WP,
		UFFDIO_REGISTER_MODE_MISSING | UFFDIO_REGISTER_MODE_WP,
		UFFDIO_REGISTER_MODE_MINOR | UFFDIO_REGISTER_MODE_WP,
	};
	for (int shared = 1; shared >= 0; shared--)
		for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++)
			one(shared, modes[m]);
	close(fd);
}
T_MAIN("shmem-wp-holes", scenario)
