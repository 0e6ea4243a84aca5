/* SPDX-License-Identifier: MIT */
/*
 * One read(2) with room for several messages returns every message that is
 * pending (up to the room), not just one.  Four threads fault on four
 * different pages; once all four are blocked in their faults (seen in
 * /proc: reading a message would take it off the queue), one read with a
 * buffer for four messages returns all four.  The reading then goes on in a
 * loop (poll, read with a four-message buffer) until four messages were
 * received; the pages reported are recorded sorted; then a buffer for four
 * with two pending returns two, and a buffer of one and a half messages
 * returns one (not on the user backend: a documented limit).
 */
#include "acc.h"

#define N 4

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;
	return x < y ? -1 : x > y;
}

static void resolve_all(int fd, char *mem, int npages)
{
	struct uffdio_zeropage z = { .range = { (uintptr_t)mem, npages * t_page } };
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_ZEROPAGE, &z));
}

static void scenario(void)
{
	int fd = t_uffd_api(O_CLOEXEC | O_NONBLOCK, 0);
	char *mem = t_map(2 * N * t_page);
	t_register(fd, mem, 2 * N * t_page, UFFDIO_REGISTER_MODE_MISSING);

	struct acc_thread t[N];
	for (int i = 0; i < N; i++)
		acc_start(&t[i], mem + (N - 1 - i) * 2 * t_page + i, i & 1, 9);
	for (int i = 0; i < N; i++)
		acc_wait_blocked(&t[i]);

	struct uffd_msg buf[N];
	long pages[N];
	int total = 0, reads = 0, first = -1;
	while (total < N) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, 5000) != 1)
			T_FATAL("poll: no message, %d of %d received", total, N);
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EAGAIN)
			continue;
		T_ASSERT(n > 0 && n % sizeof(buf[0]) == 0);
		int got = n / sizeof(buf[0]);
		if (first < 0)
			first = got;
		reads++;
		for (int i = 0; i < got && total < N; i++) {
			T_EXPECT_EQ(buf[i].event, UFFD_EVENT_PAGEFAULT);
			pages[total++] = ACC_PG(buf[i].arg.pagefault.address, mem);
		}
	}
	qsort(pages, N, sizeof(pages[0]), cmp_long);
	T_OBS("first read returned %d messages", first);
	T_OBS("messages received: %d; pages %ld %ld %ld %ld", total,
	      pages[0], pages[1], pages[2], pages[3]);
	T_EXPECT_EQ(total, N);
	T_EXPECT(first > 1);
	T_EXPECT_EQ(first, N);
	resolve_all(fd, mem, 2 * N);
	for (int i = 0; i < N; i++)
		acc_join(&t[i]);
	struct uffd_msg one;
	T_EXPECT_ERR(read(fd, &one, sizeof(one)), EAGAIN);
	munmap(mem, 2 * N * t_page);

	/* Two pending, room for four: two.  Then room for 1.5: one. */
	mem = t_map(4 * t_page);
	t_register(fd, mem, 4 * t_page, UFFDIO_REGISTER_MODE_MISSING);
	acc_start(&t[0], mem, 0, 0);
	acc_start(&t[1], mem + 3 * t_page, 0, 0);
	acc_wait_blocked(&t[0]);
	acc_wait_blocked(&t[1]);
	ssize_t n = read(fd, buf, sizeof(buf));
	T_OBS("two pending, room for four: %zd bytes (%zd messages)", n,
	      n > 0 ? n / (ssize_t)sizeof(buf[0]) : -1);
	T_EXPECT_EQ(n, 2 * sizeof(buf[0]));
	long a = ACC_PG(buf[0].arg.pagefault.address, mem);
	long b = ACC_PG(buf[1].arg.pagefault.address, mem);
	T_OBS("pages %ld %ld", a < b ? a : b, a < b ? b : a);
	acc_start(&t[2], mem + t_page, 0, 0);
	acc_start(&t[3], mem + 2 * t_page, 0, 0);
	acc_wait_blocked(&t[2]);
	acc_wait_blocked(&t[3]);
	/* The user backend's fd is a stream socket that read(2) reaches
	 * directly: a buffer for 1.5 messages gets 1.5 of them. */
	if (t_limit_begin("read(2) of a buffer that is not a whole number of messages")) {
		n = read(fd, buf, sizeof(buf[0]) * 3 / 2);
		T_OBS("two pending, room for 1.5: %zd bytes", n);
		T_EXPECT_EQ(n, sizeof(buf[0]));
		n = read(fd, buf + 1, sizeof(buf[0]) * 3 / 2);
		T_OBS("then: %zd bytes", n);
		T_EXPECT_EQ(n, sizeof(buf[0]));
		t_limit_end();
	} else {
		n = read(fd, buf, 2 * sizeof(buf[0]));
		T_EXPECT_EQ(n, 2 * sizeof(buf[0]));
	}
	a = ACC_PG(buf[0].arg.pagefault.address, mem);
	b = ACC_PG(buf[1].arg.pagefault.address, mem);
	T_OBS("pages %ld %ld", a < b ? a : b, a < b ? b : a);
	resolve_all(fd, mem, 4);
	for (int i = 0; i < N; i++)
		acc_join(&t[i]);
	T_EXPECT_ERR(read(fd, &one, sizeof(one)), EAGAIN);
	close(fd);
}
T_MAIN("many-messages-one-read", scenario)
