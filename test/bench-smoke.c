/* SPDX-License-Identifier: MIT */
/*
 * `uffd bench` runs its scenarios with tiny sizes on this half's backend
 * (--backend kernel|user) and exits 0: every round placed its pages and they
 * held their contents (the bench checks them).  The observables are the
 * scenarios and their statuses, never a time.
 */
#include <limits.h>
#include <sys/wait.h>

#include "command.h"
#include "harness.h"
#include "json.h"

static void scenario(void)
{
	char cmd[PATH_MAX];

	if (cmd_find(cmd, sizeof(cmd)))
		T_FATAL("no uffd command beside the tests");
	char *const argv[] = {
		cmd, "bench", "--backend",
		t_backend == UFFD_BACKEND_KERNEL ? "kernel" : "user",
		"-n", "64", "-r", "1", "--count", "200", "--sparse-gib", "1",
		"--postcopy-mib", "2", "--faulters", "2", "--handlers", "2",
		/* Every scenario but ranges-4000, whose 4000 registrations take
		 * seconds under the sanitizers (ranges-1 and -100 run its path). */
		"-s", "floor,thread,pinned,sigbus,copy,wp,ranges-1,remote,sparse,postcopy",
		"-t", "100", "--json", NULL,
	};
	int status;
	char *out = cmd_run(argv, &status);
	T_ASSERT(out);
	T_EXPECT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	char err[128];
	struct json *j = json_parse(out, err, sizeof(err));
	if (!j)
		T_FATAL("uffd bench --json: %s", err);
	const char *me = t_backend == UFFD_BACKEND_KERNEL ? "kernel" : "user";
	char path[64];
	snprintf(path, sizeof(path), "backends.%s.available", me);
	const struct json *avail = json_path(j, path);
	T_EXPECT(avail && avail->type == JSON_BOOL && avail->boolean);
	const struct json *results = json_path(j, "results");
	T_ASSERT(results && results->type == JSON_ARRAY && results->len > 0);
	for (size_t i = 0; i < results->len; i++) {
		const struct json *r = json_at(results, i);
		const struct json *name = json_path(r, "scenario");
		snprintf(path, sizeof(path), "%s.status", json_path(r, "none") ? "none" : me);
		const struct json *st = json_path(r, path);
		T_ASSERT(name && name->type == JSON_STRING && st && st->type == JSON_STRING);
		T_OBS("%s: %s", name->string, st->string);
		/* One CPU only: no other CPU to pin the handler to. */
		if (strcmp(st->string, "ok") &&
		    !(sysconf(_SC_NPROCESSORS_ONLN) < 2 && !strcmp(st->string, "unsupported")))
			t_fail_at(__FILE__, __LINE__, "scenario %s: %s", name->string, st->string);
	}
	json_free(j);
	free(out);
}

T_MAIN("bench-smoke", scenario)
