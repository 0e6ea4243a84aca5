/* SPDX-License-Identifier: MIT */
/*
 * Under the shim, munmap, mremap and mmap(MAP_FIXED) of a page in the middle
 * of a registered range when the user backend's range table is full (4,096
 * ranges): the range cannot be cut in two, so the call fails with ENOMEM,
 * as the kernel's at vm.max_map_count, and changes nothing: the page stays
 * mapped and registered (before the fix the call went through and the
 * range stayed registered over memory no longer there).  A slot freed, the
 * munmap goes.  test/prog/unmap-table-full.c, under `uffd run` on both
 * backends; the kernel has no such bound below vm.max_map_count, so its
 * half records its output and the user half checks its own.
 */
#include <sys/wait.h>

#include "run.h"

#define LIMIT "256 userfaultfds, 4096 registered ranges per process"

static void expect_line(const char *out, const char *line)
{
	if (!strstr(out, line))
		t_fail_at(__FILE__, __LINE__, "no line \"%s\" in:\n%s", line, out);
}

static void scenario(void)
{
	char *argv[] = { (char *)tr_build_path("prog/unmap-table-full"), NULL };
	char *out = NULL;
	int status = tr_run(NULL, argv, &out);

	T_EXPECT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	if (t_limit_begin(LIMIT)) {
		tr_obs_lines(out);
		t_limit_end();
	} else {
		expect_line(out, "one-page ranges: ENOMEM\n");
		expect_line(out, "munmap of page 2: ENOMEM\n");
		expect_line(out, "after munmap: page 2 mapped 1 fault 1 at page 2\n");
		expect_line(out, "mremap of page 4: ENOMEM\n");
		expect_line(out, "after mremap: page 4 mapped 1 fault 1 at page 4\n");
		expect_line(out, "mmap(MAP_FIXED) over page 6: ENOMEM\n");
		expect_line(out, "after mmap: page 6 mapped 1 fault 1 at page 6\n");
	}
	/* Both: with a slot free the munmap goes. */
	expect_line(out, "munmap of page 3, one range unregistered: ok\n");
	expect_line(out, "after it: page 3 mapped 0\n");
	expect_line(out, "the range's last page: page 7 mapped 1 fault 1 at page 7\n");
	free(out);
}
T_MAIN("run-unmap-table-full", scenario)
