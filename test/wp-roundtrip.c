/* SPDX-License-Identifier: MIT */
/*
 * A write-protect round trip on anonymous memory that holds data, registered
 * MISSING|WP and WP alone: UFFDIO_WRITEPROTECT a page; a thread writing to it
 * blocks, with a message of flags WP|WRITE for that page; meanwhile the
 * contents are intact and reads go through (also of the other pages); the
 * other pages stay writable; un-protecting (WRITEPROTECT mode 0) wakes the
 * writer and its write lands.  UFFDIO_COPY with UFFDIO_COPY_MODE_WP fills a
 * missing page write-protected: reads see the copy, a write faults with WP.
 * With UFFD_FEATURE_WP_ASYNC a write to a protected page does not block and
 * queues nothing: the protection is lifted silently, and that again after
 * re-protecting.
 */
#include "acc.h"

static int pending_none(int fd)
{
	struct uffd_msg m;
	return read(fd, &m, sizeof(m)) < 0 && errno == EAGAIN;
}

static void roundtrip(uint64_t mode, const char *what)
{
	int fd = t_uffd_api(O_CLOEXEC | O_NONBLOCK, 0);
	char *mem = t_map(4 * t_page);
	for (int i = 0; i < 4; i++)
		t_fill(mem + i * t_page, t_page, 10 + i);
	t_register(fd, mem, 4 * t_page, mode);

	struct uffdio_writeprotect w = {
		.range = { (uintptr_t)mem + t_page, t_page },
		.mode = UFFDIO_WRITEPROTECT_MODE_WP,
	};
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_WRITEPROTECT, &w));
	T_OBS("%s: reads while protected: page 1 %s", what,
	      t_check(mem + t_page, t_page, 11) ? "intact" : "changed");

	struct acc_thread t;
	struct uffd_msg msg;
	acc_start(&t, mem + t_page + 40, 1, 0x77);
	if (!t_read_msg(fd, &msg, 5000))
		T_FATAL("%s: no message for the write to a protected page", what);
	T_OBS("%s: fault event 0x%x flags 0x%llx page %ld offset %ld", what, msg.event,
	      (unsigned long long)msg.arg.pagefault.flags,
	      ACC_PG(msg.arg.pagefault.address, mem),
	      (long)(msg.arg.pagefault.address % t_page));
	T_EXPECT_EQ(msg.arg.pagefault.flags,
		    UFFD_PAGEFAULT_FLAG_WP | UFFD_PAGEFAULT_FLAG_WRITE);
	T_EXPECT_EQ(ACC_PG(msg.arg.pagefault.address, mem), 1);

	/* The writer is blocked: the contents are intact and readable, the
	 * other pages are writable. */
	int intact = t_check(mem + t_page, t_page, 11);
	T_OBS("%s: while the writer waits: page 1 %s, byte 40 = 0x%x", what,
	      intact ? "intact" : "changed", (unsigned char)mem[t_page + 40]);
	T_EXPECT(intact);
	mem[2 * t_page] = 5;
	T_OBS("%s: page 2 written: %d", what, mem[2 * t_page]);
	T_OBS("%s: nothing else queued: %d", what, pending_none(fd));

	w.mode = 0;   /* un-protect, and wake */
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_WRITEPROTECT, &w));
	acc_join(&t);
	T_OBS("%s: after un-protect: byte 40 = 0x%x", what, (unsigned char)mem[t_page + 40]);
	T_EXPECT_EQ((unsigned char)mem[t_page + 40], 0x77);
	/* The rest of the page is what it was. */
	char *ref = t_map(t_page);
	t_fill(ref, t_page, 11);
	ref[40] = 0x77;
	int same = !memcmp(ref, mem + t_page, t_page);
	T_OBS("%s: page 1 = old contents + the write: %d", what, same);
	T_EXPECT(same);
	munmap(ref, t_page);
	mem[t_page + 1] = 6;   /* no longer protected: no fault */
	T_OBS("%s: second write: %d; nothing queued: %d", what, mem[t_page + 1],
	      pending_none(fd));
	close(fd);
	munmap(mem, 4 * t_page);
}

static void copy_wp(void)
{
	int fd = t_uffd_api(O_CLOEXEC | O_NONBLOCK, 0);
	char *mem = t_map(2 * t_page);
	char *src = t_map(t_page);
	t_register(fd, mem, 2 * t_page,
		   UFFDIO_REGISTER_MODE_MISSING | UFFDIO_REGISTER_MODE_WP);
	t_fill(src, t_page, 55);
	struct uffdio_copy c = { .dst = (uintptr_t)mem, .src = (uintptr_t)src,
				 .len = t_page, .mode = UFFDIO_COPY_MODE_WP };
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_COPY, &c));
	T_OBS("copy-wp: copied %lld; reads: %s", (long long)c.copy,
	      t_check(mem, t_page, 55) ? "the copy" : "wrong");

	struct acc_thread t;
	struct uffd_msg msg;
	acc_start(&t, mem + 8, 1, 0x66);
	if (!t_read_msg(fd, &msg, 5000))
		T_FATAL("copy-wp: no message for the write");
	T_OBS("copy-wp: fault flags 0x%llx page %ld", (unsigned long long)msg.arg.pagefault.flags,
	      ACC_PG(msg.arg.pagefault.address, mem));
	T_EXPECT_EQ(msg.arg.pagefault.flags,
		    UFFD_PAGEFAULT_FLAG_WP | UFFD_PAGEFAULT_FLAG_WRITE);
	T_OBS("copy-wp: while waiting: %s", t_check(mem, t_page, 55) ? "the copy" : "changed");
	struct uffdio_writeprotect w = { .range = { (uintptr_t)mem, t_page }, .mode = 0 };
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_WRITEPROTECT, &w));
	acc_join(&t);
	T_OBS("copy-wp: the write landed: 0x%x", (unsigned char)mem[8]);
	mem[8] = src[8];
	T_OBS("copy-wp: rest intact: %d", t_check(mem, t_page, 55));

	/* A plain COPY (no MODE_WP) into the second page: writable at once. */
	c = (struct uffdio_copy){ .dst = (uintptr_t)mem + t_page, .src = (uintptr_t)src,
				  .len = t_page };
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_COPY, &c));
	mem[t_page] = 1;
	T_OBS("copy: write without fault: %d; nothing queued: %d", mem[t_page],
	      pending_none(fd));
	close(fd);
	munmap(mem, 2 * t_page);
	munmap(src, t_page);
}

static void wp_async(void)
{
	int fd = t_uffd_api(O_CLOEXEC | O_NONBLOCK, UFFD_FEATURE_WP_ASYNC);
	char *mem = t_map(4 * t_page);
	for (int i = 0; i < 4; i++)
		t_fill(mem + i * t_page, t_page, 20 + i);
	t_register(fd, mem, 4 * t_page, UFFDIO_REGISTER_MODE_WP);
	struct uffdio_writeprotect w = {
		.range = { (uintptr_t)mem, 4 * t_page }, .mode = UFFDIO_WRITEPROTECT_MODE_WP,
	};
	for (int round = 0; round < 2; round++) {
		T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_WRITEPROTECT, &w));
		/* On this thread: a write that blocked would never end. */
		mem[t_page + 100] = 0x11 + round;
		mem[t_page + 101] = 0x21 + round;   /* no longer protected */
		mem[3 * t_page] = 0x31 + round;
		T_OBS("wp-async round %d: writes landed: 0x%x 0x%x 0x%x; nothing queued: %d",
		      round, (unsigned char)mem[t_page + 100],
		      (unsigned char)mem[t_page + 101], (unsigned char)mem[3 * t_page],
		      pending_none(fd));
		T_OBS("wp-async round %d: untouched pages intact: %d %d", round,
		      t_check(mem, t_page, 20), t_check(mem + 2 * t_page, t_page, 22));
	}
	close(fd);
	munmap(mem, 4 * t_page);
}

static void scenario(void)
{
	roundtrip(UFFDIO_REGISTER_MODE_MISSING | UFFDIO_REGISTER_MODE_WP, "missing|wp");
	roundtrip(UFFDIO_REGISTER_MODE_WP, "wp");
	copy_wp();
	wp_async();
}
T_MAIN("wp-roundtrip", scenario)
