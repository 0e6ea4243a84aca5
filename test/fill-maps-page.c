/* SPDX-License-Identifier: MIT */
/*
 * A page placed by COPY, ZEROPAGE or CONTINUE is mapped in the registering
 * process, as the kernel's mfill_atomic_install_pte() maps it, not only put
 * in the page cache: a later registration sees it there.  A MINOR
 * registration raises no minor fault for it (a page of the page cache
 * that is not mapped does raise one), a MISSING registration of a private
 * mapping finds it present.  Shared and private shmem.  Faults are seen as
 * SIGBUS (UFFD_FEATURE_SIGBUS).  Found by the differential fuzzer
 * (found-4-2884 in test/fuzz-corpus/).
 */
#include "oracle.h"

#define M     UFFDIO_REGISTER_MODE_MISSING
#define MINOR UFFDIO_REGISTER_MODE_MINOR
#define NP    4

static int fd;

static void reg(char *mem, uint64_t mode)
{
	struct uffdio_register r = { { (uintptr_t)mem, NP * t_page }, mode, 0 };
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_REGISTER, &r));
}

static void unreg(char *mem)
{
	struct uffdio_range r = { (uintptr_t)mem, NP * t_page };
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_UNREGISTER, &r));
}

static void read_pages(const char *what, char *mem)
{
	char line[64] = "", got[8];
	for (int i = 0; i < NP; i++) {
		strcat(line, " ");
		strcat(line, orc_bus_touch(mem + i * t_page, 0, got));
	}
	T_OBS("%s:%s", what, line);
}

/* Page 0 ZEROPAGE, page 1 COPY, page 3 in the file only (written through
 * the fd): registered again, which raise a fault? */
static void fills(int shared)
{
	int mfd = orc_memfd(NP * t_page);
	char *mem = orc_mmap(NP * t_page, PROT_READ | PROT_WRITE,
			     shared ? MAP_SHARED : MAP_PRIVATE, mfd);
	char *src = t_map(t_page);
	t_fill(src, t_page, 6);
	reg(mem, M);
	struct uffdio_zeropage z = { { (uintptr_t)mem, t_page }, 0, 0 };
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_ZEROPAGE, &z));
	struct uffdio_copy c = { (uintptr_t)mem + t_page, (uintptr_t)src, t_page, 0, 0 };
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_COPY, &c));
	T_ASSERT(pwrite(mfd, "\x33", 1, 3 * t_page) == 1);
	unreg(mem);
	reg(mem, shared ? MINOR : M);
	read_pages(shared ? "shared, registered MINOR again" : "private, registered MISSING again",
		   mem);
	munmap(mem, NP * t_page);
	munmap(src, t_page);
	close(mfd);
}

/* CONTINUE maps the page: a MINOR registration again raises no fault. */
static void cont(int shared)
{
	int mfd = orc_memfd(NP * t_page);
	char *mem = orc_mmap(NP * t_page, PROT_READ | PROT_WRITE,
			     shared ? MAP_SHARED : MAP_PRIVATE, mfd);
	T_ASSERT(pwrite(mfd, "\x11\x11", 2, 0) == 2);
	T_ASSERT(pwrite(mfd, "\x22", 1, t_page) == 1);
	reg(mem, MINOR);
	struct uffdio_continue c = { { (uintptr_t)mem, t_page }, 0, 0 };
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_CONTINUE, &c));
	unreg(mem);
	reg(mem, MINOR);
	read_pages(shared ? "shared, CONTINUE then MINOR again" : "private, CONTINUE then MINOR again",
		   mem);
	munmap(mem, NP * t_page);
	close(mfd);
}

static void scenario(void)
{
	fd = t_uffd_api(O_CLOEXEC | O_NONBLOCK, UFFD_FEATURE_SIGBUS | UFFD_FEATURE_MISSING_SHMEM |
			UFFD_FEATURE_MINOR_SHMEM);
	for (int shared = 1; shared >= 0; shared--) {
		fills(shared);
		cont(shared);
	}
	close(fd);
}
T_MAIN("fill-maps-page", scenario)
