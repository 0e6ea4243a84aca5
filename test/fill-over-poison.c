/* SPDX-License-Identifier: MIT */
/*
 * What the filling ioctls do to a page poisoned with UFFDIO_POISON, on
 * anonymous memory and on shmem mapped shared and private: COPY, ZEROPAGE
 * and POISON again over it (each on a freshly poisoned page), and what a
 * child touching the page sees afterwards.  The kernel lets COPY (and, on
 * a shared mapping, ZEROPAGE) replace its poison marker; the user backend
 * once refused ZEROPAGE with EEXIST (found by the fuzzer).
 */
#include "oracle.h"

#define PAGES 4

static void after(const char *what, int fd, char *mem, int pg, int ret, long long field)
{
	struct orc_child c;

	T_OBS("%s: %d %s field %lld", what, ret, ret ? t_errname(errno) : "ok", field);
	orc_child_touch(mem, mem + pg * t_page + 9, 0, &c);
	T_OBS("%s: then a touch: signal %d code %d value %d", what, c.signo, c.code, c.value);
	(void)fd;
}

static void poison(int fd, char *page)
{
	struct uffdio_poison p = { { (uintptr_t)page, t_page }, 0, 0 };
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_POISON, &p));
}

static void cases(const char *kind, char *mem, void *arg)
{
	const char *src = arg;
	const uint64_t features = UFFD_FEATURE_POISON | UFFD_FEATURE_MISSING_SHMEM;
	int fd = t_uffd_api(O_CLOEXEC | O_NONBLOCK, features);
	char what[96];

	t_register(fd, mem, PAGES * t_page, UFFDIO_REGISTER_MODE_MISSING);

	poison(fd, mem);
	struct uffdio_copy c = { (uintptr_t)mem, (uintptr_t)src, t_page, 0, 0 };
	errno = 0;
	int ret = uffd_ioctl(fd, UFFDIO_COPY, &c);
	snprintf(what, sizeof(what), "%s: COPY over poison", kind);
	after(what, fd, mem, 0, ret, c.copy);

	poison(fd, mem + t_page);
	struct uffdio_zeropage z = { { (uintptr_t)mem + t_page, t_page }, 0, 0 };
	errno = 0;
	ret = uffd_ioctl(fd, UFFDIO_ZEROPAGE, &z);
	snprintf(what, sizeof(what), "%s: ZEROPAGE over poison", kind);
	after(what, fd, mem, 1, ret, z.zeropage);

	poison(fd, mem + 2 * t_page);
	struct uffdio_poison p = { { (uintptr_t)mem + 2 * t_page, t_page }, 0, 0 };
	errno = 0;
	ret = uffd_ioctl(fd, UFFDIO_POISON, &p);
	snprintf(what, sizeof(what), "%s: POISON over poison", kind);
	after(what, fd, mem, 2, ret, p.updated);
	close(fd);
}

static void scenario(void)
{
	char *src = t_map(t_page);
	memset(src, 0x33, t_page);

	orc_each_memory(ORC_ANON | ORC_SHMEM_SHARED | ORC_SHMEM_PRIVATE, PAGES * t_page, cases,
			src);
	munmap(src, t_page);
}

T_MAIN("fill-over-poison", scenario)
