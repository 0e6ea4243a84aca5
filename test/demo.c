/* SPDX-License-Identifier: MIT */
/*
 * `uffd demo --size 256M` works: on each backend, the command (the build's
 * own uffd, next to this test's folder) makes or reuses its 256 MiB snapshot,
 * restores it eagerly and lazily with the pager, checks every byte, and says
 * in its JSON that the lazy restore ran and every byte matched; its exit
 * status is 0.
 */
#include <libgen.h>
#include <sys/wait.h>

#include "harness.h"

static void scenario(void)
{
	char exe[4096], cmd[4300];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	T_ASSERT(n > 0);
	exe[n] = 0;
	snprintf(cmd, sizeof(cmd), "%s/../uffd demo --size 256M --backend %s --json",
		 dirname(exe), uffd_backend_name(t_backend));
	int probe = uffd_open(O_CLOEXEC, t_backend);
	if (probe < 0)
		t_skip("%s backend unavailable: %s", uffd_backend_name(t_backend), uffd_strerror());
	close(probe);
	FILE *f = popen(cmd, "r");
	T_ASSERT(f);
	static char out[8192];
	size_t len = fread(out, 1, sizeof(out) - 1, f);
	out[len] = 0;
	int status = pclose(f);
	int exited0 = WIFEXITED(status) && WEXITSTATUS(status) == 0;
	int matched = strstr(out, "\"every_byte_matched\":true") != NULL;
	char lazy[64];
	snprintf(lazy, sizeof(lazy), "\"name\":\"lazy, %s\",\"lazy\":true,\"ran\":true",
		 uffd_backend_name(t_backend));
	int ran = strstr(out, lazy) != NULL;
	int eager = strstr(out, "\"name\":\"eager (pread)\",\"lazy\":false,\"ran\":true") != NULL;
	T_OBS("exit 0: %d, eager ran: %d, lazy ran: %d, every byte matched: %d",
	      exited0, eager, ran, matched);
	T_EXPECT(exited0);
	T_EXPECT(eager);
	T_EXPECT(ran);
	T_EXPECT(matched);
	if (!(exited0 && ran && matched && eager))
		fprintf(stderr, "%s\n%s", cmd, out);
}

T_MAIN("demo", scenario)
