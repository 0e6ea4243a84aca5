/* SPDX-License-Identifier: MIT */
/*
 * libuffd-store: memory images kept in Redis (one server or a Redis Cluster)
 * or memcached, chunk by chunk with a CRC-32C per chunk, for lazy restore
 * through the pager.  Link with -luffd-store (it brings hiredis and
 * libmemcached; libuffd alone never does).
 *
 * URLs: redis://HOST:PORT[,HOST:PORT...]/ID and memcached://HOST:PORT[,...]/ID,
 * with options ?timeout=MS&retries=N&inflight=N.  Several Redis hosts are seeds
 * of one cluster; several memcached hosts share the keys (consistent hashing).
 * The key schema is in uffd_image_push(3).
 */
#ifndef LIBUFFD_STORE_PUBLIC_H
#define LIBUFFD_STORE_PUBLIC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Store the contents of fd (read from offset 0 to its size) as image ID of
 * url, in chunks of chunk bytes (a multiple of 4096; 0: 64 KiB).  Replaces an
 * image of that ID.  0, or -1 with errno. */
int uffd_image_push(const char *url, int fd, uint32_t chunk);
/* Write image ID of url into fd (from offset 0), each chunk checked.  0 or -1. */
int uffd_image_pull(const char *url, int fd);
/* Delete image ID of url: its header, chunks and working-set record.  0 or -1. */
int uffd_image_remove(const char *url);
struct uffd_image_info {
	char id[129];
	uint64_t size;        /* bytes */
	uint32_t chunk;       /* bytes per chunk */
	uint64_t chunks;      /* chunks in the image */
	uint64_t zero_chunks; /* chunks of zeros, not stored */
	int error;            /* 0, or the errno reading its header met (ENOENT: gone) */
};
/* Call fn for each image in the store url names (its ID part is ignored);
 * stops at fn's first non-zero return, which it returns.  0, or -1 with errno. */
int uffd_image_list(const char *url, int (*fn)(void *ctx, const struct uffd_image_info *info),
		    void *ctx);
/* Why the calling thread's last failed uffd_image_* call failed, in words. */
const char *uffd_image_strerror(void);

/* Working-set records (uffd_region_record(), uffd_region_prefetch()) kept
 * beside an image: where is a store URL naming the image (key uffd:ID:ws,
 * deleted with the image or when it is pushed again) or a file path.  The
 * list is stored compactly (a varint per page, one byte a page in sequential
 * runs).  save: 0 or -1 with errno.  load: *pages is malloc'd (free() it);
 * 0, or -1 with errno (ENOENT: no record; EIO: malformed).
 * uffd_ws_strerror() says why the thread's last call failed. */
int uffd_ws_save(const char *where, const uint64_t *pages, size_t n);
int uffd_ws_load(const char *where, uint64_t **pages, size_t *n);
const char *uffd_ws_strerror(void);

struct uffd_source;
/* Image ID of url as a page source for the pager (<uffd/pager.h>): every
 * chunk is checked against its CRC-32C as it arrives, and a missing or
 * corrupted chunk, or a store that stays unreachable past the URL's timeout
 * and retries, fails the read with EIO, which the pager turns into SIGBUS
 * for the faulting thread.  uffd_source_open() opens redis:// and
 * memcached:// URLs through this when libuffd-store is linked.  NULL with
 * errno (ENOENT: no such image); uffd_source_store_strerror() says why. */
struct uffd_source *uffd_source_store(const char *url);
const char *uffd_source_store_strerror(void);

#ifdef __cplusplus
}
#endif

#endif
