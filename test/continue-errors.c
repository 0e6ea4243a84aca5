/*
 * UFFDIO_CONTINUE: EINVAL for unaligned/empty/wrapping ranges and unknown
 * mode bits (mapped untouched); on anonymous memory (registered MISSING,
 * since MINOR is refused there) EINVAL; ENOENT outside a registered mapping;
 * EFAULT when the page cache has no page; EEXIST when already mapped;
 * MODE_WP on a range without WP EINVAL; partial progress -> EAGAIN.  And the
 * normal use: a minor fault on a page that is in the cache, resolved by
 * CONTINUE, shows the cached content.
 */
#include "oracle.h"

static int fd;

static void co_case(const char *what, uint64_t start, uint64_t len, uint64_t mode,
		    int want)
{
	struct uffdio_continue c = { { start, len }, mode, 55 };
	orc_ioctl_case(what, fd, UFFDIO_CONTINUE, &c, "mapped", &c.mapped, want);
}

static void scenario(void)
{
	fd = t_uffd_api(O_CLOEXEC | O_NONBLOCK, UFFD_FEATURE_MINOR_SHMEM);
	char *anon = t_map(2 * t_page);
	t_register(fd, anon, 2 * t_page, UFFDIO_REGISTER_MODE_MISSING);
	co_case("anonymous, registered MISSING", (uintptr_t)anon, t_page, 0, EINVAL);

	int mfd = orc_memfd(8 * t_page);
	char *alias = orc_mmap(8 * t_page, PROT_READ | PROT_WRITE, MAP_SHARED, mfd);
	char *sh = orc_mmap(8 * t_page, PROT_READ | PROT_WRITE, MAP_SHARED, mfd);
	uint64_t s = (uintptr_t)sh;
	for (int i = 0; i < 4; i++)
		alias[i * t_page] = 10 + i;  /* pages 0-3 in the page cache */
	t_register(fd, sh, 6 * t_page, UFFDIO_REGISTER_MODE_MINOR);

	co_case("start + 1", s + 1, t_page, 0, EINVAL);
	co_case("len + 1", s, t_page + 1, 0, EINVAL);
	co_case("len 0", s, 0, 0, EINVAL);
	co_case("wraps", s, -(uint64_t)t_page, 0, EINVAL);
	co_case("mode 1<<2", s, t_page, 1 << 2, EINVAL);
	co_case("mode 1<<63", s, t_page, 1ULL << 63, EINVAL);
	co_case("MODE_WP without WP registration", s, t_page, UFFDIO_CONTINUE_MODE_WP, EINVAL);
	co_case("not registered", s + 6 * t_page, t_page, 0, ENOENT);
	co_case("runs past the registered mapping", s + 5 * t_page, 2 * t_page, 0, ENOENT);
	co_case("no page in the cache", s + 4 * t_page, t_page, 0, EFAULT);

	/* A minor fault: the page is in the cache but not mapped here. */
	struct orc_toucher t;
	struct uffd_msg msg;
	orc_touch_start(&t, sh + t_page, 0, 0);
	orc_wait_msg(fd, &msg);
	T_OBS("fault: flags 0x%llx page %ld", (unsigned long long)msg.arg.pagefault.flags,
	      ORC_PG((char *)(uintptr_t)msg.arg.pagefault.address, sh));
	T_EXPECT_EQ(msg.arg.pagefault.flags, UFFD_PAGEFAULT_FLAG_MINOR);
	co_case("page 1", s + t_page, t_page, 0, 0);
	T_OBS("reader got %d", orc_touch_join(&t));

	co_case("page 1 again", s + t_page, t_page, 0, EEXIST);
	co_case("pages 2-4, 4 not in the cache", s + 2 * t_page, 3 * t_page, 0, EAGAIN);
	co_case("pages 0-1, 1 mapped", s, 2 * t_page, 0, EAGAIN);
	T_OBS("bytes: %d %d %d", sh[0], sh[t_page], sh[2 * t_page]);
	co_case("page 0 DONTWAKE -> EEXIST", s, t_page, UFFDIO_CONTINUE_MODE_DONTWAKE, EEXIST);
	munmap(sh, 8 * t_page);
	munmap(alias, 8 * t_page);
	close(mfd);
	close(fd);
}
T_MAIN("continue-errors", scenario)
