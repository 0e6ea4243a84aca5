/*
 * The harness itself (issue 11: tests that cannot pass by skipping):
 *  - a failure inside a helper of test/lib/ names the scenario's line that
 *    called it (and the helper's own line in parentheses), the message
 *    waits of harness.c too;
 *  - a user half that skips where the kernel half ran fails, unless it names
 *    a limit; a named limit must be one of the README's table.
 * Each case runs this program again as a harness test of its own
 * (T_SELFTEST_CASE=name) and checks the line it prints.  Not a
 * differential scenario itself: it prints one PASS or FAIL line.
 */
#include <string.h>
#include "harness.h"

/* On one line, so that call_line is the line of the failing call. */
static const int call_line = __LINE__; static void helper_fails(void) { t_map(~(size_t)0 >> 1); }

/* A message wait that reads 3 bytes (on one line, as above). */
static int msg_pipe(void) { int p[2]; T_ASSERT(pipe(p) == 0 && write(p[1], "abc", 3) == 3); return p[0]; }
static const int msg_line = __LINE__; static void msg_fails(void) { struct uffd_msg m; t_read_msg(msg_pipe(), &m, 5000); }

static void skips_without_limit(void)
{
	if (t_backend == UFFD_BACKEND_USER)
		t_skip("just because");
	T_OBS("ran");
}

static void unknown_limit(void)
{
	t_limit("a limit no README names");
	T_OBS("ran");
}

static void known_limit(void)
{
	t_limit("features not offered");
	T_OBS("ran");
}

static const struct {
	const char *name;
	void (*fn)(void);
	const char *want;      /* in the output; %d: call_line */
} cases[] = {
	{ "helper", helper_fails, "FAIL helper/kernel: test/harness-selftest.c:%d: mmap" },
	{ "helper-in", helper_fails, "(in test/lib/harness.c:" },
	{ "msg", msg_fails, "FAIL msg/kernel: test/harness-selftest.c:%d: read uffd: 3" },
	{ "skip", skips_without_limit,
	  "FAIL skip/user: skipped where the kernel half ran, naming no limit" },
	{ "unknown", unknown_limit,
	  "FAIL unknown/user: names a limit the README's table does not: `a limit no README names`" },
	{ "known", known_limit, "SKIP known/user: documented limit: features not offered" },
};
#define NCASES (int)(sizeof(cases) / sizeof(cases[0]))

int main(void)
{
	const char *inner = getenv("T_SELFTEST_CASE");
	char self[4096], cmd[4200], want[256], out[8192];
	int bad = 0;

	if (inner) {
		for (int i = 0; i < NCASES; i++)
			if (!strcmp(cases[i].name, inner))
				return t_main(cases[i].name, cases[i].fn);
		return 2;
	}
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0) {
		printf("FAIL harness-selftest: readlink: %s\n", strerror(errno));
		return 1;
	}
	self[n] = 0;
	for (int i = 0; i < NCASES; i++) {
		snprintf(cmd, sizeof(cmd), "T_SELFTEST_CASE=%s '%s' 2>&1", cases[i].name, self);
		FILE *p = popen(cmd, "r");
		size_t got = p ? fread(out, 1, sizeof(out) - 1, p) : 0;
		out[got] = 0;
		if (p)
			pclose(p);
		snprintf(want, sizeof(want), cases[i].want,
			 cases[i].fn == msg_fails ? msg_line : call_line);
		if (!strstr(out, want)) {
			printf("FAIL harness-selftest: case %s printed \"%.*s\", expected \"%s\"\n",
			       cases[i].name, (int)strcspn(out, "\n"), out, want);
			bad++;
		}
	}
	if (!bad)
		printf("PASS harness-selftest: %d cases\n", NCASES);
	return bad ? 1 : 0;
}
