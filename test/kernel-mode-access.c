/* A kernel-mode access to a missing page: read(2) from a pipe into it.
 * With UFFD_USER_MODE_ONLY the kernel refuses to wait for it (EFAULT); the
 * user backend behaves so for every userfaultfd, which is its documented
 * limit: without UFFD_USER_MODE_ONLY the kernel queues a fault and the
 * read(2) completes once the page is resolved. */
#include <pthread.h>
#include "harness.h"

struct reader {
	int pipe_rd;
	char *dst;
	ssize_t n;
	int err;
};

static void *reader(void *arg)
{
	struct reader *r = arg;

	errno = 0;
	r->n = read(r->pipe_rd, r->dst, 16);
	r->err = errno;
	return NULL;
}

static void scenario(void)
{
	char *src = t_map(t_page);
	memset(src, 0x11, t_page);
	int p[2];
	T_ASSERT(pipe(p) == 0);
	T_ASSERT(write(p[1], "sixteen bytes!!!", 16) == 16);

	/* User-mode faults only: a kernel access fails at once. */
	int fd = t_uffd_api(O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY, 0);
	char *mem = t_map(2 * t_page);
	t_register(fd, mem, 2 * t_page, UFFDIO_REGISTER_MODE_MISSING);
	T_EXPECT_ERR(read(p[0], mem, 16), EFAULT);
	struct uffd_msg m;
	T_OBS("message queued: %d", t_read_msg(fd, &m, 0));
	close(fd);

	/* A full userfaultfd: the kernel waits for the page. */
	fd = t_uffd_api(O_CLOEXEC | O_NONBLOCK, 0);
	t_register(fd, mem + t_page, t_page, UFFDIO_REGISTER_MODE_MISSING);
	if (t_limit_begin("kernel-mode accesses to a trapped page fail with EFAULT")) {
		struct reader r = { p[0], mem + t_page, 0, 0 };
		pthread_t th;
		T_ASSERT(pthread_create(&th, NULL, reader, &r) == 0);
		T_ASSERT(t_read_msg(fd, &m, 5000));
		T_OBS("fault at page %ld", (long)(((char *)(uintptr_t)m.arg.pagefault.address - mem) / t_page));
		struct uffdio_copy c = { (uintptr_t)mem + t_page, (uintptr_t)src, t_page, 0, 0 };
		T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_COPY, &c));
		pthread_join(th, NULL);
		T_EXPECT_EQ(r.n, 16);
		T_OBS("read %zd: %.16s", r.n, mem + t_page);
		t_limit_end();
	}
	close(fd);
}
T_MAIN("kernel-mode-access", scenario)
