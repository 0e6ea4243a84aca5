/*
 * UFFDIO_ZEROPAGE argument validation and partial progress, on anonymous
 * and shared memory: EINVAL for unaligned/empty/wrapping ranges and unknown
 * mode bits (zeropage field untouched); ENOENT outside one registered
 * mapping, EEXIST on a present page (zeropage = -errno); partial progress
 * reports the bytes done with EAGAIN.  The filled pages read as zeros.
 */
#include "oracle.h"

static int fd;

static void zp_case(const char *what, uint64_t start, uint64_t len, uint64_t mode,
		    int want)
{
	struct uffdio_zeropage z = { { start, len }, mode, 55 };
	orc_ioctl_case(what, fd, UFFDIO_ZEROPAGE, &z, "zeropage", &z.zeropage, want);
}

static void scenario(void)
{
	fd = t_uffd_api(O_CLOEXEC | O_NONBLOCK, 0);
	char *mem = t_map(8 * t_page);
	uint64_t m = (uintptr_t)mem;
	mem[3 * t_page] = 5;  /* the process wrote page 3 before registering */
	t_register(fd, mem, 4 * t_page, UFFDIO_REGISTER_MODE_MISSING);

	zp_case("start + 1", m + 1, t_page, 0, EINVAL);
	zp_case("len + 1", m, t_page + 1, 0, EINVAL);
	zp_case("len 0", m, 0, 0, EINVAL);
	zp_case("wraps", m, -(uint64_t)t_page, 0, EINVAL);
	zp_case("beyond user space", 1ULL << 47, t_page, 0, EINVAL);
	zp_case("mode 1<<1", m, t_page, 1 << 1, EINVAL);
	zp_case("mode 1<<63", m, t_page, 1ULL << 63, EINVAL);
	zp_case("not registered", m + 4 * t_page, t_page, 0, ENOENT);
	zp_case("runs past the registered mapping", m + 3 * t_page, 2 * t_page, 0, ENOENT);
	munmap(mem + 6 * t_page, 2 * t_page);
	zp_case("unmapped", m + 6 * t_page, t_page, 0, ENOENT);

	zp_case("page 0", m, t_page, 0, 0);
	zp_case("page 2 DONTWAKE", m + 2 * t_page, t_page, UFFDIO_ZEROPAGE_MODE_DONTWAKE, 0);
	zp_case("page 0 again", m, t_page, 0, EEXIST);
	zp_case("page 3, written by the process", m + 3 * t_page, t_page, 0, EEXIST);
	zp_case("pages 1-3, 2 present", m + t_page, 3 * t_page, 0, EAGAIN);
	T_OBS("bytes: %d %d %d %d", mem[0], mem[t_page], mem[2 * t_page], mem[3 * t_page]);
	/* A zero-filled page can be written normally afterwards. */
	mem[t_page] = 7;
	T_OBS("page 1 after a write: %d", mem[t_page]);
	munmap(mem, 6 * t_page);

	int mfd = orc_memfd(4 * t_page);
	char *sh = orc_mmap(4 * t_page, PROT_READ | PROT_WRITE, MAP_SHARED, mfd);
	sh[2 * t_page] = 9;
	madvise(sh + 2 * t_page, t_page, MADV_DONTNEED);  /* in the cache, not mapped */
	t_register(fd, sh, 4 * t_page, UFFDIO_REGISTER_MODE_MISSING);
	zp_case("shmem page 0", (uintptr_t)sh, t_page, 0, 0);
	zp_case("shmem page 2 in the page cache", (uintptr_t)sh + 2 * t_page, t_page, 0, EEXIST);
	zp_case("shmem pages 1-3", (uintptr_t)sh + t_page, 3 * t_page, 0, EAGAIN);
	T_OBS("shmem bytes: %d %d %d", sh[0], sh[t_page], sh[2 * t_page]);
	munmap(sh, 4 * t_page);
	close(mfd);
	close(fd);
}
T_MAIN("zeropage-errors", scenario)
