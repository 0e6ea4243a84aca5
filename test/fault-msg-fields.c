/* SPDX-License-Identifier: MIT */
/*
 * The fields of a UFFD_EVENT_PAGEFAULT message: a read fault has flags 0, a
 * write fault UFFD_PAGEFAULT_FLAG_WRITE; the address is the faulting page's
 * start, or the exact address with UFFD_FEATURE_EXACT_ADDRESS;
 * feat.ptid is the faulting thread's tid with UFFD_FEATURE_THREAD_ID and 0
 * without.  Each fault is resolved with UFFDIO_COPY and the contents checked
 * (the written byte over the copied page for a write).
 */
#include "acc.h"

static void one(uint64_t features, const char *what)
{
	int fd = t_uffd_api(O_CLOEXEC | O_NONBLOCK, features);
	char *mem = t_map(4 * t_page);
	char *src = t_map(t_page);
	char *want = t_map(t_page);

	t_register(fd, mem, 4 * t_page, UFFDIO_REGISTER_MODE_MISSING);
	for (int wr = 0; wr <= 1; wr++) {
		long pg = 1 + wr;
		long off = wr ? 3000 : 123;
		struct acc_thread t;
		struct uffd_msg msg;

		acc_start(&t, mem + pg * t_page + off, wr, 0x5a);
		if (!t_read_msg(fd, &msg, 5000))
			T_FATAL("%s: no message for the %s fault", what, wr ? "write" : "read");
		pid_t tid = acc_tid(&t);
		uint64_t a = msg.arg.pagefault.address;
		uint32_t ptid = msg.arg.pagefault.feat.ptid;
		T_OBS("%s %s: event 0x%x flags 0x%llx page %ld offset %ld ptid %s",
		      what, wr ? "write" : "read", msg.event,
		      (unsigned long long)msg.arg.pagefault.flags, ACC_PG(a, mem),
		      (long)(a % t_page),
		      ptid == 0 ? "0" : ptid == (uint32_t)tid ? "faulting-tid" : "other");
		T_EXPECT_EQ(msg.event, UFFD_EVENT_PAGEFAULT);
		T_EXPECT_EQ(msg.arg.pagefault.flags, wr ? UFFD_PAGEFAULT_FLAG_WRITE : 0);
		T_EXPECT_EQ(ACC_PG(a, mem), pg);
		if (features & UFFD_FEATURE_EXACT_ADDRESS)
			T_EXPECT_EQ(a % t_page, off);
		else
			T_EXPECT_EQ(a % t_page, 0);
		if (features & UFFD_FEATURE_THREAD_ID)
			T_EXPECT_EQ(ptid, tid);
		else
			T_EXPECT_EQ(ptid, 0);

		t_fill(src, t_page, 100 + pg);
		struct uffdio_copy c = {
			.dst = (uintptr_t)(mem + pg * t_page), .src = (uintptr_t)src,
			.len = t_page,
		};
		T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_COPY, &c));
		T_EXPECT_EQ(c.copy, t_page);
		char got = acc_join(&t);
		memcpy(want, src, t_page);
		if (wr)
			want[off] = 0x5a;
		else
			T_EXPECT_EQ(got, src[off]);
		int same = !memcmp(mem + pg * t_page, want, t_page);
		T_OBS("%s %s: page contents %s", what, wr ? "write" : "read",
		      same ? "as copied" : "wrong");
		T_EXPECT(same);
	}
	struct uffd_msg extra;
	T_EXPECT_ERR(read(fd, &extra, sizeof(extra)), EAGAIN);
	close(fd);
	munmap(mem, 4 * t_page);
	munmap(src, t_page);
	munmap(want, t_page);
}

static void scenario(void)
{
	one(0, "plain");
	one(UFFD_FEATURE_EXACT_ADDRESS, "exact");
	one(UFFD_FEATURE_THREAD_ID, "tid");
	one(UFFD_FEATURE_EXACT_ADDRESS | UFFD_FEATURE_THREAD_ID, "exact+tid");
}
T_MAIN("fault-msg-fields", scenario)
