/* SPDX-License-Identifier: MIT */
/*
 * Images as a whole: push (chunks first, the header last, so that a reader
 * never finds a header whose chunks are not there yet), pull, remove, list.
 * The public uffd_image_*() calls: 0, or -1 with errno and a reason for
 * uffd_image_strerror().
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "uffd/store.h"
#include "image.h"

#define BATCH_CHUNKS 16
/* memcached refuses items over 1 MiB unless started with a larger -I. */
#define MEMCACHED_ITEM_MAX (1u << 20)
#define MEMCACHED_CHUNK_MAX (512u << 10)

static __thread char why[320];

const char *uffd_image_strerror(void)
{
	return why;
}

static int fail(int err)
{
	errno = err < 0 ? -err : err;
	if (!why[0])
		snprintf(why, sizeof(why), "%s", strerror(errno));
	return -1;
}

static int open_store(const char *url, int need_id, struct store_url *u, struct kv **kv)
{
	int ret = store_url_parse(url, u, why, sizeof(why));

	if (ret)
		return ret;
	if (need_id && !u->id[0]) {
		snprintf(why, sizeof(why), "'%s' names no image (.../ID)", url);
		return -EINVAL;
	}
	return kv_open(u, kv, why, sizeof(why));
}

/* Delete chunk keys i of image id (chunk size chunk) for which keep(i) is 0. */
static int delete_chunks(struct kv *kv, const char *id, const struct store_header *old,
			 const struct store_header *now)
{
	enum { N = 256 };
	struct kv_item it[N];
	char keys[N][STORE_KEY_MAX];
	size_t m = 0;
	int ret = 0;

	for (uint64_t i = 0; i <= old->nchunks; i++) {
		if (m == N || (i == old->nchunks && m)) {
			ret = kv->ops->del(kv, it, m);
			for (size_t k = 0; k < m && !ret; k++)
				if (it[k].result && it[k].result != -ENOENT)
					ret = it[k].result;
			if (ret)
				return ret;
			m = 0;
		}
		if (i == old->nchunks)
			break;
		if (store_chunk_is_zero(old, i))
			continue;
		if (now && now->chunk == old->chunk && i < now->nchunks && !store_chunk_is_zero(now, i))
			continue;   /* overwritten by the new image */
		int kl = store_key_chunk(keys[m], STORE_KEY_MAX, id, old->chunk, i);
		it[m] = (struct kv_item){ .key = keys[m], .klen = kl };
		m++;
	}
	return 0;
}

static int push(struct kv *kv, const struct store_url *u, int fd, uint32_t chunk)
{
	struct store_header h, old;
	struct stat st;
	char key[STORE_KEY_MAX], keys[BATCH_CHUNKS][STORE_KEY_MAX];
	unsigned char *buf = NULL;
	char *hdr = NULL;
	size_t hlen;
	int ret, have_old;

	if (fstat(fd, &st))
		return -errno;
	if (u->kind == STORE_MEMCACHED && chunk > MEMCACHED_CHUNK_MAX) {
		snprintf(why, sizeof(why), "memcached: chunks of at most %u bytes", MEMCACHED_CHUNK_MAX);
		return -EINVAL;
	}
	if ((ret = store_header_alloc(&h, st.st_size, chunk)))
		return ret;
	have_old = store_header_get(kv, u->id, &old) == 0;
	if (!(buf = malloc((size_t)BATCH_CHUNKS * chunk))) {
		ret = -ENOMEM;
		goto out;
	}
	for (uint64_t i0 = 0; i0 < h.nchunks; i0 += BATCH_CHUNKS) {
		struct kv_item it[BATCH_CHUNKS];
		size_t m = 0;
		for (uint64_t i = i0; i < h.nchunks && i < i0 + BATCH_CHUNKS; i++) {
			unsigned char *c = buf + (i - i0) * chunk;
			size_t len = store_chunk_len(&h, i), got = 0;
			while (got < len) {
				ssize_t r = pread(fd, c + got, len - got, i * chunk + got);
				if (r <= 0) {
					ret = r < 0 ? -errno : -EIO;
					snprintf(why, sizeof(why), "reading the file: %s",
						 r < 0 ? strerror(errno) : "it shrank");
					goto out;
				}
				got += r;
			}
			h.sums[i] = store_crc32c(0, c, len);
			int zero = 1;
			for (size_t k = 0; k < len && zero; k += 8) {
				uint64_t w = 0;
				memcpy(&w, c + k, len - k < 8 ? len - k : 8);
				zero = w == 0;
			}
			if (zero) {
				h.zero[i / 8] |= 1 << (i % 8);
				continue;
			}
			int kl = store_key_chunk(keys[m], STORE_KEY_MAX, u->id, chunk, i);
			it[m] = (struct kv_item){ .key = keys[m], .klen = kl, .buf = c, .cap = len };
			m++;
		}
		if (m && (ret = kv->ops->put(kv, it, m)))
			goto out;
		for (size_t k = 0; k < m; k++)
			if ((ret = it[k].result)) {
				snprintf(why, sizeof(why), "storing %s: %s", it[k].key,
					 kv->why[0] ? kv->why : strerror(-ret));
				goto out;
			}
	}
	if ((ret = store_header_encode(&h, &hdr, &hlen)))
		goto out;
	if (u->kind == STORE_MEMCACHED && hlen > MEMCACHED_ITEM_MAX - 1024) {
		snprintf(why, sizeof(why), "the header (%zu bytes) is too large for memcached: "
			 "use larger chunks", hlen);
		ret = -EFBIG;
		goto out;
	}
	store_key_header(key, sizeof(key), u->id);
	if ((ret = kv_put1(kv, key, hdr, hlen)) || (ret = kv->ops->index_add(kv, u->id))) {
		snprintf(why, sizeof(why), "storing the header: %s", kv->why[0] ? kv->why : strerror(-ret));
		goto out;
	}
	/* What the image replaced: chunks not overwritten, its working set. */
	store_key_ws(key, sizeof(key), u->id);
	kv_del1(kv, key);
	if (have_old)
		ret = delete_chunks(kv, u->id, &old, &h);
out:
	if (have_old)
		store_header_free(&old);
	store_header_free(&h);
	free(buf);
	free(hdr);
	return ret;
}

int uffd_image_push(const char *url, int fd, uint32_t chunk)
{
	struct store_url u;
	struct kv *kv;
	int ret;

	why[0] = 0;
	if (chunk == 0)
		chunk = 64 << 10;
	if (chunk % 4096 || chunk > (64u << 20)) {
		snprintf(why, sizeof(why), "chunk size %u: not a multiple of 4096 up to 64 MiB", chunk);
		return fail(EINVAL);
	}
	if ((ret = open_store(url, 1, &u, &kv)))
		return fail(ret);
	ret = push(kv, &u, fd, chunk);
	kv->ops->close(kv);
	return ret ? fail(ret) : 0;
}

int uffd_image_pull(const char *url, int fd)
{
	struct store_image *im;
	int ret;

	why[0] = 0;
	if ((ret = store_image_open(url, &im, why, sizeof(why))))
		return fail(ret);
	size_t csz = im->h.chunk;
	unsigned char *buf = malloc(BATCH_CHUNKS * csz);
	if (!buf)
		ret = -ENOMEM;
	for (uint64_t off = 0; buf && off < im->h.size && !ret; off += BATCH_CHUNKS * csz) {
		struct store_req r[BATCH_CHUNKS];
		size_t m = 0, total = 0;
		for (; m < BATCH_CHUNKS && off + m * csz < im->h.size; m++)
			r[m] = (struct store_req){ .off = off + m * csz, .buf = buf + m * csz, .len = csz };
		if ((ret = store_image_read_batch(im, r, m)))
			break;
		for (size_t k = 0; k < m && !ret; k++)
			ret = r[k].result;
		if (ret) {
			store_image_why(im, why, sizeof(why));
			break;
		}
		total = im->h.size - off < m * csz ? im->h.size - off : m * csz;
		for (size_t done = 0; done < total;) {
			ssize_t w = pwrite(fd, buf + done, total - done, off + done);
			if (w < 0) {
				ret = -errno;
				snprintf(why, sizeof(why), "writing the file: %s", strerror(errno));
				break;
			}
			done += w;
		}
	}
	if (!ret && ftruncate(fd, im->h.size) && errno != EINVAL)
		ret = -errno;
	free(buf);
	store_image_close(im);
	return ret ? fail(ret) : 0;
}

int uffd_image_remove(const char *url)
{
	struct store_url u;
	struct store_header h;
	struct kv *kv;
	char key[STORE_KEY_MAX];
	int ret;

	why[0] = 0;
	if ((ret = open_store(url, 1, &u, &kv)))
		return fail(ret);
	ret = store_header_get(kv, u.id, &h);
	if (ret == -ENOENT)
		snprintf(why, sizeof(why), "no image '%s'", u.id);
	if (!ret) {
		store_key_header(key, sizeof(key), u.id);
		ret = kv_del1(kv, key);
		if (!ret)
			ret = delete_chunks(kv, u.id, &h, NULL);
		store_header_free(&h);
		store_key_ws(key, sizeof(key), u.id);
		kv_del1(kv, key);
	}
	if (ret == 0 || ret == -ENOENT) {
		int r2 = kv->ops->index_del(kv, u.id);
		if (r2 && r2 != -ENOENT && !ret)
			ret = r2;
	}
	if (ret && !why[0] && kv->why[0])
		snprintf(why, sizeof(why), "%s", kv->why);
	kv->ops->close(kv);
	return ret ? fail(ret) : 0;
}

struct ids {
	char (*id)[STORE_ID_MAX + 1];
	size_t n, cap;
};

static int collect(void *ctx, const char *id)
{
	struct ids *s = ctx;

	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 16;
		void *p = realloc(s->id, cap * sizeof(*s->id));
		if (!p)
			return -ENOMEM;
		s->id = p;
		s->cap = cap;
	}
	snprintf(s->id[s->n++], sizeof(s->id[0]), "%s", id);
	return 0;
}

static int cmp_id(const void *a, const void *b)
{
	return strcmp(a, b);
}

int uffd_image_list(const char *url, int (*fn)(void *, const struct uffd_image_info *), void *ctx)
{
	struct store_url u;
	struct kv *kv;
	struct ids s = { 0 };
	int ret;

	why[0] = 0;
	if ((ret = open_store(url, 0, &u, &kv)))
		return fail(ret);
	ret = kv->ops->index_list(kv, collect, &s);
	if (ret && kv->why[0])
		snprintf(why, sizeof(why), "%s", kv->why);
	if (!ret && s.n)
		qsort(s.id, s.n, sizeof(s.id[0]), cmp_id);
	for (size_t i = 0; i < s.n && !ret; i++) {
		struct uffd_image_info info = { 0 };
		struct store_header h;
		snprintf(info.id, sizeof(info.id), "%s", s.id[i]);
		int r = store_header_get(kv, s.id[i], &h);
		if (r) {
			info.error = -r;
		} else {
			info.size = h.size;
			info.chunk = h.chunk;
			info.chunks = h.nchunks;
			for (uint64_t k = 0; k < h.nchunks; k++)
				info.zero_chunks += store_chunk_is_zero(&h, k);
			store_header_free(&h);
		}
		ret = fn(ctx, &info);
		if (ret) {
			free(s.id);
			kv->ops->close(kv);
			return ret;
		}
	}
	free(s.id);
	kv->ops->close(kv);
	return ret ? fail(ret) : 0;
}
