/*
 * The ioctls the kernel's VFS answers for every file (FIONBIO, FIOASYNC,
 * FIOCLEX, FIONCLEX, FIOQSIZE, ...) answer on a userfaultfd, before and after
 * UFFDIO_API, through its own number and a dup; FIONREAD, which a pipe
 * answers, fails with EINVAL on a userfaultfd, as does any request it does
 * not know.  (Issue 11: the user backend failed FIONBIO and FIOCLEX with
 * EINVAL and answered FIONREAD.)
 */
#include <sys/ioctl.h>
#include <linux/fs.h>
#include "harness.h"

static void flags(int fd, const char *when)
{
	int fl = fcntl(fd, F_GETFL), fdfl = fcntl(fd, F_GETFD);

	T_OBS("%s: nonblock %d async %d cloexec %d", when, !!(fl & O_NONBLOCK),
	      !!(fl & O_ASYNC), !!(fdfl & FD_CLOEXEC));
}

static void generic(int fd, const char *when)
{
	int on = 1, off = 0, n = -1;
	long long qsize = 0;

	T_OBS("-- %s", when);
	T_EXPECT_OK(uffd_ioctl(fd, FIONBIO, &on));
	/* No fasync: asking for O_ASYNC is ENOTTY, leaving it off is fine. */
	T_EXPECT_ERR(uffd_ioctl(fd, FIOASYNC, &on), ENOTTY);
	T_EXPECT_ERR(uffd_ioctl(fd, FIOASYNC, NULL), EFAULT);
	T_EXPECT_OK(uffd_ioctl(fd, FIOCLEX, NULL));
	flags(fd, "all on");
	T_EXPECT_OK(uffd_ioctl(fd, FIONBIO, &off));
	T_EXPECT_OK(uffd_ioctl(fd, FIOASYNC, &off));
	T_EXPECT_OK(uffd_ioctl(fd, FIONCLEX, NULL));
	flags(fd, "all off");
	T_EXPECT_ERR(uffd_ioctl(fd, FIONBIO, NULL), EFAULT);
	T_EXPECT_ERR(uffd_ioctl(fd, FIONREAD, &n), EINVAL);
	T_OBS("FIONREAD left its argument alone: %d", n == -1);
	T_EXPECT_ERR(uffd_ioctl(fd, FIOQSIZE, &qsize), ENOTTY);
	T_EXPECT_ERR(uffd_ioctl(fd, FS_IOC_GETFLAGS, &n), EINVAL);
	T_EXPECT_ERR(uffd_ioctl(fd, TCGETS, &n), EINVAL);
	T_EXPECT_ERR(uffd_ioctl(fd, FIFREEZE, NULL), EOPNOTSUPP);
	T_EXPECT_ERR(uffd_ioctl(fd, FITHAW, NULL), EINVAL);
	T_EXPECT_OK(uffd_ioctl(fd, FIONBIO, &on));
	flags(fd, "nonblock again");
}

static void scenario(void)
{
	int fd = t_uffd(0);

	flags(fd, "opened");
	generic(fd, "before UFFDIO_API");
	struct uffdio_api api = { .api = UFFD_API };
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_API, &api));
	generic(fd, "after UFFDIO_API");
	int fd2 = dup(fd);
	T_ASSERT(fd2 >= 0);
	generic(fd2, "through a dup");
	/* Non-blocking through the ioctl: a read with nothing queued. */
	struct uffd_msg m;
	errno = 0;
	ssize_t got = read(fd, &m, sizeof(m));
	T_OBS("read with nothing queued: %zd %s", got, t_errname(errno));
	T_EXPECT(got == -1 && errno == EAGAIN);
	close(fd2);
	close(fd);
}
T_MAIN("generic-ioctls", scenario)
