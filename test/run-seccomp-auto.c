/* SPDX-License-Identifier: MIT */
/*
 * A container: the userfaultfd system call refused by a seccomp filter
 * (EPERM, as Docker's default profile) and /dev/userfaultfd unusable
 * (/dev/null bound over it).  There `uffd run --backend kernel` leaves the
 * program without a userfaultfd, and `uffd run --backend auto` runs it on
 * the user backend with the kernel's results: the kernel half runs the
 * unmodified clients on the kernel outside the sandbox, the user half runs
 * them with `auto` inside it, and the harness compares.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "run.h"
#include "sandbox.h"

static const char *const progs[] = { "read-rules", "own-segv-handler" };

static void scenario(void)
{
	const char *backend = NULL;

	if (t_backend == UFFD_BACKEND_USER) {
		const char *why = sb_hide_device(0);
		if (!why)
			why = sb_refuse_userfaultfd(EPERM);
		if (why)
			t_skip("%s", why);
		char *kind = (char *)tr_build_path("prog/uffd-kind"), *out;
		tr_run("kernel", (char *const[]){ kind, NULL }, &out);
		T_EXPECT(!strncmp(out, "syscall error", 13));
		T_EXPECT(strstr(out, "\ndevice error") != NULL);
		free(out);
		tr_run("auto", (char *const[]){ kind, NULL }, &out);
		T_EXPECT(!strcmp(out, "syscall user\ndevice user\n"));
		free(out);
		free(kind);
		backend = "auto";
	}
	for (size_t i = 0; i < sizeof(progs) / sizeof(progs[0]); i++) {
		T_OBS("%s", progs[i]);
		tr_prog(backend, progs[i], NULL);
	}
}

T_MAIN("run-seccomp-auto", scenario)
