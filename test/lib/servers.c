/* SPDX-License-Identifier: MIT */
/* Store servers for the tests: see servers.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "servers.h"

static int have(const char *prog)
{
	const char *dirs[] = { "/usr/bin/", "/usr/local/bin/", "/usr/sbin/", "/bin/" };
	char p[128];

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(p, sizeof(p), "%s%s", dirs[i], prog);
		if (access(p, X_OK) == 0)
			return 1;
	}
	return 0;
}

static int port_free(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), ok;

	ok = fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

/* A port p (and p + 10000, Redis Cluster's bus) free now, from 20000-29999. */
static int pick_port(void)
{
	static unsigned seed;

	if (!seed)
		seed = getpid() ^ (unsigned)time(NULL);
	for (int i = 0; i < 1000; i++) {
		int p = 20000 + rand_r(&seed) % 10000;
		if (port_free(p) && port_free(p + 10000))
			return p;
	}
	T_FATAL("no free loopback port");
}

static int connect_port(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct timeval tv = { 5, 0 };

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		close(fd);
		return -1;
	}
	return fd;
}

static int ask(int port, const char *req, char *out, size_t len)
{
	int fd = connect_port(port), n = -1;

	if (fd < 0)
		return -1;
	if (write(fd, req, strlen(req)) == (ssize_t)strlen(req)) {
		size_t got = 0;
		ssize_t r;
		/* Enough for the short replies the tests read; the first read
		 * brings a reply of the size asked for on loopback. */
		while (got + 1 < len && (r = read(fd, out + got, len - 1 - got)) > 0) {
			got += r;
			if (got >= 2 && out[got - 2] == '\r' && out[got - 1] == '\n')
				break;
		}
		out[got] = 0;
		n = (int)got;
	}
	close(fd);
	return n;
}

int t_redis_cmd(int port, const char *cmd, char *out, size_t len)
{
	char req[512];

	snprintf(req, sizeof(req), "%s\r\n", cmd);
	return ask(port, req, out, len);
}

/* Run argv as a server; wait until it answers probe with a reply starting
 * with expect; 0, or -1 when it exited first (e.g. the port was taken). */
static int launch(struct t_server *s, char *const *argv, const char *probe, const char *expect)
{
	pid_t parent = getpid();

	s->pid = fork();
	T_ASSERT(s->pid >= 0);
	if (s->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		char log[96];
		snprintf(log, sizeof(log), "%s/log", s->dir);
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		if (chdir(s->dir))
			_exit(1);
		execvp(argv[0], argv);
		_exit(127);
	}
	/* Up to 10 s for it to listen: try to connect, in 5 ms steps. */
	for (int i = 0; i < 2000; i++) {
		char buf[64];
		int status;
		if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
			s->pid = 0;
			return -1;
		}
		if (ask(s->port, probe, buf, sizeof(buf)) > 0 && !strncmp(buf, expect, strlen(expect)))
			return 0;
		struct timespec ts = { 0, 5000000 };
		nanosleep(&ts, NULL);
	}
	T_FATAL("server on port %d did not answer", s->port);
}

static void make_dir(struct t_server *s)
{
	snprintf(s->dir, sizeof(s->dir), "/tmp/uffd-test-XXXXXX");
	T_ASSERT(mkdtemp(s->dir));
}

static void redis_start(struct t_server *s, const char *const *extra, int cluster)
{
	if (!have("redis-server"))
		t_skip("redis-server is not installed (Debian: redis-server)");
	if (!s->restart)
		make_dir(s);
	s->kind = 'r';
	for (int tries = 0; tries < 10; tries++) {
		char port[16];
		const char *argv[40] = { "redis-server", "--port", port, "--bind", "127.0.0.1",
					 "--save", "", "--appendonly", "no", "--protected-mode", "no",
					 "--enable-debug-command", "yes" };
		int n = 13;
		if (cluster) {
			argv[n++] = "--cluster-enabled";
			argv[n++] = "yes";
			argv[n++] = "--cluster-config-file";
			argv[n++] = "nodes.conf";
			argv[n++] = "--cluster-node-timeout";
			argv[n++] = "5000";
		}
		for (int i = 0; extra && extra[i] && n < 39; i++)
			argv[n++] = extra[i];
		argv[n] = NULL;
		if (!s->restart)
			s->port = pick_port();
		snprintf(port, sizeof(port), "%d", s->port);
		if (launch(s, (char *const *)argv, "PING\r\n", "+PONG") == 0) {
			snprintf(s->url, sizeof(s->url), "redis://127.0.0.1:%d", s->port);
			return;
		}
	}
	T_FATAL("redis-server did not start (see %s/log)", s->dir);
}

void t_redis_start(struct t_server *s, const char *const *extra)
{
	memset(s, 0, sizeof(*s));
	redis_start(s, extra, 0);
}

void t_redis_cluster_start(struct t_server *s, int n)
{
	char *argv[16];
	char addr[8][32];
	int k = 0;

	if (!have("redis-cli"))
		t_skip("redis-cli is not installed (Debian: redis-tools)");
	T_ASSERT(n >= 3 && n <= 8);
	for (int i = 0; i < n; i++) {
		memset(&s[i], 0, sizeof(s[i]));
		redis_start(&s[i], NULL, 1);
	}
	argv[k++] = "redis-cli";
	argv[k++] = "--cluster";
	argv[k++] = "create";
	for (int i = 0; i < n; i++) {
		snprintf(addr[i], sizeof(addr[i]), "127.0.0.1:%d", s[i].port);
		argv[k++] = addr[i];
	}
	argv[k++] = "--cluster-replicas";
	argv[k++] = "0";
	argv[k++] = "--cluster-yes";
	argv[k] = NULL;
	pid_t pid = fork();
	T_ASSERT(pid >= 0);
	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY);
		dup2(fd, 1);
		execvp(argv[0], argv);
		_exit(127);
	}
	int status;
	T_ASSERT(waitpid(pid, &status, 0) == pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		T_FATAL("redis-cli --cluster create failed (status %d)", status);
	/* Every node must agree the cluster is up before the test uses it. */
	for (int i = 0; i < n; i++) {
		int ok = 0;
		for (int tries = 0; tries < 2000 && !ok; tries++) {
			char info[2048];
			ok = t_redis_cmd(s[i].port, "CLUSTER INFO", info, sizeof(info)) > 0 &&
			     strstr(info, "cluster_state:ok");
			if (!ok) {
				struct timespec ts = { 0, 5000000 };
				nanosleep(&ts, NULL);
			}
		}
		if (!ok)
			T_FATAL("cluster node %d did not reach cluster_state:ok", s[i].port);
	}
}

static void memcached_start(struct t_server *s)
{
	if (!have("memcached"))
		t_skip("memcached is not installed (Debian: memcached)");
	if (!s->restart)
		make_dir(s);
	s->kind = 'm';
	for (int tries = 0; tries < 10; tries++) {
		char port[16];
		/* As root memcached wants -u; "-u root" keeps the uid, and with it
		 * PR_SET_PDEATHSIG (a uid change would clear it, and a test that
		 * dies would leave its server running). */
		const char *argv[] = { "memcached", "-p", port, "-l", "127.0.0.1", "-U", "0",
				       "-m", "4096", geteuid() == 0 ? "-u" : NULL, "root", NULL };
		if (!s->restart)
			s->port = pick_port();
		snprintf(port, sizeof(port), "%d", s->port);
		if (launch(s, (char *const *)argv, "version\r\n", "VERSION") == 0) {
			snprintf(s->url, sizeof(s->url), "memcached://127.0.0.1:%d", s->port);
			return;
		}
	}
	T_FATAL("memcached did not start (see %s/log)", s->dir);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

void t_memcached_start(struct t_server *s)
{
	memset(s, 0, sizeof(*s));
	memcached_start(s);
}

void t_server_kill(struct t_server *s)
{
	if (s->pid > 0) {
		kill(s->pid, SIGKILL);
		while (waitpid(s->pid, NULL, 0) < 0 && errno == EINTR)
			;
		s->pid = 0;
	}
}

void t_server_pause(struct t_server *s)
{
	int status;

	kill(s->pid, SIGSTOP);
	while (waitpid(s->pid, &status, WUNTRACED) < 0 && errno == EINTR)
		;
	T_ASSERT(WIFSTOPPED(status));
}

void t_server_resume(struct t_server *s)
{
	int status;

	kill(s->pid, SIGCONT);
	while (waitpid(s->pid, &status, WCONTINUED) < 0 && errno == EINTR)
		;
	T_ASSERT(WIFCONTINUED(status));
}

void t_server_restart(struct t_server *s)
{
	t_server_kill(s);
	s->restart = 1;
	if (s->kind == 'r')
		redis_start(s, NULL, 0);
	else
		memcached_start(s);
	s->restart = 0;
}

void t_server_stop(struct t_server *s)
{
	t_server_kill(s);
	if (s->dir[0]) {
		nftw(s->dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
		s->dir[0] = 0;
	}
}
