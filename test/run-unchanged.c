/* SPDX-License-Identifier: MIT */
/*
 * A program that never uses userfaultfd runs under `uffd run` exactly as
 * without it: the same stdout and stderr, stdin, arguments, inherited
 * signal dispositions (SIGINT ignored stays ignored; SIGSEGV untouched), exit
 * status, and death by its own SIGSEGV.
 */
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "run.h"

struct result {
	int status;
	char out[8192], err[1024];
};

static void slurp(int fd, char *buf, size_t len)
{
	size_t n = 0;
	ssize_t got;

	lseek(fd, 0, SEEK_SET);
	while (n + 1 < len && (got = read(fd, buf + n, len - n - 1)) > 0)
		n += (size_t)got;
	buf[n] = 0;
}

/* Run argv with stdin from a file holding in, SIGINT ignored. */
static void run(char *const argv[], const char *in, struct result *r)
{
	int fin = memfd_create("in", 0), fout = memfd_create("out", 0),
	    ferr = memfd_create("err", 0);
	T_ASSERT(fin >= 0 && fout >= 0 && ferr >= 0);
	T_ASSERT(write(fin, in, strlen(in)) == (ssize_t)strlen(in));
	lseek(fin, 0, SEEK_SET);
	fflush(NULL);
	pid_t pid = fork();
	T_ASSERT(pid >= 0);
	if (pid == 0) {
		signal(SIGINT, SIG_IGN);
		dup2(fin, 0);
		dup2(fout, 1);
		dup2(ferr, 2);
		execv(argv[0], argv);
		_exit(127);
	}
	while (waitpid(pid, &r->status, 0) < 0)
		T_ASSERT(errno == EINTR);
	slurp(fout, r->out, sizeof(r->out));
	slurp(ferr, r->err, sizeof(r->err));
	close(fin), close(fout), close(ferr);
}

static void compare(const char *what, const char *arg1)
{
	char prog[PATH_MAX + 64], uffd[PATH_MAX + 64];
	struct result direct, shim;
	const char *in = "line one\nline two\n";

	snprintf(prog, sizeof(prog), "%s", tr_build_path("prog/plain"));
	snprintf(uffd, sizeof(uffd), "%s", tr_build_path("uffd"));
	run((char *const[]){ prog, (char *)arg1, "b c", NULL }, in, &direct);
	run((char *const[]){ uffd, "run", "--backend", (char *)uffd_backend_name(t_backend),
			     "--", prog, (char *)arg1, "b c", NULL }, in, &shim);
	T_OBS("%s", what);
	tr_obs_status(shim.status);
	tr_obs_lines(shim.out);
	T_EXPECT_EQ(shim.status, direct.status);
	T_EXPECT(!strcmp(shim.out, direct.out));
	T_EXPECT(!strcmp(shim.err, direct.err));
}

static void scenario(void)
{
	compare("exits", "a");
	compare("crashes", "segv");
}

T_MAIN("run-unchanged", scenario)
