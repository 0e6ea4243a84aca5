/* SPDX-License-Identifier: MIT */
/* Helpers for the Redis Cluster tests: see rcluster.h. */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "rcluster.h"

redisContext *t_rc_node(const struct t_server *s)
{
	redisContext *c = redisConnect("127.0.0.1", s->port);

	T_ASSERT(c && !c->err);
	return c;
}

void t_rc_ok(redisContext *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	redisReply *r = redisvCommand(c, fmt, ap);
	va_end(ap);
	if (!r || r->type == REDIS_REPLY_ERROR)
		T_FATAL("redis: %s failed: %s", fmt, r ? r->str : c->errstr);
	freeReplyObject(r);
}

void t_rc_myid(redisContext *c, char *id)
{
	redisReply *r = redisCommand(c, "CLUSTER MYID");

	T_ASSERT(r && r->type == REDIS_REPLY_STRING && r->len < 64);
	strcpy(id, r->str);
	freeReplyObject(r);
}

long long t_rc_int(redisContext *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	redisReply *r = redisvCommand(c, fmt, ap);
	va_end(ap);
	T_ASSERT(r && r->type == REDIS_REPLY_INTEGER);
	long long v = r->integer;
	freeReplyObject(r);
	return v;
}

int t_rc_owner(redisContext **c, int n, unsigned slot)
{
	for (int i = 0; i < n; i++)
		if (t_rc_int(c[i], "CLUSTER COUNTKEYSINSLOT %u", slot) > 0)
			return i;
	T_FATAL("no node holds keys of slot %u", slot);
}

void t_rc_migrate_key(redisContext **c, const struct t_server *s, char ids[][64], int src,
		      int dst, unsigned slot, const char *key)
{
	t_rc_ok(c[dst], "CLUSTER SETSLOT %u IMPORTING %s", slot, ids[src]);
	t_rc_ok(c[src], "CLUSTER SETSLOT %u MIGRATING %s", slot, ids[dst]);
	t_rc_ok(c[src], "MIGRATE 127.0.0.1 %d %s 0 5000", s[dst].port, key);
}

void t_rc_settle(redisContext **c, int n, char ids[][64], unsigned slot, int dst)
{
	for (int i = 0; i < n; i++)
		t_rc_ok(c[i], "CLUSTER SETSLOT %u NODE %s", slot, ids[dst]);
}

pid_t t_rc_reshard(const struct t_server *seed, const char *id, int nslots)
{
	char addr[32], slots[16];
	pid_t pid;

	snprintf(addr, sizeof(addr), "127.0.0.1:%d", seed->port);
	snprintf(slots, sizeof(slots), "%d", nslots);
	T_ASSERT((pid = fork()) >= 0);
	if (pid == 0) {
		int nul = open("/dev/null", O_WRONLY);
		dup2(nul, 1);
		dup2(nul, 2);
		execlp("redis-cli", "redis-cli", "--cluster", "reshard", addr, "--cluster-from",
		       "all", "--cluster-to", id, "--cluster-slots", slots, "--cluster-yes",
		       (char *)NULL);
		_exit(127);
	}
	return pid;
}
