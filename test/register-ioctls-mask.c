/*
 * The ioctls mask UFFDIO_REGISTER returns, per memory type and mode:
 * anonymous private, memfd MAP_SHARED, memfd MAP_PRIVATE, MAP_SHARED |
 * MAP_ANONYMOUS; modes MISSING, WP, MINOR and their combinations.  The
 * WRITEPROTECT bit appears only with MODE_WP and CONTINUE only with
 * MODE_MINOR; the fd-wide bits (API, REGISTER, UNREGISTER) never appear.
 * Hugetlb is in register-hugetlb.c.
 */
#include "oracle.h"

static const char *mode_name(uint64_t m)
{
	static char buf[64];
	snprintf(buf, sizeof(buf), "%s%s%s",
		 m & UFFDIO_REGISTER_MODE_MISSING ? "MISSING " : "",
		 m & UFFDIO_REGISTER_MODE_WP ? "WP " : "",
		 m & UFFDIO_REGISTER_MODE_MINOR ? "MINOR " : "");
	return buf;
}

static void try_modes(int fd, const char *type, char *p, size_t len)
{
	for (uint64_t m = 1; m < 8; m++) {
		struct uffdio_register r = { .range = { (uintptr_t)p, len }, .mode = m };
		errno = 0;
		int ret = uffd_ioctl(fd, UFFDIO_REGISTER, &r);
		int e = errno;
		T_OBS("%s, %s: %d %s ioctls 0x%llx", type, mode_name(m), ret,
		      ret ? t_errname(e) : "ok", (unsigned long long)(ret ? 0 : r.ioctls));
		if (ret == 0) {
			T_EXPECT(!(r.ioctls & UFFD_API_IOCTLS));
			T_EXPECT_EQ(!!(r.ioctls & (1ULL << _UFFDIO_WRITEPROTECT)),
				    !!(m & UFFDIO_REGISTER_MODE_WP));
			T_EXPECT_EQ(!!(r.ioctls & (1ULL << _UFFDIO_CONTINUE)),
				    !!(m & UFFDIO_REGISTER_MODE_MINOR));
			T_EXPECT(r.ioctls & (1ULL << _UFFDIO_WAKE));
			T_EXPECT(r.ioctls & (1ULL << _UFFDIO_COPY));
			struct uffdio_range u = { (uintptr_t)p, len };
			T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_UNREGISTER, &u));
		}
	}
}

static void scenario(void)
{
	size_t len = 4 * t_page;
	int fd = t_uffd_api(O_CLOEXEC | O_NONBLOCK, 0);

	char *anon = t_map(len);
	try_modes(fd, "anonymous private", anon, len);
	/* With a page already present. */
	anon[0] = 1;
	try_modes(fd, "anonymous private, page present", anon, len);
	munmap(anon, len);

	int mfd = orc_memfd(len);
	char *sh = orc_mmap(len, PROT_READ | PROT_WRITE, MAP_SHARED, mfd);
	try_modes(fd, "memfd MAP_SHARED", sh, len);
	char *pr = orc_mmap(len, PROT_READ | PROT_WRITE, MAP_PRIVATE, mfd);
	try_modes(fd, "memfd MAP_PRIVATE", pr, len);
	munmap(sh, len);
	munmap(pr, len);
	close(mfd);

	char *shanon = orc_mmap(len, PROT_READ | PROT_WRITE, MAP_SHARED, -1);
	try_modes(fd, "MAP_SHARED|MAP_ANONYMOUS", shanon, len);
	munmap(shanon, len);

	/* One range over two memory types: the answer is for the range. */
	char *two = t_map(2 * t_page);
	munmap(two + t_page, t_page);
	int mfd2 = orc_memfd(t_page);
	char *sh2 = mmap(two + t_page, t_page, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_FIXED, mfd2, 0);
	T_ASSERT(sh2 == two + t_page);
	try_modes(fd, "anonymous + memfd", two, 2 * t_page);
	munmap(two, 2 * t_page);
	close(mfd2);
	close(fd);
}
T_MAIN("register-ioctls-mask", scenario)
