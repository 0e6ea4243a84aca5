/*
 * UFFDIO_REGISTER conflicts: a range (or part of one) registered with one
 * userfaultfd cannot be registered with another (EBUSY, nothing changes);
 * unregistering another fd's pages is refused with EINVAL; after the first
 * fd unregisters or closes, the other can register.  A MAP_SHARED mapping
 * that can never become writable (file opened read-only, or a memfd sealed
 * with F_SEAL_WRITE) cannot be registered (EPERM) in any mode.
 */
#include "oracle.h"

static int reg(int fd, void *p, size_t len, uint64_t mode)
{
	struct uffdio_register r = { .range = { (uintptr_t)p, len }, .mode = mode };
	return uffd_ioctl(fd, UFFDIO_REGISTER, &r);
}

static void scenario(void)
{
	const uint64_t M = UFFDIO_REGISTER_MODE_MISSING;
	int a = t_uffd_api(O_CLOEXEC | O_NONBLOCK, 0);
	int b = t_uffd_api(O_CLOEXEC | O_NONBLOCK, 0);
	char *mem = t_map(4 * t_page);

	T_EXPECT_OK(reg(a, mem + t_page, 2 * t_page, M));
	T_EXPECT_ERR(reg(b, mem + t_page, 2 * t_page, M), EBUSY);
	T_EXPECT_ERR(reg(b, mem, 4 * t_page, M), EBUSY);
	T_EXPECT_ERR(reg(b, mem + 2 * t_page, t_page, UFFDIO_REGISTER_MODE_WP), EBUSY);
	T_EXPECT_ERR(reg(b, mem, 2 * t_page, M), EBUSY);
	/* EBUSY is all or nothing: page 0 did not get registered with b. */
	struct uffdio_zeropage z = { { (uintptr_t)mem, t_page }, 0, 0 };
	T_EXPECT_ERR(uffd_ioctl(b, UFFDIO_ZEROPAGE, &z), ENOENT);
	T_OBS("zeropage field %lld", (long long)z.zeropage);
	/* Pages outside a's range are free for b. */
	T_EXPECT_OK(reg(b, mem, t_page, M));
	T_EXPECT_OK(reg(b, mem + 3 * t_page, t_page, M));

	/* Unregistering a's pages through b is refused (EINVAL) and
	 * releases nothing. */
	struct uffdio_range ur = { (uintptr_t)mem + t_page, 2 * t_page };
	T_EXPECT_ERR(uffd_ioctl(b, UFFDIO_UNREGISTER, &ur), EINVAL);
	struct uffdio_range all = { (uintptr_t)mem, 4 * t_page };
	T_EXPECT_ERR(uffd_ioctl(b, UFFDIO_UNREGISTER, &all), EINVAL);
	T_EXPECT_ERR(reg(b, mem + t_page, t_page, M), EBUSY);
	z.range.start = (uintptr_t)mem + 3 * t_page;
	T_EXPECT_OK(uffd_ioctl(b, UFFDIO_ZEROPAGE, &z));

	/* a unregisters: b can take the range. */
	T_EXPECT_OK(uffd_ioctl(a, UFFDIO_UNREGISTER, &ur));
	T_EXPECT_OK(reg(b, mem + t_page, 2 * t_page, M));
	T_EXPECT_ERR(reg(a, mem, 4 * t_page, M), EBUSY);
	/* b closes: its registrations go away and a can take everything. */
	close(b);
	T_EXPECT_OK(reg(a, mem, 4 * t_page, M));
	close(a);
	munmap(mem, 4 * t_page);

	/* EPERM: shared mappings without VM_MAYWRITE. */
	a = t_uffd_api(O_CLOEXEC | O_NONBLOCK, 0);
	int mfd = orc_memfd(2 * t_page);
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", mfd);
	int rofd = open(path, O_RDONLY | O_CLOEXEC);
	T_ASSERT(rofd >= 0);
	char *ro = orc_mmap(2 * t_page, PROT_READ, MAP_SHARED, rofd);
	T_EXPECT_ERR(reg(a, ro, 2 * t_page, M), EPERM);
	T_EXPECT_ERR(reg(a, ro, 2 * t_page, UFFDIO_REGISTER_MODE_WP), EPERM);
	T_EXPECT_ERR(reg(a, ro, 2 * t_page, UFFDIO_REGISTER_MODE_MINOR), EPERM);
	/* The same file read-only but MAP_PRIVATE is fine (VM_MAYWRITE). */
	char *rop = orc_mmap(2 * t_page, PROT_READ, MAP_PRIVATE, rofd);
	int r = reg(a, rop, 2 * t_page, M);
	T_OBS("read-only fd, MAP_PRIVATE: %d %s", r, r ? t_errname(errno) : "ok");
	T_EXPECT_EQ(r, 0);
	munmap(ro, 2 * t_page);
	munmap(rop, 2 * t_page);
	close(rofd);

	int sfd = memfd_create("orc-sealed", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	T_ASSERT(sfd >= 0 && ftruncate(sfd, 2 * t_page) == 0);
	T_ASSERT(fcntl(sfd, F_ADD_SEALS, F_SEAL_WRITE) == 0);
	char *sealed = orc_mmap(2 * t_page, PROT_READ, MAP_SHARED, sfd);
	T_EXPECT_ERR(reg(a, sealed, 2 * t_page, M), EPERM);
	munmap(sealed, 2 * t_page);
	close(sfd);
	close(mfd);
	close(a);
}
T_MAIN("register-conflicts", scenario)
