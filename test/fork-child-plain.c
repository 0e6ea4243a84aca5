/* SPDX-License-Identifier: MIT */
/*
 * fork() of a process with a registered range, without
 * UFFD_FEATURE_EVENT_FORK: the child sees ordinary memory: missing pages
 * read as zero and are writable (no hang, no crash, no message to the
 * parent's fd), pages with data keep it, and a write-protected page is
 * writable.  The parent's range is unchanged: its missing pages still fault
 * (the child's touches did not fill them) and its protection still holds.
 */
#include "acc.h"
#include "oracle.h"

#define NP 6

static char *mem, *src;

struct child_report {
	int data_intact, copy_intact;
	int missing_zero, wrote_missing, wrote_wp, wp_page_rest;
};

static void child(void *arg, int report)
{
	struct child_report r = {0};
	(void)arg;

	r.data_intact = t_check(mem, t_page, 500);
	r.copy_intact = t_check(mem + t_page, t_page, 501);
	r.missing_zero = 1;
	for (long i = 3 * t_page; i < 4 * t_page; i++)
		r.missing_zero &= mem[i] == 0;
	mem[4 * t_page + 8] = 0x44;
	r.wrote_missing = mem[4 * t_page + 8];
	mem[2 * t_page + 8] = 0x22;    /* protected in the parent */
	r.wrote_wp = mem[2 * t_page + 8];
	mem[2 * t_page + 8] = src[8];
	r.wp_page_rest = t_check(mem + 2 * t_page, t_page, 502);
	/* A thread of the child too. */
	struct acc_thread t;
	acc_start(&t, mem + 5 * t_page, 0, 0);
	r.missing_zero &= acc_join(&t) == 0;
	if (write(report, &r, sizeof(r)) != sizeof(r))
		_exit(2);
}

static void scenario(void)
{
	int fd = t_uffd_api(O_CLOEXEC | O_NONBLOCK, 0);
	mem = t_map(NP * t_page);
	src = t_map(t_page);
	t_fill(mem, t_page, 500);                 /* page 0: data */
	t_register(fd, mem, NP * t_page,
		   UFFDIO_REGISTER_MODE_MISSING | UFFDIO_REGISTER_MODE_WP);
	t_fill(src, t_page, 501);                 /* page 1: COPY */
	struct uffdio_copy c = { .dst = (uintptr_t)mem + t_page, .src = (uintptr_t)src,
				 .len = t_page };
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_COPY, &c));
	t_fill(src, t_page, 502);                 /* page 2: COPY, protected */
	c = (struct uffdio_copy){ .dst = (uintptr_t)mem + 2 * t_page, .src = (uintptr_t)src,
				  .len = t_page, .mode = UFFDIO_COPY_MODE_WP };
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_COPY, &c));
	/* Pages 3, 4, 5: missing. */

	struct child_report r;
	int n = orc_in_child(child, NULL, &r, sizeof(r));
	T_OBS("child finished: %d", n == (int)sizeof(r));
	T_EXPECT_EQ(n, sizeof(r));
	if (n == (int)sizeof(r)) {
		T_OBS("child: data page intact %d, copied page intact %d", r.data_intact,
		      r.copy_intact);
		T_OBS("child: missing pages zero %d, write to a missing page 0x%x",
		      r.missing_zero, r.wrote_missing);
		T_OBS("child: write to the protected page 0x%x, rest intact %d",
		      r.wrote_wp, r.wp_page_rest);
		T_EXPECT(r.data_intact && r.copy_intact && r.missing_zero && r.wp_page_rest);
	}
	struct uffd_msg msg;
	T_EXPECT_ERR(read(fd, &msg, sizeof(msg)), EAGAIN);

	/* The parent's range still faults where the child touched. */
	for (long pg = 3; pg <= 5; pg++) {
		struct acc_thread t;
		acc_start(&t, mem + pg * t_page + 8, pg == 4, 0x66);
		if (!t_read_msg(fd, &msg, 5000))
			T_FATAL("parent's page %ld: no fault", pg);
		T_OBS("parent: page %ld faults, flags 0x%llx", ACC_PG(msg.arg.pagefault.address, mem),
		      (unsigned long long)msg.arg.pagefault.flags);
		t_fill(src, t_page, 510 + pg);
		c = (struct uffdio_copy){ .dst = (uintptr_t)mem + pg * t_page,
					  .src = (uintptr_t)src, .len = t_page };
		T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_COPY, &c));
		char v = acc_join(&t);
		T_OBS("parent: page %ld access done: %s", pg,
		      pg == 4 ? (v == 0x66 ? "wrote" : "?") : (v == src[8] ? "read the copy" : "wrong"));
	}
	/* The parent's protection still holds. */
	struct acc_thread t;
	acc_start(&t, mem + 2 * t_page + 8, 1, 0x77);
	if (!t_read_msg(fd, &msg, 5000))
		T_FATAL("parent's protected page: no fault");
	T_OBS("parent: protected page %ld faults, flags 0x%llx",
	      ACC_PG(msg.arg.pagefault.address, mem),
	      (unsigned long long)msg.arg.pagefault.flags);
	T_OBS("parent: page 2 unchanged by the child %d", t_check(mem + 2 * t_page, t_page, 502));
	struct uffdio_writeprotect w = { .range = { (uintptr_t)mem + 2 * t_page, t_page } };
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_WRITEPROTECT, &w));
	acc_join(&t);
	T_OBS("parent: write landed 0x%x; page 0 intact %d", (unsigned char)mem[2 * t_page + 8],
	      t_check(mem, t_page, 500));
	close(fd);
}
T_MAIN("fork-child-plain", scenario)
