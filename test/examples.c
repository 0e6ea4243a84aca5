/* SPDX-License-Identifier: MIT */
/*
 * The programs of examples/ work on each backend (UFFD_BACKEND chooses):
 * userfaultfd (the man page's example) reads 8 addresses of 2 pages, the
 * first page's as 'A', the second's as 'B', through two faults; pager-file
 * prints the checksum of a file that reading it plainly gives.
 */
#include <libgen.h>
#include <sys/wait.h>

#include "harness.h"

static int run(const char *cmd, char *out, size_t len)
{
	FILE *f = popen(cmd, "r");
	T_ASSERT(f);
	size_t n = fread(out, 1, len - 1, f);
	out[n] = 0;
	int st = pclose(f);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void scenario(void)
{
	char exe[4096], dir[4096], cmd[8400];
	static char out[65536];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	T_ASSERT(n > 0);
	exe[n] = 0;
	snprintf(dir, sizeof(dir), "%s/../examples", dirname(exe));
	int probe = uffd_open(O_CLOEXEC, t_backend);
	if (probe < 0)
		t_skip("%s backend unavailable: %s", uffd_backend_name(t_backend), uffd_strerror());
	close(probe);
	const char *b = uffd_backend_name(t_backend);

	snprintf(cmd, sizeof(cmd), "UFFD_BACKEND=%s %s/userfaultfd 2", b, dir);
	int rc = run(cmd, out, sizeof(out));
	char want[64];
	snprintf(want, sizeof(want), "userfaultfd on the %s backend", b);
	int as = 0, bs = 0, faults = 0;
	for (char *p = out; (p = strstr(p, "in main(): ")); p++)
		as += p[11] == 'A', bs += p[11] == 'B';
	for (char *p = out; (p = strstr(p, "UFFD_EVENT_PAGEFAULT")); p++)
		faults++;
	T_OBS("userfaultfd 2: exit %d, backend named %d, reads A %d B %d, faults %d", rc,
	      strstr(out, want) != NULL, as, bs, faults);
	T_EXPECT_EQ(rc, 0);
	T_EXPECT(strstr(out, want) != NULL);
	T_EXPECT_EQ(as, 4);
	T_EXPECT_EQ(bs, 4);
	T_EXPECT_EQ(faults, 2);

	/* a file of 3.5 pages of known bytes, and its checksum */
	char path[] = "/tmp/uffd-example-XXXXXX";
	int fd = mkstemp(path);
	T_ASSERT(fd >= 0);
	size_t size = (size_t)t_page * 7 / 2;
	unsigned char *buf = malloc(size);
	unsigned long sum = 0;
	for (size_t i = 0; i < size; i++) {
		buf[i] = (unsigned char)(i * 7 + (i >> 12));
		sum = sum * 31 + buf[i];
	}
	T_ASSERT(write(fd, buf, size) == (ssize_t)size);
	close(fd);
	free(buf);
	snprintf(cmd, sizeof(cmd), "UFFD_BACKEND=%s %s/pager-file %s", b, dir, path);
	rc = run(cmd, out, sizeof(out));
	unlink(path);
	snprintf(want, sizeof(want), "checksum %016lx", sum);
	T_OBS("pager-file: exit %d, checksum right %d", rc, strstr(out, want) != NULL);
	T_EXPECT_EQ(rc, 0);
	T_EXPECT(strstr(out, want) != NULL);
}

T_MAIN("examples", scenario)
