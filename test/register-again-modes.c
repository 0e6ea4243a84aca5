/* SPDX-License-Identifier: MIT */
/*
 * REGISTER of memory this userfaultfd registered already.  The kernel's rule
 * is per mapping (userfaultfd_register_range()): a mapping registered with
 * this uffd whose modes include every mode asked for is left as it is
 * ("nothing to do": MISSING|WP registered again as WP keeps MISSING, and its
 * write-protected pages stay protected); any other mode replaces the modes
 * (no union), the pages keep what they hold.  Only the part inside the new
 * range changes.  A mapping made again at the address (munmap, mmap) is a
 * new one with no registration, whatever the old one had; registering it
 * starts afresh.  Faults are seen as SIGBUS (UFFD_FEATURE_SIGBUS).
 * Found by the differential fuzzer (register-again-with-fewer-modes,
 * register-from-the-hole-past-the-pad in test/fuzz-corpus/).
 */
#include "oracle.h"

#define M  UFFDIO_REGISTER_MODE_MISSING
#define WP UFFDIO_REGISTER_MODE_WP
#define NP 6

static int fd;

static int reg(char *at, long pages, uint64_t mode)
{
	struct uffdio_register r = { { (uintptr_t)at, (uint64_t)pages * t_page }, mode, 0 };
	errno = 0;
	int ret = uffd_ioctl(fd, UFFDIO_REGISTER, &r);
	T_OBS("REGISTER %ld pages mode 0x%llx = %d %s ioctls 0x%llx", pages,
	      (unsigned long long)mode, ret, ret ? t_errname(errno) : "",
	      (unsigned long long)r.ioctls);
	return ret;
}

static void wprotect(char *at, long pages, int on)
{
	struct uffdio_writeprotect w = { { (uintptr_t)at, (uint64_t)pages * t_page },
					 on ? UFFDIO_WRITEPROTECT_MODE_WP : 0 };
	errno = 0;
	int ret = uffd_ioctl(fd, UFFDIO_WRITEPROTECT, &w);
	T_OBS("WRITEPROTECT %ld pages %d = %d %s", pages, on, ret, ret ? t_errname(errno) : "");
}

/* NP pages of fresh memory (anonymous, or a new memfd's): page 1 written,
 * page 2 written and write-protected (if mode has WP). */
static char *fresh(int shared)
{
	if (!shared)
		return t_map(NP * t_page);
	int mfd = orc_memfd(NP * t_page);
	char *mem = orc_mmap(NP * t_page, PROT_READ | PROT_WRITE, MAP_SHARED, mfd);
	close(mfd);
	return mem;
}

static char *prepared(int shared, uint64_t mode)
{
	char *mem = fresh(shared);
	mem[t_page] = 0x11;
	mem[2 * t_page] = 0x22;
	T_EXPECT_EQ(reg(mem, NP, mode), 0);
	if (mode & WP)
		wprotect(mem + 2 * t_page, 1, 1);
	return mem;
}

/* Fewer modes, the same modes, more modes, other modes, on one mapping. */
static void same_mapping(int shared, const char *kind)
{
	T_OBS("-- %s", kind);
	char *mem = prepared(shared, M | WP);
	reg(mem, NP, WP);                      /* fewer: nothing changes */
	orc_bus_probe("MISSING|WP again as WP", mem, 3);
	wprotect(mem + 4 * t_page, 1, 1);
	munmap(mem, NP * t_page);

	mem = prepared(shared, M | WP);
	reg(mem + t_page, 2, M);               /* fewer, a part */
	wprotect(mem + t_page, 1, 1);
	orc_bus_probe("MISSING|WP again as MISSING", mem, 4);
	munmap(mem, NP * t_page);

	mem = prepared(shared, M | WP);
	reg(mem, NP, M | WP);                  /* the same */
	orc_bus_probe("MISSING|WP again", mem, 3);
	munmap(mem, NP * t_page);

	mem = prepared(shared, WP);
	reg(mem, NP, M | WP);                  /* more: the modes are replaced */
	orc_bus_probe("WP again as MISSING|WP", mem, 4);
	munmap(mem, NP * t_page);

	mem = prepared(shared, M);
	reg(mem, NP, WP);                      /* other: replaced */
	orc_bus_probe("MISSING again as WP", mem, 3);
	wprotect(mem, 1, 1);
	munmap(mem, NP * t_page);

	/* Partly over: pages 0-3 MISSING|WP, then WP over 2-5 (4 and 5 new). */
	mem = prepared(shared, M | WP);
	struct uffdio_range r = { (uintptr_t)mem + 4 * t_page, 2 * (uint64_t)t_page };
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_UNREGISTER, &r));
	reg(mem + 2 * t_page, 4, WP);
	orc_bus_probe("partly over, pages 3-5", mem + 3 * t_page, 3);
	wprotect(mem + 2 * t_page, 4, 1);
	munmap(mem, NP * t_page);

	/* From a hole below the mapping into it. */
	char *area = t_map((NP + 2) * t_page);
	munmap(area, 2 * t_page);
	mem = area + 2 * t_page;
	if (shared) {
		int mfd = orc_memfd(NP * t_page);
		mem = mmap(mem, NP * t_page, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, mfd, 0);
		close(mfd);
	}
	T_ASSERT(mem == area + 2 * t_page);
	mem[t_page] = 0x11;
	reg(mem, NP, M | WP);
	reg(area, NP + 2, WP);
	orc_bus_probe("from a hole, MISSING|WP again as WP", mem, 2);
	munmap(mem, NP * t_page);
}

/* The mapping is made again at the same address (no shim: libuffd does not
 * see the munmap).  The kernel registers the new mapping afresh. */
static void new_mapping(void)
{
	T_OBS("-- mapped again");
	char *mem = prepared(0, M | WP);
	T_ASSERT(mmap(mem, NP * t_page, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == mem);
	mem[3 * t_page] = 0x33;
	reg(mem, NP, WP);
	orc_bus_probe("anonymous, registered again as WP", mem, 4);
	munmap(mem, NP * t_page);

	/* Another file at the address, registered MISSING again. */
	int b = orc_memfd(NP * t_page);
	mem = prepared(1, M);
	T_ASSERT(mmap(mem, NP * t_page, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, b, 0) ==
		 mem);
	T_ASSERT(pwrite(b, "\x44", 1, 3 * t_page) == 1);
	reg(mem, NP, M);
	orc_bus_probe("another file, registered again as MISSING", mem, 4);
	munmap(mem, NP * t_page);
	close(b);

	/* A bigger mapping over a registration of 2 pages, page 1 poisoned:
	 * the new mapping holds no poison, and is one mapping (a COPY may
	 * span it all), anonymous or shared memory. */
	for (int shared = 0; shared <= 1; shared++) {
		mem = t_map(NP * t_page);
		reg(mem + 2 * t_page, 2, M);
		struct uffdio_poison p = { { (uintptr_t)mem + 3 * t_page, t_page }, 0, 0 };
		T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_POISON, &p));
		int mfd = shared ? orc_memfd(NP * t_page) : -1;
		T_ASSERT(mmap(mem, NP * t_page, PROT_READ | PROT_WRITE,
			      (shared ? MAP_SHARED : MAP_PRIVATE | MAP_ANONYMOUS) | MAP_FIXED,
			      mfd, 0) == mem);
		if (shared)
			close(mfd);
		reg(mem, NP, M);
		char *src = t_map(NP * t_page);
		t_fill(src, NP * t_page, 4);
		struct uffdio_copy c = { (uintptr_t)mem, (uintptr_t)src, NP * t_page, 0, 0 };
		orc_ioctl_case("COPY over the whole new mapping", fd, UFFDIO_COPY, &c, "copy",
			       &c.copy, 0);
		T_OBS("copied: %d", t_check(mem, NP * t_page, 4));
		munmap(mem, NP * t_page);
		munmap(src, NP * t_page);
	}

	/* Another userfaultfd registers the new mapping: the old registration
	 * ended with its mapping (no EBUSY). */
	mem = prepared(0, M | WP);
	T_ASSERT(mmap(mem, NP * t_page, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == mem);
	int first = fd;
	fd = t_uffd_api(O_CLOEXEC | O_NONBLOCK, UFFD_FEATURE_SIGBUS);
	reg(mem, NP, M);
	orc_bus_probe("registered by another userfaultfd", mem, 3);
	close(fd);
	fd = first;
	munmap(mem, NP * t_page);

	/* Every page written, none protected: nothing tells the new mapping
	 * from the old one. */
	mem = t_map(NP * t_page);
	memset(mem, 1, NP * t_page);
	reg(mem, NP, M | WP);
	T_ASSERT(mmap(mem, NP * t_page, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == mem);
	memset(mem, 2, NP * t_page);
	if (t_limit_begin("memory mapped again at a registered address")) {
		reg(mem, NP, M);
		wprotect(mem, 1, 1);
		t_limit_end();
	}
	munmap(mem, NP * t_page);
}

/* WP_UNPOPULATED: a missing page write-protected keeps its MISSING trap
 * and its protection when registered again with fewer modes. */
static void unpopulated(void)
{
	T_OBS("-- WP_UNPOPULATED");
	fd = t_uffd_api(O_CLOEXEC | O_NONBLOCK, UFFD_FEATURE_SIGBUS | UFFD_FEATURE_WP_UNPOPULATED);
	char *mem = prepared(0, M | WP);
	wprotect(mem, 1, 1);
	reg(mem, NP, WP);
	orc_bus_probe("missing page protected, MISSING|WP again as WP", mem, 3);
	munmap(mem, NP * t_page);
	close(fd);
}

static void scenario(void)
{
	unpopulated();   /* first: the munmapped ranges of its uffd go with it */
	fd = t_uffd_api(O_CLOEXEC | O_NONBLOCK,
			UFFD_FEATURE_SIGBUS | UFFD_FEATURE_WP_HUGETLBFS_SHMEM |
			UFFD_FEATURE_POISON);
	same_mapping(0, "anonymous");
	same_mapping(1, "shmem");
	new_mapping();
	close(fd);
}
T_MAIN("register-again-modes", scenario)
