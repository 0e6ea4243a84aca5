/* SPDX-License-Identifier: MIT */
/*
 * The pager inside libuffd.
 *
 *   source*.c   page sources (source.h): file, zero, callback, by URL
 *   pager.c     create/destroy: the userfaultfd, its features, the threads
 *   region.c    map/unmap and finding the region of a fault address
 *   handler.c   a handler thread: poll, read a batch of messages, dispatch
 *   fill.c      a missing fault: claim the page and a readahead window,
 *               read them, COPY the faulting page (woken first), then the
 *               window in one COPY; a source error poisons the page (SIGBUS)
 *   writeback.c write-protect faults (dirty tracking) and write-back
 *   snapshot.c  a consistent copy of a region while it is written to
 *   stats.c     counters and the fault-latency histogram
 *   prefetch.c  working sets: record the order pages are filled in; prefetch
 *               a recorded list in bulk on background threads
 */
#ifndef LIBUFFD_PAGER_PAGER_H
#define LIBUFFD_PAGER_PAGER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "source.h"

/* Per-page state in a region. */
#define PG_MISSING  0
#define PG_FILLING  1             /* claimed by a handler thread */
#define PG_PRESENT  2
#define PG_POISONED 3
#define PG_PREFETCH 4             /* claimed by a prefetch thread (prefetch.c) */

#define PAGER_BATCH   8           /* messages read at once by a thread */
#define RA_MIN        4           /* first readahead window of a run, pages */
#define RA_STREAMS    4           /* sequential runs tracked per region */
#define LAT_BUCKETS   640

struct ra_stream {
	_Atomic uint64_t next;    /* the page that continues the run */
	_Atomic unsigned win;     /* the last window, pages */
};

struct uffd_region {
	struct uffd_pager *pager;
	struct uffd_source *src;
	char *addr;
	size_t len, npages;
	uint64_t off;             /* source offset of addr */
	_Atomic uint8_t *state;   /* PG_* per page */
	_Atomic uint8_t *dirty;   /* written since filled / written back (WRITEBACK) */
	pthread_mutex_t wp_lock;  /* a dirty mark and its protection change together */
	_Atomic uint8_t *snap;    /* SNAP_*: what a running snapshot has still to save */
	struct pager_snapshot *snapping; /* the running snapshot or NULL (under wp_lock) */
	struct ra_stream ra[RA_STREAMS];
	_Atomic unsigned ra_victim;
	_Atomic(struct pager_ws *) ws;  /* working set: record and prefetch (prefetch.c) */
	struct uffd_region *next;
};

struct pager_stats {            /* one per handler thread, plus one shared */
	_Atomic uint64_t faults, skipped, wp_faults, filled, read_ahead, bytes, errors,
		written;
	_Atomic uint64_t prefetched, prefetch_bytes, prefetch_late;
	_Atomic uint64_t lat[LAT_BUCKETS];
};

struct pager_thread {
	struct uffd_pager *pager;
	pthread_t tid;
	char *buf;                /* PAGER_BATCH windows of (1 + readahead) pages */
	size_t buf_len;
	struct pager_stats stats;
};

struct uffd_pager {
	int fd, stop_fd;
	enum uffd_backend backend;
	uint64_t features;
	unsigned readahead, flags, nthreads;
	size_t psize;
	pthread_rwlock_t lock;    /* the region list; handlers hold it shared */
	struct uffd_region *regions;
	struct pager_stats stats; /* counted outside handler threads */
	struct pager_thread *threads;
};

/* region.c: the region holding addr (lock held shared), or NULL. */
UFFD_HIDDEN struct uffd_region *pager_region_of(struct uffd_pager *p, uintptr_t addr);
/* handler.c */
UFFD_HIDDEN void *pager_handler_main(void *arg);
/* fill.c: a batch of missing faults (already read; t0 is when). */
struct fault {
	struct uffd_region *r;
	uint64_t page;
	uint64_t flags;
};
UFFD_HIDDEN void pager_fill_faults(struct pager_thread *t, struct fault *f, size_t n,
				   uint64_t t0);
/* fill.c: UFFDIO_COPY (or ZEROPAGE) of n pages from buf at page index pg,
 * waking; wp: install write-protected.  Marks them present; returns the
 * number of pages this call installed. */
UFFD_HIDDEN size_t pager_install(struct uffd_region *r, uint64_t pg, size_t n,
				 const void *buf, int wp);
/* fill.c: give claimed pages back (missing again) and wake their waiters. */
UFFD_HIDDEN void pager_release(struct uffd_region *r, uint64_t pg, size_t n);
/* prefetch.c: a fault claimed pages pg..pg+n (recorded when recording);
 * stop a region's prefetch threads (before unmapping); free its state. */
UFFD_HIDDEN void pager_ws_claimed(struct uffd_region *r, uint64_t pg, size_t n);
/* prefetch.c: a fault message named page pg (so it is no prefetch hit). */
UFFD_HIDDEN void pager_ws_faulted(struct uffd_region *r, uint64_t pg);
UFFD_HIDDEN void pager_ws_stop(struct uffd_region *r);
UFFD_HIDDEN void pager_ws_free(struct uffd_region *r);
/* snapshot.c */
#define SNAP_DONE   0
#define SNAP_MEMORY 1             /* present at the snapshot: save before a write */
#define SNAP_SOURCE 2             /* not present: the source holds its content */
struct pager_snapshot {
	int (*sink)(void *ctx, uint64_t off, const void *buf, size_t len);
	void *ctx;
	int err;
	long saved;
};
/* Under wp_lock: save page pg (SNAP_MEMORY) before anything writes it. */
UFFD_HIDDEN void pager_snapshot_save(struct uffd_region *r, uint64_t pg);
/* writeback.c: a write-protect fault on page pg. */
UFFD_HIDDEN void pager_wp_fault(struct pager_thread *t, struct uffd_region *r, uint64_t pg);
/* writeback.c: write-protect (on) or unprotect n pages from pg. */
UFFD_HIDDEN int pager_protect(struct uffd_region *r, uint64_t pg, size_t n, int on);
/* stats.c */
UFFD_HIDDEN void pager_lat_record(struct pager_stats *s, uint64_t ns);
UFFD_HIDDEN uint64_t pager_now_ns(void);

#endif
