/* SPDX-License-Identifier: MIT */
/*
 * The user backend picks its trap mechanism by probing (trap.c: a page of
 * its own, a guard marker installed on it).  The first userfaultfd of the
 * process opened with no address space left (RLIMIT_AS): the probe finds
 * no room for its page.  Once there is room, a range registered with a
 * missing page between two present ones is still one mapping, as with the
 * kernel's userfaultfd (guard markers split no mapping; before the fix the
 * failed probe left PROT_NONE traps for the process's whole life, and the
 * missing page was a mapping of its own).  Under a sanitizer no open is
 * made with no room (its runtime aborts a thread's start there).
 */
#include "acc.h"
#include "oracle.h"

static void scenario(void)
{
	const char *force = getenv("UFFD_USER_TRAP");

	if (!ORC_SANITIZER_THREADS) {
		orc_as_exhaust();
		int fd = uffd_open(O_CLOEXEC | O_NONBLOCK, t_backend);
		if (fd >= 0)
			close(fd);
		orc_as_restore();
	}
	int fd = t_uffd_api(O_CLOEXEC | O_NONBLOCK, 0);
	char *mem = t_map(3 * t_page);
	mem[0] = 1;
	mem[2 * t_page] = 1;
	t_register(fd, mem, 3 * t_page, UFFDIO_REGISTER_MODE_MISSING);
	if (t_backend == UFFD_BACKEND_USER && force && !strcmp(force, "mprotect"))
		t_limit("mprotect trap fallback: one mapping per trapped run");
	T_OBS("mappings of the registered range: %d", acc_maps_lines_in(mem, 3 * t_page));
	struct orc_toucher t;
	struct uffd_msg m;
	orc_touch_start(&t, mem + t_page, 0, 0);
	orc_fault_msg(fd, &m, "the missing page", mem);
	struct uffdio_zeropage z = { { (uintptr_t)mem + t_page, t_page }, 0, 0 };
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_ZEROPAGE, &z));
	T_OBS("it reads %d", orc_touch_join(&t));
	close(fd);
	munmap(mem, 3 * t_page);
}
T_MAIN("trap-probe-retry", scenario)
