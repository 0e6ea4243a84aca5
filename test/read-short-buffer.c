/*
 * read(2) buffer sizes: shorter than one uffd_msg (0, 1, 31 bytes) fails
 * with EINVAL whether or not a message is pending, and consumes nothing
 * (poll still says POLLIN, the message is read afterwards); a 40- or
 * 64-byte buffer with one message pending returns 32; readv with iovecs
 * adding up to less than 32 bytes is EINVAL too, and one adding up to 32
 * (split 8 + 24) reads the message.  On a blocking fd, a short buffer fails
 * at once instead of waiting.
 */
#include <poll.h>
#include <sys/uio.h>
#include "oracle.h"

static int pollin(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int n = poll(&p, 1, 5000);
	return n == 1 ? p.revents : -1;
}

static void scenario(void)
{
	int fd = t_uffd_api(O_CLOEXEC | O_NONBLOCK, 0);
	char *mem = t_map(4 * t_page);
	char *src = t_map(t_page);
	char buf[128];

	if (t_limit_begin("read(2) shorter than a message")) {
		T_EXPECT_ERR(read(fd, buf, 0), EINVAL);
		T_EXPECT_ERR(read(fd, buf, 1), EINVAL);
		T_EXPECT_ERR(read(fd, buf, 31), EINVAL);
		t_limit_end();
	}
	T_EXPECT_ERR(read(fd, buf, 32), EAGAIN);
	T_EXPECT_ERR(read(fd, buf, 64), EAGAIN);

	t_register(fd, mem, 4 * t_page, UFFDIO_REGISTER_MODE_MISSING);
	struct orc_toucher a;
	orc_touch_start(&a, mem + t_page, 0, 0);
	T_OBS("poll: 0x%x", pollin(fd));
	struct iovec iov[2] = { { buf, 8 }, { buf + 8, 16 } };
	if (t_limit_begin("read(2) shorter than a message")) {
		T_EXPECT_ERR(read(fd, buf, 31), EINVAL);
		T_EXPECT_ERR(read(fd, buf, 0), EINVAL);
		T_OBS("poll after short reads: 0x%x", pollin(fd));
		T_EXPECT_ERR(readv(fd, iov, 2), EINVAL);
		t_limit_end();
	}
	memset(buf, 0xff, sizeof(buf));
	ssize_t n = read(fd, buf, 64);
	T_OBS("read 64 with one pending: %zd", n);
	T_EXPECT_EQ(n, 32);
	struct uffd_msg msg;
	memcpy(&msg, buf, sizeof(msg));
	T_OBS("message: event 0x%x page %ld; bytes after it untouched: %d", msg.event,
	      ORC_PG((char *)(uintptr_t)msg.arg.pagefault.address, mem),
	      (unsigned char)buf[32] == 0xff);
	T_EXPECT_ERR(read(fd, buf, 64), EAGAIN);

	/* Wake without resolving: the thread faults again, a new message. */
	struct uffdio_range w = { (uintptr_t)mem + t_page, t_page };
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_WAKE, &w));
	T_OBS("poll: 0x%x", pollin(fd));
	n = read(fd, buf, 40);
	T_OBS("read 40 with one pending: %zd", n);
	T_EXPECT_EQ(n, 32);

	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_WAKE, &w));
	T_OBS("poll: 0x%x", pollin(fd));
	iov[0].iov_len = 8;
	iov[1].iov_len = 24;
	n = readv(fd, iov, 2);
	T_OBS("readv 8 + 24: %zd", n);
	memcpy(&msg, buf, sizeof(msg));
	T_OBS("message: event 0x%x page %ld", msg.event,
	      ORC_PG((char *)(uintptr_t)msg.arg.pagefault.address, mem));

	struct uffdio_copy c = { (uintptr_t)mem + t_page, (uintptr_t)src, t_page, 0, 0 };
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_COPY, &c));
	orc_touch_join(&a);
	close(fd);

	/* Blocking fd: short reads fail at once. */
	fd = t_uffd_api(O_CLOEXEC, 0);
	if (t_limit_begin("read(2) shorter than a message")) {
		T_EXPECT_ERR(read(fd, buf, 31), EINVAL);
		T_EXPECT_ERR(read(fd, buf, 0), EINVAL);
		t_limit_end();
	}
	close(fd);
}
T_MAIN("read-short-buffer", scenario)
