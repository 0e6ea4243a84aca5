/*
 * UFFDIO_REGISTER over ranges that are not one plain mapping: a range that
 * runs from a mapping into unmapped space, one that starts in a hole, one
 * spanning two mappings with a hole between them, PROT_NONE and read-only
 * anonymous memory; registering again (same or another mode) on the same fd.
 * Linux ignores the holes: a range needs only one mapping in it (EINVAL only
 * when there is none), and registers the mappings it overlaps.  ZEROPAGE
 * probes which pages ended up registered.
 */
#include "oracle.h"

static int fd;

static int reg(uint64_t start, uint64_t len, uint64_t mode, uint64_t *ioctls)
{
	struct uffdio_register r = { .range = { start, len }, .mode = mode };
	errno = 0;
	int ret = uffd_ioctl(fd, UFFDIO_REGISTER, &r);
	if (ioctls)
		*ioctls = r.ioctls;
	return ret;
}

/* Is the page at p registered (for MISSING)?  ZEROPAGE it: ENOENT if not. */
static const char *covered(char *p)
{
	struct uffdio_zeropage z = { { (uintptr_t)p, t_page }, 0, 0 };
	if (uffd_ioctl(fd, UFFDIO_ZEROPAGE, &z) == 0)
		return "registered";
	return t_errname(errno);
}

static void scenario(void)
{
	const uint64_t M = UFFDIO_REGISTER_MODE_MISSING;
	fd = t_uffd_api(O_CLOEXEC | O_NONBLOCK, 0);

	/* [A A A A hole hole B B]: A and B are separate anonymous mappings. */
	char *mem = t_map(8 * t_page);
	uint64_t s = (uintptr_t)mem;
	munmap(mem + 4 * t_page, 2 * t_page);
	uint64_t io;

	int r = reg(s + 2 * t_page, 3 * t_page, M, &io);
	T_OBS("mapping into hole: %d %s", r, r ? t_errname(errno) : "ok");
	T_EXPECT_EQ(r, 0);
	r = reg(s + 5 * t_page, 2 * t_page, M, &io);
	T_OBS("hole into mapping: %d %s", r, r ? t_errname(errno) : "ok");
	T_EXPECT_EQ(r, 0);
	r = reg(s, 8 * t_page, M, &io);
	T_OBS("across the hole: %d %s", r, r ? t_errname(errno) : "ok");
	T_EXPECT_EQ(r, 0);
	for (int i = 0; i < 8; i++)
		if (i != 4 && i != 5) {
			const char *c = covered(mem + i * t_page);
			T_OBS("page %d: %s", i, c);
			T_EXPECT(!strcmp(c, "registered"));
		}
	struct uffdio_range ur = { s, 8 * t_page };
	r = uffd_ioctl(fd, UFFDIO_UNREGISTER, &ur);
	T_OBS("unregister across the hole: %d %s", r, r ? t_errname(errno) : "ok");
	T_EXPECT_EQ(r, 0);
	munmap(mem, 8 * t_page);

	/* PROT_NONE and read-only anonymous memory. */
	char *none = orc_mmap(2 * t_page, PROT_NONE, MAP_PRIVATE, -1);
	r = reg((uintptr_t)none, 2 * t_page, M, &io);
	T_OBS("PROT_NONE: %d %s ioctls 0x%llx", r, r ? t_errname(errno) : "ok",
	      (unsigned long long)(r ? 0 : io));
	T_EXPECT_EQ(r, 0);
	char *ro = orc_mmap(2 * t_page, PROT_READ, MAP_PRIVATE, -1);
	r = reg((uintptr_t)ro, 2 * t_page, M | UFFDIO_REGISTER_MODE_WP, &io);
	T_OBS("PROT_READ: %d %s ioctls 0x%llx", r, r ? t_errname(errno) : "ok",
	      (unsigned long long)(r ? 0 : io));
	T_EXPECT_EQ(r, 0);
	munmap(none, 2 * t_page);
	munmap(ro, 2 * t_page);

	/* Registering again on the same fd: same mode, then another mode;
	 * the ioctls answer follows the latest mode. */
	mem = t_map(4 * t_page);
	s = (uintptr_t)mem;
	T_EXPECT_OK(reg(s, 4 * t_page, M, &io));
	T_OBS("MISSING ioctls 0x%llx", (unsigned long long)io);
	T_EXPECT_OK(reg(s, 4 * t_page, M, &io));
	T_OBS("MISSING again ioctls 0x%llx", (unsigned long long)io);
	T_EXPECT_OK(reg(s + t_page, t_page, UFFDIO_REGISTER_MODE_WP, &io));
	T_OBS("WP on page 1 ioctls 0x%llx", (unsigned long long)io);
	T_EXPECT(io & (1ULL << _UFFDIO_WRITEPROTECT));
	/* Page 1 is now WP only; page 0 is not WP-registered. */
	struct uffdio_writeprotect wp = { { s + t_page, t_page }, UFFDIO_WRITEPROTECT_MODE_WP };
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_WRITEPROTECT, &wp));
	wp.range.start = s;
	T_EXPECT_ERR(uffd_ioctl(fd, UFFDIO_WRITEPROTECT, &wp), ENOENT);
	T_EXPECT_OK(reg(s, 4 * t_page, M | UFFDIO_REGISTER_MODE_WP, &io));
	T_OBS("MISSING|WP over all ioctls 0x%llx", (unsigned long long)io);
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_WRITEPROTECT, &wp));
	close(fd);
	munmap(mem, 4 * t_page);
}
T_MAIN("register-ranges", scenario)
