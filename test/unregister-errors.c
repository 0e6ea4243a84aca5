/*
 * UFFDIO_UNREGISTER: validation (unaligned, empty, wrapping ranges: EINVAL;
 * no mapping in the range: EINVAL; an incompatible mapping: EINVAL), and
 * what succeeds: ranges never registered, part of a registration, ranges
 * with holes, twice in a row.  After unregistering, a missing page is an
 * ordinary page again (ZEROPAGE says ENOENT; a read gives zero).
 */
#include "oracle.h"

static void scenario(void)
{
	int fd = t_uffd_api(O_CLOEXEC | O_NONBLOCK, 0);
	char *mem = t_map(8 * t_page);
	uint64_t s = (uintptr_t)mem;
	struct uffdio_range r;

#define UNREG(st, ln) (r = (struct uffdio_range){ (st), (ln) }, \
		       uffd_ioctl(fd, UFFDIO_UNREGISTER, &r))
	T_EXPECT_ERR(UNREG(s + 1, t_page), EINVAL);
	T_EXPECT_ERR(UNREG(s, t_page + 1), EINVAL);
	T_EXPECT_ERR(UNREG(s, 0), EINVAL);
	T_EXPECT_ERR(UNREG(s, -(uint64_t)t_page), EINVAL);
	T_EXPECT_ERR(UNREG(0, t_page), EINVAL);
	T_EXPECT_ERR(UNREG(1ULL << 47, t_page), EINVAL);

	/* Never registered: fine. */
	T_EXPECT_OK(UNREG(s, 8 * t_page));

	t_register(fd, mem, 8 * t_page, UFFDIO_REGISTER_MODE_MISSING);
	/* Part of it, twice. */
	T_EXPECT_OK(UNREG(s + 2 * t_page, 2 * t_page));
	T_EXPECT_OK(UNREG(s + 2 * t_page, 2 * t_page));
	struct uffdio_zeropage z = { { s + 2 * t_page, t_page }, 0, 0 };
	T_EXPECT_ERR(uffd_ioctl(fd, UFFDIO_ZEROPAGE, &z), ENOENT);
	T_OBS("zeropage on unregistered page: %lld", (long long)z.zeropage);
	T_EXPECT_EQ(mem[2 * t_page], 0);
	z.range.start = s + t_page;
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_ZEROPAGE, &z));
	T_OBS("zeropage on a page still registered: %lld", (long long)z.zeropage);

	/* A range with a hole in it. */
	munmap(mem + 5 * t_page, t_page);
	T_EXPECT_OK(UNREG(s + 4 * t_page, 3 * t_page));
	/* Nothing mapped. */
	T_EXPECT_ERR(UNREG(s + 5 * t_page, t_page), EINVAL);

	/* A regular file mapping is incompatible. */
	int exe = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	T_ASSERT(exe >= 0);
	char *file = orc_mmap(t_page, PROT_READ, MAP_PRIVATE, exe);
	T_EXPECT_ERR(UNREG((uintptr_t)file, t_page), EINVAL);
	munmap(file, t_page);
	close(exe);

	/* Unregistering wakes nothing and needs no fault: the fd has no
	 * messages. */
	struct uffd_msg msg;
	T_EXPECT_ERR(read(fd, &msg, sizeof(msg)), EAGAIN);
	close(fd);
	munmap(mem, 8 * t_page);
}
T_MAIN("unregister-errors", scenario)
