/* SPDX-License-Identifier: MIT */
/*
 * The pager: memory whose pages arrive lazily from a page source, served by
 * handler threads over a userfaultfd of either backend.
 *
 *     struct uffd_pager_config cfg = { .backend = UFFD_BACKEND_AUTO, .threads = 2 };
 *     struct uffd_pager *pg = uffd_pager_create(&cfg);
 *     struct uffd_source *src = uffd_source_file("snapshot.img", 0);
 *     struct uffd_region *r = uffd_pager_map(pg, src, uffd_source_size(src), 0, 0);
 *     char *mem = uffd_region_addr(r);   // pages are read from the file on first touch
 *     ...
 *     uffd_region_unmap(r);
 *     uffd_source_close(src);
 *     uffd_pager_destroy(pg);          // no thread, mapping or fd is left behind
 *
 * A source error (I/O error, a page past the end) reaches the thread that
 * touched the page as SIGBUS, as the kernel does for a failed page-in of a
 * file mapping; the page is never filled with zeros.
 */
#ifndef LIBUFFD_PAGER_H
#define LIBUFFD_PAGER_H

#include <stddef.h>
#include <stdint.h>

#include <uffd.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- page sources ---- */

struct uffd_source;                      /* opaque */

struct uffd_source_req {                 /* one extent of a batch */
	uint64_t off;                    /* byte offset in the source, page aligned */
	void *buf;                       /* where the bytes go */
	size_t len;                      /* a multiple of the page size */
	int result;                      /* out: 0, or -errno (-EIO, -ENODATA past the end, ...) */
};

struct uffd_source_ops {
	/* Read len bytes at off into buf: 0 or -errno.  Called concurrently
	 * from several handler threads: must be thread-safe.  Required.  When
	 * the size is not a multiple of the page size the last page is asked
	 * for whole: its tail past the size should read as zeros. */
	int (*read)(void *priv, uint64_t off, void *buf, size_t len);
	/* Optional: n extents in one go (pipelined for remote stores, up to
	 * the source's own bound in flight); sets each req's result; returns
	 * 0, or -errno if the batch as a whole failed.  NULL: the pager calls
	 * read() per extent. */
	int (*read_batch)(void *priv, struct uffd_source_req *reqs, size_t n);
	/* Optional: write back len bytes at off (write-back of dirty pages). */
	int (*write)(void *priv, uint64_t off, const void *buf, size_t len);
	/* Optional: release priv (called once, by uffd_source_close()). */
	void (*close)(void *priv);
};

/* A source of size bytes over ops/priv; NULL with errno on failure.  On
 * failure ops->close is not called: priv stays the caller's. */
struct uffd_source *uffd_source_new(const struct uffd_source_ops *ops, void *priv,
				    uint64_t size);
/* A file read with pread(2), written back with pwrite(2); its size is the
 * file's size when opened.  flags: O_DIRECT (optional), O_RDWR (needed for
 * write-back; default O_RDONLY). */
struct uffd_source *uffd_source_file(const char *path, int flags);
/* size bytes of zeros (written-back data is discarded). */
struct uffd_source *uffd_source_zero(uint64_t size);
/* A user callback: fill(ctx, offset, page, len) puts len bytes of the source
 * at offset into page and returns 0, or -errno.  Must be thread-safe. */
struct uffd_source *uffd_source_callback(int (*fill)(void *ctx, uint64_t offset,
						     void *page, size_t len),
					 void *ctx, uint64_t size);
/* A source named by a string: a file path (or "file:PATH"), "zero:SIZE"
 * (SIZE with an optional K, M, G or T suffix); other schemes
 * ("redis://...", "memcached://...") where built in.  NULL with errno. */
struct uffd_source *uffd_source_open(const char *url);
uint64_t uffd_source_size(const struct uffd_source *src);
/* Release a source; it must no longer be mapped by any region. */
void uffd_source_close(struct uffd_source *src);

/* ---- the pager ---- */

struct uffd_pager;
struct uffd_region;

#define UFFD_PAGER_WRITEBACK 0x1u        /* track dirty pages (write protection) */

struct uffd_pager_config {
	enum uffd_backend backend;       /* UFFD_BACKEND_AUTO, _KERNEL or _USER */
	unsigned threads;                /* handler threads; 0: 1 */
	unsigned readahead;              /* most pages read ahead of a sequential
					  * fault; 0: none; UFFD_PAGER_READAHEAD_DEFAULT */
	unsigned flags;                  /* UFFD_PAGER_WRITEBACK */
};

#define UFFD_PAGER_READAHEAD_DEFAULT 256u /* pages (1 MiB of 4 KiB pages) */
#define UFFD_PAGER_MAX_THREADS 64u

/* A pager with its userfaultfd and handler threads; NULL with errno
 * (uffd_strerror() says why when no backend opened). */
struct uffd_pager *uffd_pager_create(const struct uffd_pager_config *cfg);
/* Stop the threads, unmap every region still mapped, close the fd. */
void uffd_pager_destroy(struct uffd_pager *pager);
/* The backend the pager's userfaultfd belongs to. */
enum uffd_backend uffd_pager_backend(const struct uffd_pager *pager);

/* Map length bytes (rounded up to whole pages) of src from byte offset
 * offset (page aligned): a new private anonymous mapping whose pages are
 * read from src on first access.  flags: 0.  NULL with errno (EINVAL for a
 * bad offset, length or flags). */
struct uffd_region *uffd_pager_map(struct uffd_pager *pager, struct uffd_source *src,
				   size_t length, uint64_t offset, unsigned flags);
void *uffd_region_addr(const struct uffd_region *region);
size_t uffd_region_length(const struct uffd_region *region);
/* Write the pages written since they were read (or last written back) to
 * the source, and track them again.  Needs UFFD_PAGER_WRITEBACK and a source
 * with write(); returns the number of pages written, or -1 with errno
 * (EINVAL: not tracking; EROFS: the source cannot write; the source's errno). */
long uffd_region_writeback(struct uffd_region *region);
/* A consistent copy of the region as it is at the call, taken while other
 * threads go on writing to it: sink(ctx, offset, page, len) receives every
 * page once (offset from the region's start; pages never read come from the
 * source), in no set order, from the calling thread and from handler threads
 * (it must be thread-safe); a write to a page not saved yet waits until it is.  Needs UFFD_PAGER_WRITEBACK.  Returns the pages saved, or -1
 * with errno (EINVAL: not tracking; EBUSY: a snapshot of this region is
 * running; the sink's or the source's errno: the first one met). */
long uffd_region_snapshot(struct uffd_region *region,
			  int (*sink)(void *ctx, uint64_t offset, const void *page, size_t len),
			  void *ctx);
/* Unregister and unmap the region.  0, or -1 with errno. */
int uffd_region_unmap(struct uffd_region *region);

struct uffd_pager_stats {
	uint64_t faults;                 /* page-fault messages handled */
	uint64_t faults_skipped;         /* ... whose page was already filled (no work) */
	uint64_t wp_faults;              /* write-protect faults (write-back tracking) */
	uint64_t pages_filled;           /* pages installed, read ahead included */
	uint64_t pages_read_ahead;       /* pages installed before they faulted */
	uint64_t bytes_read;             /* bytes read from sources */
	uint64_t errors;                 /* source errors (each poisons a page: SIGBUS) */
	uint64_t pages_written;          /* pages written back */
	uint64_t latency_p50_ns;         /* fault service time, from reading the message */
	uint64_t latency_p99_ns;         /* to waking the faulting thread */
	uint64_t pages_prefetched;       /* pages installed by uffd_region_prefetch() */
	uint64_t prefetch_bytes;         /* bytes its threads read from sources */
	uint64_t prefetch_late;          /* faults on a page the prefetch had in flight */
};
/* ---- working sets: record a restore, prefetch the next one ---- */

/* Record from now on the order in which faults ask for the region's pages
 * (a faulting page, then its readahead window; each page once, unless a
 * failed read gave it back).  0 or -1 with errno (ENOMEM). */
int uffd_region_record_start(struct uffd_region *region);
/* The record: copies up to max page indices (from the region's start), in
 * the order asked for, into pages; returns how many there are in all. */
size_t uffd_region_record(const struct uffd_region *region, uint64_t *pages, size_t max);
/* Fill pages[0..n) (page indices, in that order) on threads background
 * threads (0: 1): each takes the next pages of the list, reads the ones still
 * missing with one read_batch (runs of consecutive pages as one extent) and
 * installs them; faults are served meanwhile as ever, pages already filled
 * are skipped, and a failed read leaves its pages to their faults.  Returns
 * at once: 0, or -1 with errno (EBUSY: the last prefetch was not waited for;
 * EINVAL). */
int uffd_region_prefetch(struct uffd_region *region, const uint64_t *pages, size_t n,
			 unsigned threads);
/* Prefetch hits: of pages[0..n) (page indices the workload touched, each
 * once), how many the prefetch installed before any fault asked for them:
 * faults the prefetch avoided.  Such a touch raises no fault, so the pager
 * cannot count it alone: the caller names the pages.  0 when no prefetch ran. */
size_t uffd_region_prefetch_hits(const struct uffd_region *region, const uint64_t *pages,
				 size_t n);
/* Wait for the region's prefetch to end (also done by uffd_region_unmap(),
 * which stops it first).  0, or -1 with errno EINVAL. */
int uffd_region_prefetch_wait(struct uffd_region *region);

/* The pager's counters since it was created. */
int uffd_pager_stats(const struct uffd_pager *pager, struct uffd_pager_stats *stats);

#ifdef __cplusplus
}
#endif

#endif /* LIBUFFD_PAGER_H */
