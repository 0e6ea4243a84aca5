/*
 * read(2) with nothing to read: EAGAIN on an O_NONBLOCK fd (also after a
 * fault has been read, resolved, or woken and re-read); on a blocking fd,
 * read waits until a fault arrives (checked from a thread; no sleeps).
 * A fault already read is not returned again.
 */
#include <pthread.h>
#include "oracle.h"

struct blocked_read {
	int fd;
	ssize_t n;
	struct uffd_msg msg;
};

static void *reader(void *arg)
{
	struct blocked_read *b = arg;
	b->n = read(b->fd, &b->msg, sizeof(b->msg));
	return NULL;
}

static void scenario(void)
{
	int fd = t_uffd_api(O_CLOEXEC | O_NONBLOCK, 0);
	char *mem = t_map(2 * t_page);
	char *src = t_map(t_page);
	struct uffd_msg msg;

	T_EXPECT_ERR(read(fd, &msg, sizeof(msg)), EAGAIN);
	T_EXPECT_ERR(read(fd, &msg, sizeof(msg)), EAGAIN);
	t_register(fd, mem, 2 * t_page, UFFDIO_REGISTER_MODE_MISSING);
	T_EXPECT_ERR(read(fd, &msg, sizeof(msg)), EAGAIN);

	struct orc_toucher t;
	orc_touch_start(&t, mem, 0, 0);
	orc_wait_msg(fd, &msg);
	T_OBS("fault page %ld", ORC_PG((char *)(uintptr_t)msg.arg.pagefault.address, mem));
	/* Read once: not pending any more. */
	T_EXPECT_ERR(read(fd, &msg, sizeof(msg)), EAGAIN);
	struct uffdio_copy c = { (uintptr_t)mem, (uintptr_t)src, t_page, 0, 0 };
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_COPY, &c));
	orc_touch_join(&t);
	T_EXPECT_ERR(read(fd, &msg, sizeof(msg)), EAGAIN);
	close(fd);

	/* A blocking fd: a reader thread blocks until the fault comes. */
	fd = t_uffd_api(O_CLOEXEC, 0);
	char *m2 = t_map(t_page);
	t_register(fd, m2, t_page, UFFDIO_REGISTER_MODE_MISSING);
	struct blocked_read b = { .fd = fd };
	pthread_t th;
	T_ASSERT(pthread_create(&th, NULL, reader, &b) == 0);
	orc_touch_start(&t, m2, 0, 0);
	pthread_join(th, NULL);
	T_OBS("blocking read: %zd event 0x%x page %ld", b.n, b.msg.event,
	      ORC_PG((char *)(uintptr_t)b.msg.arg.pagefault.address, m2));
	T_EXPECT_EQ(b.n, (ssize_t)sizeof(struct uffd_msg));
	struct uffdio_zeropage z = { { (uintptr_t)m2, t_page }, 0, 0 };
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_ZEROPAGE, &z));
	orc_touch_join(&t);
	close(fd);
}
T_MAIN("read-nonblock-empty", scenario)
