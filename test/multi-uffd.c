/* SPDX-License-Identifier: MIT */
/*
 * Two userfaultfds in one process, each with its own range: a fault is
 * delivered to the fd whose range it is in (the other has nothing to read),
 * and is resolved through that fd.  Registering the first fd's range (all
 * of it, or overlapping it) through the second is EBUSY; so is the other way
 * round.  Closing the first fd leaves the second's range working.
 */
#include "acc.h"
#include "oracle.h"


static void fault_on(int *fds, int which, char *page, char *base, char *src, int wr)
{
	struct acc_thread t;
	struct uffd_msg msg;

	acc_start(&t, page + 12, wr, 0x3c);
	if (!t_read_msg(fds[which], &msg, 5000))
		T_FATAL("no message on fd %d", which + 1);
	T_OBS("fault on fd%d: page %ld flags 0x%llx; fd%d has nothing: %s", which + 1,
	      ACC_PG(msg.arg.pagefault.address, base),
	      (unsigned long long)msg.arg.pagefault.flags, 2 - which,
	      fds[1 - which] < 0 ? "closed" : orc_nothing_queued(fds[1 - which]) ? "yes" : "NO");
	struct uffdio_copy c = { .dst = (uintptr_t)page, .src = (uintptr_t)src,
				 .len = t_page };
	T_EXPECT_OK(uffd_ioctl(fds[which], UFFDIO_COPY, &c));
	char v = acc_join(&t);
	T_OBS("access completed: 0x%x", (unsigned char)(wr ? v : v == src[12]));
}

static void scenario(void)
{
	int fds[2];
	fds[0] = t_uffd_api(O_CLOEXEC | O_NONBLOCK, 0);
	fds[1] = t_uffd_api(O_CLOEXEC | O_NONBLOCK, 0);
	char *mem = t_map(8 * t_page);   /* [0,4): fd1's, [4,8): fd2's */
	char *a = mem, *b = mem + 4 * t_page;
	char *src = t_map(t_page);
	t_fill(src, t_page, 4);
	t_register(fds[0], a, 4 * t_page, UFFDIO_REGISTER_MODE_MISSING);
	t_register(fds[1], b, 4 * t_page, UFFDIO_REGISTER_MODE_MISSING);

	struct uffdio_register reg;
#define REG(fd, st, ln) (reg = (struct uffdio_register){ \
	.range = { (uintptr_t)(st), (ln) }, .mode = UFFDIO_REGISTER_MODE_MISSING }, \
	uffd_ioctl(fd, UFFDIO_REGISTER, &reg))
	T_EXPECT_ERR(REG(fds[1], a, 4 * t_page), EBUSY);
	T_EXPECT_ERR(REG(fds[1], a + t_page, t_page), EBUSY);
	T_EXPECT_ERR(REG(fds[1], a + 3 * t_page, 2 * t_page), EBUSY);
	T_EXPECT_ERR(REG(fds[0], b, t_page), EBUSY);
	T_EXPECT_ERR(REG(fds[0], a, 8 * t_page), EBUSY);
	/* Re-registering through the owner is fine. */
	T_EXPECT_OK(REG(fds[0], a, 4 * t_page));

	fault_on(fds, 0, a + t_page, mem, src, 0);
	fault_on(fds, 1, b + 2 * t_page, mem, src, 1);
	fault_on(fds, 1, b, mem, src, 0);
	fault_on(fds, 0, a + 3 * t_page, mem, src, 1);

	/* Both at once. */
	struct acc_thread t1, t2;
	struct uffd_msg m1, m2;
	acc_start(&t1, a + 2 * t_page, 0, 0);
	acc_start(&t2, b + 3 * t_page, 0, 0);
	T_ASSERT(t_read_msg(fds[0], &m1, 5000));
	T_ASSERT(t_read_msg(fds[1], &m2, 5000));
	T_OBS("together: fd1 page %ld, fd2 page %ld", ACC_PG(m1.arg.pagefault.address, mem),
	      ACC_PG(m2.arg.pagefault.address, mem));
	struct uffdio_zeropage z = { .range = { (uintptr_t)b + 3 * t_page, t_page } };
	T_EXPECT_OK(uffd_ioctl(fds[1], UFFDIO_ZEROPAGE, &z));
	T_OBS("fd2's fault resolved: read %d", acc_join(&t2));
	z.range.start = (uintptr_t)a + 2 * t_page;
	T_EXPECT_OK(uffd_ioctl(fds[0], UFFDIO_ZEROPAGE, &z));
	T_OBS("fd1's fault resolved: read %d", acc_join(&t1));
	T_OBS("nothing left: %d %d", orc_nothing_queued(fds[0]), orc_nothing_queued(fds[1]));

	/* UFFDIO_COPY through fd2 into fd1's range (page 0: no fault waits on
	 * it): whatever the kernel does is the reference. */
	struct uffdio_copy c = { .dst = (uintptr_t)a, .src = (uintptr_t)src, .len = t_page };
	errno = 0;
	int r = uffd_ioctl(fds[1], UFFDIO_COPY, &c);
	T_OBS("COPY through fd2 into fd1's page 0: %d %s copy %lld", r,
	      r ? t_errname(errno) : "", (long long)c.copy);
	T_OBS("nothing queued: %d %d", orc_nothing_queued(fds[0]), orc_nothing_queued(fds[1]));

	/* Closing fd1: its range is ordinary memory, fd2's still faults. */
	close(fds[0]);
	fds[0] = -1;
	T_OBS("fd1's page 0 after close: the copy %d, zero %d", a[12] == src[12] && a[0] == src[0],
	      a[0] == 0 && a[12] == 0);
	fault_on(fds, 1, b + t_page, mem, src, 1);
	close(fds[1]);
}
T_MAIN("multi-uffd", scenario)
