/* SPDX-License-Identifier: MIT */
/*
 * A userfaultfd is a file descriptor like any other: select(2) and epoll
 * report it readable while a fault message is pending (and not before, nor
 * after it was read); O_CLOEXEC sets FD_CLOEXEC, and such an fd is closed in
 * an exec'd program while one opened without it stays open there; F_GETFL
 * shows O_NONBLOCK (and O_RDONLY: write(2) is EBADF; beyond the user
 * backend, whose fd is a socket); a dup(2) of it (without FD_CLOEXEC) serves
 * ioctls and reads, also after the original fd is closed.
 */
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/wait.h>

#include "acc.h"

static int select_readable(int fd, int timeout_ms)
{
	fd_set r;
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };

	FD_ZERO(&r);
	FD_SET(fd, &r);
	int n = select(fd + 1, &r, NULL, NULL, &tv);
	return n < 0 ? -errno : n == 1 && FD_ISSET(fd, &r);
}

static int epoll_events(int ep, int timeout_ms)
{
	struct epoll_event e;
	int n = epoll_wait(ep, &e, 1, timeout_ms);
	return n < 0 ? -errno : n == 0 ? 0 : (int)e.events;
}

/* Is fd open in a program exec'd from here?  1 open, 0 closed. */
static int open_after_exec(int fd)
{
	char num[16];
	snprintf(num, sizeof(num), "%d", fd);
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		T_FATAL("fork: %s", t_errname(errno));
	if (pid == 0) {
		execl("/proc/self/exe", "fd-semantics", "--fd-open", num, (char *)NULL);
		_exit(3);
	}
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			T_FATAL("waitpid: %s", t_errname(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status) > 1)
		T_FATAL("exec'd child: wait status 0x%x", status);
	return WEXITSTATUS(status) == 0;
}

static void fault_msg(int fd, struct uffd_msg *msg, const char *what, char *base)
{
	errno = 0;
	ssize_t n = read(fd, msg, sizeof(*msg));
	T_OBS("%s: read %zd %s", what, n, n < 0 ? t_errname(errno) : "");
	if (n != sizeof(*msg))
		T_FATAL("%s: no message", what);
	T_OBS("%s: event 0x%x flags 0x%llx page %ld", what, msg->event,
	      (unsigned long long)msg->arg.pagefault.flags,
	      ACC_PG(msg->arg.pagefault.address, base));
}

static void scenario(void)
{
	int fd = t_uffd_api(O_CLOEXEC | O_NONBLOCK, 0);
	int plain = t_uffd_api(O_NONBLOCK, 0);
	int blocking = t_uffd_api(0, 0);

	/* Descriptor flags and file status flags. */
	T_OBS("O_CLOEXEC fd: FD_CLOEXEC %d; plain fd: FD_CLOEXEC %d",
	      (fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0, (fcntl(plain, F_GETFD) & FD_CLOEXEC) != 0);
	T_EXPECT(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	T_EXPECT(!(fcntl(plain, F_GETFD) & FD_CLOEXEC));
	int fl = fcntl(fd, F_GETFL), bfl = fcntl(blocking, F_GETFL);
	T_OBS("F_GETFL: nonblock %d; blocking fd: nonblock %d",
	      (fl & O_NONBLOCK) != 0, (bfl & O_NONBLOCK) != 0);
	T_EXPECT((fl & O_NONBLOCK) && !(bfl & O_NONBLOCK));
	/* The kernel opens its file O_RDONLY: write(2) is EBADF. */
	T_EXPECT_EQ(fl & O_ACCMODE, O_RDONLY);
	T_EXPECT_EQ(bfl & O_ACCMODE, O_RDONLY);
	T_OBS("access mode O_RDONLY: %d %d", (fl & O_ACCMODE) == O_RDONLY,
	      (bfl & O_ACCMODE) == O_RDONLY);
	char junk[sizeof(struct uffd_msg)] = {0};
	T_EXPECT_ERR(write(fd, junk, sizeof(junk)), EBADF);

	/* exec(2): the O_CLOEXEC fd is closed there, the plain one open. */
	int c = open_after_exec(fd), p = open_after_exec(plain);
	T_OBS("after exec: O_CLOEXEC fd open %d, plain fd open %d", c, p);
	T_EXPECT_EQ(c, 0);
	T_EXPECT_EQ(p, 1);
	close(plain);
	close(blocking);

	/* A dup: no FD_CLOEXEC, the same file status flags. */
	int d = dup(fd);
	T_ASSERT(d >= 0);
	T_OBS("dup: FD_CLOEXEC %d, nonblock %d", (fcntl(d, F_GETFD) & FD_CLOEXEC) != 0,
	      (fcntl(d, F_GETFL) & O_NONBLOCK) != 0);

	char *mem = t_map(4 * t_page);
	char *src = t_map(t_page);
	t_fill(src, t_page, 9);
	struct uffdio_register reg = { .range = { (uintptr_t)mem, 4 * t_page },
				       .mode = UFFDIO_REGISTER_MODE_MISSING };
	T_EXPECT_OK(uffd_ioctl(d, UFFDIO_REGISTER, &reg));   /* through the dup */

	int ep = epoll_create1(EPOLL_CLOEXEC);
	T_ASSERT(ep >= 0);
	struct epoll_event ev = { .events = EPOLLIN };
	T_ASSERT(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == 0);
	T_OBS("nothing pending: select %d (dup %d), epoll 0x%x", select_readable(fd, 0),
	      select_readable(d, 0), epoll_events(ep, 0));

	/* A fault: readable on every fd of the file. */
	struct acc_thread t;
	struct uffd_msg msg;
	acc_start(&t, mem + t_page + 5, 0, 0);
	int s = select_readable(d, 5000);   /* waits for the message */
	T_OBS("fault pending: select on the dup %d, on the fd %d, epoll 0x%x", s,
	      select_readable(fd, 0), epoll_events(ep, 5000));
	T_EXPECT_EQ(s, 1);
	fault_msg(d, &msg, "read through the dup", mem);
	T_EXPECT_EQ(ACC_PG(msg.arg.pagefault.address, mem), 1);
	T_OBS("message read: select %d, epoll 0x%x", select_readable(fd, 0),
	      epoll_events(ep, 0));
	struct uffdio_copy cp = { .dst = (uintptr_t)(mem + t_page), .src = (uintptr_t)src,
				  .len = t_page };
	T_EXPECT_OK(uffd_ioctl(d, UFFDIO_COPY, &cp));     /* through the dup */
	char got = acc_join(&t);
	T_OBS("reader got the copy: %d", got == src[5]);
	T_EXPECT_EQ(got, src[5]);

	/* An epoll waiter already asleep when the fault comes. */
	acc_start(&t, mem + 2 * t_page, 1, 0x2a);
	int e = epoll_events(ep, 5000);
	T_OBS("epoll wait for the next fault: 0x%x", e);
	T_EXPECT_EQ(e, EPOLLIN);
	fault_msg(fd, &msg, "read through the fd", mem);
	struct uffdio_zeropage z = { .range = { (uintptr_t)(mem + 2 * t_page), t_page } };
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_ZEROPAGE, &z));
	acc_join(&t);
	T_OBS("write landed: 0x%x", (unsigned char)mem[2 * t_page]);

	/* The original fd closed: the dup keeps the userfaultfd alive. */
	T_ASSERT(epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL) == 0);
	close(ep);
	close(fd);
	acc_start(&t, mem + 3 * t_page + 9, 0, 0);
	s = select_readable(d, 5000);
	T_OBS("original closed: select on the dup %d", s);
	T_EXPECT_EQ(s, 1);
	fault_msg(d, &msg, "read through the dup after close", mem);
	T_EXPECT_EQ(ACC_PG(msg.arg.pagefault.address, mem), 3);
	cp = (struct uffdio_copy){ .dst = (uintptr_t)(mem + 3 * t_page), .src = (uintptr_t)src,
				   .len = t_page };
	T_EXPECT_OK(uffd_ioctl(d, UFFDIO_COPY, &cp));
	got = acc_join(&t);
	T_OBS("reader got the copy: %d", got == src[9]);
	struct uffdio_range r = { (uintptr_t)mem, 4 * t_page };
	T_EXPECT_OK(uffd_ioctl(d, UFFDIO_UNREGISTER, &r));
	T_OBS("page 0 after unregister: %d", mem[0]);
	close(d);
	munmap(mem, 4 * t_page);
	munmap(src, t_page);
}

int main(int argc, char **argv)
{
	/* The exec'd check: exit 0 when fd argv[2] is open, 1 when not. */
	if (argc == 3 && !strcmp(argv[1], "--fd-open"))
		return fcntl(atoi(argv[2]), F_GETFD) >= 0 ? 0 : 1;
	return t_main("fd-semantics", scenario);
}
