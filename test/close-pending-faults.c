/* SPDX-License-Identifier: MIT */
/*
 * Closing the last fd of a userfaultfd with several threads blocked in its
 * faults: two whose messages were read (a reader and a writer), and three
 * whose messages are still queued (two of them on the same page).  All wake
 * and complete on zero-filled pages; the range is ordinary memory after.
 * With a dup()ed fd kept open, closing the other releases nothing: the
 * threads are still blocked (their faults are resolved with UFFDIO_COPY
 * through the dup, and they see the copy, not zeros), and the unread
 * message is read through the dup.
 * The unread faults are known to be blocked from /proc/<tid>/stat (a
 * message that is read is no longer unread).
 */
#include "acc.h"

static void last_close(void)
{
	int fd = t_uffd_api(O_CLOEXEC | O_NONBLOCK, 0);
	char *mem = t_map(6 * t_page);
	t_register(fd, mem, 6 * t_page, UFFDIO_REGISTER_MODE_MISSING);

	struct acc_thread t[5];
	struct uffd_msg msg;
	/* Read: a reader of page 0, a writer of page 1. */
	acc_start(&t[0], mem + 10, 0, 0);
	T_ASSERT(t_read_msg(fd, &msg, 5000));
	T_OBS("read message: page %ld flags 0x%llx", ACC_PG(msg.arg.pagefault.address, mem),
	      (unsigned long long)msg.arg.pagefault.flags);
	acc_start(&t[1], mem + t_page + 20, 1, 0x41);
	T_ASSERT(t_read_msg(fd, &msg, 5000));
	T_OBS("read message: page %ld flags 0x%llx", ACC_PG(msg.arg.pagefault.address, mem),
	      (unsigned long long)msg.arg.pagefault.flags);
	/* Not read: a reader of page 2, a reader and a writer of page 3. */
	acc_start(&t[2], mem + 2 * t_page + 30, 0, 0);
	acc_start(&t[3], mem + 3 * t_page + 40, 0, 0);
	acc_start(&t[4], mem + 3 * t_page + 50, 1, 0x42);
	for (int i = 2; i < 5; i++)
		acc_wait_blocked(&t[i]);
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int np = poll(&p, 1, 0);
	T_OBS("unread messages pending: poll %d revents 0x%x", np, p.revents);

	close(fd);
	for (int i = 0; i < 5; i++) {
		char v = acc_join(&t[i]);
		T_OBS("thread %d %s %d", i, t[i].write ? "wrote" : "read", v);
		if (!t[i].write)
			T_EXPECT_EQ(v, 0);
	}
	/* Zero-filled pages, with the writes. */
	int zeros = 0;
	for (long i = 0; i < 6 * t_page; i++)
		zeros += mem[i] == 0;
	T_OBS("after close: byte p1+20 = 0x%x, p3+50 = 0x%x, other bytes zero: %d",
	      mem[t_page + 20], mem[3 * t_page + 50], zeros == 6 * t_page - 2);
	mem[5 * t_page] = 7;   /* never touched: ordinary memory now */
	T_OBS("page 5 written: %d", mem[5 * t_page]);
	munmap(mem, 6 * t_page);
}

static void dup_kept(void)
{
	int fd = t_uffd_api(O_CLOEXEC | O_NONBLOCK, 0);
	char *mem = t_map(3 * t_page);
	char *src = t_map(t_page);
	t_register(fd, mem, 3 * t_page, UFFDIO_REGISTER_MODE_MISSING);
	int fd2 = dup(fd);
	T_ASSERT(fd2 >= 0);

	struct acc_thread a, b;
	struct uffd_msg msg;
	acc_start(&a, mem + 5, 0, 0);                 /* read message */
	T_ASSERT(t_read_msg(fd, &msg, 5000));
	acc_start(&b, mem + 2 * t_page + 6, 0, 0);    /* unread message */
	acc_wait_blocked(&b);

	close(fd);
	/* Still blocked: the queued message is there, read it through fd2. */
	T_ASSERT(t_read_msg(fd2, &msg, 5000));
	T_OBS("through the dup: message for page %ld", ACC_PG(msg.arg.pagefault.address, mem));
	memset(src, 0x5c, t_page);
	struct uffdio_copy c = { .dst = (uintptr_t)mem, .src = (uintptr_t)src,
				 .len = t_page };
	T_EXPECT_OK(uffd_ioctl(fd2, UFFDIO_COPY, &c));
	memset(src, 0x5d, t_page);
	c = (struct uffdio_copy){ .dst = (uintptr_t)mem + 2 * t_page, .src = (uintptr_t)src,
				  .len = t_page };
	T_EXPECT_OK(uffd_ioctl(fd2, UFFDIO_COPY, &c));
	T_OBS("a read 0x%x, b read 0x%x (the copies, not zeros)",
	      (unsigned char)acc_join(&a), (unsigned char)acc_join(&b));
	/* Page 1 still faults through fd2. */
	acc_start(&a, mem + t_page, 0, 0);
	T_ASSERT(t_read_msg(fd2, &msg, 5000));
	T_OBS("page 1 still faults: message for page %ld", ACC_PG(msg.arg.pagefault.address, mem));
	close(fd2);
	T_OBS("after the last close: read %d", acc_join(&a));
	munmap(mem, 3 * t_page);
	munmap(src, t_page);
}

static void scenario(void)
{
	last_close();
	dup_kept();
}
T_MAIN("close-pending-faults", scenario)
