/* SPDX-License-Identifier: MIT */
/*
 * The Redis store over hiredis: a pool of connections per node, batches sent
 * as pipelines with at most url.inflight commands in flight per caller, a
 * reply timeout (url.timeout_ms), reconnects with exponential backoff
 * (url.retries), and Redis Cluster routing (redis_cluster.c) when the server
 * is a cluster node.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redis.h"

enum rcmd { R_GET, R_SET, R_DEL, R_SADD, R_SREM, R_SMEMBERS };

static struct timeval tv_ms(int ms)
{
	return (struct timeval){ ms / 1000, (ms % 1000) * 1000 };
}

int rkv_node(struct rkv *r, const char *host, int port)
{
	int n = atomic_load(&r->nnodes), ret = -ENOSPC;

	if (!*host && n > 0)
		host = r->nodes[0]->host;   /* an endpoint of "" is the one we know */
	for (int i = 0; i < n; i++)
		if (r->nodes[i]->port == port && !strcmp(r->nodes[i]->host, host))
			return i;
	pthread_mutex_lock(&r->nodes_lock);
	n = atomic_load(&r->nnodes);
	for (int i = 0; i < n; i++)
		if (r->nodes[i]->port == port && !strcmp(r->nodes[i]->host, host)) {
			ret = i;
			goto out;
		}
	if (n < RKV_MAX_NODES && strlen(host) < sizeof(r->nodes[0]->host)) {
		struct rnode *node = calloc(1, sizeof(*node));
		if (!node) {
			ret = -ENOMEM;
			goto out;
		}
		strcpy(node->host, host);
		node->port = port;
		pthread_mutex_init(&node->lock, NULL);
		r->nodes[n] = node;
		atomic_store(&r->nnodes, n + 1);
		ret = n;
	}
out:
	pthread_mutex_unlock(&r->nodes_lock);
	return ret;
}

redisContext *rkv_connect(struct rkv *r, struct rnode *n)
{
	redisContext *c = redisConnectWithTimeout(n->host, n->port, tv_ms(r->kv.url.timeout_ms));

	if (!c || c->err) {
		snprintf(r->kv.why, sizeof(r->kv.why), "redis %.100s:%d: %.120s", n->host, n->port,
			 c ? c->errstr : "out of memory");
		redisFree(c);
		return NULL;
	}
	if (redisSetTimeout(c, tv_ms(r->kv.url.timeout_ms)) != REDIS_OK) {
		redisFree(c);
		return NULL;
	}
	redisEnableKeepAlive(c);
	return c;
}

static redisContext *pool_get(struct rkv *r, struct rnode *n)
{
	redisContext *c = NULL;

	pthread_mutex_lock(&n->lock);
	if (n->nidle)
		c = n->idle[--n->nidle];
	pthread_mutex_unlock(&n->lock);
	return c ? c : rkv_connect(r, n);
}

static void pool_put(struct rnode *n, redisContext *c)
{
	pthread_mutex_lock(&n->lock);
	if (n->nidle < RKV_POOL_MAX) {
		n->idle[n->nidle++] = c;
		c = NULL;
	}
	pthread_mutex_unlock(&n->lock);
	redisFree(c);
}

static void append(struct rkv *r, redisContext *c, enum rcmd cmd, struct kv_item *it)
{
	static const char *const names[] = { "GET", "SET", "DEL", "SADD", "SREM", "SMEMBERS" };
	const char *argv[3] = { names[cmd], it->key, it->buf };
	size_t lens[3] = { strlen(names[cmd]), it->klen, it->cap };
	int argc = cmd == R_GET || cmd == R_DEL || cmd == R_SMEMBERS ? 2 : 3;

	if (it->ask)
		redisAppendCommand(c, "ASKING");
	redisAppendCommandArgv(c, argc, argv, lens);
	atomic_fetch_add(&r->kv.stats.requests, 1);
	if (cmd == R_SET)
		atomic_fetch_add(&r->kv.stats.bytes_out, it->cap);
}

/* The reply to it: 0 done, 1 pending again (redirect), 2 retry later. */
static int take_reply(struct rkv *r, enum rcmd cmd, struct kv_item *it, redisReply *rep)
{
	int node;

	it->ask = 0;
	if (rep->type == REDIS_REPLY_ERROR) {
		switch (rkv_redirect(r, rep->str, rep->len, &node)) {
		case 1:
			atomic_fetch_add(&r->kv.stats.redirects, 1);
			it->node = node;
			return 1;
		case 2:
			atomic_fetch_add(&r->kv.stats.redirects, 1);
			it->node = node;
			it->ask = 1;
			return 1;
		case 3:
			return 2;
		}
		snprintf(r->kv.why, sizeof(r->kv.why), "redis: %.*s", (int)rep->len, rep->str);
		it->result = -EIO;
		return 0;
	}
	switch (cmd) {
	case R_GET:
		if (rep->type == REDIS_REPLY_NIL) {
			it->result = -ENOENT;
		} else if (rep->type == REDIS_REPLY_STRING) {
			it->len = rep->len;
			memcpy(it->buf, rep->str, rep->len < it->cap ? rep->len : it->cap);
			atomic_fetch_add(&r->kv.stats.bytes_in, rep->len);
			it->result = 0;
		} else {
			it->result = -EIO;
		}
		break;
	case R_DEL:
	case R_SREM:
		it->result = rep->type != REDIS_REPLY_INTEGER ? -EIO : rep->integer ? 0 : -ENOENT;
		break;
	case R_SADD:
		it->result = rep->type == REDIS_REPLY_INTEGER ? 0 : -EIO;
		break;
	case R_SET:
		it->result = rep->type == REDIS_REPLY_STATUS ? 0 : -EIO;
		break;
	case R_SMEMBERS:
		if (rep->type != REDIS_REPLY_ARRAY) {
			it->result = -EIO;
			break;
		}
		/* The caller frees it: see index_list(). */
		it->buf = rep;
		it->result = 0;
		return -1;
	}
	return 0;
}

/*
 * Run the pending items bound for node ni as one pipeline: a sliding window of
 * at most inflight commands; on a connection error, reconnect with backoff and
 * resend what has no reply yet (every command here is idempotent).
 * Returns the number of items left pending (redirected or to retry later).
 */
static size_t run_node(struct rkv *r, int ni, enum rcmd cmd, struct kv_item **v, size_t m,
		       int *again)
{
	struct rnode *n = r->nodes[ni];
	size_t sent = 0, recvd = 0, left = 0;
	int window = r->kv.url.inflight, attempt = 0, unflushed = 0;
	redisContext *c = pool_get(r, n);

	while (recvd < m) {
		if (!c) {
			if (attempt++ >= r->kv.url.retries)
				break;
			store_backoff(attempt);
			atomic_fetch_add(&r->kv.stats.reconnects, 1);
			c = rkv_connect(r, n);
			sent = recvd;
			continue;
		}
		while (sent < m && sent - recvd < (size_t)window) {
			append(r, c, cmd, v[sent++]);
			unflushed = 1;
		}
		redisReply *rep = NULL;
		struct kv_item *it = v[recvd];
		if (unflushed)
			atomic_fetch_add(&r->kv.stats.round_trips, 1);
		unflushed = 0;
		int ok = redisGetReply(c, (void **)&rep) == REDIS_OK && rep;
		if (ok && it->ask) {            /* the +OK to ASKING */
			freeReplyObject(rep);
			rep = NULL;
			ok = redisGetReply(c, (void **)&rep) == REDIS_OK && rep;
		}
		if (!ok) {
			snprintf(r->kv.why, sizeof(r->kv.why), "redis %.100s:%d: %.120s", n->host, n->port,
				 c->err ? c->errstr : "no reply");
			redisFree(c);
			c = NULL;
			continue;
		}
		attempt = 0;
		int t = take_reply(r, cmd, it, rep);
		if (t >= 1) {
			left++;
			if (t == 2)
				*again = 1;
		}
		if (t != -1)
			freeReplyObject(rep);
		recvd++;
	}
	if (c)
		pool_put(n, c);
	for (; recvd < m; recvd++)
		v[recvd]->result = -EIO;
	return left;
}

static int exec(struct rkv *r, enum rcmd cmd, struct kv_item *it, size_t n)
{
	struct kv_item **v = malloc((n ? n : 1) * sizeof(*v));
	size_t pending = n;

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		it[i].result = 1;
		it[i].ask = 0;
		it[i].node = rkv_route(r, it[i].key, it[i].klen);
	}
	for (int round = 0; pending && round < 16; round++) {
		int again = 0, nn = atomic_load(&r->nnodes);
		pending = 0;
		for (int ni = 0; ni < nn; ni++) {
			size_t m = 0;
			for (size_t i = 0; i < n; i++)
				if (it[i].result == 1 && it[i].node == ni)
					v[m++] = &it[i];
			if (m)
				pending += run_node(r, ni, cmd, v, m, &again);
		}
		if (again)
			store_backoff(round);
	}
	for (size_t i = 0; i < n; i++)
		if (it[i].result == 1) {
			snprintf(r->kv.why, sizeof(r->kv.why), "redis: too many redirects");
			it[i].result = -EIO;
		}
	free(v);
	return 0;
}

static int rkv_get(struct kv *kv, struct kv_item *it, size_t n)
{
	return exec((struct rkv *)kv, R_GET, it, n);
}

static int rkv_put(struct kv *kv, struct kv_item *it, size_t n)
{
	return exec((struct rkv *)kv, R_SET, it, n);
}

static int rkv_del(struct kv *kv, struct kv_item *it, size_t n)
{
	return exec((struct rkv *)kv, R_DEL, it, n);
}

static int index_op(struct kv *kv, enum rcmd cmd, const char *id)
{
	struct kv_item it = { .key = STORE_KEY_INDEX, .klen = strlen(STORE_KEY_INDEX),
			      .buf = (void *)id, .cap = strlen(id) };
	int ret = exec((struct rkv *)kv, cmd, &it, 1);
	return ret ? ret : it.result;
}

static int rkv_index_add(struct kv *kv, const char *id)
{
	return index_op(kv, R_SADD, id);
}

static int rkv_index_del(struct kv *kv, const char *id)
{
	return index_op(kv, R_SREM, id);
}

static int rkv_index_list(struct kv *kv, int (*fn)(void *, const char *), void *ctx)
{
	struct kv_item it = { .key = STORE_KEY_INDEX, .klen = strlen(STORE_KEY_INDEX) };
	int ret = exec((struct rkv *)kv, R_SMEMBERS, &it, 1);

	if (ret || it.result)
		return ret ? ret : it.result;
	redisReply *rep = it.buf;
	for (size_t i = 0; i < rep->elements && !ret; i++)
		if (rep->element[i]->type == REDIS_REPLY_STRING)
			ret = fn(ctx, rep->element[i]->str);
	freeReplyObject(rep);
	return ret;
}

static void rkv_close(struct kv *kv)
{
	struct rkv *r = (struct rkv *)kv;

	for (int i = 0; i < atomic_load(&r->nnodes); i++) {
		for (int k = 0; k < r->nodes[i]->nidle; k++)
			redisFree(r->nodes[i]->idle[k]);
		pthread_mutex_destroy(&r->nodes[i]->lock);
		free(r->nodes[i]);
	}
	pthread_mutex_destroy(&r->nodes_lock);
	free(r);
}

static const struct kv_ops rkv_ops = {
	.get = rkv_get, .put = rkv_put, .del = rkv_del,
	.index_add = rkv_index_add, .index_del = rkv_index_del, .index_list = rkv_index_list,
	.close = rkv_close,
};

int kv_redis_open(const struct store_url *u, struct kv **out, char *why, size_t whylen)
{
	struct rkv *r = calloc(1, sizeof(*r));
	int ret = -ECONNREFUSED;

	if (!r)
		return -ENOMEM;
	r->kv.ops = &rkv_ops;
	r->kv.url = *u;
	pthread_mutex_init(&r->nodes_lock, NULL);
	for (int s = 0; s < RKV_NSLOTS; s++)
		atomic_init(&r->slots[s], RKV_NO_NODE);
	/* The first seed that answers says whether this is a cluster. */
	for (int i = 0; i < u->nhosts; i++) {
		int ni = rkv_node(r, u->hosts[i].host, u->hosts[i].port);
		if (ni < 0) {
			ret = ni;
			break;
		}
		redisContext *c = rkv_connect(r, r->nodes[ni]);
		if (!c)
			continue;
		int cl = rkv_load_slots(r, c, r->nodes[ni]);
		if (cl >= 0) {
			r->cluster = cl;
			if (cl)
				redisFree(c);
			else
				pool_put(r->nodes[ni], c);
			if (!cl && u->nhosts > 1) {
				snprintf(r->kv.why, sizeof(r->kv.why),
					 "redis: several hosts given but %.100s:%d is not a cluster node",
					 u->hosts[i].host, u->hosts[i].port);
				ret = -EINVAL;
				break;
			}
			*out = &r->kv;
			return 0;
		}
		snprintf(r->kv.why, sizeof(r->kv.why), "redis %.100s:%d: CLUSTER SLOTS failed",
			 u->hosts[i].host, u->hosts[i].port);
		redisFree(c);
		ret = -EIO;
	}
	snprintf(why, whylen, "%s", r->kv.why);
	rkv_close(&r->kv);
	return ret;
}
