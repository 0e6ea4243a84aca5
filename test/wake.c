/*
 * UFFDIO_WAKE: validation (EINVAL for unaligned/empty/wrapping ranges) and
 * no check that the range is registered or even mapped; a fault resolved
 * with COPY | MODE_DONTWAKE (or ZEROPAGE | DONTWAKE) is woken by WAKE over a
 * range containing the faulting address (a WAKE elsewhere first is
 * harmless); a WAKE without resolving makes the thread fault again.
 */
#include "oracle.h"

static void scenario(void)
{
	int fd = t_uffd_api(O_CLOEXEC | O_NONBLOCK, 0);
	char *mem = t_map(4 * t_page);
	char *src = t_map(t_page);
	uint64_t m = (uintptr_t)mem;
	struct uffdio_range r;

#define WAKE(st, ln) (r = (struct uffdio_range){ (st), (ln) }, \
		      uffd_ioctl(fd, UFFDIO_WAKE, &r))
	T_EXPECT_ERR(WAKE(m + 1, t_page), EINVAL);
	T_EXPECT_ERR(WAKE(m, t_page - 1), EINVAL);
	T_EXPECT_ERR(WAKE(m, 0), EINVAL);
	T_EXPECT_ERR(WAKE(m, -(uint64_t)t_page), EINVAL);
	T_EXPECT_ERR(WAKE(1ULL << 47, t_page), EINVAL);
	/* Nothing registered, nothing waiting: still fine. */
	T_EXPECT_OK(WAKE(m, 4 * t_page));
	char *hole = t_map(t_page);
	munmap(hole, t_page);
	T_EXPECT_OK(WAKE((uintptr_t)hole, t_page));

	t_register(fd, mem, 4 * t_page, UFFDIO_REGISTER_MODE_MISSING);
	memset(src, 0x42, t_page);

	/* COPY DONTWAKE, then WAKE. */
	struct orc_toucher t;
	struct uffd_msg msg;
	orc_touch_start(&t, mem + t_page + 100, 0, 0);
	orc_wait_msg(fd, &msg);
	T_OBS("fault: event 0x%x page %ld", msg.event,
	      ORC_PG((char *)(uintptr_t)msg.arg.pagefault.address, mem));
	struct uffdio_copy c = { m + t_page, (uintptr_t)src, t_page,
				 UFFDIO_COPY_MODE_DONTWAKE, 0 };
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_COPY, &c));
	T_EXPECT_OK(WAKE(m + 2 * t_page, 2 * t_page));  /* elsewhere */
	T_EXPECT_OK(WAKE(m, 2 * t_page));
	T_OBS("reader got 0x%x", (unsigned char)orc_touch_join(&t));

	/* ZEROPAGE DONTWAKE, then WAKE of exactly the page. */
	orc_touch_start(&t, mem + 3 * t_page, 0, 0);
	orc_wait_msg(fd, &msg);
	T_OBS("fault: page %ld", ORC_PG((char *)(uintptr_t)msg.arg.pagefault.address, mem));
	struct uffdio_zeropage z = { { m + 3 * t_page, t_page },
				     UFFDIO_ZEROPAGE_MODE_DONTWAKE, 0 };
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_ZEROPAGE, &z));
	T_EXPECT_OK(WAKE(m + 3 * t_page, t_page));
	T_OBS("reader got 0x%x", (unsigned char)orc_touch_join(&t));

	/* A WAKE without resolving: the thread faults again (a second message
	 * for the same page), and a COPY then resolves it. */
	orc_touch_start(&t, mem, 0, 0);
	orc_wait_msg(fd, &msg);
	T_OBS("fault: page %ld", ORC_PG((char *)(uintptr_t)msg.arg.pagefault.address, mem));
	T_EXPECT_OK(WAKE(m, t_page));
	orc_wait_msg(fd, &msg);
	T_OBS("fault again: page %ld", ORC_PG((char *)(uintptr_t)msg.arg.pagefault.address, mem));
	c = (struct uffdio_copy){ m, (uintptr_t)src, t_page, 0, 0 };
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_COPY, &c));
	T_OBS("reader got 0x%x", (unsigned char)orc_touch_join(&t));
	struct uffd_msg extra;
	T_EXPECT_ERR(read(fd, &extra, sizeof(extra)), EAGAIN);
	close(fd);
}
T_MAIN("wake", scenario)
