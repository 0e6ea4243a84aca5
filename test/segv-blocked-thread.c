/* A thread that blocks every signal (as worker threads often do) touches a
 * missing page.  The kernel queues the fault and the access completes once
 * it is resolved; the user backend's fault is a SIGSEGV, which the kernel
 * forces through a blocked mask by killing the process. */
#include <pthread.h>
#include <signal.h>
#include "harness.h"
#include "oracle.h"

static char *mem;

static void *blocked_toucher(void *arg)
{
	sigset_t all;

	(void)arg;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	return (void *)(intptr_t)((volatile char *)mem)[7];
}

static void scenario(void)
{
	int fd = t_uffd_api(O_CLOEXEC | O_NONBLOCK, 0);
	char *src = t_map(t_page);
	memset(src, 0x33, t_page);
	mem = t_map(t_page);
	t_register(fd, mem, t_page, UFFDIO_REGISTER_MODE_MISSING);

	if (t_limit_begin("a thread that blocks SIGSEGV dies of its first userfault")) {
		pthread_t th;
		T_ASSERT(pthread_create(&th, NULL, blocked_toucher, NULL) == 0);
		struct uffd_msg m;
		T_ASSERT(t_read_msg(fd, &m, 5000));
		struct uffdio_copy c = { (uintptr_t)mem, (uintptr_t)src, t_page, 0, 0 };
		T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_COPY, &c));
		void *v;
		pthread_join(th, &v);
		T_EXPECT_EQ((intptr_t)v, 0x33);
		t_limit_end();
	}
	close(fd);
}
T_MAIN("segv-blocked-thread", scenario)
