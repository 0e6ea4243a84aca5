/* SPDX-License-Identifier: MIT */
/*
 * Huge but valid ranges (wrapping and out-of-range ones are in the
 * <ioctl>-errors tests): every range ioctl over 1 TiB that starts in a
 * registered mapping and goes on over a hole, and over everything from
 * there to the end of user space.  Each answers at once, as the kernel's do,
 * with the kernel's result: a hole is skipped (WRITEPROTECT, WAKE,
 * UNREGISTER and REGISTER succeed), a fill that does not lie in one
 * mapping is ENOENT.  Found by the fuzzer: the user backend's WRITEPROTECT
 * looked at a hole page by page (2^28 system calls for 1 TiB: minutes).
 */
#include "oracle.h"

#define PAGES 8
#define TIB (1ULL << 40)

static int fd;

static void range_case(const char *what, unsigned long req, uint64_t start, uint64_t len,
		       int want)
{
	struct uffdio_range r = { start, len };
	errno = 0;
	int ret = uffd_ioctl(fd, req, &r);
	T_OBS("%s: %d %s", what, ret, ret ? t_errname(errno) : "ok");
	T_EXPECT_EQ(ret ? errno : 0, want);
}

static void wp_case(const char *what, uint64_t start, uint64_t len, uint64_t mode, int want)
{
	struct uffdio_writeprotect w = { { start, len }, mode };
	errno = 0;
	int ret = uffd_ioctl(fd, UFFDIO_WRITEPROTECT, &w);
	T_OBS("%s: %d %s", what, ret, ret ? t_errname(errno) : "ok");
	T_EXPECT_EQ(ret ? errno : 0, want);
}

static void reg_case(const char *what, uint64_t start, uint64_t len, int want)
{
	struct uffdio_register r = { { start, len },
		UFFDIO_REGISTER_MODE_MISSING | UFFDIO_REGISTER_MODE_WP, 0 };
	errno = 0;
	int ret = uffd_ioctl(fd, UFFDIO_REGISTER, &r);
	T_OBS("%s: %d %s ioctls 0x%llx", what, ret, ret ? t_errname(errno) : "ok",
	      (unsigned long long)r.ioctls);
	T_EXPECT_EQ(ret ? errno : 0, want);
}

/* The fills: ZEROPAGE, COPY, POISON, CONTINUE, MOVE over [start, start+len). */
static void fills(const char *what, uint64_t start, uint64_t len, const char *src, int want)
{
	char name[128];
	struct uffdio_zeropage z = { { start, len }, 0, 0 };
	snprintf(name, sizeof(name), "%s: ZEROPAGE", what);
	orc_ioctl_case(name, fd, UFFDIO_ZEROPAGE, &z, "zeropage", &z.zeropage, want);
	/* The source (a page high in the address space) would end past the
	 * end of user space: EINVAL before the destination is looked at. */
	struct uffdio_copy c = { start, (uintptr_t)src, len, 0, 0 };
	snprintf(name, sizeof(name), "%s: COPY", what);
	orc_ioctl_case(name, fd, UFFDIO_COPY, &c, "copy", &c.copy,
		       (uintptr_t)src + len > (1ULL << 47) - (uint64_t)t_page ? EINVAL : want);
	struct uffdio_poison p = { { start, len }, 0, 0 };
	snprintf(name, sizeof(name), "%s: POISON", what);
	orc_ioctl_case(name, fd, UFFDIO_POISON, &p, "updated", &p.updated, want);
	struct uffdio_continue k = { { start, len }, 0, 0 };
	snprintf(name, sizeof(name), "%s: CONTINUE", what);
	orc_ioctl_case(name, fd, UFFDIO_CONTINUE, &k, "mapped", &k.mapped, want);
	/* MOVE checks that both ends lie in their mappings first. */
	struct uffdio_move m = { start, start + PAGES / 2 * t_page, len, 0, 0 };
	snprintf(name, sizeof(name), "%s: MOVE", what);
	orc_ioctl_case(name, fd, UFFDIO_MOVE, &m, "move", &m.move,
		       want == ENOENT ? EINVAL : want);
}

static void scenario(void)
{
	fd = t_uffd_api(O_CLOEXEC | O_NONBLOCK, UFFD_FEATURE_PAGEFAULT_FLAG_WP |
			UFFD_FEATURE_POISON | UFFD_FEATURE_MOVE);
	char *src = t_map(t_page);
	memset(src, 7, t_page);
	/* The mapping, then a hole of 1 TiB that nothing else takes: reserved,
	 * then unmapped behind the mapping (after the uffd exists, so that no
	 * thread of libuffd's is started in it). */
	char *mem = mmap(NULL, TIB + PAGES * t_page, PROT_NONE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	T_ASSERT(mem != MAP_FAILED);
	T_ASSERT(mmap(mem, PAGES * t_page, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == mem);
	T_ASSERT(munmap(mem + PAGES * t_page, TIB) == 0);
	const uint64_t s = (uintptr_t)mem;
	/* x86-64's user space ends a page below 2^47 (elsewhere: 2^48). */
	const uint64_t top = (1ULL << 47) - (uint64_t)t_page;
	const uint64_t to_top = top - s;

	t_register(fd, mem, PAGES * t_page,
		   UFFDIO_REGISTER_MODE_MISSING | UFFDIO_REGISTER_MODE_WP);
	/* The mapping and a hole. */
	wp_case("WRITEPROTECT 1 TiB", s, TIB, UFFDIO_WRITEPROTECT_MODE_WP, 0);
	wp_case("un-WRITEPROTECT 1 TiB", s, TIB, 0, 0);
	range_case("WAKE 1 TiB", UFFDIO_WAKE, s, TIB, 0);
	fills("1 TiB", s, TIB, src, ENOENT);
	range_case("UNREGISTER 1 TiB", UFFDIO_UNREGISTER, s, TIB, 0);
	reg_case("REGISTER 1 TiB", s, TIB, 0);
	/* The mapping, the hole, and every mapping above up to the end of
	 * user space (the program's libraries and stack among them). */
	wp_case("WRITEPROTECT to the top", s, to_top, UFFDIO_WRITEPROTECT_MODE_WP, ENOENT);
	range_case("WAKE to the top", UFFDIO_WAKE, s, to_top, 0);
	fills("to the top", s, to_top, src, ENOENT);
	range_case("UNREGISTER to the top", UFFDIO_UNREGISTER, s, to_top, EINVAL);
	reg_case("REGISTER to the top", s, to_top, EINVAL);
	/* Still registered, and working: a page fills. */
	struct uffdio_copy c = { s, (uintptr_t)src, t_page, 0, 0 };
	orc_ioctl_case("COPY one page", fd, UFFDIO_COPY, &c, "copy", &c.copy, 0);
	T_EXPECT_EQ(mem[5], 7);
	close(fd);
	munmap(mem, PAGES * t_page);
	munmap(src, t_page);
}

T_MAIN("huge-ranges", scenario)
