/* SPDX-License-Identifier: MIT */
/*
 * Store servers for the tests: redis-server (one, or a three-node Redis
 * Cluster) and memcached, started on free loopback ports in a private
 * directory, killed when stopped or when the test process dies
 * (PR_SET_PDEATHSIG).  When a server binary is missing the half skips.
 */
#ifndef LIBUFFD_TEST_SERVERS_H
#define LIBUFFD_TEST_SERVERS_H

#include <stddef.h>
#include <sys/types.h>

struct t_server {
	pid_t pid;
	int port;
	char dir[64];
	char url[64];   /* redis://127.0.0.1:PORT or memcached://127.0.0.1:PORT */
	int kind;       /* 'r' or 'm' */
	int restart;    /* internal */
};

/* Start a redis-server (extra: NULL-terminated extra arguments, or NULL). */
void t_redis_start(struct t_server *s, const char *const *extra);
/* Start n redis-servers and join them into one cluster (slots spread evenly). */
void t_redis_cluster_start(struct t_server *s, int n);
void t_memcached_start(struct t_server *s);
/* Kill (SIGKILL) and reap; remove its directory. */
void t_server_stop(struct t_server *s);
/* Kill and reap only; start it again, empty, on the same port. */
void t_server_kill(struct t_server *s);
void t_server_restart(struct t_server *s);
/* Stop it (SIGSTOP) / let it go on (SIGCONT), returning once it has. */
void t_server_pause(struct t_server *s);
void t_server_resume(struct t_server *s);
/* One Redis command on a fresh connection (inline syntax); the reply's raw
 * bytes in out; returns their length or -1. */
int t_redis_cmd(int port, const char *cmd, char *out, size_t len);

#endif
