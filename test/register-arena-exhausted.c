/* SPDX-License-Identifier: MIT */
/*
 * REGISTER when the user backend's own memory runs out part way: its arena
 * (arena.c) made small (UFFD_USER_ARENA, set before the half's first use)
 * and the address space exhausted (RLIMIT_AS), so that not every array a
 * REGISTER needs fits (the state of the range's pages, which pages hold
 * data, which this process maps for MINOR, which are write-protected).
 * The kernel's REGISTER needs no memory of the process and succeeds; the
 * user backend's must fail with ENOMEM and register nothing (before the
 * fix it registered a shmem MINOR range without knowing which pages this
 * process maps: a minor fault came for a page the kernel raises none for).
 * With room again it registers, and a mapped page raises no fault.
 */
#include "oracle.h"

#define LIMIT_NAME "the user backend's own memory counts towards RLIMIT_AS"
#define K 256                   /* pages of one page-state array's worth */
#define NP ((long)K * 4096)     /* pages registered: a state byte each */

static int fd;

static int do_register(char *mem, uint64_t mode)
{
	struct uffdio_register reg = { { (uintptr_t)mem, NP * (uint64_t)t_page }, mode, 0 };
	errno = 0;
	int r = (int)uffd_ioctl(fd, UFFDIO_REGISTER, &reg);
	T_OBS("REGISTER with room: %s", r ? t_errname(errno) : "ok");
	return r;
}

/* A MINOR fault for page 1 (in the page cache), none for page 0 (this
 * process maps it): the one message that comes is page 1's. */
static void faults(char *mem)
{
	struct orc_toucher t;
	struct uffd_msg m;

	T_OBS("page 0 reads %d", mem[0]);
	orc_touch_start(&t, mem + t_page, 0, 0);
	orc_fault_msg(fd, &m, "first fault", mem);
	struct uffdio_continue c = { { (uintptr_t)mem + t_page, t_page }, 0, 0 };
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_CONTINUE, &c));
	T_OBS("page 1 reads %d", orc_touch_join(&t));
}

static void one(const char *kind, uint64_t mode, int shared)
{
	int mfd = shared ? orc_memfd(NP * t_page) : -1;
	char *mem = orc_mmap(NP * t_page, PROT_READ | PROT_WRITE,
			     shared ? MAP_SHARED : MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, mfd);
	mem[0] = 1;
	if (shared)
		T_ASSERT(pwrite(mfd, "\x02", 1, t_page) == 1);   /* cached, not mapped */

	orc_as_exhaust();
	struct uffdio_register reg = { { (uintptr_t)mem, NP * (uint64_t)t_page }, mode, 0 };
	errno = 0;
	const int r = (int)uffd_ioctl(fd, UFFDIO_REGISTER, &reg);
	const int e = errno;
	orc_as_restore();
	if (t_limit_begin(LIMIT_NAME)) {
		T_EXPECT_EQ(r, 0);
		struct uffdio_range all = { (uintptr_t)mem, NP * (uint64_t)t_page };
		T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_UNREGISTER, &all));
		t_limit_end();
	} else {
		if (r != -1 || e != ENOMEM)
			t_fail_at(__FILE__, __LINE__, "%s: REGISTER with no room: %d %s, "
				  "expected ENOMEM", kind, r, t_errname(e));
		/* Nothing registered: a WRITEPROTECT or CONTINUE there finds
		 * no registration. */
		if (mode & UFFDIO_REGISTER_MODE_MINOR) {
			struct uffdio_continue c = { { (uintptr_t)mem + t_page, t_page }, 0, 0 };
			T_EXPECT(uffd_ioctl(fd, UFFDIO_CONTINUE, &c) < 0 && errno == ENOENT);
		} else {
			struct uffdio_writeprotect w = { { (uintptr_t)mem, t_page },
							 UFFDIO_WRITEPROTECT_MODE_WP };
			T_EXPECT(uffd_ioctl(fd, UFFDIO_WRITEPROTECT, &w) < 0 && errno == ENOENT);
		}
	}
	T_OBS("-- %s", kind);
	if (do_register(mem, mode) == 0 && (mode & UFFDIO_REGISTER_MODE_MINOR))
		faults(mem);
	munmap(mem, NP * t_page);
	if (mfd >= 0)
		close(mfd);
}

static void scenario(void)
{
	/* Room for three arrays of a byte per page of such a range and a
	 * little more (a warm-up registration's arrays, the mappings' list),
	 * not for four: REGISTER needs four (before the fix the fourth, which
	 * pages this process maps, was done without when it did not come). */
	char cap[32];
	snprintf(cap, sizeof(cap), "%ld", (3L * K + 24) * t_page);
	T_ASSERT(setenv("UFFD_USER_ARENA", cap, 1) == 0);

	fd = t_uffd_api(O_CLOEXEC | O_NONBLOCK, UFFD_FEATURE_MINOR_SHMEM);
	/* The arena is made at the first REGISTER, with room. */
	char *warm = t_map(t_page);
	t_register(fd, warm, t_page, UFFDIO_REGISTER_MODE_MISSING);
	struct uffdio_range w = { (uintptr_t)warm, t_page };
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_UNREGISTER, &w));
	munmap(warm, t_page);

	one("shmem MINOR", UFFDIO_REGISTER_MODE_MINOR, 1);
	one("anonymous WP", UFFDIO_REGISTER_MODE_WP, 0);
	close(fd);
}
T_MAIN("register-arena-exhausted", scenario)
