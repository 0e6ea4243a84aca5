/* SPDX-License-Identifier: MIT */
/*
 * A stored image as a page source for the pager: reads and batches go to
 * image.c (one pipelined fetch per batch, every chunk checked), so a fault's
 * readahead window and the faults a handler thread reads together cost one
 * round trip per server.  uffd_source_open() in libuffd reaches this through
 * a weak reference, so that libuffd itself links no store client.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "uffd/store.h"
#include "image.h"

static int src_read(void *priv, uint64_t off, void *buf, size_t len)
{
	return store_image_read(priv, off, buf, len);
}

static int src_read_batch(void *priv, struct uffd_source_req *reqs, size_t n)
{
	return store_image_read_batch(priv, reqs, n);
}

static void src_close(void *priv)
{
	store_image_close(priv);
}

static const struct uffd_source_ops ops = {
	.read = src_read,
	.read_batch = src_read_batch,
	.close = src_close,
};

static __thread char why[256];

const char *uffd_source_store_strerror(void)
{
	return why;
}

struct uffd_source *store_source(struct store_image *im)
{
	return uffd_source_new(&ops, im, im->h.size);
}

struct uffd_source *uffd_source_store(const char *url)
{
	struct store_image *im;
	int ret = store_image_open(url, &im, why, sizeof(why));

	if (ret) {
		errno = -ret;
		return NULL;
	}
	struct uffd_source *src = store_source(im);
	if (!src) {
		int err = errno;
		store_image_close(im);
		errno = err;
	}
	return src;
}
