/* SPDX-License-Identifier: MIT */
/*
 * Reading an image: the chunks under a batch of extents are fetched in one
 * batch (the store pipelines them), each checked against its CRC-32C before a
 * byte of it is used; a missing, short, long or corrupted chunk fails the
 * extents over it with -EIO, never hands out wrong data.  Recently fetched
 * chunks stay in a small cache, since a fault asks for one page of a chunk
 * and its neighbours come next.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image.h"

int store_header_get(struct kv *kv, const char *id, struct store_header *h)
{
	char key[STORE_KEY_MAX];
	size_t cap = 256 << 10, len = 0;
	char *buf = NULL;
	int ret;

	if (store_key_header(key, sizeof(key), id) < 0)
		return -ENAMETOOLONG;
	for (;;) {
		char *nb = realloc(buf, cap);
		if (!nb) {
			free(buf);
			return -ENOMEM;
		}
		buf = nb;
		ret = kv_get1(kv, key, buf, cap, &len);
		if (ret || len <= cap)
			break;
		cap = len;   /* it did not fit: again with room for it */
	}
	if (!ret)
		ret = store_header_decode(h, buf, len);
	free(buf);
	return ret;
}

int store_image_open(const char *url, struct store_image **out, char *why, size_t whylen)
{
	struct store_url u;
	struct store_image *im;
	int ret = store_url_parse(url, &u, why, whylen);

	if (ret)
		return ret;
	if (!u.id[0]) {
		snprintf(why, whylen, "'%s' names no image (.../ID)", url);
		return -EINVAL;
	}
	if (!(im = calloc(1, sizeof(*im))))
		return -ENOMEM;
	strcpy(im->id, u.id);
	pthread_mutex_init(&im->why_lock, NULL);
	ret = kv_open(&u, &im->kv, why, whylen);
	if (ret) {
		free(im);
		return ret;
	}
	ret = store_header_get(im->kv, im->id, &im->h);
	if (ret) {
		if (ret == -ENOENT)
			snprintf(why, whylen, "no image '%s' in %s", im->id, url);
		else
			snprintf(why, whylen, "image '%s': header unreadable (%s)", im->id,
				 ret == -EIO && im->kv->why[0] ? im->kv->why : "malformed");
		im->kv->ops->close(im->kv);
		free(im);
		return ret;
	}
	im->ncache = u.cache / im->h.chunk;
	im->cache = calloc(im->ncache ? im->ncache : 1, sizeof(*im->cache));
	if (!im->cache) {
		store_image_close(im);
		return -ENOMEM;
	}
	for (size_t i = 0; i < im->ncache; i++) {
		pthread_mutex_init(&im->cache[i].lock, NULL);
		im->cache[i].idx = -1;
	}
	*out = im;
	return 0;
}

void store_image_close(struct store_image *im)
{
	if (!im)
		return;
	if (im->cache)
		for (size_t i = 0; i < im->ncache; i++) {
			free(im->cache[i].data);
			pthread_mutex_destroy(&im->cache[i].lock);
		}
	free(im->cache);
	store_header_free(&im->h);
	im->kv->ops->close(im->kv);
	pthread_mutex_destroy(&im->why_lock);
	free(im);
}

void store_image_why(struct store_image *im, char *buf, size_t len)
{
	pthread_mutex_lock(&im->why_lock);
	snprintf(buf, len, "%s", im->why);
	pthread_mutex_unlock(&im->why_lock);
}

static void set_why(struct store_image *im, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void set_why(struct store_image *im, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&im->why_lock);
	va_start(ap, fmt);
	vsnprintf(im->why, sizeof(im->why), fmt, ap);
	va_end(ap);
	pthread_mutex_unlock(&im->why_lock);
}

static int cache_get(struct store_image *im, uint64_t i, unsigned char *dst)
{
	if (!im->ncache)
		return 0;
	struct store_cache_slot *s = &im->cache[i % im->ncache];
	int hit;

	pthread_mutex_lock(&s->lock);
	hit = s->idx == (int64_t)i;
	if (hit)
		memcpy(dst, s->data, store_chunk_len(&im->h, i));
	pthread_mutex_unlock(&s->lock);
	return hit;
}

/* Keep chunk i, fetched into *buf (im->h.chunk bytes, malloc'd): the slot
 * takes the buffer and hands back the one it held (or NULL), so no chunk is
 * copied into the cache. */
static void cache_take(struct store_image *im, uint64_t i, unsigned char **buf)
{
	if (!im->ncache)
		return;
	struct store_cache_slot *s = &im->cache[i % im->ncache];
	unsigned char *old;

	pthread_mutex_lock(&s->lock);
	old = s->data;
	s->data = *buf;
	s->idx = i;
	pthread_mutex_unlock(&s->lock);
	*buf = old;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Index of chunk i in the sorted unique list u[0..n). */
static size_t find(const uint64_t *u, size_t n, uint64_t i)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (u[mid] < i)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Fetch the chunks u[k] with state[k] == 1 into bufs, check them; a bad one
 * gets state -1 (a good one keeps 1, and its buffer goes to the cache once
 * the batch is copied out).  Keys are built in one array. */
static int fetch(struct store_image *im, const uint64_t *u, size_t nu, unsigned char **bufs,
		 signed char *state)
{
	size_t m = 0;
	for (size_t k = 0; k < nu; k++)
		m += state[k] == 1;
	if (!m)
		return 0;
	struct kv_item *it = calloc(m, sizeof(*it));
	char (*keys)[STORE_KEY_MAX] = malloc(m * sizeof(*keys));
	size_t *which = malloc(m * sizeof(*which));
	if (!it || !keys || !which) {
		free(it);
		free(keys);
		free(which);
		return -ENOMEM;
	}
	m = 0;
	for (size_t k = 0; k < nu; k++) {
		if (state[k] != 1)
			continue;
		int kl = store_key_chunk(keys[m], STORE_KEY_MAX, im->id, im->h.chunk, u[k]);
		it[m] = (struct kv_item){ .key = keys[m], .klen = kl, .buf = bufs[k], .cap = im->h.chunk };
		which[m++] = k;
	}
	int ret = im->kv->ops->get(im->kv, it, m);
	for (size_t j = 0; j < m && !ret; j++) {
		size_t k = which[j];
		uint64_t i = u[k];
		size_t want = store_chunk_len(&im->h, i);
		atomic_fetch_add(&im->chunks_fetched, 1);
		if (it[j].result == -ENOENT)
			set_why(im, "image '%s': chunk %" PRIu64 " missing (key %s)", im->id, i, keys[j]);
		else if (it[j].result)
			set_why(im, "image '%s': chunk %" PRIu64 ": %s", im->id, i,
				im->kv->why[0] ? im->kv->why : "store error");
		else if (it[j].len != want)
			set_why(im, "image '%s': chunk %" PRIu64 " is %zu bytes, expected %zu", im->id,
				i, it[j].len, want);
		else if (store_crc32c(0, bufs[k], want) != im->h.sums[i])
			set_why(im, "image '%s': chunk %" PRIu64 " fails its checksum", im->id, i);
		else
			continue;         /* good: cached once copied out */
		atomic_fetch_add(&im->bad_chunks, 1);
		state[k] = -1;
	}
	free(it);
	free(keys);
	free(which);
	return ret;
}

int store_image_read_batch(struct store_image *im, struct store_req *r, size_t n)
{
	const uint64_t csz = im->h.chunk;
	size_t nu = 0;
	int ret = -ENOMEM;

	/* The chunks under the extents, sorted, each once. */
	for (size_t q = 0; q < n; q++) {
		r[q].result = 0;
		if (r[q].off >= im->h.size || r[q].len == 0) {
			r[q].result = r[q].len ? -ENODATA : 0;
			continue;
		}
		uint64_t end = r[q].off + r[q].len < im->h.size ? r[q].off + r[q].len : im->h.size;
		nu += (end - 1) / csz - r[q].off / csz + 1;
	}
	uint64_t *u = malloc((nu ? nu : 1) * sizeof(*u));
	unsigned char **bufs = calloc(nu ? nu : 1, sizeof(*bufs));
	signed char *state = calloc(nu ? nu : 1, 1);   /* 0 have, 1 fetch, 2 zero, -1 bad */
	if (!u || !bufs || !state)
		goto out;
	nu = 0;
	for (size_t q = 0; q < n; q++) {
		if (r[q].result || !r[q].len)
			continue;
		uint64_t end = r[q].off + r[q].len < im->h.size ? r[q].off + r[q].len : im->h.size;
		for (uint64_t i = r[q].off / csz; i <= (end - 1) / csz; i++)
			u[nu++] = i;
	}
	qsort(u, nu, sizeof(*u), cmp_u64);
	size_t w = 0;
	for (size_t k = 0; k < nu; k++)
		if (w == 0 || u[w - 1] != u[k])
			u[w++] = u[k];
	nu = w;
	for (size_t k = 0; k < nu; k++) {
		if (store_chunk_is_zero(&im->h, u[k])) {
			state[k] = 2;
			continue;
		}
		if (!(bufs[k] = malloc(csz)))
			goto out;
		if (cache_get(im, u[k], bufs[k]))
			atomic_fetch_add(&im->cache_hits, 1);
		else
			state[k] = 1;
	}
	ret = fetch(im, u, nu, bufs, state);
	if (ret)
		goto out;
	/* Copy out; bytes past the image's end read as zeros. */
	for (size_t q = 0; q < n; q++) {
		if (r[q].result || !r[q].len)
			continue;
		unsigned char *dst = r[q].buf;
		uint64_t off = r[q].off, end = off + r[q].len;
		while (off < end && off < im->h.size) {
			uint64_t i = off / csz, co = off % csz;
			size_t k = find(u, nu, i);
			size_t take = csz - co;
			if (take > end - off)
				take = end - off;
			if (take > im->h.size - off)
				take = im->h.size - off;
			if (state[k] == -1) {
				r[q].result = -EIO;
				break;
			}
			if (state[k] == 2)
				memset(dst, 0, take);
			else
				memcpy(dst, bufs[k] + co, take);
			dst += take;
			off += take;
		}
		if (!r[q].result && off < end)
			memset(dst, 0, end - off);
	}
	for (size_t k = 0; k < nu; k++)
		if (state[k] == 1)
			cache_take(im, u[k], &bufs[k]);
	ret = 0;
out:
	for (size_t k = 0; bufs && k < nu; k++)
		free(bufs[k]);
	free(u);
	free(bufs);
	free(state);
	return ret;
}

int store_image_read(struct store_image *im, uint64_t off, void *buf, size_t len)
{
	struct store_req r = { .off = off, .buf = buf, .len = len };
	int ret = store_image_read_batch(im, &r, 1);

	return ret ? ret : r.result;
}
