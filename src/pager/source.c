/* SPDX-License-Identifier: MIT */
/* The page-source object: construction, size, reads, release. */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "source.h"

struct uffd_source *uffd_source_new(const struct uffd_source_ops *ops, void *priv,
				    uint64_t size)
{
	if (!ops || !ops->read) {
		errno = EINVAL;
		return NULL;
	}
	struct uffd_source *src = calloc(1, sizeof(*src));
	if (!src)
		return NULL;
	src->ops = *ops;
	src->priv = priv;
	src->size = size;
	return src;
}

uint64_t uffd_source_size(const struct uffd_source *src)
{
	return src ? src->size : 0;
}

void uffd_source_close(struct uffd_source *src)
{
	if (!src)
		return;
	if (src->ops.close)
		src->ops.close(src->priv);
	free(src);
}

void uffd_source_read_reqs(struct uffd_source *src, struct uffd_source_req *reqs, size_t n)
{
	size_t ask = 0;

	/* Extents past the end fail here (the last page counts whole: the
	 * source fills its tail with zeros); the others are asked for together. */
	const uint64_t ps = (uint64_t)sysconf(_SC_PAGESIZE);
	const uint64_t end = src->size > UINT64_MAX - ps ? UINT64_MAX : (src->size + ps - 1) & ~(ps - 1);
	for (size_t i = 0; i < n; i++) {
		if (reqs[i].off >= src->size || reqs[i].len > end - reqs[i].off)
			reqs[i].result = -ENODATA;
		else
			reqs[i].result = 1;     /* to ask */
	}
	if (src->ops.read_batch) {
		struct uffd_source_req tmp[n ? n : 1];
		size_t map[n ? n : 1];
		for (size_t i = 0; i < n; i++)
			if (reqs[i].result == 1) {
				map[ask] = i;
				tmp[ask] = reqs[i];
				tmp[ask++].result = -EIO;
			}
		if (!ask)
			return;
		int r = src->ops.read_batch(src->priv, tmp, ask);
		for (size_t j = 0; j < ask; j++)
			reqs[map[j]].result = r < 0 ? r : tmp[j].result;
		return;
	}
	for (size_t i = 0; i < n; i++)
		if (reqs[i].result == 1)
			reqs[i].result = src->ops.read(src->priv, reqs[i].off, reqs[i].buf,
						       reqs[i].len);
}
