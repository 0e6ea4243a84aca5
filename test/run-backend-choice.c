/* SPDX-License-Identifier: MIT */
/*
 * `uffd run --backend B`: the userfaultfds an unmodified program makes, by
 * the system call and by /dev/userfaultfd + USERFAULTFD_IOC_NEW, come from
 * backend B, also in a program that the one started execs (the choice
 * travels in the environment); `auto` takes the kernel's where it opens.
 * Then the usage errors of `uffd run`.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "run.h"

static void scenario(void)
{
	const char *me = uffd_backend_name(t_backend);
	char want[64], *out;
	char cmd[4200];

	snprintf(cmd, sizeof(cmd), "exec '%s'", tr_build_path("prog/uffd-kind"));
	int status = tr_run(NULL, (char *const[]){ "/bin/sh", "-c", cmd, NULL }, &out);
	tr_obs_status(status);
	snprintf(want, sizeof(want), "syscall %s\ndevice %s\n", me, me);
	if (strcmp(out, want))
		t_fail_at(__FILE__, __LINE__, "under --backend %s: %s", me, out);
	free(out);

	/* auto: the kernel's userfaultfd works here, so it is the kernel's. */
	struct uffd_backend_info info;
	if (uffd_backend_probe(UFFD_BACKEND_KERNEL, 0, &info) == 0 && info.available) {
		status = tr_run("auto", (char *const[]){ (char *)tr_build_path("prog/uffd-kind"),
							 NULL }, &out);
		T_EXPECT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		T_EXPECT(!strcmp(out, "syscall kernel\ndevice kernel\n"));
		free(out);
	}

	/* Usage errors: 125; a program that is not there: 127. */
	status = tr_run("nonsense", (char *const[]){ "/bin/true", NULL }, &out);
	tr_obs_status(status);
	free(out);
	status = tr_run(me, (char *const[]){ "/nonexistent/program", NULL }, &out);
	tr_obs_status(status);
	free(out);
}

T_MAIN("run-backend-choice", scenario)
