/* UFFD_FEATURE_WP_UNPOPULATED on anonymous memory registered MISSING|WP:
 * write protection applied to pages that are not there yet.  The kernel
 * keeps a marker in the empty page table entry: a read of such a page is
 * still a MISSING fault, after protection and after un-protection alike;
 * a fill replaces the marker, and the page is then protected only if the
 * fill asked (COPY's MODE_WP; ZEROPAGE never), so a write after ZEROPAGE
 * goes through.  The user backend keeps the protection of a page it traps
 * as a bit beside the trap (with its mprotect traps, a protection change
 * must not lift the PROT_NONE that makes the page fault: see
 * wp-unpopulated-mprotect.c, the same scenario on those traps). */
#include "harness.h"
#include "oracle.h"

#ifndef WPU_TRAP
#define WPU_TRAP NULL
#define WPU_NAME "wp-unpopulated"
#endif

static char *mem, *src;

static void protect(int fd, int pg, int on)
{
	struct uffdio_writeprotect w = {
		{ (uintptr_t)mem + pg * t_page, t_page },
		on ? UFFDIO_WRITEPROTECT_MODE_WP : 0,
	};
	T_ASSERT(uffd_ioctl(fd, UFFDIO_WRITEPROTECT, &w) == 0);
}

/* Access page pg (a read, or a write of 7) from a thread; record each
 * fault it raises and resolve it (a missing page gets pattern pg, a
 * protected one is un-protected); record what the access saw. */
static void touch(int fd, int pg, int wr)
{
	struct orc_toucher t;
	struct uffd_msg m;

	orc_touch_start(&t, mem + pg * t_page, wr, 7);
	while (orc_touch_or_msg(&t, fd, &m)) {
		T_EXPECT_EQ(m.event, UFFD_EVENT_PAGEFAULT);
		T_OBS("page %d %s: fault at page %ld flags 0x%llx", pg, wr ? "write" : "read",
		      ORC_PG(m.arg.pagefault.address, mem),
		      (unsigned long long)m.arg.pagefault.flags);
		if (m.arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WP) {
			protect(fd, pg, 0);
			continue;
		}
		memset(src, 'a' + pg, t_page);
		struct uffdio_copy c = { (uintptr_t)mem + pg * t_page, (uintptr_t)src, t_page, 0, 0 };
		T_ASSERT(uffd_ioctl(fd, UFFDIO_COPY, &c) == 0);
	}
	T_OBS("page %d %s: done, saw %d", pg, wr ? "write" : "read", orc_touch_join(&t));
}

static void scenario(void)
{
	const char *trap = WPU_TRAP;
	if (trap && t_backend == UFFD_BACKEND_USER)
		setenv("UFFD_USER_TRAP", trap, 1);  /* before the first open */
	int fd = t_uffd_api(O_CLOEXEC | O_NONBLOCK, UFFD_FEATURE_WP_UNPOPULATED);
	const int n = 6;
	mem = t_map(n * t_page);
	src = t_map(t_page);
	t_register(fd, mem, n * t_page, UFFDIO_REGISTER_MODE_MISSING | UFFDIO_REGISTER_MODE_WP);
	for (int pg = 0; pg < n; pg++)
		protect(fd, pg, 1);

	/* Protected and missing: a read is a missing fault; then a write
	 * goes through (COPY without MODE_WP leaves it unprotected). */
	touch(fd, 0, 0);
	touch(fd, 0, 1);
	/* Protected, un-protected, still missing: the read still faults. */
	protect(fd, 1, 0);
	touch(fd, 1, 0);
	/* Protected and missing: a write is a missing fault first. */
	touch(fd, 2, 1);
	/* ZEROPAGE over the protection: the page is not protected. */
	struct uffdio_zeropage z = { { (uintptr_t)mem + 3 * t_page, t_page }, 0, 0 };
	errno = 0;
	int r = uffd_ioctl(fd, UFFDIO_ZEROPAGE, &z);
	T_OBS("zeropage: %d %s field %lld", r, t_errname(errno), (long long)z.zeropage);
	touch(fd, 3, 1);
	/* COPY with MODE_WP over it: protected, a write is a WP fault. */
	memset(src, 'w', t_page);
	struct uffdio_copy c = { (uintptr_t)mem + 4 * t_page, (uintptr_t)src, t_page,
				 UFFDIO_COPY_MODE_WP, 0 };
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_COPY, &c));
	touch(fd, 4, 0);
	touch(fd, 4, 1);
	/* Un-protected twice over, then protected again: still missing. */
	protect(fd, 5, 0);
	protect(fd, 5, 0);
	protect(fd, 5, 1);
	touch(fd, 5, 0);
	touch(fd, 5, 1);
	for (int pg = 0; pg < n; pg++)
		T_OBS("page %d holds %d", pg, mem[pg * t_page]);
	T_EXPECT(orc_nothing_queued(fd));
	close(fd);
}
T_MAIN(WPU_NAME, scenario)
