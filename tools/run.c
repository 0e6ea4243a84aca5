/* SPDX-License-Identifier: MIT */
/*
 * `uffd run [--backend kernel|user|auto] [--] PROG [ARGS...]`: run an
 * unmodified program with libuffd's LD_PRELOAD shim, so that its
 * userfaultfds come from the chosen backend.  The choice travels in the
 * environment (LD_PRELOAD, UFFD_BACKEND), so programs PROG execs keep it.
 * Nothing else changes: uffd execs PROG in its own place (same pid, stdin,
 * signal dispositions and mask), so its output, exit status and signals are
 * PROG's.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"

#define PRELOAD_NAME "libuffd-preload.so"

static int usage(FILE *out)
{
	fprintf(out,
		"usage: uffd run [--backend kernel|user|auto] [--] PROG [ARGS...]\n"
		"\n"
		"Run PROG with libuffd's LD_PRELOAD shim (" PRELOAD_NAME "): the\n"
		"userfaultfds it makes (syscall(SYS_userfaultfd), /dev/userfaultfd and\n"
		"USERFAULTFD_IOC_NEW) come from the chosen backend:\n"
		"  kernel  the kernel's userfaultfd, untouched\n"
		"  user    libuffd's user-space implementation\n"
		"  auto    the kernel's, and the user backend where the kernel refuses\n"
		"          (seccomp, vm.unprivileged_userfaultfd=0, no /dev/userfaultfd)\n"
		"          (the default)\n"
		"The choice reaches the programs PROG executes (LD_PRELOAD and\n"
		"UFFD_BACKEND in the environment).  A program that never uses\n"
		"userfaultfd runs unchanged.\n"
		"\n"
		"  --backend B  kernel, user or auto\n"
		"  -h, --help   this help\n"
		"\n"
		"Exit status: PROG's; 125 on bad usage or when the shim is not found,\n"
		"126 when PROG cannot be executed, 127 when it is not found.\n");
	return out == stdout ? 0 : 125;
}

/* The shim beside this executable (build/), else in ../lib (installed). */
static int find_preload(char *out, size_t len)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n < 0)
		return -1;
	exe[n] = 0;
	char *slash = strrchr(exe, '/');
	if (!slash)
		return -1;
	*slash = 0;
	const char *tries[] = { "%s/" PRELOAD_NAME, "%s/../lib/" PRELOAD_NAME };
	for (size_t i = 0; i < sizeof(tries) / sizeof(tries[0]); i++) {
		char path[PATH_MAX + 32];
		snprintf(path, sizeof(path), tries[i], exe);
		if (access(path, R_OK) == 0 && realpath(path, out) && strlen(out) < len)
			return 0;
	}
	return -1;
}

int cmd_run(int argc, char **argv)
{
	const char *backend = "auto";
	int i = 1;

	for (; i < argc; i++) {
		if (!strcmp(argv[i], "--")) {
			i++;
			break;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			return usage(stdout);
		} else if (!strcmp(argv[i], "--backend") || !strncmp(argv[i], "--backend=", 10)) {
			const char *b = argv[i][9] == '=' ? argv[i] + 10 : argv[++i];
			if (!b || (strcmp(b, "kernel") && strcmp(b, "user") && strcmp(b, "auto"))) {
				fprintf(stderr, "uffd run: --backend takes kernel, user or auto\n");
				return usage(stderr);
			}
			backend = b;
		} else if (argv[i][0] == '-') {
			fprintf(stderr, "uffd run: unknown option '%s'\n", argv[i]);
			return usage(stderr);
		} else {
			break;
		}
	}
	if (i >= argc) {
		fprintf(stderr, "uffd run: no program given\n");
		return usage(stderr);
	}

	char shim[PATH_MAX];
	if (find_preload(shim, sizeof(shim)) < 0) {
		fprintf(stderr, "uffd run: cannot find " PRELOAD_NAME " beside uffd or in ../lib\n");
		return 125;
	}
	/* Ahead of whatever LD_PRELOAD the caller had.  A shim built with a
	 * sanitizer (make asan, ubsan) needs its runtime first of all. */
#ifdef SHIM_RUNTIME
	const char *first = SHIM_RUNTIME ":";
#else
	const char *first = "";
#endif
	const char *old = getenv("LD_PRELOAD");
	char *preload = NULL;
	if (asprintf(&preload, "%s%s%s%s", first, shim, old && *old ? ":" : "",
		     old ? old : "") < 0 ||
	    setenv("LD_PRELOAD", preload, 1) || setenv("UFFD_BACKEND", backend, 1)) {
		perror("uffd run");
		return 125;
	}
	free(preload);
	execvp(argv[i], argv + i);
	int err = errno;
	fprintf(stderr, "uffd run: %s: %s\n", argv[i], strerror(err));
	return err == ENOENT ? 127 : 126;
}
