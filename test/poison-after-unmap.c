/* SPDX-License-Identifier: MIT */
/*
 * A poisoned page (UFFDIO_POISON) stays poisoned after its registration
 * ends (UNREGISTER, close) but not after its mapping does: memory mapped
 * again at the same address is new memory, ordinary to read and, once
 * registered, missing (ZEROPAGE and COPY fill it).  The user backend once
 * kept the poison of an unmapped page and gave it to the next registration
 * there (a new region at the address got SIGBUS; seen with the pager's
 * uffd_region_unmap(), and by the fuzzer between two programs).
 * Cases: unmapped while registered, then the uffd closed; unregistered,
 * then unmapped; and, for contrast, unregistered and registered again
 * without unmapping (the poison stays).
 */
#include <signal.h>
#include "oracle.h"

#define PAGES 4
static const uint64_t features = UFFD_FEATURE_POISON | UFFD_FEATURE_SIGBUS;

static void poison(int fd, char *page)
{
	struct uffdio_poison p = { { (uintptr_t)page, t_page }, 0, 0 };
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_POISON, &p));
}

/* What a child touching page 1 sees, and what ZEROPAGE there says. */
static void probe(const char *what, int fd, char *mem)
{
	struct orc_child c;

	orc_child_touch(mem, mem + t_page, 0, &c);
	T_OBS("%s: a touch of page 1: signal %d code %d value %d", what, c.signo, c.code,
	      c.value);
	struct uffdio_zeropage z = { { (uintptr_t)mem + t_page, t_page }, 0, 0 };
	errno = 0;
	int ret = uffd_ioctl(fd, UFFDIO_ZEROPAGE, &z);
	T_OBS("%s: ZEROPAGE page 1 = %d %s zeropage %lld", what, ret,
	      ret < 0 ? t_errname(errno) : "", (long long)z.zeropage);
}

/* Register mem again, poison page 2 (page 1 holds data), unregister: the
 * poison stays. */
static void poison_left(int fd, char *mem)
{
	struct uffdio_range r = { (uintptr_t)mem, PAGES * t_page };

	t_register(fd, mem, PAGES * t_page, UFFDIO_REGISTER_MODE_MISSING);
	poison(fd, mem + 2 * t_page);
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_UNREGISTER, &r));
}

/* The same address mapped afresh (nothing else can take it meanwhile: the
 * old mapping is replaced in place). */
static char *remap(char *mem)
{
	char *m = mmap(mem, PAGES * t_page, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	T_ASSERT(m == mem);
	return m;
}

static void scenario(void)
{
	char *mem = t_map(PAGES * t_page);

	/* Unmapped (replaced) while registered, then the uffd closed. */
	int fd = t_uffd_api(O_CLOEXEC | O_NONBLOCK, features);
	t_register(fd, mem, PAGES * t_page, UFFDIO_REGISTER_MODE_MISSING);
	poison(fd, mem + t_page);
	munmap(mem, PAGES * t_page);
	close(fd);
	remap(mem);
	fd = t_uffd_api(O_CLOEXEC | O_NONBLOCK, features);
	t_register(fd, mem, PAGES * t_page, UFFDIO_REGISTER_MODE_MISSING);
	probe("unmapped while registered", fd, mem);
	close(fd);

	/* Unregistered (the poison stays), then unmapped. */
	remap(mem);
	fd = t_uffd_api(O_CLOEXEC | O_NONBLOCK, features);
	t_register(fd, mem, PAGES * t_page, UFFDIO_REGISTER_MODE_MISSING);
	poison(fd, mem + t_page);
	struct uffdio_range r = { (uintptr_t)mem, PAGES * t_page };
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_UNREGISTER, &r));
	t_register(fd, mem, PAGES * t_page, UFFDIO_REGISTER_MODE_MISSING);
	probe("registered again, not unmapped", fd, mem);
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_UNREGISTER, &r));
	munmap(mem, PAGES * t_page);
	remap(mem);
	t_register(fd, mem, PAGES * t_page, UFFDIO_REGISTER_MODE_MISSING);
	probe("unregistered, then unmapped", fd, mem);

	/* Unregistered, unmapped, and mapped again inaccessible, with no
	 * REGISTER since (which would forget the old poison): a touch is the
	 * new mapping's SIGSEGV, not the old poison's SIGBUS.  (The user
	 * backend does not see this munmap: a linked program's, or glibc's
	 * own from free() under the shim.) */
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_UNREGISTER, &r));
	poison_left(fd, mem);
	close(fd);
	munmap(mem, PAGES * t_page);
	char *none = mmap(mem, PAGES * t_page, PROT_NONE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	T_ASSERT(none == mem);
	struct orc_child c;
	orc_child_touch(mem, mem + 2 * t_page, 0, &c);
	T_OBS("mapped again inaccessible: a touch of page 2: signal %d", c.signo);
	T_EXPECT_EQ(c.signo, SIGSEGV);
	munmap(mem, PAGES * t_page);
}

T_MAIN("poison-after-unmap", scenario)
