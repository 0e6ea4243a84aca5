/*
 * Before the UFFDIO_API handshake every other ioctl fails with EINVAL (even on
 * a valid, registrable range), read(2) fails with EINVAL and poll(2) reports
 * POLLERR.  A handshake that failed (wrong api) leaves the fd in that state.
 */
#include <poll.h>
#include "harness.h"

static void check_uninitialized(int fd, char *mem)
{
	struct uffdio_register reg = {
		.range = { (uintptr_t)mem, t_page }, .mode = UFFDIO_REGISTER_MODE_MISSING,
	};
	T_EXPECT_ERR(uffd_ioctl(fd, UFFDIO_REGISTER, &reg), EINVAL);
	struct uffdio_range r = { (uintptr_t)mem, t_page };
	T_EXPECT_ERR(uffd_ioctl(fd, UFFDIO_UNREGISTER, &r), EINVAL);
	T_EXPECT_ERR(uffd_ioctl(fd, UFFDIO_WAKE, &r), EINVAL);
	char src[64];
	struct uffdio_copy cp = { (uintptr_t)mem, (uintptr_t)src, t_page, 0, 77 };
	T_EXPECT_ERR(uffd_ioctl(fd, UFFDIO_COPY, &cp), EINVAL);
	T_OBS("copy field untouched: %lld", (long long)cp.copy);
	struct uffdio_zeropage zp = { { (uintptr_t)mem, t_page }, 0, 77 };
	T_EXPECT_ERR(uffd_ioctl(fd, UFFDIO_ZEROPAGE, &zp), EINVAL);
	T_OBS("zeropage field untouched: %lld", (long long)zp.zeropage);
	struct uffdio_writeprotect wp = { { (uintptr_t)mem, t_page }, 0 };
	T_EXPECT_ERR(uffd_ioctl(fd, UFFDIO_WRITEPROTECT, &wp), EINVAL);
	struct uffdio_continue co = { { (uintptr_t)mem, t_page }, 0, 77 };
	T_EXPECT_ERR(uffd_ioctl(fd, UFFDIO_CONTINUE, &co), EINVAL);
	struct uffdio_poison po = { { (uintptr_t)mem, t_page }, 0, 77 };
	T_EXPECT_ERR(uffd_ioctl(fd, UFFDIO_POISON, &po), EINVAL);
	struct uffdio_move mv = { (uintptr_t)mem, (uintptr_t)mem + t_page, t_page, 0, 77 };
	T_EXPECT_ERR(uffd_ioctl(fd, UFFDIO_MOVE, &mv), EINVAL);
	/* Invalid arguments do not change the answer. */
	T_EXPECT_ERR(uffd_ioctl(fd, UFFDIO_REGISTER, NULL), EINVAL);

	if (t_limit_begin("read(2) and poll(2) before UFFDIO_API")) {
		struct uffd_msg msg;
		T_EXPECT_ERR(read(fd, &msg, sizeof(msg)), EINVAL);
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int n = poll(&p, 1, 0);
		T_OBS("poll before API: %d revents 0x%x", n, p.revents);
		T_EXPECT_EQ(n, 1);
		T_EXPECT_EQ(p.revents, POLLERR);
		t_limit_end();
	}
}

static void scenario(void)
{
	char *mem = t_map(2 * t_page);

	int fd = t_uffd(O_CLOEXEC | O_NONBLOCK);
	check_uninitialized(fd, mem);
	close(fd);

	/* Blocking fd: read must not block before the handshake. */
	fd = t_uffd(O_CLOEXEC);
	if (t_limit_begin("read(2) and poll(2) before UFFDIO_API")) {
		struct uffd_msg msg;
		T_EXPECT_ERR(read(fd, &msg, sizeof(msg)), EINVAL);
		t_limit_end();
	}
	close(fd);

	/* A failed handshake leaves the fd uninitialized. */
	fd = t_uffd(O_CLOEXEC | O_NONBLOCK);
	struct uffdio_api api = { .api = 0xAB };
	T_EXPECT_ERR(uffd_ioctl(fd, UFFDIO_API, &api), EINVAL);
	check_uninitialized(fd, mem);
	api = (struct uffdio_api){ .api = UFFD_API, .features = 1ULL << 40 };
	T_EXPECT_ERR(uffd_ioctl(fd, UFFDIO_API, &api), EINVAL);
	check_uninitialized(fd, mem);

	/* After a successful handshake the same register works. */
	api = (struct uffdio_api){ .api = UFFD_API };
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_API, &api));
	struct uffdio_register reg = {
		.range = { (uintptr_t)mem, t_page }, .mode = UFFDIO_REGISTER_MODE_MISSING,
	};
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_REGISTER, &reg));
	close(fd);
	munmap(mem, 2 * t_page);
}
T_MAIN("ioctl-before-api", scenario)
