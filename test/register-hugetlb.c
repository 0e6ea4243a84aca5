/*
 * Hugetlb ranges: reserves two huge pages through /proc/sys/vm/nr_hugepages
 * (and gives them back), skips with the reason when it cannot.  Checks the
 * ioctls mask per mode (the basic set: no ZEROPAGE, no MOVE), huge-page
 * alignment of REGISTER/UNREGISTER (EINVAL otherwise), UFFDIO_COPY by whole
 * huge pages only (EINVAL for a small page), ZEROPAGE refused (EINVAL), and
 * a successful COPY of one huge page (then EEXIST on top of it).
 */
#include "oracle.h"


static void try_modes(int fd, const char *type, char *p, size_t len)
{
	for (uint64_t m = 1; m < 8; m++) {
		struct uffdio_register r = { .range = { (uintptr_t)p, len }, .mode = m };
		errno = 0;
		int ret = uffd_ioctl(fd, UFFDIO_REGISTER, &r);
		T_OBS("%s mode %llu: %d %s ioctls 0x%llx", type, (unsigned long long)m,
		      ret, ret ? t_errname(errno) : "ok",
		      (unsigned long long)(ret ? 0 : r.ioctls));
		T_EXPECT_EQ(ret, 0);
		if (ret == 0) {
			T_EXPECT(!(r.ioctls & (1ULL << _UFFDIO_ZEROPAGE)));
			T_EXPECT(!(r.ioctls & (1ULL << _UFFDIO_MOVE)));
			struct uffdio_range u = { (uintptr_t)p, len };
			T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_UNREGISTER, &u));
		}
	}
}

static void body(int fd, size_t hp)
{
	char *sh = mmap(NULL, 2 * hp, PROT_READ | PROT_WRITE,
			MAP_SHARED | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	char *pr = mmap(NULL, 2 * hp, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	char *src = mmap(NULL, hp, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED || pr == MAP_FAILED || src == MAP_FAILED) {
		t_fail_at(__FILE__, __LINE__, "hugetlb mmap: %s", t_errname(errno));
		return;
	}
	try_modes(fd, "hugetlb MAP_SHARED", sh, 2 * hp);
	try_modes(fd, "hugetlb MAP_PRIVATE", pr, 2 * hp);

	struct uffdio_register r = { .mode = UFFDIO_REGISTER_MODE_MISSING };
	r.range = (struct uffdio_range){ (uintptr_t)sh + t_page, hp - t_page };
	T_EXPECT_ERR(uffd_ioctl(fd, UFFDIO_REGISTER, &r), EINVAL);
	r.range = (struct uffdio_range){ (uintptr_t)sh, t_page };
	T_EXPECT_ERR(uffd_ioctl(fd, UFFDIO_REGISTER, &r), EINVAL);
	r.range = (struct uffdio_range){ (uintptr_t)sh, hp + t_page };
	T_EXPECT_ERR(uffd_ioctl(fd, UFFDIO_REGISTER, &r), EINVAL);
	r.range = (struct uffdio_range){ (uintptr_t)sh, 2 * hp };
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_REGISTER, &r));
	struct uffdio_range u = { (uintptr_t)sh + t_page, hp - t_page };
	T_EXPECT_ERR(uffd_ioctl(fd, UFFDIO_UNREGISTER, &u), EINVAL);

	struct uffdio_zeropage z = { { (uintptr_t)sh, hp }, 0, 55 };
	T_EXPECT_ERR(uffd_ioctl(fd, UFFDIO_ZEROPAGE, &z), EINVAL);
	T_OBS("zeropage field %lld", (long long)z.zeropage);

	t_fill(src, hp, 7);
	struct uffdio_copy c = { (uintptr_t)sh, (uintptr_t)src, t_page, 0, 55 };
	T_EXPECT_ERR(uffd_ioctl(fd, UFFDIO_COPY, &c), EINVAL);
	T_OBS("small-page copy field %lld", (long long)c.copy);
	c = (struct uffdio_copy){ (uintptr_t)sh + t_page, (uintptr_t)src, hp, 0, 55 };
	T_EXPECT_ERR(uffd_ioctl(fd, UFFDIO_COPY, &c), EINVAL);
	T_OBS("unaligned copy field %lld", (long long)c.copy);
	c = (struct uffdio_copy){ (uintptr_t)sh, (uintptr_t)src, hp, 0, 55 };
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_COPY, &c));
	T_OBS("huge copy field %lld (huge pages: %lld)", (long long)c.copy,
	      (long long)(c.copy / (long long)hp));
	T_EXPECT_EQ(c.copy, hp);
	T_OBS("content intact %d", t_check(sh, hp, 7));
	c = (struct uffdio_copy){ (uintptr_t)sh, (uintptr_t)src, 2 * hp, 0, 55 };
	T_EXPECT_ERR(uffd_ioctl(fd, UFFDIO_COPY, &c), EEXIST);
	T_OBS("copy over present huge page: copy field %lld", (long long)c.copy);
	u = (struct uffdio_range){ (uintptr_t)sh, 2 * hp };
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_UNREGISTER, &u));

	munmap(sh, 2 * hp);
	munmap(pr, 2 * hp);
	munmap(src, hp);
}

static void scenario(void)
{
	int fd = t_uffd_api(O_CLOEXEC | O_NONBLOCK, 0);
	long old, hp = orc_hugepages_reserve(4, &old);

	body(fd, (size_t)hp);
	close(fd);
	orc_hugepages_release(old);
}
T_MAIN("register-hugetlb", scenario)
