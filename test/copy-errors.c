/*
 * UFFDIO_COPY argument validation and partial progress.  Validation errors
 * (unaligned dst or len, len 0, wrapping ranges, unknown mode bits) fail
 * with EINVAL before anything happens and leave the copy field as it was;
 * errors found while copying are reported in copy as a negative errno
 * (ENOENT: dst not in one registered mapping; EEXIST: page present; EFAULT:
 * src unreadable; EINVAL: MODE_WP on a range not registered for WP), or,
 * after some progress, as the byte count with errno EAGAIN.  src needs no
 * alignment; a read-only destination is filled all the same.
 */
#include "oracle.h"

static int fd;
static char *mem, *src;

static void copy_case(const char *what, uint64_t dst, uint64_t s, uint64_t len,
		      uint64_t mode, int want)
{
	struct uffdio_copy c = { dst, s, len, mode, 55 };
	orc_ioctl_case(what, fd, UFFDIO_COPY, &c, "copy", &c.copy, want);
}

static void scenario(void)
{
	fd = t_uffd_api(O_CLOEXEC | O_NONBLOCK, 0);
	mem = t_map(8 * t_page);
	src = t_map(4 * t_page);
	uint64_t m = (uintptr_t)mem, s = (uintptr_t)src;
	t_fill(src, 4 * t_page, 3);
	t_register(fd, mem, 4 * t_page, UFFDIO_REGISTER_MODE_MISSING);

	/* Validation: EINVAL, copy untouched (55). */
	copy_case("dst + 1", m + 1, s, t_page, 0, EINVAL);
	copy_case("dst + 512", m + 512, s, t_page, 0, EINVAL);
	copy_case("len + 1", m, s, t_page + 1, 0, EINVAL);
	copy_case("len 0", m, s, 0, 0, EINVAL);
	copy_case("dst + len wraps", m, s, -(uint64_t)t_page, 0, EINVAL);
	copy_case("src + len wraps", m, -(uint64_t)t_page, 2 * t_page, 0, EINVAL);
	/* Linux 6.18 has no mmap_min_addr check here: 0 is just unmapped. */
	copy_case("src 0", m, 0, t_page, 0, EFAULT);
	copy_case("dst 0", 0, s, t_page, 0, ENOENT);
	copy_case("dst beyond user space", 1ULL << 47, s, t_page, 0, EINVAL);
	copy_case("src beyond user space", m, 1ULL << 47, t_page, 0, EINVAL);
	copy_case("mode 1<<2", m, s, t_page, 1 << 2, EINVAL);
	copy_case("mode 1<<63", m, s, t_page, 1ULL << 63, EINVAL);
	/* Found while copying: copy = -errno. */
	copy_case("MODE_WP, range not registered for WP", m, s, t_page,
		  UFFDIO_COPY_MODE_WP, EINVAL);
	copy_case("dst not registered", m + 4 * t_page, s, t_page, 0, ENOENT);
	copy_case("dst runs past the registered mapping", m + 3 * t_page, s,
		  2 * t_page, 0, ENOENT);
	munmap(mem + 6 * t_page, 2 * t_page);
	copy_case("dst unmapped", m + 6 * t_page, s, t_page, 0, ENOENT);
	char *hole = t_map(t_page);
	munmap(hole, t_page);
	copy_case("src unmapped", m, (uintptr_t)hole, t_page, 0, EFAULT);
	/* The failed copies left page 0 missing. */
	struct uffdio_zeropage z = { { m, t_page }, UFFDIO_ZEROPAGE_MODE_DONTWAKE, 0 };
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_ZEROPAGE, &z));

	/* Success, unaligned src, DONTWAKE. */
	copy_case("page 1 from src + 1", m + t_page, s + 1, t_page, 0, 0);
	T_OBS("page 1 content = src + 1: %d", !memcmp(mem + t_page, src + 1, t_page));
	copy_case("page 3 DONTWAKE", m + 3 * t_page, s + 3 * t_page, t_page,
		  UFFDIO_COPY_MODE_DONTWAKE, 0);
	T_OBS("page 3 content: %d", !memcmp(mem + 3 * t_page, src + 3 * t_page, t_page));

	/* Present pages: EEXIST, or partial progress then EAGAIN. */
	copy_case("onto a present page", m + t_page, s, t_page, 0, EEXIST);
	copy_case("onto the zero page", m, s, t_page, 0, EEXIST);
	copy_case("src = dst, present", m + t_page, m + t_page, t_page, 0, EEXIST);
	copy_case("pages 2-3, page 3 present", m + 2 * t_page, s, 2 * t_page, 0, EAGAIN);
	T_OBS("page 2 content: %d", !memcmp(mem + 2 * t_page, src, t_page));
	T_OBS("page 3 unchanged: %d", !memcmp(mem + 3 * t_page, src + 3 * t_page, t_page));
	copy_case("pages 0-3, all present", m, s, 4 * t_page, 0, EEXIST);
	struct uffdio_range u = { m, 4 * t_page };
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_UNREGISTER, &u));
	munmap(mem, 6 * t_page);

	/* A read-only registered destination is filled. */
	char *ro = orc_mmap(2 * t_page, PROT_READ, MAP_PRIVATE, -1);
	t_register(fd, ro, 2 * t_page, UFFDIO_REGISTER_MODE_MISSING);
	copy_case("read-only dst", (uintptr_t)ro, s, 2 * t_page, 0, 0);
	T_OBS("read-only dst content: %d", t_check(ro, t_page, 3));
	munmap(ro, 2 * t_page);

	/* Shared memory: same rules. */
	int mfd = orc_memfd(2 * t_page);
	char *sh = orc_mmap(2 * t_page, PROT_READ | PROT_WRITE, MAP_SHARED, mfd);
	sh[t_page] = 9;  /* page 1 in the page cache and mapped */
	t_register(fd, sh, 2 * t_page, UFFDIO_REGISTER_MODE_MISSING);
	copy_case("shmem page 1 present", (uintptr_t)sh + t_page, s, t_page, 0, EEXIST);
	madvise(sh + t_page, t_page, MADV_DONTNEED);  /* unmapped, still in cache */
	copy_case("shmem page 1 in the page cache only", (uintptr_t)sh + t_page, s,
		  t_page, 0, EEXIST);
	copy_case("shmem pages 0-1", (uintptr_t)sh, s, 2 * t_page, 0, EAGAIN);
	T_OBS("shmem page 0 content: %d", t_check(sh, t_page, 3));
	T_OBS("shmem page 1 byte: %d", sh[t_page]);
	char back[1];
	T_ASSERT(pread(mfd, back, 1, 0) == 1);
	T_OBS("file offset 0 has the copied data: %d", back[0] == src[0]);
	munmap(sh, 2 * t_page);
	close(mfd);
	close(fd);
}
T_MAIN("copy-errors", scenario)
