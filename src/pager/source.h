/* SPDX-License-Identifier: MIT */
/* Page sources inside libuffd: the object behind struct uffd_source. */
#ifndef LIBUFFD_PAGER_SOURCE_H
#define LIBUFFD_PAGER_SOURCE_H

#include "uffd/pager.h"
#include "../internal.h"

struct uffd_source {
	struct uffd_source_ops ops;
	void *priv;
	uint64_t size;
	int zero;                 /* every byte reads as zero (ZEROPAGE will do) */
};

/* Read n extents through read_batch, or read() per extent; each req's
 * result is set.  Extents reaching past the source's size get -ENODATA
 * without asking the source. */
UFFD_HIDDEN void uffd_source_read_reqs(struct uffd_source *src,
				       struct uffd_source_req *reqs, size_t n);

/* A source opened from a URL scheme ("redis://..."): one entry per scheme
 * in source_open.c. */
struct uffd_source_scheme {
	const char *prefix;
	struct uffd_source *(*open)(const char *url);
};

#endif
