/* SPDX-License-Identifier: MIT */
/*
 * Does a page's write protection outlive its registration's WP mode?  A page
 * written and write-protected (WP mode), then the registration changed
 * without WP (REGISTER again with MISSING alone, or UNREGISTER, or
 * UNREGISTER then REGISTER MISSING), then REGISTER again with MISSING|WP:
 * anonymous memory and a shared memfd mapping.  Faults are seen as SIGBUS
 * (UFFD_FEATURE_SIGBUS); a probe reads, then writes, pages 0-2 (page 0
 * missing, page 1 written, page 2 written and protected).  The probes come
 * only at the end of a sequence (a write changes what it looks at), and in
 * a second run of each sequence after the step without WP.
 */
#include "oracle.h"

#define M  UFFDIO_REGISTER_MODE_MISSING
#define WP UFFDIO_REGISTER_MODE_WP
#define NP 4

static int fd;

static void reg(char *mem, uint64_t mode)
{
	struct uffdio_register r = { { (uintptr_t)mem, NP * (uint64_t)t_page }, mode, 0 };
	errno = 0;
	int ret = uffd_ioctl(fd, UFFDIO_REGISTER, &r);
	T_OBS("REGISTER mode 0x%llx = %d %s", (unsigned long long)mode, ret,
	      ret ? t_errname(errno) : "");
}

static void unreg(char *mem)
{
	struct uffdio_range r = { (uintptr_t)mem, NP * (uint64_t)t_page };
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_UNREGISTER, &r));
}

static char *prepared(int shared, uint64_t mode)
{
	char *mem;

	if (shared) {
		int mfd = orc_memfd(NP * t_page);
		mem = orc_mmap(NP * t_page, PROT_READ | PROT_WRITE, MAP_SHARED, mfd);
		close(mfd);
	} else {
		mem = t_map(NP * t_page);
	}
	mem[t_page] = 0x11;
	mem[2 * t_page] = 0x22;
	reg(mem, mode);
	struct uffdio_writeprotect w = { { (uintptr_t)mem + 2 * t_page, t_page },
					 UFFDIO_WRITEPROTECT_MODE_WP };
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_WRITEPROTECT, &w));
	return mem;
}

enum step { AGAIN_MISSING, UNREGISTER, UNREGISTER_MISSING, MISSING_UNREGISTER,
	    MISSING_CLOSE };

static void without_wp(char *mem, enum step s)
{
	if (s == AGAIN_MISSING || s == MISSING_UNREGISTER || s == MISSING_CLOSE)
		reg(mem, M);
	if (s == UNREGISTER || s == UNREGISTER_MISSING || s == MISSING_UNREGISTER)
		unreg(mem);
	if (s == UNREGISTER_MISSING)
		reg(mem, M);
	if (s == MISSING_CLOSE) {
		/* Another userfaultfd registers it next. */
		close(fd);
		fd = t_uffd_api(O_CLOEXEC | O_NONBLOCK,
				UFFD_FEATURE_SIGBUS | UFFD_FEATURE_WP_HUGETLBFS_SHMEM);
	}
}

static void sequence(int shared, uint64_t first, enum step s, const char *what)
{
	char name[160];

	snprintf(name, sizeof(name), "%s, %s %s", shared ? "shmem" : "anonymous",
		 first == WP ? "WP" : "MISSING|WP", what);
	T_OBS("-- %s", name);
	char *mem = prepared(shared, first);
	without_wp(mem, s);
	reg(mem, M | WP);
	orc_bus_probe("then MISSING|WP", mem, 3);
	munmap(mem, NP * t_page);

	mem = prepared(shared, first);
	without_wp(mem, s);
	/* Outside a registration the probe needs no userfaultfd. */
	orc_bus_probe("between", mem, 3);
	reg(mem, M | WP);
	orc_bus_probe("then MISSING|WP", mem, 3);
	munmap(mem, NP * t_page);
}

static void scenario(void)
{
	fd = t_uffd_api(O_CLOEXEC | O_NONBLOCK,
			UFFD_FEATURE_SIGBUS | UFFD_FEATURE_WP_HUGETLBFS_SHMEM);
	for (int shared = 0; shared <= 1; shared++) {
		sequence(shared, M | WP, AGAIN_MISSING, "then MISSING");
		sequence(shared, M | WP, UNREGISTER, "then UNREGISTER");
		sequence(shared, WP, UNREGISTER_MISSING, "then UNREGISTER, MISSING");
		sequence(shared, WP, AGAIN_MISSING, "then MISSING");
		sequence(shared, WP, MISSING_UNREGISTER, "then MISSING, UNREGISTER");
		sequence(shared, WP, MISSING_CLOSE, "then MISSING, close, another userfaultfd");
	}
	close(fd);
}
T_MAIN("register-keeps-wp", scenario)
