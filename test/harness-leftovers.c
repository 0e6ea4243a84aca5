/*
 * A test that is stopped leaves no process behind (issue 11): a run-* test
 * (test/lib/run.c's tr_run()) whose program, a shell under `uffd run`,
 * started a child and waits, is stopped
 *  - by its time limit (SIGALRM to the half, as alarm() sends it),
 *  - as run.sh's `timeout` or ^C stops it (SIGTERM to the test process),
 *  - killed (SIGKILL to the test process alone);
 * both the program and its child are gone once the test has exited.  Each
 * case runs this program again as a harness test of its own (T_LEFTOVERS set,
 * the user half only); the shell writes its pid and its child's to a FIFO
 * once they run.  Not a differential scenario itself: it prints one PASS
 * or FAIL line.
 */
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "run.h"

static void scenario(void)
{
	char *out;

	/* Never returns: the case stops it. */
	tr_run(NULL, (char *const[]){ "/bin/sh", "-c",
		"sleep 1000 & echo $$ $! >\"$T_LEFTOVERS\"; wait", NULL }, &out);
	T_FATAL("the program ended: %s", out);
}

static int pidfd(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

/* The parent of pid, from /proc/pid/stat, or -1. */
static pid_t parent_of(pid_t pid)
{
	char path[64], buf[512];
	int ppid = -1;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "re");
	if (f && fgets(buf, sizeof(buf), f)) {
		const char *end = strrchr(buf, ')');
		if (!end || sscanf(end + 1, " %*c %d", &ppid) != 1)
			ppid = -1;
	}
	if (f)
		fclose(f);
	return ppid;
}

/* Wait (at most ms) for the process behind pidfd fd to end: 1 when it did. */
static int ended(int fd, int ms)
{
	struct pollfd p = { fd, POLLIN, 0 };
	int n;

	while ((n = poll(&p, 1, ms)) < 0 && errno == EINTR)
		;
	return n == 1;
}

/* Run one case: sig to the half (to_half) or to the test process.  NULL,
 * or what went wrong. */
static const char *one_case(const char *self, int sig, int to_half, char *why, size_t len)
{
	char dir[] = "/tmp/t-leftovers-XXXXXX", fifo[64];
	const char *bad = NULL;
	int prog[2] = { -1, -1 };

	if (!mkdtemp(dir))
		return "mkdtemp";
	snprintf(fifo, sizeof(fifo), "%s/pids", dir);
	int rd = mkfifo(fifo, 0600) ? -1 : open(fifo, O_RDWR | O_CLOEXEC);
	fflush(NULL);
	pid_t test = rd < 0 ? -1 : fork();
	if (test == 0) {
		int null = open("/dev/null", O_WRONLY);
		dup2(null, 1);
		dup2(null, 2);
		setenv("T_LEFTOVERS", fifo, 1);
		setenv("T_ONLY", "user", 1);
		execl(self, self, (char *)NULL);
		_exit(127);
	}
	int test_fd = test < 0 ? -1 : pidfd(test);
	struct pollfd p[2] = { { rd, POLLIN, 0 }, { test_fd, POLLIN, 0 } };
	char line[64] = "";
	int pids[2] = { 0, 0 };
	if (test_fd < 0)
		bad = "cannot start the test";
	else if (poll(p, 2, 60000) != 1 || !(p[0].revents & POLLIN) ||
		 read(rd, line, sizeof(line) - 1) <= 0 ||
		 sscanf(line, "%d %d", &pids[0], &pids[1]) != 2)
		bad = "the program did not start";
	for (int i = 0; !bad && i < 2; i++)
		if ((prog[i] = pidfd(pids[i])) < 0)
			bad = "the program ended by itself";
	pid_t target = bad ? -1 : to_half ? parent_of(pids[0]) : test;
	if (!bad && (target <= 0 || kill(target, sig)))
		bad = "cannot find the half";
	if (test > 0) {
		if (bad)
			kill(test, SIGKILL);
		waitpid(test, NULL, 0);
	}
	/* The test has exited: what it started is gone, or going. */
	for (int i = 0; !bad && i < 2; i++)
		if (!ended(prog[i], 10000)) {
			snprintf(why, len, "the test left %s (pid %d) running",
				 i ? "the program's child" : "the program", pids[i]);
			bad = why;
		}
	for (int i = 0; i < 2; i++)
		if (prog[i] >= 0) {
			syscall(SYS_pidfd_send_signal, prog[i], SIGKILL, NULL, 0);
			close(prog[i]);
		}
	if (test_fd >= 0)
		close(test_fd);
	if (rd >= 0)
		close(rd);
	unlink(fifo);
	rmdir(dir);
	return bad;
}

int main(void)
{
	static const struct { const char *name; int sig, to_half; } cases[] = {
		{ "time limit (SIGALRM to the half)", SIGALRM, 1 },
		{ "stopped (SIGTERM to the test)", SIGTERM, 0 },
		{ "killed (SIGKILL to the test)", SIGKILL, 0 },
	};
	char self[4096], why[128];
	int bad = 0;

	if (getenv("T_LEFTOVERS"))
		return t_main("leftovers", scenario);
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0) {
		printf("FAIL harness-leftovers: readlink: %s\n", strerror(errno));
		return 1;
	}
	self[n] = 0;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *err = one_case(self, cases[i].sig, cases[i].to_half, why, sizeof(why));
		if (err) {
			printf("FAIL harness-leftovers: %s: %s\n", cases[i].name, err);
			bad++;
		}
	}
	if (!bad)
		printf("PASS harness-leftovers: %zu cases\n", sizeof(cases) / sizeof(cases[0]));
	return bad ? 1 : 0;
}
