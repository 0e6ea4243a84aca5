/* SPDX-License-Identifier: MIT */
/*
 * REGISTER keeps the data already there: pages written before registering
 * read back intact, with no fault and no message, and stay writable; pages
 * never touched fault.  A partial UNREGISTER in the middle splits the range:
 * the middle is ordinary memory (zero-filled on first touch, no message),
 * and both sides still fault.
 */
#include "acc.h"
#include "oracle.h"

#define NP 10


static void expect_fault(int fd, char *mem, long pg, int wr, char *src)
{
	struct acc_thread t;
	struct uffd_msg msg;

	acc_start(&t, mem + pg * t_page + 99, wr, 0x19);
	if (!t_read_msg(fd, &msg, 5000))
		T_FATAL("page %ld: no fault", pg);
	T_OBS("page %ld faults: message page %ld flags 0x%llx", pg,
	      ACC_PG(msg.arg.pagefault.address, mem),
	      (unsigned long long)msg.arg.pagefault.flags);
	T_EXPECT_EQ(ACC_PG(msg.arg.pagefault.address, mem), pg);
	t_fill(src, t_page, 300 + pg);
	struct uffdio_copy c = { .dst = (uintptr_t)mem + pg * t_page,
				 .src = (uintptr_t)src, .len = t_page };
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_COPY, &c));
	char v = acc_join(&t);
	if (!wr)
		T_OBS("page %ld: read the copy %d", pg, v == src[99] &&
		      t_check(mem + pg * t_page, t_page, 300 + pg));
	else
		T_OBS("page %ld: write landed 0x%x", pg, (unsigned char)mem[pg * t_page + 99]);
}

static void scenario(void)
{
	int fd = t_uffd_api(O_CLOEXEC | O_NONBLOCK, 0);
	char *mem = t_map(NP * t_page);
	char *src = t_map(t_page);
	static const int data[] = { 0, 2, 8, 9 };

	for (size_t i = 0; i < sizeof(data) / sizeof(data[0]); i++)
		t_fill(mem + data[i] * t_page, t_page, 200 + data[i]);
	t_register(fd, mem, NP * t_page, UFFDIO_REGISTER_MODE_MISSING);

	/* On this thread: a fault here would never be resolved. */
	for (size_t i = 0; i < sizeof(data) / sizeof(data[0]); i++) {
		int pg = data[i];
		T_OBS("page %d written before REGISTER: intact %d", pg,
		      t_check(mem + pg * t_page, t_page, 200 + pg));
	}
	mem[2 * t_page + 5] = 0x55;
	T_OBS("page 2 still writable: 0x%x; nothing queued: %d", mem[2 * t_page + 5], orc_nothing_queued(fd));

	expect_fault(fd, mem, 1, 0, src);
	expect_fault(fd, mem, 7, 1, src);

	/* Split: pages 4 and 5 become ordinary memory. */
	struct uffdio_range r = { (uintptr_t)mem + 4 * t_page, 2 * t_page };
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_UNREGISTER, &r));
	int zero = 1;
	for (long i = 4 * t_page; i < 6 * t_page; i++)
		zero &= mem[i] == 0;
	T_OBS("middle after UNREGISTER: zero-filled %d", zero);
	mem[4 * t_page] = 1, mem[5 * t_page + 1] = 2;
	T_OBS("middle writable: %d %d; nothing queued: %d", mem[4 * t_page],
	      mem[5 * t_page + 1], orc_nothing_queued(fd));

	/* Both sides still fault; the data pages are still intact. */
	expect_fault(fd, mem, 3, 0, src);
	expect_fault(fd, mem, 6, 1, src);
	T_OBS("data pages after the split: %d %d %d", t_check(mem, t_page, 200),
	      t_check(mem + 8 * t_page, t_page, 208), t_check(mem + 9 * t_page, t_page, 209));
	T_OBS("nothing queued: %d", orc_nothing_queued(fd));
	close(fd);
	munmap(mem, NP * t_page);
	munmap(src, t_page);
}
T_MAIN("register-keeps-data", scenario)
