/* SPDX-License-Identifier: MIT */
/* The process of a half and its group: see half.h. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "half.h"

static volatile pid_t half_group;   /* the half running, or 0 */
static pid_t warden;
static const int end_signals[] = { SIGTERM, SIGINT, SIGHUP };
#define N_END (sizeof(end_signals) / sizeof(end_signals[0]))
static struct sigaction end_was[N_END];   /* what the half gets back */

static void end_with_half(int sig)
{
	if (half_group > 0)
		kill(-half_group, SIGKILL);
	signal(sig, SIG_DFL);
	raise(sig);
}

void t_half_signals(void)
{
	for (size_t i = 0; i < N_END; i++) {
		struct sigaction end = { .sa_handler = end_with_half };
		sigaction(end_signals[i], NULL, &end_was[i]);
		if (end_was[i].sa_handler != SIG_IGN)
			sigaction(end_signals[i], &end, NULL);
	}
}

/* The warden of group half: kills it once the half has ended. */
static pid_t start_warden(pid_t half)
{
	int hfd = (int)syscall(SYS_pidfd_open, half, 0);

	if (hfd < 0)
		abort();
	pid_t pid = fork();
	if (pid < 0)
		abort();
	if (pid == 0) {
		/* In the group before anything (the test cannot reap the
		 * half, whose group it is, before it has put us there too). */
		if (setpgid(0, half) || getpgrp() != half)
			_exit(1);
		struct pollfd p = { hfd, POLLIN, 0 };
		while (poll(&p, 1, -1) < 0 && errno == EINTR)
			;
		kill(0, SIGKILL);
		_exit(1);
	}
	setpgid(pid, half);
	close(hfd);
	return pid;
}

pid_t t_half_start(void)
{
	pid_t parent = getpid();
	sigset_t set, old;

	sigemptyset(&set);
	for (size_t i = 0; i < N_END; i++)
		sigaddset(&set, end_signals[i]);
	sigprocmask(SIG_BLOCK, &set, &old);
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		abort();
	if (pid == 0) {
		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		for (size_t i = 0; i < N_END; i++)
			sigaction(end_signals[i], &end_was[i], NULL);
	} else {
		setpgid(pid, pid);
		half_group = pid;
		warden = start_warden(pid);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	return pid;
}

int t_half_end(pid_t half)
{
	siginfo_t si;
	int status;

	while (waitid(P_PID, (id_t)half, &si, WEXITED | WNOWAIT) < 0)
		if (errno != EINTR)
			abort();
	kill(-half, SIGKILL);
	half_group = 0;
	while (waitpid(warden, NULL, 0) < 0)
		if (errno != EINTR)
			abort();
	while (waitpid(half, &status, 0) < 0)
		if (errno != EINTR)
			abort();
	return status;
}
