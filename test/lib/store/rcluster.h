/* SPDX-License-Identifier: MIT */
/* Helpers for the Redis Cluster tests (store-redis-cluster, store-cluster-pager):
 * a connection to one node, commands that must succeed, and slot moves. */
#ifndef LIBUFFD_TEST_RCLUSTER_H
#define LIBUFFD_TEST_RCLUSTER_H

#include <hiredis.h>
#include <sys/types.h>

#include "servers.h"

/* A connection to node s (fatal on failure); redisFree() it. */
redisContext *t_rc_node(const struct t_server *s);
/* A command that must not fail (fatal otherwise). */
void t_rc_ok(redisContext *c, const char *fmt, ...);
/* A command whose reply is an integer. */
long long t_rc_int(redisContext *c, const char *fmt, ...);
/* The node's cluster id (41 bytes with the NUL). */
void t_rc_myid(redisContext *c, char *id);
/* The node of s[0..n) holding keys of slot (fatal if none). */
int t_rc_owner(redisContext **c, int n, unsigned slot);
/* Move slot from node src to dst as an operator would, stopping half way
 * (the key moved, the slot still src's: readers get ASK). */
void t_rc_migrate_key(redisContext **c, const struct t_server *s, char ids[][64], int src,
		      int dst, unsigned slot, const char *key);
/* ... and finish it: every node says dst owns slot (stale readers: MOVED). */
void t_rc_settle(redisContext **c, int n, char ids[][64], unsigned slot, int dst);
/* Start `redis-cli --cluster reshard` moving nslots from every node to node
 * id (through seed); returns its pid, to be waited for. */
pid_t t_rc_reshard(const struct t_server *seed, const char *id, int nslots);

#endif
