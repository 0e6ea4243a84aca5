/*
 * What each backend must offer, pinned: the features UFFDIO_API reports (the
 * kernel: the whole Linux 6.18 ABI, the oracle; the user backend: all but
 * the non-cooperative events the README lists), the ioctls it reports, and
 * the ioctls UFFDIO_REGISTER reports per memory kind and mode.  A feature
 * dropped from a backend's mask would otherwise only turn the tests that ask
 * for it into skips (issue 11); here it fails.  Adding one to the user
 * backend means updating USER_FEATURES and the README together.
 */
#include "oracle.h"

#define EVENTS (UFFD_FEATURE_EVENT_REMAP | \
		UFFD_FEATURE_EVENT_REMOVE | UFFD_FEATURE_EVENT_UNMAP)
#define USER_FEATURES (LIBUFFD_ABI_FEATURES & ~(uint64_t)EVENTS)

#define BIT(x) ((uint64_t)1 << (x))
#define RANGE_BASE (BIT(_UFFDIO_WAKE) | BIT(_UFFDIO_COPY) | BIT(_UFFDIO_ZEROPAGE) | \
		    BIT(_UFFDIO_POISON) | BIT(_UFFDIO_MOVE))

static void reg(int fd, const char *what, char *p, uint64_t mode, uint64_t want)
{
	struct uffdio_register r = { .range = { (uintptr_t)p, t_page }, .mode = mode };

	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_REGISTER, &r));
	T_OBS("%s mode 0x%llx: ioctls 0x%llx", what, (unsigned long long)mode,
	      (unsigned long long)r.ioctls);
	T_EXPECT_EQ(r.ioctls, want);
	struct uffdio_range u = { (uintptr_t)p, t_page };
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_UNREGISTER, &u));
}

static void scenario(void)
{
	int fd = t_uffd(O_CLOEXEC);
	struct uffdio_api api = { .api = UFFD_API };

	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_API, &api));
	T_OBS("api ioctls 0x%llx", (unsigned long long)api.ioctls);
	T_EXPECT_EQ(api.ioctls, UFFD_API_IOCTLS);
	T_OBS("offers every feature the user backend must: %d",
	      (api.features & USER_FEATURES) == USER_FEATURES);
	if (t_limit_begin("features not offered")) {
		T_EXPECT_EQ(api.features, LIBUFFD_ABI_FEATURES);
		t_limit_end();
	} else {
		T_EXPECT_EQ(api.features, USER_FEATURES);
	}

	char *anon = t_map(t_page);
	reg(fd, "anonymous", anon, UFFDIO_REGISTER_MODE_MISSING, RANGE_BASE);
	reg(fd, "anonymous", anon, UFFDIO_REGISTER_MODE_WP,
	    RANGE_BASE | BIT(_UFFDIO_WRITEPROTECT));
	reg(fd, "anonymous", anon, UFFDIO_REGISTER_MODE_MISSING | UFFDIO_REGISTER_MODE_WP,
	    RANGE_BASE | BIT(_UFFDIO_WRITEPROTECT));
	int mfd = orc_memfd(t_page);
	char *sh = orc_mmap(t_page, PROT_READ | PROT_WRITE, MAP_SHARED, mfd);
	reg(fd, "shmem", sh, UFFDIO_REGISTER_MODE_MISSING, RANGE_BASE);
	reg(fd, "shmem", sh, UFFDIO_REGISTER_MODE_MINOR, RANGE_BASE | BIT(_UFFDIO_CONTINUE));
	reg(fd, "shmem", sh, UFFDIO_REGISTER_MODE_MINOR | UFFDIO_REGISTER_MODE_WP,
	    RANGE_BASE | BIT(_UFFDIO_CONTINUE) | BIT(_UFFDIO_WRITEPROTECT));
	close(fd);
}
T_MAIN("backend-offers", scenario)
