/*
 * Closing the userfaultfd wakes the threads blocked in its faults, both the
 * one whose message was read and one whose message is still pending; their
 * accesses then complete as if the range had never been registered (a
 * zero page).  Closing one of two dup'ed descriptors releases nothing: the
 * fault is still resolved through the other.  No sleeps: each fault is
 * seen on the fd before the close.
 */
#include <poll.h>
#include "oracle.h"

static void scenario(void)
{
	int fd = t_uffd_api(O_CLOEXEC | O_NONBLOCK, 0);
	char *mem = t_map(4 * t_page);
	char *src = t_map(t_page);
	memset(src, 0x33, t_page);
	t_register(fd, mem, 4 * t_page, UFFDIO_REGISTER_MODE_MISSING);

	struct orc_toucher a, b;
	struct uffd_msg msg;
	orc_touch_start(&a, mem, 0, 0);
	orc_wait_msg(fd, &msg);                     /* a's fault, read */
	T_OBS("a faulted on page %ld", ORC_PG((char *)(uintptr_t)msg.arg.pagefault.address, mem));
	orc_touch_start(&b, mem + 2 * t_page, 1, 9);
	struct pollfd p = { .fd = fd, .events = POLLIN };
	T_ASSERT(poll(&p, 1, 5000) == 1);          /* b's fault, pending */
	T_OBS("b pending: 0x%x", p.revents);

	close(fd);
	T_OBS("a read %d", orc_touch_join(&a));
	T_OBS("b wrote %d", orc_touch_join(&b));
	T_OBS("memory now: %d %d", mem[0], mem[2 * t_page]);
	/* The range is ordinary memory now. */
	mem[3 * t_page] = 4;
	T_OBS("page 3 written: %d", mem[3 * t_page]);
	munmap(mem, 4 * t_page);

	/* dup: closing one descriptor keeps the userfaultfd alive. */
	fd = t_uffd_api(O_CLOEXEC | O_NONBLOCK, 0);
	mem = t_map(t_page);
	t_register(fd, mem, t_page, UFFDIO_REGISTER_MODE_MISSING);
	int fd2 = dup(fd);
	T_ASSERT(fd2 >= 0);
	orc_touch_start(&a, mem, 0, 0);
	orc_wait_msg(fd, &msg);
	close(fd);
	struct uffdio_copy c = { (uintptr_t)mem, (uintptr_t)src, t_page, 0, 0 };
	T_EXPECT_OK(uffd_ioctl(fd2, UFFDIO_COPY, &c));
	T_OBS("resolved through the dup: read 0x%x", (unsigned char)orc_touch_join(&a));
	close(fd2);
}
T_MAIN("close-wakes-faults", scenario)
