/* SPDX-License-Identifier: MIT */
/* What the image layer asks of a key-value store: batched gets, puts and
 * deletes (pipelined by the store, a bounded number in flight), and a small
 * index of image ids.  Redis (redis.c) and memcached (memcached.c) provide it.
 * Every entry point is thread-safe. */
#ifndef LIBUFFD_STORE_KV_H
#define LIBUFFD_STORE_KV_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

struct kv_item {
	const char *key;
	size_t klen;
	void *buf;          /* get: where the value goes (cap bytes); put: the value */
	size_t cap;         /* get: room in buf; put: value length */
	size_t len;         /* get, out: the value's length (> cap: truncated) */
	int result;         /* out: 0, -ENOENT (no such key), -EIO (store unreachable) */
	int node;           /* internal to the store */
	int ask;            /* internal: the node of an ASK redirect + 1 */
};

struct kv_stats {
	atomic_uint_fast64_t requests;     /* commands sent */
	atomic_uint_fast64_t round_trips;  /* pipeline flushes waited on */
	atomic_uint_fast64_t bytes_in;     /* value bytes received */
	atomic_uint_fast64_t bytes_out;    /* value bytes sent */
	atomic_uint_fast64_t redirects;    /* MOVED and ASK followed (Redis Cluster) */
	atomic_uint_fast64_t reconnects;   /* connections re-made after an error */
};

struct kv;
struct kv_ops {
	/* Each item's result is set; returns 0, or -errno when nothing could run. */
	int (*get)(struct kv *kv, struct kv_item *it, size_t n);
	int (*put)(struct kv *kv, struct kv_item *it, size_t n);
	int (*del)(struct kv *kv, struct kv_item *it, size_t n);
	/* The index of image ids (uffd:images). */
	int (*index_add)(struct kv *kv, const char *id);
	int (*index_del)(struct kv *kv, const char *id);
	/* Calls fn for each id; 0 or -errno. */
	int (*index_list)(struct kv *kv, int (*fn)(void *ctx, const char *id), void *ctx);
	void (*close)(struct kv *kv);
};

struct kv {
	const struct kv_ops *ops;
	struct store_url url;
	struct kv_stats stats;
	char why[256];      /* the last connection error, in words */
};

/* Open the store a URL names: 0 with *out, or -errno (why[] says why). */
STORE_HIDDEN int kv_open(const struct store_url *u, struct kv **out, char *why, size_t whylen);
STORE_HIDDEN int kv_redis_open(const struct store_url *u, struct kv **out, char *why, size_t whylen);
STORE_HIDDEN int kv_memcached_open(const struct store_url *u, struct kv **out, char *why, size_t whylen);

/* One-item helpers over the batch calls. */
STORE_HIDDEN int kv_get1(struct kv *kv, const char *key, void *buf, size_t cap, size_t *len);
STORE_HIDDEN int kv_put1(struct kv *kv, const char *key, const void *val, size_t len);
STORE_HIDDEN int kv_del1(struct kv *kv, const char *key);

#endif
