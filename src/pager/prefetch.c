/* SPDX-License-Identifier: MIT */
/*
 * Working sets (the REAP idea: record which pages a restore needed, fetch
 * them in bulk next time).  Recording appends the pages a fault claims (the
 * faulting page, then its readahead window) before they are filled, so the
 * record is the order the workload asked for its pages in.  Prefetching walks a list on background
 * threads: each claims the next PF_BATCH pages that are still missing
 * (PG_PREFETCH, so a fault on one waits for it instead of reading it again),
 * reads them as one batch of extents (runs of consecutive pages together;
 * a remote source pipelines them), installs them and wakes any waiter.  A
 * read that fails gives its pages back to their faults, which report the
 * error themselves (SIGBUS) if it persists.
 *
 * Prefetch hits: a page the prefetch installed and the workload then touched
 * raises no fault, so the pager cannot see the touch; it marks each page the
 * prefetch installed and each page a fault message named, and
 * uffd_region_prefetch_hits() counts, of the pages a caller says were
 * touched, those installed by the prefetch that no fault asked for.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pager.h"

#define PF_BATCH 64               /* pages claimed and read at once per thread */
#define PF_FIRST 4                /* the first claims are smaller (4, 4, 8, 16, 32):
				   * the workload's first pages come sooner */
#define PF_MAX_THREADS 16

#define MARK_PREFETCHED 1         /* installed by the prefetch */
#define MARK_FAULTED    2         /* a fault message named it */

struct pager_ws {
	/* the record */
	_Atomic int recording;
	_Atomic uint64_t nrec;
	_Atomic uint64_t *rec;    /* npages entries (read while faults may still add) */
	/* the prefetch */
	uint64_t *list;
	size_t nlist;
	_Atomic(_Atomic uint8_t *) marks;   /* MARK_* per page, once a prefetch ran */
	_Atomic size_t next;      /* the next list entry to claim */
	_Atomic int stop;
	unsigned nthreads;
	pthread_t threads[PF_MAX_THREADS];
};

/* The region's working-set state, made on first use; handler threads
 * look at r->ws concurrently, so it is published once, atomically. */
static struct pager_ws *ws_of(struct uffd_region *r)
{
	struct pager_ws *ws = atomic_load(&r->ws), *none = NULL;

	if (ws)
		return ws;
	if (!(ws = calloc(1, sizeof(*ws))))
		return NULL;
	if (!atomic_compare_exchange_strong(&r->ws, &none, ws)) {
		free(ws);
		ws = none;
	}
	return ws;
}

void pager_ws_claimed(struct uffd_region *r, uint64_t pg, size_t n)
{
	struct pager_ws *ws = atomic_load(&r->ws);

	if (!atomic_load_explicit(&ws->recording, memory_order_acquire))
		return;
	uint64_t at = atomic_fetch_add(&ws->nrec, n);
	for (size_t i = 0; i < n && at + i < r->npages; i++)
		atomic_store_explicit(&ws->rec[at + i], pg + i, memory_order_relaxed);
}

int uffd_region_record_start(struct uffd_region *r)
{
	struct pager_ws *ws;

	if (!r) {
		errno = EINVAL;
		return -1;
	}
	if (!(ws = ws_of(r)))
		return -1;
	if (!ws->rec && !(ws->rec = calloc(r->npages, sizeof(*ws->rec))))
		return -1;
	atomic_store_explicit(&ws->recording, 1, memory_order_release);
	return 0;
}

size_t uffd_region_record(const struct uffd_region *r, uint64_t *pages, size_t max)
{
	struct pager_ws *ws = r ? atomic_load(&((struct uffd_region *)r)->ws) : NULL;

	if (!ws || !ws->rec)
		return 0;
	uint64_t n = atomic_load(&ws->nrec);
	if (n > r->npages)
		n = r->npages;
	for (uint64_t i = 0; pages && i < n && i < max; i++)
		pages[i] = atomic_load_explicit(&ws->rec[i], memory_order_relaxed);
	return n;
}

void pager_ws_faulted(struct uffd_region *r, uint64_t pg)
{
	struct pager_ws *ws = atomic_load(&r->ws);
	_Atomic uint8_t *marks = ws ? atomic_load(&ws->marks) : NULL;

	if (marks)
		atomic_fetch_or_explicit(&marks[pg], MARK_FAULTED, memory_order_relaxed);
}

size_t uffd_region_prefetch_hits(const struct uffd_region *r, const uint64_t *pages, size_t n)
{
	struct pager_ws *ws = r ? atomic_load(&((struct uffd_region *)r)->ws) : NULL;
	_Atomic uint8_t *marks = ws ? atomic_load(&ws->marks) : NULL;
	size_t hits = 0;

	for (size_t i = 0; marks && pages && i < n; i++)
		hits += pages[i] < r->npages &&
			atomic_load_explicit(&marks[pages[i]], memory_order_relaxed) ==
				MARK_PREFETCHED;
	return hits;
}

/* Claim up to PF_BATCH pages of the list, read and install them. */
static void prefetch_batch(struct uffd_region *r, char *buf, size_t from, size_t to)
{
	struct pager_ws *ws = atomic_load(&r->ws);
	struct uffd_pager *p = r->pager;
	const size_t ps = p->psize;
	struct uffd_source_req reqs[PF_BATCH];
	uint64_t first[PF_BATCH];
	size_t ne = 0, used = 0;
	const int zero = r->src->zero && !r->dirty;

	for (size_t i = from; i < to; i++) {
		uint64_t pg = ws->list[i];
		uint8_t want = PG_MISSING;
		if (pg >= r->npages ||
		    !atomic_compare_exchange_strong(&r->state[pg], &want, PG_PREFETCH))
			continue;
		if (ne && first[ne - 1] + reqs[ne - 1].len / ps == pg) {
			reqs[ne - 1].len += ps;   /* continues the last run */
		} else {
			first[ne] = pg;
			reqs[ne++] = (struct uffd_source_req){ .off = r->off + pg * ps,
							       .buf = buf + used * ps, .len = ps };
		}
		used++;
	}
	if (!ne)
		return;
	if (zero)
		for (size_t e = 0; e < ne; e++)
			reqs[e].result = 0;
	else
		uffd_source_read_reqs(r->src, reqs, ne);
	for (size_t e = 0; e < ne; e++) {
		size_t n = reqs[e].len / ps;
		if (reqs[e].result) {
			pager_release(r, first[e], n);
			continue;
		}
		/* Marked before the install makes them visible, so a touch
		 * after it finds the mark. */
		for (size_t k = 0; k < n; k++)
			atomic_fetch_or_explicit(&ws->marks[first[e] + k], MARK_PREFETCHED,
						 memory_order_relaxed);
		size_t got = pager_install(r, first[e], n, zero ? NULL : reqs[e].buf, r->dirty != NULL);
		atomic_fetch_add_explicit(&p->stats.prefetched, got, memory_order_relaxed);
		atomic_fetch_add_explicit(&p->stats.filled, got, memory_order_relaxed);
		if (!zero) {
			atomic_fetch_add_explicit(&p->stats.prefetch_bytes, reqs[e].len,
						  memory_order_relaxed);
			atomic_fetch_add_explicit(&p->stats.bytes, reqs[e].len, memory_order_relaxed);
		}
	}
}

static void *prefetch_main(void *arg)
{
	struct uffd_region *r = arg;
	struct pager_ws *ws = atomic_load(&r->ws);
	char *buf = malloc(PF_BATCH * r->pager->psize);

	while (buf && !atomic_load(&ws->stop)) {
		size_t from = atomic_load(&ws->next), n;
		do {
			n = from >= PF_BATCH ? PF_BATCH : from < PF_FIRST ? PF_FIRST : from;
		} while (from < ws->nlist &&
			 !atomic_compare_exchange_weak(&ws->next, &from, from + n));
		if (from >= ws->nlist)
			break;
		size_t to = from + n < ws->nlist ? from + n : ws->nlist;
		prefetch_batch(r, buf, from, to);
	}
	free(buf);
	return NULL;
}

int uffd_region_prefetch(struct uffd_region *r, const uint64_t *pages, size_t n, unsigned threads)
{
	struct pager_ws *ws;

	if (!r || (!pages && n)) {
		errno = EINVAL;
		return -1;
	}
	if (!(ws = ws_of(r)))
		return -1;
	if (ws->nthreads) {
		errno = EBUSY;
		return -1;
	}
	if (!atomic_load(&ws->marks)) {
		_Atomic uint8_t *marks = calloc(r->npages, 1);
		if (!marks)
			return -1;
		atomic_store(&ws->marks, marks);
	}
	free(ws->list);
	if (!(ws->list = malloc((n ? n : 1) * sizeof(*pages))))
		return -1;
	memcpy(ws->list, pages, n * sizeof(*pages));
	ws->nlist = n;
	atomic_store(&ws->next, 0);
	atomic_store(&ws->stop, 0);
	threads = threads ? threads : 1;
	threads = threads > PF_MAX_THREADS ? PF_MAX_THREADS : threads;
	for (unsigned i = 0; i < threads; i++) {
		int err = pthread_create(&ws->threads[i], NULL, prefetch_main, r);
		if (err) {
			if (i == 0) {
				errno = err;
				return -1;
			}
			break;   /* fewer threads do the same work */
		}
		ws->nthreads = i + 1;
	}
	return 0;
}

int uffd_region_prefetch_wait(struct uffd_region *r)
{
	if (!r) {
		errno = EINVAL;
		return -1;
	}
	struct pager_ws *ws = atomic_load(&r->ws);
	if (ws) {
		for (unsigned i = 0; i < ws->nthreads; i++)
			pthread_join(ws->threads[i], NULL);
		ws->nthreads = 0;
	}
	return 0;
}

void pager_ws_stop(struct uffd_region *r)
{
	struct pager_ws *ws = atomic_load(&r->ws);

	if (ws) {
		atomic_store(&ws->stop, 1);
		uffd_region_prefetch_wait(r);
	}
}

void pager_ws_free(struct uffd_region *r)
{
	struct pager_ws *ws = atomic_exchange(&r->ws, NULL);

	if (ws) {
		free((void *)ws->rec);
		free((void *)atomic_load(&ws->marks));
		free(ws->list);
		free(ws);
	}
}
