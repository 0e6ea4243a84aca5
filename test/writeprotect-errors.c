/*
 * UFFDIO_WRITEPROTECT: EINVAL for unaligned/empty/wrapping ranges, unknown
 * mode bits and MODE_WP together with MODE_DONTWAKE; ENOENT for a range not
 * registered with MODE_WP (registered MISSING only, not registered, or
 * unmapped); success on a WP range, after which a write faults with
 * UFFD_PAGEFAULT_FLAG_WP | FLAG_WRITE while reads go through, and
 * un-protecting (which wakes by default) lets the write complete.
 */
#include "oracle.h"

static void scenario(void)
{
	int fd = t_uffd_api(O_CLOEXEC | O_NONBLOCK, 0);
	char *mem = t_map(8 * t_page);
	uint64_t m = (uintptr_t)mem;
	memset(mem, 1, 8 * t_page);
	t_register(fd, mem, 2 * t_page, UFFDIO_REGISTER_MODE_WP);
	t_register(fd, mem + 2 * t_page, 2 * t_page, UFFDIO_REGISTER_MODE_MISSING);
	struct uffdio_writeprotect w;
	const uint64_t WP = UFFDIO_WRITEPROTECT_MODE_WP;

#define WPROT(st, ln, md) (w = (struct uffdio_writeprotect){ { (st), (ln) }, (md) }, \
			   uffd_ioctl(fd, UFFDIO_WRITEPROTECT, &w))
	T_EXPECT_ERR(WPROT(m + 1, t_page, WP), EINVAL);
	T_EXPECT_ERR(WPROT(m, t_page + 1, WP), EINVAL);
	T_EXPECT_ERR(WPROT(m, 0, WP), EINVAL);
	T_EXPECT_ERR(WPROT(m, -(uint64_t)t_page, WP), EINVAL);
	T_EXPECT_ERR(WPROT(1ULL << 47, t_page, WP), EINVAL);
	T_EXPECT_ERR(WPROT(m, t_page, 1 << 2), EINVAL);
	T_EXPECT_ERR(WPROT(m, t_page, WP | 1ULL << 63), EINVAL);
	T_EXPECT_ERR(WPROT(m, t_page, WP | UFFDIO_WRITEPROTECT_MODE_DONTWAKE), EINVAL);
	T_EXPECT_ERR(WPROT(m + 2 * t_page, t_page, WP), ENOENT);       /* MISSING only */
	T_EXPECT_ERR(WPROT(m + 2 * t_page, t_page, 0), ENOENT);
	T_EXPECT_ERR(WPROT(m + 4 * t_page, t_page, WP), ENOENT);       /* not registered */
	munmap(mem + 6 * t_page, 2 * t_page);
	T_EXPECT_ERR(WPROT(m + 6 * t_page, t_page, WP), ENOENT);       /* unmapped */
	T_EXPECT_ERR(WPROT(m + t_page, 2 * t_page, WP), ENOENT);       /* WP then MISSING */

	T_EXPECT_OK(WPROT(m, 2 * t_page, WP));
	T_EXPECT_OK(WPROT(m, 2 * t_page, WP));                         /* twice */
	T_EXPECT_OK(WPROT(m + t_page, t_page, 0));                     /* page 1 off */
	T_EXPECT_OK(WPROT(m + t_page, t_page, UFFDIO_WRITEPROTECT_MODE_DONTWAKE));
	T_OBS("read of a protected page: %d", mem[0]);
	mem[t_page] = 3;
	T_OBS("write to an unprotected page: %d", mem[t_page]);

	struct orc_toucher t;
	struct uffd_msg msg;
	orc_touch_start(&t, mem + 10, 1, 9);
	orc_wait_msg(fd, &msg);
	T_OBS("fault: event 0x%x flags 0x%llx page %ld offset %ld", msg.event,
	      (unsigned long long)msg.arg.pagefault.flags,
	      ORC_PG((char *)(uintptr_t)msg.arg.pagefault.address, mem),
	      (long)(msg.arg.pagefault.address % t_page));
	T_EXPECT_EQ(msg.event, UFFD_EVENT_PAGEFAULT);
	T_EXPECT_EQ(msg.arg.pagefault.flags, UFFD_PAGEFAULT_FLAG_WP | UFFD_PAGEFAULT_FLAG_WRITE);
	T_EXPECT_OK(WPROT(m, t_page, 0));
	orc_touch_join(&t);
	T_OBS("after un-protect: %d", mem[10]);
	close(fd);
	munmap(mem, 6 * t_page);
}
T_MAIN("writeprotect-errors", scenario)
