/* SPDX-License-Identifier: MIT */
/*
 * The image header (key uffd:ID:hdr) and the key schema.  The header is a few
 * text lines, a blank line, then binary: the CRC-32C of each chunk (4 bytes,
 * little-endian) and a bitmap of the chunks that are all zeros (not stored):
 *
 *     uffd-image 1\n size N\n chunk C\n chunks K\n sum crc32c\n \n
 *     K x u32le   ceil(K/8) bytes
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store.h"

int store_header_alloc(struct store_header *h, uint64_t size, uint32_t chunk)
{
	memset(h, 0, sizeof(*h));
	if (chunk == 0 || chunk % 4096)
		return -EINVAL;
	h->size = size;
	h->chunk = chunk;
	h->nchunks = (size + chunk - 1) / chunk;
	h->sums = calloc(h->nchunks ? h->nchunks : 1, sizeof(uint32_t));
	h->zero = calloc(h->nchunks / 8 + 1, 1);
	if (!h->sums || !h->zero) {
		store_header_free(h);
		return -ENOMEM;
	}
	return 0;
}

void store_header_free(struct store_header *h)
{
	free(h->sums);
	free(h->zero);
	h->sums = NULL;
	h->zero = NULL;
}

int store_header_encode(const struct store_header *h, char **out, size_t *outlen)
{
	char text[160];
	int tl = snprintf(text, sizeof(text),
			  "uffd-image 1\nsize %" PRIu64 "\nchunk %u\nchunks %" PRIu64 "\nsum crc32c\n\n",
			  h->size, h->chunk, h->nchunks);
	size_t zl = h->nchunks / 8 + (h->nchunks % 8 != 0);
	size_t n = tl + h->nchunks * 4 + zl;
	unsigned char *b = malloc(n ? n : 1), *p;

	if (!b)
		return -ENOMEM;
	memcpy(b, text, tl);
	p = b + tl;
	for (uint64_t i = 0; i < h->nchunks; i++, p += 4) {
		uint32_t s = h->sums[i];
		p[0] = s;
		p[1] = s >> 8;
		p[2] = s >> 16;
		p[3] = s >> 24;
	}
	memcpy(p, h->zero, zl);
	*out = (char *)b;
	*outlen = n;
	return 0;
}

int store_header_decode(struct store_header *h, const char *buf, size_t len)
{
	const char *end = memmem(buf, len, "\n\n", 2);
	uint64_t size, nchunks;
	unsigned chunk;
	char text[160];
	int used = 0;

	memset(h, 0, sizeof(*h));
	if (!end || (size_t)(end - buf) >= sizeof(text))
		return -EIO;
	memcpy(text, buf, end - buf);
	text[end - buf] = 0;
	if (sscanf(text, "uffd-image 1\nsize %" SCNu64 "\nchunk %u\nchunks %" SCNu64
		   "\nsum crc32c%n", &size, &chunk, &nchunks, &used) != 3 ||
	    used != end - buf)
		return -EIO;
	if (store_header_alloc(h, size, chunk))
		return -EIO;
	const unsigned char *p = (const unsigned char *)end + 2;
	size_t zl = nchunks / 8 + (nchunks % 8 != 0);
	if (h->nchunks != nchunks || (size_t)(buf + len - (const char *)p) != nchunks * 4 + zl) {
		store_header_free(h);
		return -EIO;
	}
	for (uint64_t i = 0; i < nchunks; i++, p += 4)
		h->sums[i] = p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
	memcpy(h->zero, p, zl);
	return 0;
}

static int key(size_t len, int n)
{
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : n;
}

int store_key_header(char *buf, size_t len, const char *id)
{
	return key(len, snprintf(buf, len, "uffd:%s:hdr", id));
}

int store_key_chunk(char *buf, size_t len, const char *id, uint32_t chunk, uint64_t i)
{
	return key(len, snprintf(buf, len, "uffd:%s:%u:%" PRIu64, id, chunk, i));
}

int store_key_ws(char *buf, size_t len, const char *id)
{
	return key(len, snprintf(buf, len, "uffd:%s:ws", id));
}

void store_backoff(int k)
{
	long ms = 1L << (k < 8 ? k : 8);
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}
