/* SPDX-License-Identifier: MIT */
/* Finding and running the `uffd` command from a test (command.h). */
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "command.h"

int cmd_find(char *out, size_t len)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n < 0)
		return -1;
	self[n] = 0;
	char *dir = dirname(dirname(self));
	if ((size_t)snprintf(out, len, "%s/uffd", dir) >= len)
		return -1;
	return access(out, X_OK);
}

char *cmd_run(char *const argv[], int *status)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC))
		return NULL;
	pid_t pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		execv(argv[0], argv);
		_exit(127);
	}
	close(p[1]);
	size_t len = 0, cap = 1 << 16;
	char *buf = malloc(cap);
	ssize_t n;
	while (buf && (n = read(p[0], buf + len, cap - len - 1)) > 0) {
		len += (size_t)n;
		if (cap - len < 2)
			buf = realloc(buf, cap *= 2);
	}
	close(p[0]);
	if (pid < 0 || waitpid(pid, status, 0) < 0 || !buf) {
		free(buf);
		return NULL;
	}
	buf[len] = 0;
	return buf;
}
