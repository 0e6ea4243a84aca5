/* SPDX-License-Identifier: MIT */
/*
 * Write-back.  With UFFD_PAGER_WRITEBACK a region is registered for
 * write-protect faults too, and every page is installed write-protected
 * (UFFDIO_COPY_MODE_WP) unless its first access is a write.  The first
 * write to a clean page faults: the page is marked dirty and unprotected.
 * uffd_region_writeback() protects each dirty run again, clears its marks,
 * then writes it to the source; a write after the protection faults and
 * marks the page dirty again, so nothing written is ever missed.  A page's
 * mark and its protection change together under the region's wp_lock.
 */
#include <errno.h>

#include "pager.h"

#define RELAXED memory_order_relaxed

int pager_protect(struct uffd_region *r, uint64_t pg, size_t n, int on)
{
	struct uffdio_writeprotect wp = {
		.range = { (uintptr_t)r->addr + pg * r->pager->psize, n * r->pager->psize },
		.mode = on ? UFFDIO_WRITEPROTECT_MODE_WP : 0,
	};
	return uffd_ioctl(r->pager->fd, UFFDIO_WRITEPROTECT, &wp);
}

void pager_wp_fault(struct pager_thread *t, struct uffd_region *r, uint64_t pg)
{
	atomic_fetch_add_explicit(&t->stats.wp_faults, 1, RELAXED);
	pthread_mutex_lock(&r->wp_lock);
	atomic_store(&r->dirty[pg], 1);
	if (r->snapping && atomic_load(&r->snap[pg]) == SNAP_MEMORY)
		pager_snapshot_save(r, pg);   /* the snapshot's copy first */
	pager_protect(r, pg, 1, 0);  /* and wake the writer */
	pthread_mutex_unlock(&r->wp_lock);
}

/* At most this many pages per protection change and write. */
#define RUN_MAX 256

long uffd_region_writeback(struct uffd_region *r)
{
	if (!r || !r->dirty) {
		errno = EINVAL;
		return -1;
	}
	if (!r->src->ops.write) {
		errno = EROFS;
		return -1;
	}
	const size_t ps = r->pager->psize;
	long written = 0;
	for (uint64_t pg = 0; pg < r->npages;) {
		if (!atomic_load(&r->dirty[pg])) {
			pg++;
			continue;
		}
		size_t n = 1;
		while (pg + n < r->npages && n < RUN_MAX && atomic_load(&r->dirty[pg + n]))
			n++;
		pthread_mutex_lock(&r->wp_lock);
		int ret = pager_protect(r, pg, n, 1);
		int err = errno;
		if (ret == 0)
			for (size_t i = 0; i < n; i++)
				atomic_store(&r->dirty[pg + i], 0);
		pthread_mutex_unlock(&r->wp_lock);
		if (ret < 0) {
			errno = err;
			return -1;
		}
		/* not past the source's end (its last page may be partial) */
		uint64_t at = r->off + pg * ps, len = n * ps;
		if (at >= r->src->size)
			len = 0;
		else if (len > r->src->size - at)
			len = r->src->size - at;
		int w = len ? r->src->ops.write(r->src->priv, at, r->addr + pg * ps, (size_t)len) : 0;
		if (w < 0) {
			/* still to be written: dirty again (they stay protected;
			 * a write to them faults and unprotects as usual) */
			for (size_t i = 0; i < n; i++)
				atomic_store(&r->dirty[pg + i], 1);
			errno = -w;
			return -1;
		}
		written += (long)n;
		pg += n;
	}
	atomic_fetch_add_explicit(&r->pager->stats.written, (uint64_t)written, RELAXED);
	return written;
}
