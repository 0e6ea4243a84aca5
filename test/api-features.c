/*
 * UFFDIO_API feature negotiation: the first call reports every available
 * feature; a fresh fd may enable any subset of them; the report on success is
 * still the full set; unknown feature bits and a wrong api give EINVAL and a
 * zeroed uffdio_api, leaving the fd usable; a second UFFDIO_API on an fd that
 * completed one fails with EINVAL even when the first asked for no features
 * (Linux sets an "initialized" bit on every successful call) and zeroes the
 * structure.  Never prints the feature mask itself: backends may differ.
 */
#include "harness.h"

static void scenario(void)
{
	int fd = t_uffd(O_CLOEXEC);
	struct uffdio_api api = { .api = UFFD_API, .features = 0 };

	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_API, &api));
	T_EXPECT_EQ(api.api, UFFD_API);
	T_EXPECT_EQ(api.ioctls, UFFD_API_IOCTLS);
	T_OBS("first call: api 0x%llx ioctls 0x%llx", (unsigned long long)api.api,
	      (unsigned long long)api.ioctls);
	const uint64_t all = api.features;
	T_EXPECT((all & ~LIBUFFD_ABI_FEATURES) == 0);
	T_OBS("no unknown feature bits reported: %d", (all & ~LIBUFFD_ABI_FEATURES) == 0);
	if (t_backend == UFFD_BACKEND_KERNEL)   /* the oracle machine: 6.18 */
		T_EXPECT_EQ(all, LIBUFFD_ABI_FEATURES);

	/* Second call on the same fd, after a features = 0 handshake. */
	struct uffdio_api again = { .api = UFFD_API, .features = 0 };
	T_EXPECT_ERR(uffd_ioctl(fd, UFFDIO_API, &again), EINVAL);
	T_OBS("after EINVAL: api 0x%llx features 0x%llx ioctls 0x%llx",
	      (unsigned long long)again.api, (unsigned long long)again.features,
	      (unsigned long long)again.ioctls);
	close(fd);

	/* Every reported feature can be enabled alone on a fresh fd; the
	 * report is the full set again, and a second call is refused. */
	int each_ok = 1, each_full = 1, each_second_einval = 1;
	for (int bit = 0; bit < 64; bit++) {
		uint64_t f = 1ULL << bit;
		if (!(all & f))
			continue;
		int efd = t_uffd(O_CLOEXEC);
		struct uffdio_api a = { .api = UFFD_API, .features = f };
		if (uffd_ioctl(efd, UFFDIO_API, &a) != 0) {
			each_ok = 0;
			t_fail_at(__FILE__, __LINE__, "enabling feature bit %d: %s",
				  bit, t_errname(errno));
		} else if (a.features != all || a.ioctls != UFFD_API_IOCTLS ||
			   a.api != UFFD_API) {
			each_full = 0;
			t_fail_at(__FILE__, __LINE__, "feature bit %d: report differs", bit);
		}
		struct uffdio_api b = { .api = UFFD_API, .features = f };
		errno = 0;
		if (uffd_ioctl(efd, UFFDIO_API, &b) != -1 || errno != EINVAL)
			each_second_einval = 0;
		close(efd);
	}
	T_OBS("each feature alone: ok %d full report %d second call EINVAL %d",
	      each_ok, each_full, each_second_einval);
	T_EXPECT(each_second_einval);

	/* All reported features at once. */
	fd = t_uffd(O_CLOEXEC);
	api = (struct uffdio_api){ .api = UFFD_API, .features = all };
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_API, &api));
	T_OBS("all at once: report is the full set %d", api.features == all);
	close(fd);

	/* Unknown feature bits: EINVAL, the structure is zeroed, and the fd
	 * can still complete the handshake afterwards. */
	const uint64_t unknown[] = { 1ULL << 17, 1ULL << 31, 1ULL << 32, 1ULL << 63,
				     ~LIBUFFD_ABI_FEATURES };
	for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		fd = t_uffd(O_CLOEXEC);
		api = (struct uffdio_api){ .api = UFFD_API, .features = unknown[i],
					   .ioctls = 0x5a5a };
		T_EXPECT_ERR(uffd_ioctl(fd, UFFDIO_API, &api), EINVAL);
		T_OBS("unknown 0x%llx: api 0x%llx features 0x%llx ioctls 0x%llx",
		      (unsigned long long)unknown[i], (unsigned long long)api.api,
		      (unsigned long long)api.features, (unsigned long long)api.ioctls);
		T_EXPECT_EQ(api.api, 0);
		T_EXPECT_EQ(api.features, 0);
		T_EXPECT_EQ(api.ioctls, 0);
		api = (struct uffdio_api){ .api = UFFD_API };
		T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_API, &api));
		close(fd);
	}

	/* A known and an unknown bit together: still EINVAL. */
	fd = t_uffd(O_CLOEXEC);
	api = (struct uffdio_api){ .api = UFFD_API,
				   .features = UFFD_FEATURE_THREAD_ID | (1ULL << 20) };
	T_EXPECT_ERR(uffd_ioctl(fd, UFFDIO_API, &api), EINVAL);
	close(fd);

	/* Wrong api numbers: EINVAL (zeroed), then the right one works. */
	const uint64_t bad_api[] = { 0, 0xAB, 0xA9, 0x1AA, ~0ULL };
	for (size_t i = 0; i < sizeof(bad_api) / sizeof(bad_api[0]); i++) {
		fd = t_uffd(O_CLOEXEC);
		api = (struct uffdio_api){ .api = bad_api[i], .features = 0,
					   .ioctls = 7 };
		T_EXPECT_ERR(uffd_ioctl(fd, UFFDIO_API, &api), EINVAL);
		T_OBS("api 0x%llx: after EINVAL api 0x%llx features 0x%llx ioctls 0x%llx",
		      (unsigned long long)bad_api[i], (unsigned long long)api.api,
		      (unsigned long long)api.features, (unsigned long long)api.ioctls);
		api = (struct uffdio_api){ .api = UFFD_API };
		T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_API, &api));
		close(fd);
	}

	/* The ioctls field is output only: garbage in it is ignored. */
	fd = t_uffd(O_CLOEXEC);
	api = (struct uffdio_api){ .api = UFFD_API, .ioctls = ~0ULL };
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_API, &api));
	T_EXPECT_EQ(api.ioctls, UFFD_API_IOCTLS);
	close(fd);
}
T_MAIN("api-features", scenario)
