/* SPDX-License-Identifier: MIT */
/* Reading an image from a store (image.c) and managing images (image_admin.c). */
#ifndef LIBUFFD_STORE_IMAGE_H
#define LIBUFFD_STORE_IMAGE_H

#include <pthread.h>
#include <stdatomic.h>

#include "kv.h"
#include "uffd/pager.h"

/* One extent of a batch is the pager's: its result is 0, -EIO (a missing or
 * corrupt chunk, the store gone) or -ENODATA (past the end). */
#define store_req uffd_source_req

struct store_cache_slot {
	pthread_mutex_t lock;
	int64_t idx;            /* the chunk held, or -1 */
	unsigned char *data;
};

struct store_image {
	struct kv *kv;
	char id[STORE_ID_MAX + 1];
	struct store_header h;
	struct store_cache_slot *cache;   /* recently fetched chunks, by index mod ncache */
	size_t ncache;
	atomic_uint_fast64_t chunks_fetched, cache_hits, bad_chunks;
	pthread_mutex_t why_lock;
	char why[256];                    /* the last read error, in words */
};

/* Open the image a URL names (it must name one): reads and checks its header.
 * 0 with *out, or -errno (-ENOENT: no such image) with why[]. */
STORE_HIDDEN int store_image_open(const char *url, struct store_image **out, char *why, size_t whylen);
/* Read len bytes at off (page multiples): 0 or -errno. Thread-safe. */
STORE_HIDDEN int store_image_read(struct store_image *im, uint64_t off, void *buf, size_t len);
/* n extents, their chunks fetched in one pipelined batch; sets each result. */
STORE_HIDDEN int store_image_read_batch(struct store_image *im, struct store_req *r, size_t n);
/* The last read error (copied into buf). */
STORE_HIDDEN void store_image_why(struct store_image *im, char *buf, size_t len);
STORE_HIDDEN void store_image_close(struct store_image *im);

/* source.c: im as a page source (closing the source closes im); NULL with errno. */
STORE_HIDDEN struct uffd_source *store_source(struct store_image *im);

/* The header of image id in kv: 0, -ENOENT, -EIO (malformed or unreachable). */
STORE_HIDDEN int store_header_get(struct kv *kv, const char *id, struct store_header *h);

#endif
