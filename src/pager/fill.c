/* SPDX-License-Identifier: MIT */
/*
 * Missing faults.  The thread that claims a page (PG_MISSING -> PG_FILLING)
 * fills it; a message for a page already claimed or filled costs nothing
 * more (the filler's COPY wakes every thread waiting on it).  A fault that
 * continues a sequential run claims a readahead window behind it, which
 * doubles with each run hit up to the configured bound.  The faulting pages
 * of a batch are read (one batch to the source), installed and their
 * threads woken first; then the windows are read and each is installed in
 * one UFFDIO_COPY.
 *
 * A source error never becomes zeros: the faulting page is poisoned
 * (UFFDIO_POISON), so the access raises SIGBUS as a failed page-in of a file
 * mapping does; a failed window is released and woken, so any thread
 * waiting in it faults again and has its page read on its own.
 */
#include <errno.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "pager.h"

#define RELAXED memory_order_relaxed

static void wake(struct uffd_region *r, uint64_t pg, size_t n)
{
	struct uffdio_range w = { (uintptr_t)r->addr + pg * r->pager->psize,
				  n * r->pager->psize };
	uffd_ioctl(r->pager->fd, UFFDIO_WAKE, &w);
}

static void set_state(struct uffd_region *r, uint64_t pg, size_t n, uint8_t st)
{
	for (size_t i = 0; i < n; i++)
		atomic_store(&r->state[pg + i], st);
}

/* Give pages back (nothing installed) and wake whoever waits on them: they
 * fault again and are served on their own. */
void pager_release(struct uffd_region *r, uint64_t pg, size_t n)
{
	set_state(r, pg, n, PG_MISSING);
	wake(r, pg, n);
}

size_t pager_install(struct uffd_region *r, uint64_t pg, size_t n, const void *buf, int wp)
{
	struct uffd_pager *p = r->pager;
	const size_t ps = p->psize;
	size_t done = 0, installed = 0;
	int existed = 0;

	while (done < n) {
		uintptr_t dst = (uintptr_t)r->addr + (pg + done) * ps;
		int64_t out;
		int ret;
		if (!buf) {
			struct uffdio_zeropage z = { .range = { dst, (n - done) * ps } };
			ret = uffd_ioctl(p->fd, UFFDIO_ZEROPAGE, &z);
			out = z.zeropage;
		} else {
			struct uffdio_copy c = { .dst = dst,
						 .src = (uintptr_t)buf + done * ps,
						 .len = (n - done) * ps,
						 .mode = wp ? UFFDIO_COPY_MODE_WP : 0 };
			ret = uffd_ioctl(p->fd, UFFDIO_COPY, &c);
			out = c.copy;
		}
		int err = errno;
		size_t got = out > 0 ? (size_t)out / ps : 0;
		set_state(r, pg + done, got, PG_PRESENT);
		done += got;
		installed += got;
		if (ret == 0 || done >= n)
			continue;
		if (err == EAGAIN)
			continue;      /* the mapping changed under the COPY: retry */
		if (err == EEXIST) {
			/* installed by someone else: nothing to do for it */
			set_state(r, pg + done, 1, PG_PRESENT);
			done++;
			existed = 1;
			continue;
		}
		/* ENOMEM (the user backend's mapping limit), ENOENT...: the
		 * pages stay missing; their threads fault again. */
		atomic_fetch_add_explicit(&p->stats.errors, 1, RELAXED);
		pager_release(r, pg + done, n - done);
		break;
	}
	if (existed)
		wake(r, pg, n);
	return installed;
}

/* A source error for page pg, whose fault is being served: SIGBUS. */
static void poison(struct pager_thread *t, struct uffd_region *r, uint64_t pg)
{
	struct uffd_pager *p = r->pager;
	struct uffdio_poison ps = { .range = { (uintptr_t)r->addr + pg * p->psize, p->psize } };

	atomic_fetch_add_explicit(&t->stats.errors, 1, RELAXED);
	if ((p->features & UFFD_FEATURE_POISON) &&
	    (uffd_ioctl(p->fd, UFFDIO_POISON, &ps) == 0 || errno == EEXIST)) {
		atomic_store(&r->state[pg], PG_POISONED);
		return;
	}
	/* Without POISON the page cannot be made to fault with SIGBUS; leave
	 * it missing and wake the thread: it faults again and the read is
	 * retried. */
	pager_release(r, pg, 1);
}

/* The readahead window for a fault on page pg: 0 unless it continues a run. */
static unsigned window(struct uffd_region *r, uint64_t pg)
{
	const unsigned max = r->pager->readahead;
	unsigned w = 0;
	int s;

	if (!max)
		return 0;
	for (s = 0; s < RA_STREAMS; s++)
		if (atomic_load_explicit(&r->ra[s].next, RELAXED) == pg)
			break;
	if (s < RA_STREAMS) {
		w = 2 * atomic_load_explicit(&r->ra[s].win, RELAXED);
		w = w < RA_MIN ? RA_MIN : w > max ? max : w;
	} else {
		s = (int)(atomic_fetch_add_explicit(&r->ra_victim, 1, RELAXED) % RA_STREAMS);
	}
	/* Not past the region, nor past the source's last page. */
	uint64_t limit = r->npages - pg - 1;
	const uint64_t ps = r->pager->psize, size = r->src->size;
	uint64_t at = r->off + (pg + 1) * ps;
	uint64_t src_pages = at < size ? (size - at + ps - 1) / ps : 0;
	if (limit > src_pages)
		limit = src_pages;
	if (w > limit)
		w = (unsigned)limit;
	/* Claim the window up to the first page someone else has. */
	unsigned got = 0;
	while (got < w) {
		uint8_t want = PG_MISSING;
		if (!atomic_compare_exchange_strong(&r->state[pg + 1 + got], &want, PG_FILLING))
			break;
		got++;
	}
	/* A run that meets pages already there (touched at random before, or
	 * read ahead by another run) goes on after them. */
	uint64_t next = pg + 1 + got;
	for (unsigned k = 0; k < max && next < r->npages &&
			     atomic_load_explicit(&r->state[next], RELAXED) != PG_MISSING; k++)
		next++;
	atomic_store_explicit(&r->ra[s].win, w, RELAXED);
	atomic_store_explicit(&r->ra[s].next, next, RELAXED);
	return got;
}

struct job {
	struct uffd_region *r;
	uint64_t pg;
	unsigned win;
	int write;
};

/* Install page pg from buf (in write-back mode, a write fault's page is
 * installed writable and marked dirty at once). */
static void install_faulting(struct pager_thread *t, struct job *j, const void *buf, uint64_t t0)
{
	struct uffd_region *r = j->r;
	size_t n;

	/* Counted before the COPY wakes the thread, so that a program that
	 * sees its page also sees it counted; taken back if it failed. */
	atomic_fetch_add_explicit(&t->stats.filled, 1, RELAXED);
	if (r->dirty && j->write) {
		pthread_mutex_lock(&r->wp_lock);
		atomic_store(&r->dirty[j->pg], 1);
		n = pager_install(r, j->pg, 1, buf, 0);
		pthread_mutex_unlock(&r->wp_lock);
	} else {
		n = pager_install(r, j->pg, 1, buf, r->dirty != NULL);
	}
	if (n != 1)
		atomic_fetch_sub_explicit(&t->stats.filled, 1, RELAXED);
	pager_lat_record(&t->stats, pager_now_ns() - t0);
}

/* Read extents: consecutive jobs on one source go as one batch; a zero
 * source needs no read when ZEROPAGE can install its pages. */
static void read_jobs(struct job *jobs, struct uffd_source_req *reqs, size_t nj)
{
	for (size_t i = 0; i < nj;) {
		struct uffd_source *src = jobs[i].r->src;
		size_t k = i + 1;
		while (k < nj && jobs[k].r->src == src)
			k++;
		if (src->zero && !jobs[i].r->dirty)
			for (size_t m = i; m < k; m++)
				reqs[m].result = 0;
		else
			uffd_source_read_reqs(src, reqs + i, k - i);
		i = k;
	}
}

static const void *job_buf(const struct job *j, const struct uffd_source_req *req)
{
	return (j->r->src->zero && !j->r->dirty) ? NULL : req->buf;
}

void pager_fill_faults(struct pager_thread *t, struct fault *f, size_t n, uint64_t t0)
{
	struct job jobs[PAGER_BATCH];
	struct uffd_source_req reqs[PAGER_BATCH];
	const size_t ps = t->pager->psize;
	size_t nj = 0, used = 0;

	for (size_t i = 0; i < n; i++) {
		struct uffd_region *r = f[i].r;
		uint8_t want = PG_MISSING;
		if (atomic_load_explicit(&r->ws, memory_order_acquire))
			pager_ws_faulted(r, f[i].page);   /* not a prefetch hit */
		if (!atomic_compare_exchange_strong(&r->state[f[i].page], &want, PG_FILLING)) {
			atomic_fetch_add_explicit(&t->stats.skipped, 1, RELAXED);
			if (want == PG_PREFETCH)   /* the prefetcher has it in flight */
				atomic_fetch_add_explicit(&t->stats.prefetch_late, 1, RELAXED);
			continue;
		}
		unsigned w = window(r, f[i].page);
		/* Recorded when claimed: before the fill wakes the thread, so the
		 * record has the order the workload asked in. */
		if (atomic_load_explicit(&r->ws, memory_order_acquire))
			pager_ws_claimed(r, f[i].page, 1 + (size_t)w);
		jobs[nj] = (struct job){ r, f[i].page, w,
					 !!(f[i].flags & UFFD_PAGEFAULT_FLAG_WRITE) };
		reqs[nj] = (struct uffd_source_req){ .off = r->off + f[i].page * ps,
						     .buf = t->buf + used, .len = ps };
		used += (1 + (size_t)w) * ps;
		nj++;
	}
	/* The faulting pages first: read, installed, their threads woken. */
	read_jobs(jobs, reqs, nj);
	for (size_t i = 0; i < nj; i++) {
		struct job *j = &jobs[i];
		const void *buf = job_buf(j, &reqs[i]);
		if (reqs[i].result == 0) {
			atomic_fetch_add_explicit(&t->stats.bytes, buf ? ps : 0, RELAXED);
			install_faulting(t, j, buf, t0);
		} else {
			poison(t, j->r, j->pg);
			pager_lat_record(&t->stats, pager_now_ns() - t0);
		}
	}
	/* Then the readahead windows, each in one COPY. */
	size_t nw = 0;
	for (size_t i = 0; i < nj; i++) {
		if (!jobs[i].win)
			continue;
		jobs[nw] = jobs[i];
		reqs[nw] = (struct uffd_source_req){ .off = reqs[i].off + ps,
						     .buf = (char *)reqs[i].buf + ps,
						     .len = jobs[i].win * ps };
		nw++;
	}
	read_jobs(jobs, reqs, nw);
	for (size_t i = 0; i < nw; i++) {
		struct job *j = &jobs[i];
		struct uffd_region *r = j->r;
		if (reqs[i].result != 0) {
			/* dropped: a page of it that is touched is read on its own */
			pager_release(r, j->pg + 1, j->win);
			continue;
		}
		const void *buf = job_buf(j, &reqs[i]);
		atomic_fetch_add_explicit(&t->stats.bytes, buf ? reqs[i].len : 0, RELAXED);
		atomic_fetch_add_explicit(&t->stats.filled, j->win, RELAXED);
		atomic_fetch_add_explicit(&t->stats.read_ahead, j->win, RELAXED);
		size_t got = pager_install(r, j->pg + 1, j->win, buf, r->dirty != NULL);
		atomic_fetch_sub_explicit(&t->stats.filled, j->win - got, RELAXED);
		atomic_fetch_sub_explicit(&t->stats.read_ahead, j->win - got, RELAXED);
	}
}
