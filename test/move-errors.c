/*
 * UFFDIO_MOVE (needs UFFD_FEATURE_MOVE): EINVAL for unaligned dst, src or
 * len (src must be aligned too, unlike COPY), len 0, wrapping ranges,
 * unknown mode bits (move untouched); EINVAL for a dst not registered with
 * this uffd, for shared memory, for different protections, for ranges
 * running past a mapping; ENOENT for a src hole (unless ALLOW_SRC_HOLES) or
 * no vma; EEXIST for a present dst page; partial -> EAGAIN.  On success the
 * page moves: dst has the content, src is empty.
 */
#include "oracle.h"

static int fd;

static void mv_case(const char *what, uint64_t dst, uint64_t src, uint64_t len,
		    uint64_t mode, int want)
{
	struct uffdio_move mv = { dst, src, len, mode, 55 };
	orc_ioctl_case(what, fd, UFFDIO_MOVE, &mv, "move", &mv.move, want);
}

static void scenario(void)
{
	fd = t_uffd_api(O_CLOEXEC | O_NONBLOCK, UFFD_FEATURE_MOVE);
	char *dst = t_map(8 * t_page);
	/* src ends at a hole, whatever else the process has mapped. */
	char *src = t_map(9 * t_page);
	munmap(src + 8 * t_page, t_page);
	uint64_t d = (uintptr_t)dst, s = (uintptr_t)src;
	for (int i = 0; i < 6; i++)
		t_fill(src + i * t_page, t_page, 100 + i);  /* src pages 0-5 present */
	dst[3 * t_page] = 1;
	t_register(fd, dst, 6 * t_page, UFFDIO_REGISTER_MODE_MISSING);

	mv_case("dst + 1", d + 1, s, t_page, 0, EINVAL);
	mv_case("src + 1", d, s + 1, t_page, 0, EINVAL);
	mv_case("len + 1", d, s, t_page + 1, 0, EINVAL);
	mv_case("len 0", d, s, 0, 0, EINVAL);
	mv_case("dst wraps", d, s, -(uint64_t)t_page, 0, EINVAL);
	mv_case("mode 1<<2", d, s, t_page, 1 << 2, EINVAL);
	mv_case("mode 1<<63", d, s, t_page, 1ULL << 63, EINVAL);
	mv_case("dst not registered", d + 6 * t_page, s, t_page, 0, EINVAL);
	mv_case("dst runs past the mapping", d + 5 * t_page, s, 2 * t_page, 0, EINVAL);
	mv_case("src runs past the mapping", d, s + 7 * t_page, 2 * t_page, 0, EINVAL);
	/* No overlap check: src holes are found first. */
	mv_case("dst = src, both missing", d, d, t_page, 0, ENOENT);
	mv_case("overlapping, src = dst + 1 page", d, d + t_page, 2 * t_page, 0, ENOENT);
	mv_case("dst = src, present", d + 3 * t_page, d + 3 * t_page, t_page, 0, EEXIST);
	char *hole = t_map(t_page);
	munmap(hole, t_page);
	mv_case("src unmapped", d, (uintptr_t)hole, t_page, 0, ENOENT);
	mv_case("dst unmapped", (uintptr_t)hole, s, t_page, 0, ENOENT);
	mv_case("src page never touched", d, s + 6 * t_page, t_page, 0, ENOENT);
	mv_case("src hole allowed", d, s + 6 * t_page, t_page,
		UFFDIO_MOVE_MODE_ALLOW_SRC_HOLES, 0);
	mv_case("dst present", d + 3 * t_page, s + 3 * t_page, t_page, 0, EEXIST);
	mv_case("dst still missing after the hole move", d, s, t_page, 0, 0);

	mv_case("page 1", d + t_page, s + t_page, t_page, 0, 0);
	T_OBS("dst page 1 content: %d", t_check(dst + t_page, t_page, 101));
	T_OBS("src page 1 now empty: %d", src[t_page]);
	mv_case("pages 2-3, dst 3 present", d + 2 * t_page, s + 2 * t_page, 2 * t_page, 0, EAGAIN);
	T_OBS("dst page 2 content: %d", t_check(dst + 2 * t_page, t_page, 102));
	T_OBS("src page 3 intact: %d", t_check(src + 3 * t_page, t_page, 103));

	/* Different protections. */
	T_ASSERT(mprotect(src + 4 * t_page, t_page, PROT_READ) == 0);
	mv_case("src read-only", d + 4 * t_page, s + 4 * t_page, t_page, 0, EINVAL);

	/* Shared memory on either side. */
	int mfd = orc_memfd(2 * t_page);
	char *sh = orc_mmap(2 * t_page, PROT_READ | PROT_WRITE, MAP_SHARED, mfd);
	sh[0] = 1;
	t_register(fd, sh, 2 * t_page, UFFDIO_REGISTER_MODE_MISSING);
	mv_case("src shared", d + 4 * t_page, (uintptr_t)sh, t_page, 0, EINVAL);
	mv_case("dst shared", (uintptr_t)sh + t_page, s + 5 * t_page, t_page, 0, EINVAL);

	/* dst registered with another uffd. */
	int other = t_uffd_api(O_CLOEXEC | O_NONBLOCK, UFFD_FEATURE_MOVE);
	char *od = t_map(t_page);
	t_register(other, od, t_page, UFFDIO_REGISTER_MODE_MISSING);
	mv_case("dst registered with another uffd", (uintptr_t)od, s + 5 * t_page, t_page,
		0, EINVAL);
	close(other);

	/* Overlapping ranges are not refused: pages move one at a time, so a
	 * page moved into the next slot is moved again. */
	char *ov = t_map(4 * t_page);
	t_fill(ov, t_page, 42);
	t_register(fd, ov, 4 * t_page, UFFDIO_REGISTER_MODE_MISSING);
	mv_case("overlapping, src page 0 present, dst page 1", (uintptr_t)ov + t_page,
		(uintptr_t)ov, 2 * t_page, 0, 0);
	struct uffdio_zeropage z = { { (uintptr_t)ov, t_page }, 0, 0 };
	int r0 = uffd_ioctl(fd, UFFDIO_ZEROPAGE, &z);
	z.range.start = (uintptr_t)ov + t_page;
	int r1 = uffd_ioctl(fd, UFFDIO_ZEROPAGE, &z);
	T_OBS("page 0 missing %d, page 1 missing %d, page 2 has page 0's data %d",
	      r0 == 0, r1 == 0, t_check(ov + 2 * t_page, t_page, 42));
	close(fd);
}
T_MAIN("move-errors", scenario)
