/* SPDX-License-Identifier: MIT */
/*
 * libuffd-store: memory images in Redis (single node or Cluster) and
 * memcached, read chunk by chunk with a checksum per chunk.  Map:
 *   url.c            redis://H:P[,H:P]/ID and memcached://H:P[,H:P]/ID
 *   crc32c.c         the chunk checksum
 *   header.c         the image header (size, chunk size, checksums, zero map)
 *   kv.h             what the image layer asks of a store (batched get/put/del)
 *   redis.c          hiredis connections, pipelines, reconnect with backoff
 *   redis_cluster.c  Redis Cluster: key slots, CLUSTER SLOTS, MOVED/ASK
 *   memcached.c      libmemcached, consistent hashing, multi-get
 *   image.c          reading an image: chunk fetches, checks, a small cache
 *   image_admin.c    push, pull, remove, list
 *   source.c         an image as the pager's page source
 *   ws.c             working-set records (uffd:ID:ws or a file)
 * Key schema (the README's "Memory images"): uffd:ID:hdr, uffd:ID:CHUNK:INDEX,
 * uffd:ID:ws, uffd:images.
 */
#ifndef LIBUFFD_STORE_H
#define LIBUFFD_STORE_H

#include <stddef.h>
#include <stdint.h>

#define STORE_HIDDEN __attribute__((visibility("hidden")))

#define STORE_MAX_HOSTS 16
#define STORE_ID_MAX    128

enum store_kind { STORE_REDIS, STORE_MEMCACHED };

struct store_url {
	enum store_kind kind;
	int nhosts;
	struct { char host[256]; int port; } hosts[STORE_MAX_HOSTS];
	char id[STORE_ID_MAX + 1];   /* "" when the URL names no image */
	int timeout_ms;              /* per request (?timeout=, default 2000) */
	int retries;                 /* reconnects before failing (?retries=, default 4) */
	int inflight;                /* requests in flight per caller (?inflight=, default 32) */
	long cache;                  /* bytes of recently read chunks kept (?cache=, default 8 MiB) */
};

/* Parse url; 0 or -EINVAL (with a reason in err[]). */
STORE_HIDDEN int store_url_parse(const char *url, struct store_url *u, char *err, size_t errlen);
/* 1 if s is a valid image id: 1..128 of [A-Za-z0-9._-]. */
STORE_HIDDEN int store_id_valid(const char *s);

/* CRC-32C (Castagnoli) of buf, continuing from crc (0 to start). */
STORE_HIDDEN uint32_t store_crc32c(uint32_t crc, const void *buf, size_t len);
/* The same by tables alone (what store_crc32c uses without SSE 4.2). */
STORE_HIDDEN uint32_t store_crc32c_table(uint32_t crc, const void *buf, size_t len);
/* Benchmarks: make store_crc32c use the tables (on) or choose again (0). */
STORE_HIDDEN void store_crc32c_use_table(int on);

/* An image's header: what uffd:ID:hdr holds. */
struct store_header {
	uint64_t size;      /* bytes */
	uint32_t chunk;     /* bytes per chunk, a multiple of 4096 */
	uint64_t nchunks;   /* ceil(size / chunk) */
	uint32_t *sums;     /* CRC-32C per chunk */
	uint8_t *zero;      /* bit per chunk: all zeros, not stored */
};
STORE_HIDDEN int store_header_alloc(struct store_header *h, uint64_t size, uint32_t chunk);
STORE_HIDDEN void store_header_free(struct store_header *h);
/* Encode into a malloc'd buffer (*out, *outlen); 0 or -ENOMEM. */
STORE_HIDDEN int store_header_encode(const struct store_header *h, char **out, size_t *outlen);
/* Decode; 0 or -EIO (malformed). */
STORE_HIDDEN int store_header_decode(struct store_header *h, const char *buf, size_t len);
static inline int store_chunk_is_zero(const struct store_header *h, uint64_t i)
{
	return (h->zero[i / 8] >> (i % 8)) & 1;
}
/* Length of chunk i (the last one may be short). */
static inline size_t store_chunk_len(const struct store_header *h, uint64_t i)
{
	uint64_t end = (i + 1) * (uint64_t)h->chunk;
	return end <= h->size ? h->chunk : (size_t)(h->size - i * (uint64_t)h->chunk);
}

/* Key names (the schema); return the length written (< len) or -ENAMETOOLONG. */
STORE_HIDDEN int store_key_header(char *buf, size_t len, const char *id);
STORE_HIDDEN int store_key_chunk(char *buf, size_t len, const char *id, uint32_t chunk, uint64_t i);
STORE_HIDDEN int store_key_ws(char *buf, size_t len, const char *id);
#define STORE_KEY_INDEX "uffd:images"
#define STORE_KEY_MAX   (STORE_ID_MAX + 64)

/* Sleep for the k-th backoff step (1, 2, 4 ... 256 ms). */
STORE_HIDDEN void store_backoff(int k);

#endif
