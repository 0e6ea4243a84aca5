/* SPDX-License-Identifier: MIT */
/* Helpers for the store tests (linked into test/store-*.c only): image files
 * with known contents, and reading a stored image back page by page. */
#ifndef LIBUFFD_TEST_SIMAGE_H
#define LIBUFFD_TEST_SIMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "image.h"

/* A memfd of size bytes: page p holds t_fill(seed + p), except pages in
 * [zero_from, zero_to) which are zeros; size need not be a page multiple. */
int t_image_file(uint64_t size, unsigned seed, uint64_t zero_from, uint64_t zero_to);
/* "URL/ID". */
const char *t_image_url(const char *base, const char *id);
/* Read every page of image url through store_image_read (odd pages) and
 * store_image_read_batch (even pages, 8 per batch) and compare with fd;
 * returns the number of pages that differ or failed, -1 if it did not open. */
long t_image_compare(const char *url, int fd);
/* Open image url, fatal on failure. */
struct store_image *t_image_open(const char *url);

#endif
