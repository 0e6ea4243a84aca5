/* SPDX-License-Identifier: MIT */
/*
 * File descriptors run out (RLIMIT_NOFILE reached): the calls that need one
 * fail with EMFILE, clearly and with nothing half done, and the calls that
 * need none go on working.  With the limit reached, opening a userfaultfd
 * fails with EMFILE and leaves no fd behind; an open userfaultfd keeps
 * resolving faults (COPY, ZEROPAGE, WRITEPROTECT, a fault's message and its
 * wake-up).  The user backend needs descriptors where the kernel does not:
 * two per userfaultfd (a pipe), and one to read /proc/self/maps at each
 * REGISTER and UNREGISTER (a limit, checked on the kernel only).
 */
#include <sys/resource.h>

#include "oracle.h"

#define LIMIT_NAME "file descriptors: two per userfaultfd, one per REGISTER"
#define MAXFDS 4096

static int held[MAXFDS], nheld;

/* Take every free descriptor. */
static void exhaust(void)
{
	nheld = 0;
	for (int fd; nheld < MAXFDS && (fd = dup(0)) >= 0;)
		held[nheld++] = fd;
	T_ASSERT(errno == EMFILE);
}

static void give_back(int n)
{
	while (n-- > 0 && nheld > 0)
		close(held[--nheld]);
}

static void scenario(void)
{
	struct rlimit rl = { 256, 256 };
	T_ASSERT(setrlimit(RLIMIT_NOFILE, &rl) == 0);
	const uint64_t features = UFFD_FEATURE_PAGEFAULT_FLAG_WP;
	int fd = t_uffd_api(O_CLOEXEC | O_NONBLOCK, features);
	char *mem = t_map(8 * t_page);
	char *src = t_map(t_page);
	memset(src, 0x42, t_page);
	t_register(fd, mem, 8 * t_page, UFFDIO_REGISTER_MODE_MISSING | UFFDIO_REGISTER_MODE_WP);

	exhaust();
	const int before = orc_fds_open();
	/* No descriptor left: opening fails at once, nothing left behind. */
	errno = 0;
	int fd2 = uffd_open(O_CLOEXEC | O_NONBLOCK, t_backend);
	T_OBS("uffd_open with no descriptor left: %d %s", fd2 < 0 ? -1 : 0,
	      fd2 < 0 ? t_errname(errno) : "");
	T_EXPECT(fd2 < 0 && errno == EMFILE);
	T_EXPECT_EQ(orc_fds_open(), before);

	/* The open one resolves faults without needing a descriptor. */
	struct uffdio_copy c = { (uintptr_t)mem, (uintptr_t)src, t_page, 0, 0 };
	orc_ioctl_case("COPY", fd, UFFDIO_COPY, &c, "copy", &c.copy, 0);
	struct uffdio_zeropage z = { { (uintptr_t)mem + t_page, t_page }, 0, 0 };
	orc_ioctl_case("ZEROPAGE", fd, UFFDIO_ZEROPAGE, &z, "zeropage", &z.zeropage, 0);
	struct uffdio_writeprotect w = { { (uintptr_t)mem, 2 * t_page },
					 UFFDIO_WRITEPROTECT_MODE_WP };
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_WRITEPROTECT, &w));
	w.mode = 0;
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_WRITEPROTECT, &w));
	struct orc_toucher t;
	struct uffd_msg m;
	orc_touch_start(&t, mem + 2 * t_page + 1, 0, 0);
	orc_fault_msg(fd, &m, "fault with no descriptor left", mem);
	c.dst = (uintptr_t)mem + 2 * t_page;
	orc_ioctl_case("COPY for the fault", fd, UFFDIO_COPY, &c, "copy", &c.copy, 0);
	T_EXPECT_EQ(orc_touch_join(&t), 0x42);
	T_EXPECT_EQ(mem[0], 0x42);
	T_EXPECT_EQ(mem[t_page], 0);

	/* REGISTER and UNREGISTER, and an open with one descriptor free:
	 * the kernel needs none more; the user backend fails them cleanly. */
	if (t_limit_begin(LIMIT_NAME)) {
		struct uffdio_range r = { (uintptr_t)mem + 4 * t_page, 4 * t_page };
		T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_UNREGISTER, &r));
		struct uffdio_register reg = { r, UFFDIO_REGISTER_MODE_MISSING, 0 };
		T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_REGISTER, &reg));
		give_back(1);
		fd2 = uffd_open(O_CLOEXEC | O_NONBLOCK, t_backend);
		T_EXPECT(fd2 >= 0);
		if (fd2 >= 0)
			close(fd2);
		t_limit_end();
	}
	give_back(MAXFDS);
	/* Descriptors back: everything works again. */
	fd2 = t_uffd_api(O_CLOEXEC | O_NONBLOCK, 0);
	close(fd2);
	close(fd);
	munmap(mem, 8 * t_page);
	munmap(src, t_page);
}

T_MAIN("fd-exhaustion", scenario)
