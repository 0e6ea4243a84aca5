/*
 * UFFDIO_REGISTER argument validation: modes (0, unknown bits, MINOR on
 * anonymous memory), unaligned or empty or wrapping or out-of-range ranges,
 * ranges with no mapping, incompatible mappings (a regular file), and the
 * ioctls field left untouched on failure.
 */
#include "oracle.h"

static int fd;

static void reg_err(const char *what, uint64_t start, uint64_t len, uint64_t mode,
		    int want)
{
	struct uffdio_register reg = { .range = { start, len }, .mode = mode,
				       .ioctls = 0x1234 };
	errno = 0;
	int r = uffd_ioctl(fd, UFFDIO_REGISTER, &reg);
	int e = errno;
	T_OBS("%s: %d %s ioctls 0x%llx", what, r, r < 0 ? t_errname(e) : "ok",
	      (unsigned long long)reg.ioctls);
	if (r != -1 || e != want)
		t_fail_at(__FILE__, __LINE__, "%s: got %d %s, expected -1 %s", what, r,
			  t_errname(e), t_errname(want));
	else
		T_EXPECT_EQ(reg.ioctls, 0x1234);
}

static void scenario(void)
{
	const uint64_t M = UFFDIO_REGISTER_MODE_MISSING;
	fd = t_uffd_api(O_CLOEXEC | O_NONBLOCK, 0);
	char *mem = t_map(8 * t_page);
	uint64_t s = (uintptr_t)mem;

	reg_err("mode 0", s, t_page, 0, EINVAL);
	reg_err("mode 1<<3", s, t_page, 1 << 3, EINVAL);
	reg_err("mode MISSING|1<<3", s, t_page, M | 1 << 3, EINVAL);
	reg_err("mode MISSING|1<<63", s, t_page, M | 1ULL << 63, EINVAL);
	reg_err("mode MINOR on anonymous", s, t_page, UFFDIO_REGISTER_MODE_MINOR, EINVAL);
	reg_err("mode MISSING|MINOR on anonymous", s, t_page,
		M | UFFDIO_REGISTER_MODE_MINOR, EINVAL);
	reg_err("start + 1", s + 1, t_page, M, EINVAL);
	reg_err("start + 2048", s + 2048, t_page, M, EINVAL);
	reg_err("len + 1", s, t_page + 1, M, EINVAL);
	reg_err("len 1", s, 1, M, EINVAL);
	reg_err("len 0", s, 0, M, EINVAL);
	reg_err("start + len wraps", s, -(uint64_t)t_page, M, EINVAL);
	reg_err("len 2^63", s, 1ULL << 63, M, EINVAL);
	reg_err("start 0", 0, t_page, M, EINVAL);
	reg_err("start below mmap_min_addr", t_page, t_page, M, EINVAL);
	reg_err("start 2^47 (beyond user space)", 1ULL << 47, t_page, M, EINVAL);
	reg_err("start 2^63", 1ULL << 63, t_page, M, EINVAL);
	reg_err("start -page", -(uint64_t)t_page, t_page, M, EINVAL);
	reg_err("range ends past user space", s, (1ULL << 47) - s + t_page, M, EINVAL);

	/* No mapping at all in the range. */
	munmap(mem + 6 * t_page, 2 * t_page);
	reg_err("unmapped range", s + 6 * t_page, 2 * t_page, M, EINVAL);
	reg_err("unmapped range (one page)", s + 7 * t_page, t_page, M, EINVAL);

	/* A regular file mapping is incompatible with every mode. */
	int exe = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	T_ASSERT(exe >= 0);
	char *file = mmap(NULL, t_page, PROT_READ, MAP_PRIVATE, exe, 0);
	T_ASSERT(file != MAP_FAILED);
	reg_err("private file mapping, MISSING", (uintptr_t)file, t_page, M, EINVAL);
	reg_err("private file mapping, WP", (uintptr_t)file, t_page,
		UFFDIO_REGISTER_MODE_WP, EINVAL);
	reg_err("private file mapping, MINOR", (uintptr_t)file, t_page,
		UFFDIO_REGISTER_MODE_MINOR, EINVAL);
	munmap(file, t_page);
	close(exe);

	/* The failed attempts registered nothing: a valid one still works and
	 * a fresh uffd can take the same range over after unregistering. */
	struct uffdio_register reg = { .range = { s, 6 * t_page }, .mode = M };
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_REGISTER, &reg));
	T_OBS("valid register ioctls 0x%llx", (unsigned long long)reg.ioctls);
	close(fd);
	munmap(mem, 6 * t_page);
}
T_MAIN("register-errors", scenario)
