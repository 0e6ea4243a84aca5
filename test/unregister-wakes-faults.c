/* UNREGISTER wakes the threads blocked in faults on the range (read or
 * not): they retry and find ordinary memory.  Several threads faulting on
 * one page each get their own message. */
#include "harness.h"
#include "acc.h"
#include "oracle.h"

#define THREADS 3

static void scenario(void)
{
	int fd = t_uffd_api(O_CLOEXEC | O_NONBLOCK, 0);
	char *mem = t_map(2 * t_page);
	t_register(fd, mem, 2 * t_page, UFFDIO_REGISTER_MODE_MISSING);

	/* Three readers of page 0: three messages, all for page 0. */
	struct acc_thread t[THREADS];
	for (int i = 0; i < THREADS; i++)
		acc_start(&t[i], mem + 100 + i, 0, 0);
	int got = 0, page0 = 0;
	struct uffd_msg m;
	while (got < THREADS && t_read_msg(fd, &m, 5000)) {
		got++;
		page0 += ORC_PG((char *)(uintptr_t)m.arg.pagefault.address, mem) == 0;
	}
	T_OBS("messages %d, all for page 0: %d", got, page0 == got);
	T_EXPECT_EQ(got, THREADS);
	/* A fourth on page 1, its message left unread. */
	struct acc_thread w;
	acc_start(&w, mem + t_page + 9, 1, 0x5a);
	acc_wait_blocked(&w);

	struct uffdio_range r = { (uintptr_t)mem, 2 * t_page };
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_UNREGISTER, &r));
	int zeros = 0;
	for (int i = 0; i < THREADS; i++)
		zeros += acc_join(&t[i]) == 0;
	T_OBS("readers woken, read zeros: %d", zeros);
	T_EXPECT_EQ(zeros, THREADS);
	acc_join(&w);
	T_OBS("writer woken, its write landed: %d", mem[t_page + 9] == 0x5a);
	T_EXPECT_EQ(mem[t_page + 9], 0x5a);
	/* The kernel drops the woken fault's unread message. */
	if (t_limit_begin("a woken fault's unread message stays readable")) {
		T_OBS("unread message dropped: %d", orc_nothing_queued(fd));
		T_EXPECT(orc_nothing_queued(fd));
		t_limit_end();
	}
	close(fd);
}
T_MAIN("unregister-wakes-faults", scenario)
