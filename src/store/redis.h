/* SPDX-License-Identifier: MIT */
/* Inside the Redis store: nodes, their connection pools, the slot map. */
#ifndef LIBUFFD_STORE_REDIS_H
#define LIBUFFD_STORE_REDIS_H

#include <pthread.h>
#include <stdatomic.h>

#include <hiredis.h>

#include "kv.h"

#define RKV_MAX_NODES  64
#define RKV_POOL_MAX   16
#define RKV_NSLOTS     16384
#define RKV_NO_NODE    0xffff

struct rnode {
	char host[256];
	int port;
	pthread_mutex_t lock;          /* guards idle[] */
	redisContext *idle[RKV_POOL_MAX];
	int nidle;
};

struct rkv {
	struct kv kv;
	int cluster;                   /* 1: route by key slot and follow redirects */
	pthread_mutex_t nodes_lock;    /* serialises adding nodes */
	struct rnode *nodes[RKV_MAX_NODES];
	atomic_int nnodes;
	_Atomic uint16_t slots[RKV_NSLOTS];   /* node index per slot, or RKV_NO_NODE */
};

/* redis.c */
STORE_HIDDEN redisContext *rkv_connect(struct rkv *r, struct rnode *n);
/* The node at host:port, added if new; its index or -ENOSPC. */
STORE_HIDDEN int rkv_node(struct rkv *r, const char *host, int port);

/* redis_cluster.c: the cluster specification's routing, nothing else. */
STORE_HIDDEN unsigned rkv_key_slot(const char *key, size_t len);
/* Load the slot map from CLUSTER SLOTS on c (the node seed): 1 if the
 * server is a cluster node, 0 if cluster support is disabled, -EIO. */
STORE_HIDDEN int rkv_load_slots(struct rkv *r, redisContext *c, const struct rnode *seed);
/* The node a key goes to (node 0 when its slot is not known yet). */
STORE_HIDDEN int rkv_route(struct rkv *r, const char *key, size_t len);
/* An error reply: a redirect?  Returns 1 for MOVED (the slot map is updated,
 * *node is the new owner), 2 for ASK (*node: ask it, once), 3 for TRYAGAIN or
 * CLUSTERDOWN (retry later), 0 for any other error. */
STORE_HIDDEN int rkv_redirect(struct rkv *r, const char *err, size_t len, int *node);

#endif
