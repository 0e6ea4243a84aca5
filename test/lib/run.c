/* SPDX-License-Identifier: MIT */
/* Running programs under `uffd run` for the shim tests (see run.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "run.h"

const char *tr_build_path(const char *rel)
{
	char exe[PATH_MAX], *path;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	T_ASSERT(n > 0);
	exe[n] = 0;
	for (int i = 0; i < 2; i++) {   /* BUILD/test/NAME -> BUILD */
		char *slash = strrchr(exe, '/');
		T_ASSERT(slash);
		*slash = 0;
	}
	T_ASSERT(asprintf(&path, "%s/%s", exe, rel) > 0);
	return path;   /* the test's to keep */
}

static void need_backend(void)
{
	struct uffd_backend_info info;

	if (uffd_backend_probe(t_backend, 0, &info) == 0 && !info.available)
		t_skip("%s backend unavailable: %s", uffd_backend_name(t_backend), info.why);
}

int tr_run(const char *backend, char *const argv[], char **out)
{
	char uffd[PATH_MAX + 64];
	const char *args[64];
	int n = 0, pipefd[2];

	if (!backend) {
		need_backend();
		backend = uffd_backend_name(t_backend);
	}
	snprintf(uffd, sizeof(uffd), "%s", tr_build_path("uffd"));
	args[n++] = uffd;
	args[n++] = "run";
	args[n++] = "--backend";
	args[n++] = backend;
	args[n++] = "--";
	for (int i = 0; argv[i] && n < 63; i++)
		args[n++] = argv[i];
	args[n] = NULL;

	T_ASSERT(pipe2(pipefd, O_CLOEXEC) == 0);
	fflush(NULL);
	/* In the half's process group, which ends with the half (half.h). */
	pid_t pid = fork();
	T_ASSERT(pid >= 0);
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);
		dup2(null, 0);
		dup2(pipefd[1], 1);
		execv(uffd, (char *const *)args);
		_exit(127);
	}
	close(pipefd[1]);
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);
	T_ASSERT(buf);
	for (;;) {
		if (len + 1024 > cap) {
			cap *= 2;
			buf = realloc(buf, cap);
			T_ASSERT(buf);
		}
		ssize_t got = read(pipefd[0], buf + len, cap - len - 1);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		len += (size_t)got;
	}
	buf[len] = 0;
	close(pipefd[0]);
	int status;
	while (waitpid(pid, &status, 0) < 0)
		T_ASSERT(errno == EINTR);
	*out = buf;
	return status;
}

void (tr_prog)(const char *backend, const char *name, const char *arg)
{
	char rel[256], *out;

	snprintf(rel, sizeof(rel), "prog/%s", name);
	char *path = (char *)tr_build_path(rel);
	int status = tr_run(backend, (char *const[]){ path, (char *)arg, NULL }, &out);
	/* None of the programs exits with an error (one dies of a signal on
	 * purpose): an error on both backends, such as a sanitizer's report,
	 * would otherwise compare equal. */
	if (WIFEXITED(status) && WEXITSTATUS(status))
		T_FATAL("%s exited with status %d", name, WEXITSTATUS(status));
	tr_obs_status(status);
	tr_obs_lines(out);
	free(out);
	free(path);
}

void tr_obs_status(int status)
{
	if (WIFEXITED(status))
		T_OBS("exit %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		T_OBS("signal %s", sigabbrev_np(WTERMSIG(status)));
	else
		T_OBS("status 0x%x", status);
}

void tr_obs_lines(const char *out)
{
	const char *p = out;

	while (*p) {
		const char *nl = strchr(p, '\n');
		int len = nl ? (int)(nl - p) : (int)strlen(p);
		T_OBS("| %.*s", len, p);
		p += len + (nl != NULL);
	}
}

void tr_compile(const char *src, const char *bin, const char *flags)
{
	char cmd[3 * PATH_MAX];

	snprintf(cmd, sizeof(cmd), "cc -std=gnu11 -O2 -pthread %s -o '%s' '%s' -pthread",
		 flags ? flags : "", bin, src);
	if (system(cmd) != 0)
		T_FATAL("cannot compile %s: %s", src, cmd);
}
