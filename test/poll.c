/*
 * poll(2)/epoll on a userfaultfd: POLLERR before UFFDIO_API; POLLERR on a
 * blocking (no O_NONBLOCK) fd even after the handshake; nothing ready on an
 * empty O_NONBLOCK fd; POLLIN (only) while a fault is pending and not yet
 * read, also for a poller already sleeping when the fault comes; nothing
 * after it was read; POLLOUT is never reported.
 */
#include <poll.h>
#include <pthread.h>
#include <sys/epoll.h>
#include "oracle.h"

static int poll1(int fd, short events, int timeout)
{
	struct pollfd p = { .fd = fd, .events = events };
	int n = poll(&p, 1, timeout);
	return n < 0 ? -1 : n == 0 ? 0 : p.revents;
}

struct sleeper { int fd; int revents; };
static void *sleeper(void *arg)
{
	struct sleeper *s = arg;
	s->revents = poll1(s->fd, POLLIN, 5000);
	return NULL;
}

static void scenario(void)
{
	int fd = t_uffd(O_CLOEXEC | O_NONBLOCK);
	if (t_limit_begin("read(2) and poll(2) before UFFDIO_API")) {
		T_OBS("before API: 0x%x", poll1(fd, POLLIN, 0));
		T_EXPECT_EQ(poll1(fd, POLLIN, 0), POLLERR);
		t_limit_end();
	}
	struct uffdio_api api = { .api = UFFD_API };
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_API, &api));
	T_OBS("empty: 0x%x", poll1(fd, POLLIN, 0));
	T_EXPECT_EQ(poll1(fd, POLLIN, 0), 0);
	T_OBS("empty, asking POLLOUT too: 0x%x", poll1(fd, POLLIN | POLLOUT, 0));
	T_EXPECT_EQ(poll1(fd, POLLIN | POLLOUT, 0), 0);

	int bfd = t_uffd_api(O_CLOEXEC, 0);
	if (t_limit_begin("poll(2) on a blocking userfaultfd")) {
		T_OBS("blocking fd: 0x%x", poll1(bfd, POLLIN, 0));
		T_EXPECT_EQ(poll1(bfd, POLLIN, 0), POLLERR);
		t_limit_end();
	}
	close(bfd);

	char *mem = t_map(2 * t_page);
	t_register(fd, mem, 2 * t_page, UFFDIO_REGISTER_MODE_MISSING);
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = 7 };
	T_ASSERT(ep >= 0 && epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == 0);
	T_OBS("epoll empty: %d", epoll_wait(ep, &ev, 1, 0));

	/* A poller already asleep is woken by the fault. */
	struct sleeper s = { .fd = fd };
	pthread_t th;
	T_ASSERT(pthread_create(&th, NULL, sleeper, &s) == 0);
	struct orc_toucher t;
	orc_touch_start(&t, mem, 1, 5);
	pthread_join(th, NULL);
	T_OBS("sleeping poller woke with 0x%x", s.revents);
	T_EXPECT_EQ(s.revents, POLLIN);
	T_OBS("pending: 0x%x", poll1(fd, POLLIN, 0));
	T_OBS("pending, asking POLLOUT too: 0x%x", poll1(fd, POLLIN | POLLOUT, 0));
	T_OBS("pending, asking POLLOUT only: 0x%x", poll1(fd, POLLOUT, 0));
	memset(&ev, 0, sizeof(ev));
	int n = epoll_wait(ep, &ev, 1, 0);
	T_OBS("epoll pending: %d events 0x%x data %u", n, ev.events, ev.data.u32);

	struct uffd_msg msg;
	T_ASSERT(read(fd, &msg, sizeof(msg)) == sizeof(msg));
	T_OBS("after reading it: 0x%x", poll1(fd, POLLIN, 0));
	T_EXPECT_EQ(poll1(fd, POLLIN, 0), 0);
	T_OBS("epoll after reading: %d", epoll_wait(ep, &ev, 1, 0));
	struct uffdio_zeropage z = { { (uintptr_t)mem, t_page }, 0, 0 };
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_ZEROPAGE, &z));
	orc_touch_join(&t);
	T_OBS("resolved: 0x%x, byte %d", poll1(fd, POLLIN, 0), mem[0]);
	close(ep);
	close(fd);
}
T_MAIN("poll", scenario)
