/* SPDX-License-Identifier: MIT */
/*
 * A snapshot of a region while its program runs (the technique of QEMU's
 * background snapshot).  Under the region's wp_lock, every present page is
 * write-protected and marked SNAP_MEMORY, every other page SNAP_SOURCE: that
 * instant is the snapshot.  Then the pages are saved in order, each under
 * wp_lock; a write to a page not saved yet is a write-protect fault, whose
 * handler saves the page first (pager_wp_fault).  A page that was not
 * present holds what the source holds, however it is filled or written
 * later, so it is read from the source (outside the lock: the sink may be
 * called from the snapshot's thread and a handler thread at once).  Pages written since they were read
 * stay dirty and become writable again once saved; clean ones stay
 * protected, as write-back tracking wants them.
 */
#include <errno.h>
#include <stdlib.h>

#include "pager.h"

void pager_snapshot_save(struct uffd_region *r, uint64_t pg)
{
	struct pager_snapshot *s = r->snapping;
	const size_t ps = r->pager->psize;

	atomic_store(&r->snap[pg], SNAP_DONE);
	int ret = s->sink(s->ctx, pg * ps, r->addr + pg * ps, ps);
	if (ret < 0 && !s->err)
		s->err = ret;
	else if (ret >= 0)
		s->saved++;
}

/* Mark the pages and protect the present ones: the snapshot's instant. */
static int begin(struct uffd_region *r, struct pager_snapshot *s)
{
	uint64_t run = 0, n = 0;
	int ret = 0;

	for (uint64_t pg = 0; pg <= r->npages && !ret; pg++) {
		int present = pg < r->npages && atomic_load(&r->state[pg]) == PG_PRESENT;
		if (pg < r->npages)
			atomic_store(&r->snap[pg], present ? SNAP_MEMORY : SNAP_SOURCE);
		if (present) {
			if (!n)
				run = pg;
			n++;
		} else if (n) {
			ret = pager_protect(r, run, n, 1);
			n = 0;
		}
	}
	if (!ret)
		r->snapping = s;
	return ret;
}

long uffd_region_snapshot(struct uffd_region *r,
			  int (*sink)(void *ctx, uint64_t offset, const void *page, size_t len),
			  void *ctx)
{
	if (!r || !sink || !r->dirty) {
		errno = EINVAL;
		return -1;
	}
	const size_t ps = r->pager->psize;
	char *buf = malloc(ps);
	if (!r->snap)
		r->snap = calloc(r->npages, 1);
	if (!buf || !r->snap) {
		free(buf);
		errno = ENOMEM;
		return -1;
	}
	struct pager_snapshot s = { .sink = sink, .ctx = ctx };
	pthread_mutex_lock(&r->wp_lock);
	int ret = r->snapping ? -EBUSY : begin(r, &s) < 0 ? -errno : 0;
	pthread_mutex_unlock(&r->wp_lock);
	if (ret < 0) {
		free(buf);
		errno = -ret;
		return -1;
	}
	for (uint64_t pg = 0; pg < r->npages; pg++) {
		pthread_mutex_lock(&r->wp_lock);
		uint8_t what = atomic_load(&r->snap[pg]);
		if (what == SNAP_MEMORY) {
			pager_snapshot_save(r, pg);
			if (atomic_load(&r->dirty[pg]))
				pager_protect(r, pg, 1, 0);   /* writable again, as before */
			pthread_mutex_unlock(&r->wp_lock);
		} else if (what == SNAP_SOURCE) {
			/* no fault waits for it: read and saved without the lock */
			atomic_store(&r->snap[pg], SNAP_DONE);
			pthread_mutex_unlock(&r->wp_lock);
			struct uffd_source_req req = { .off = r->off + pg * ps, .buf = buf, .len = ps };
			uffd_source_read_reqs(r->src, &req, 1);
			int w = req.result < 0 ? req.result : sink(ctx, pg * ps, buf, ps);
			pthread_mutex_lock(&r->wp_lock);
			if (w < 0 && !s.err)
				s.err = w;
			else if (w >= 0)
				s.saved++;
			pthread_mutex_unlock(&r->wp_lock);
		} else {
			pthread_mutex_unlock(&r->wp_lock);
		}
	}
	pthread_mutex_lock(&r->wp_lock);
	r->snapping = NULL;
	pthread_mutex_unlock(&r->wp_lock);
	free(buf);
	if (s.err) {
		errno = -s.err;
		return -1;
	}
	return s.saved;
}
