/* SPDX-License-Identifier: MIT */
/*
 * The memcached store over libmemcached: keys spread over the URL's servers by
 * consistent hashing (ketama), batches fetched with multi-get (at most
 * url.inflight keys per request), timeouts, and retries with backoff.  A
 * memcached_st is not thread-safe: callers take one from a small pool of
 * clones.  The index of image ids is one value updated with gets/cas.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libmemcached/memcached.h>

#include "kv.h"

#define MKV_POOL_MAX 16

struct mkv {
	struct kv kv;
	memcached_st *proto;           /* configured template; cloned per caller */
	pthread_mutex_t lock;          /* guards idle[] */
	memcached_st *idle[MKV_POOL_MAX];
	int nidle;
};

static memcached_st *take(struct mkv *m)
{
	memcached_st *c = NULL;

	pthread_mutex_lock(&m->lock);
	if (m->nidle)
		c = m->idle[--m->nidle];
	else
		c = memcached_clone(NULL, m->proto);
	pthread_mutex_unlock(&m->lock);
	return c;
}

static void give(struct mkv *m, memcached_st *c)
{
	pthread_mutex_lock(&m->lock);
	if (c && m->nidle < MKV_POOL_MAX) {
		m->idle[m->nidle++] = c;
		c = NULL;
	}
	pthread_mutex_unlock(&m->lock);
	if (c)
		memcached_free(c);
}

/* An error that another try may cure (the server went away, timed out...). */
static int transient(memcached_return_t rc)
{
	return rc != MEMCACHED_SUCCESS && rc != MEMCACHED_END && rc != MEMCACHED_NOTFOUND &&
	       rc != MEMCACHED_NOTSTORED && rc != MEMCACHED_DATA_EXISTS && rc != MEMCACHED_E2BIG;
}

static void why(struct mkv *m, memcached_st *c, memcached_return_t rc)
{
	snprintf(m->kv.why, sizeof(m->kv.why), "memcached: %s", memcached_strerror(c, rc));
}

/* One multi-get of v[0..n); 0, or a transient error to retry. */
static memcached_return_t mget_window(struct mkv *m, memcached_st *c, struct kv_item *v, size_t n)
{
	const char *keys[n];
	size_t lens[n];
	memcached_return_t rc;

	for (size_t i = 0; i < n; i++) {
		keys[i] = v[i].key;
		lens[i] = v[i].klen;
		v[i].result = -ENOENT;   /* until its value arrives */
	}
	atomic_fetch_add(&m->kv.stats.requests, n);
	atomic_fetch_add(&m->kv.stats.round_trips, 1);
	rc = memcached_mget(c, keys, lens, n);
	if (rc != MEMCACHED_SUCCESS)
		return rc;
	memcached_result_st *res;
	while ((res = memcached_fetch_result(c, NULL, &rc))) {
		const char *k = memcached_result_key_value(res);
		size_t kl = memcached_result_key_length(res), len = memcached_result_length(res);
		for (size_t i = 0; i < n; i++)
			if (v[i].klen == kl && !memcmp(v[i].key, k, kl)) {
				v[i].len = len;
				memcpy(v[i].buf, memcached_result_value(res), len < v[i].cap ? len : v[i].cap);
				v[i].result = 0;
			}
		atomic_fetch_add(&m->kv.stats.bytes_in, len);
		memcached_result_free(res);
	}
	return rc == MEMCACHED_END || rc == MEMCACHED_NOTFOUND ? MEMCACHED_SUCCESS : rc;
}

/* Run op over windows of items, retrying a window with backoff while the
 * error is transient; items of a window that never ran get -EIO. */
static int run(struct mkv *m, struct kv_item *it, size_t n, size_t window,
	       memcached_return_t (*op)(struct mkv *, memcached_st *, struct kv_item *, size_t))
{
	memcached_st *c = take(m);
	int failed = 0;

	if (!c)
		return -ENOMEM;
	for (size_t i = 0; i < n; i += window) {
		size_t w = n - i < window ? n - i : window;
		memcached_return_t rc;
		for (int attempt = 0;; attempt++) {
			rc = op(m, c, it + i, w);
			if (!transient(rc) || attempt >= m->kv.url.retries)
				break;
			why(m, c, rc);
			atomic_fetch_add(&m->kv.stats.reconnects, 1);
			store_backoff(attempt + 1);
			/* libmemcached keeps a failed server disabled for a while
			 * (RETRY_TIMEOUT, whole seconds): start from a fresh clone. */
			memcached_st *fresh = memcached_clone(NULL, m->proto);
			if (fresh) {
				memcached_free(c);
				c = fresh;
			}
		}
		if (transient(rc)) {
			why(m, c, rc);
			for (size_t k = i; k < i + w; k++)
				it[k].result = -EIO;
			failed = 1;
		}
	}
	if (failed)
		memcached_free(c);
	else
		give(m, c);
	return 0;
}

static int mkv_get(struct kv *kv, struct kv_item *it, size_t n)
{
	struct mkv *m = (struct mkv *)kv;
	return run(m, it, n, m->kv.url.inflight, mget_window);
}

static memcached_return_t put_one(struct mkv *m, memcached_st *c, struct kv_item *v, size_t n)
{
	memcached_return_t rc = MEMCACHED_SUCCESS;

	for (size_t i = 0; i < n; i++) {
		atomic_fetch_add(&m->kv.stats.requests, 1);
		atomic_fetch_add(&m->kv.stats.round_trips, 1);
		rc = memcached_set(c, v[i].key, v[i].klen, v[i].buf, v[i].cap, 0, 0);
		v[i].result = rc == MEMCACHED_SUCCESS ? 0 : rc == MEMCACHED_E2BIG ? -EFBIG : -EIO;
		if (transient(rc))
			return rc;
		atomic_fetch_add(&m->kv.stats.bytes_out, v[i].cap);
	}
	return MEMCACHED_SUCCESS;
}

static int mkv_put(struct kv *kv, struct kv_item *it, size_t n)
{
	return run((struct mkv *)kv, it, n, 1, put_one);
}

static memcached_return_t del_one(struct mkv *m, memcached_st *c, struct kv_item *v, size_t n)
{
	memcached_return_t rc = MEMCACHED_SUCCESS;

	for (size_t i = 0; i < n; i++) {
		atomic_fetch_add(&m->kv.stats.requests, 1);
		atomic_fetch_add(&m->kv.stats.round_trips, 1);
		rc = memcached_delete(c, v[i].key, v[i].klen, 0);
		v[i].result = rc == MEMCACHED_SUCCESS ? 0 : rc == MEMCACHED_NOTFOUND ? -ENOENT : -EIO;
		if (transient(rc))
			return rc;
	}
	return MEMCACHED_SUCCESS;
}

static int mkv_del(struct kv *kv, struct kv_item *it, size_t n)
{
	return run((struct mkv *)kv, it, n, 1, del_one);
}

/*
 * The index: "id\n" lines in one value, changed with gets + cas so that two
 * concurrent pushes do not lose each other's entry.  add: 1 adds id, 0 removes.
 */
static int index_change(struct mkv *m, const char *id, int add)
{
	const char *key = STORE_KEY_INDEX;
	size_t kl = strlen(key), idl = strlen(id);
	memcached_st *c = take(m);
	int ret = -EIO;

	if (!c)
		return -ENOMEM;
	for (int attempt = 0; attempt < 64; attempt++) {
		memcached_return_t rc;
		memcached_result_st *res = NULL;
		const char *cur = "";
		size_t cl = 0;
		uint64_t cas = 0;

		rc = memcached_mget(c, &key, &kl, 1);
		if (rc == MEMCACHED_SUCCESS && (res = memcached_fetch_result(c, NULL, &rc))) {
			cur = memcached_result_value(res);
			cl = memcached_result_length(res);
			cas = memcached_result_cas(res);
			memcached_return_t r2;
			while (memcached_fetch_result(c, NULL, &r2))
				;
		} else if (transient(rc) && rc != MEMCACHED_SUCCESS) {
			why(m, c, rc);
			break;
		}
		/* The new value: every line but id, then id when adding. */
		char *nv = malloc(cl + idl + 2), *p = nv;
		int found = 0;
		if (!nv) {
			memcached_result_free(res);
			ret = -ENOMEM;
			break;
		}
		for (size_t o = 0; o < cl;) {
			const char *nl = memchr(cur + o, '\n', cl - o);
			size_t ll = nl ? (size_t)(nl - cur - o) : cl - o;
			if (ll == idl && !memcmp(cur + o, id, idl))
				found = 1;
			else if (ll) {
				memcpy(p, cur + o, ll);
				p += ll;
				*p++ = '\n';
			}
			o += ll + 1;
		}
		if (add) {
			memcpy(p, id, idl);
			p += idl;
			*p++ = '\n';
		}
		if (!add && !found) {
			free(nv);
			memcached_result_free(res);
			ret = -ENOENT;
			break;
		}
		rc = res ? memcached_cas(c, key, kl, nv, p - nv, 0, 0, cas)
			 : memcached_add(c, key, kl, nv, p - nv, 0, 0);
		free(nv);
		memcached_result_free(res);
		if (rc == MEMCACHED_SUCCESS) {
			ret = 0;
			break;
		}
		if (rc != MEMCACHED_DATA_EXISTS && rc != MEMCACHED_NOTSTORED) {
			why(m, c, rc);
			break;
		}
	}
	give(m, c);
	return ret;
}

static int mkv_index_add(struct kv *kv, const char *id)
{
	return index_change((struct mkv *)kv, id, 1);
}

static int mkv_index_del(struct kv *kv, const char *id)
{
	return index_change((struct mkv *)kv, id, 0);
}

static int mkv_index_list(struct kv *kv, int (*fn)(void *, const char *), void *ctx)
{
	struct mkv *m = (struct mkv *)kv;
	memcached_st *c = take(m);
	const char *key = STORE_KEY_INDEX;
	size_t kl = strlen(key);
	memcached_return_t rc;
	int ret = 0;

	if (!c)
		return -ENOMEM;
	rc = memcached_mget(c, &key, &kl, 1);
	memcached_result_st *res = rc == MEMCACHED_SUCCESS ? memcached_fetch_result(c, NULL, &rc) : NULL;
	if (!res) {
		if (transient(rc)) {
			why(m, c, rc);
			ret = -EIO;
		}
		give(m, c);
		return ret;   /* no index yet: no images */
	}
	memcached_return_t r2;
	while (memcached_fetch_result(c, NULL, &r2))
		;
	const char *v = memcached_result_value(res);
	size_t len = memcached_result_length(res);
	for (size_t o = 0; o < len && !ret;) {
		const char *nl = memchr(v + o, '\n', len - o);
		size_t ll = nl ? (size_t)(nl - v - o) : len - o;
		char id[STORE_ID_MAX + 1];
		if (ll && ll <= STORE_ID_MAX) {
			memcpy(id, v + o, ll);
			id[ll] = 0;
			ret = fn(ctx, id);
		}
		o += ll + 1;
	}
	memcached_result_free(res);
	give(m, c);
	return ret;
}

static void mkv_close(struct kv *kv)
{
	struct mkv *m = (struct mkv *)kv;

	for (int i = 0; i < m->nidle; i++)
		memcached_free(m->idle[i]);
	memcached_free(m->proto);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

static const struct kv_ops mkv_ops = {
	.get = mkv_get, .put = mkv_put, .del = mkv_del,
	.index_add = mkv_index_add, .index_del = mkv_index_del, .index_list = mkv_index_list,
	.close = mkv_close,
};

int kv_memcached_open(const struct store_url *u, struct kv **out, char *whybuf, size_t whylen)
{
	struct mkv *m = calloc(1, sizeof(*m));

	if (!m || !(m->proto = memcached_create(NULL))) {
		free(m);
		return -ENOMEM;
	}
	m->kv.ops = &mkv_ops;
	m->kv.url = *u;
	pthread_mutex_init(&m->lock, NULL);
	memcached_st *p = m->proto;
	memcached_behavior_set(p, MEMCACHED_BEHAVIOR_DISTRIBUTION, MEMCACHED_DISTRIBUTION_CONSISTENT_KETAMA);
	memcached_behavior_set(p, MEMCACHED_BEHAVIOR_SUPPORT_CAS, 1);
	memcached_behavior_set(p, MEMCACHED_BEHAVIOR_TCP_NODELAY, 1);
	memcached_behavior_set(p, MEMCACHED_BEHAVIOR_CONNECT_TIMEOUT, u->timeout_ms);
	memcached_behavior_set(p, MEMCACHED_BEHAVIOR_POLL_TIMEOUT, u->timeout_ms);
	memcached_behavior_set(p, MEMCACHED_BEHAVIOR_RCV_TIMEOUT, (uint64_t)u->timeout_ms * 1000);
	memcached_behavior_set(p, MEMCACHED_BEHAVIOR_SND_TIMEOUT, (uint64_t)u->timeout_ms * 1000);
	/* Never drop a failed server from the ring: its keys would be looked up
	 * elsewhere and reported missing rather than unreachable. */
	memcached_behavior_set(p, MEMCACHED_BEHAVIOR_RETRY_TIMEOUT, 0);
	for (int i = 0; i < u->nhosts; i++)
		if (memcached_server_add(p, u->hosts[i].host, u->hosts[i].port) != MEMCACHED_SUCCESS) {
			snprintf(whybuf, whylen, "memcached: bad server %s:%d", u->hosts[i].host,
				 u->hosts[i].port);
			mkv_close(&m->kv);
			return -EINVAL;
		}
	/* Reach every server once now, so that a wrong address fails here. */
	memcached_return_t rc = memcached_version(p);
	if (rc != MEMCACHED_SUCCESS) {
		snprintf(whybuf, whylen, "memcached: %s", memcached_strerror(p, rc));
		mkv_close(&m->kv);
		return -ECONNREFUSED;
	}
	*out = &m->kv;
	return 0;
}
