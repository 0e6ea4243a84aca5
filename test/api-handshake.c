/* UFFDIO_API: the two-step feature handshake. */
#include "harness.h"

static void scenario(void)
{
	int fd = t_uffd(O_CLOEXEC | O_NONBLOCK);
	struct uffdio_api api = { .api = UFFD_API, .features = 0 };

	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_API, &api));
	T_EXPECT_EQ(api.api, UFFD_API);
	T_EXPECT(api.ioctls & (1ULL << _UFFDIO_REGISTER));
	T_OBS("ioctls 0x%llx", (unsigned long long)api.ioctls);
	/* A second UFFDIO_API on the same fd is refused. */
	T_EXPECT_ERR(uffd_ioctl(fd, UFFDIO_API, &api), EINVAL);
	close(fd);

	/* A wrong api number. */
	fd = t_uffd(O_CLOEXEC);
	struct uffdio_api bad = { .api = 0xAB };
	T_EXPECT_ERR(uffd_ioctl(fd, UFFDIO_API, &bad), EINVAL);
	close(fd);
}
T_MAIN("api-handshake", scenario)
