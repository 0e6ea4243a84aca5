/* SPDX-License-Identifier: MIT */
/* Helpers for the store tests: see simage.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "harness.h"
#include "simage.h"

int t_image_file(uint64_t size, unsigned seed, uint64_t zero_from, uint64_t zero_to)
{
	int fd = memfd_create("image", MFD_CLOEXEC);
	unsigned char *page = malloc(t_page);

	T_ASSERT(fd >= 0 && page);
	T_ASSERT(ftruncate(fd, size) == 0);
	for (uint64_t off = 0; off < size; off += t_page) {
		uint64_t p = off / t_page;
		size_t len = size - off < (uint64_t)t_page ? size - off : (size_t)t_page;
		if (p >= zero_from && p < zero_to)
			continue;
		t_fill(page, t_page, seed + (unsigned)p);
		T_ASSERT(pwrite(fd, page, len, off) == (ssize_t)len);
	}
	free(page);
	return fd;
}

const char *t_image_url(const char *base, const char *id)
{
	static char url[256];

	snprintf(url, sizeof(url), "%s/%s", base, id);
	return url;
}

struct store_image *t_image_open(const char *url)
{
	struct store_image *im;
	char why[256];
	int ret = store_image_open(url, &im, why, sizeof(why));

	if (ret)
		T_FATAL("store_image_open(%s): %s", url, why);
	return im;
}

long t_image_compare(const char *url, int fd)
{
	struct store_image *im;
	char why[256];
	long bad = 0;

	if (store_image_open(url, &im, why, sizeof(why)))
		return -1;
	uint64_t size = im->h.size, npages = (size + t_page - 1) / t_page;
	unsigned char *want = malloc(t_page), *got = malloc(8 * t_page);
	T_ASSERT(want && got);
	for (uint64_t p = 0; p < npages; p += 8) {
		struct store_req r[8];
		size_t n = 0;
		for (uint64_t q = p; q < npages && q < p + 8; q++)
			if (q % 2 == 0)
				r[n++] = (struct store_req){ .off = q * t_page, .buf = got + (q - p) * t_page,
							     .len = t_page };
		if (store_image_read_batch(im, r, n))
			bad += n;
		for (uint64_t q = p; q < npages && q < p + 8; q++) {
			unsigned char *g = got + (q - p) * t_page;
			if (q % 2 == 1 && store_image_read(im, q * t_page, g, t_page)) {
				bad++;
				continue;
			}
			if (q % 2 == 0 && r[(q - p) / 2].result) {
				bad++;
				continue;
			}
			memset(want, 0, t_page);
			ssize_t len = pread(fd, want, t_page, q * t_page);
			if (len <= 0 || memcmp(want, g, t_page))
				bad++;
		}
	}
	free(want);
	free(got);
	store_image_close(im);
	return bad;
}
