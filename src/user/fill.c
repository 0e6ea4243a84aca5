/* SPDX-License-Identifier: MIT */
/*
 * UFFDIO_COPY, ZEROPAGE, POISON, CONTINUE and MOVE: filling absent pages,
 * page by page in the kernel's order (mm/userfaultfd.c, mfill_atomic): the
 * destination must lie in one registered range (ENOENT), a page that already
 * holds data stops the operation with EEXIST, and the result is the bytes
 * done before the first error, or the error when none was done.  Consecutive
 * pages are claimed (MISSING -> BUSY) and filled in one step.
 * Async-signal-safe: a program may resolve from its SIGBUS handler.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "user.h"

enum op { OP_COPY, OP_ZEROPAGE, OP_POISON, OP_CONTINUE };


void u_refresh_state(const struct u_range *r, uintptr_t addr, size_t n)
{
	/* Pages of shmem, or of a shared hugetlb MINOR range, come from the
	 * page cache (which others fill); anonymous (and other hugetlb) pages
	 * only arrive through us while MISSING traps are armed. */
	const bool shmem = r->mem == U_MEM_SHMEM || r->mem == U_MEM_SHMEM_PRIVATE ||
			   (r->mem == U_MEM_HUGETLB_SHARED &&
			    (r->mode & UFFDIO_REGISTER_MODE_MINOR));
	const bool armed = r->mode & (UFFDIO_REGISTER_MODE_MISSING | UFFDIO_REGISTER_MODE_MINOR);
	/* In the page cache and MINOR-registered: a minor fault's page. */
	const uint8_t cached = shmem && (r->mode & UFFDIO_REGISTER_MODE_MINOR)
			       ? U_PG_CACHED : U_PG_PRESENT;
	unsigned char vec[64];

	if (!shmem && (r->mode & UFFDIO_REGISTER_MODE_MISSING))
		return;
	for (size_t done = 0; done < n;) {
		size_t k = n - done < 64 ? n - done : 64;
		uintptr_t at = addr + done * r->psize;
		if (u_pages_present(r, at, k * r->psize, vec))
			return;
		for (size_t i = 0; i < k; i++) {
			_Atomic uint8_t *st = &r->pages[(at - r->start) / r->psize + i];
			const uintptr_t pg = at + i * r->psize;
			uint8_t old = atomic_load(st);
			if (!vec[i] || (old & U_PG_STATE) != U_PG_MISSING)
				continue;
			/* Present by its state before its trap opens. */
			const int span = u_trap_span_begin(pg, pg + r->psize);
			/* A page that is there needs no trap (unless it is a
			 * MINOR page, whose trap makes its minor fault). */
			if (atomic_compare_exchange_strong(st, &old,
					(uint8_t)((old & ~U_PG_STATE) | cached)) &&
			    shmem && armed && cached == U_PG_PRESENT &&
			    !u_trap_disarm(r, pg, r->psize) &&
			    (r->mode & UFFDIO_REGISTER_MODE_WP))
				u_wp_settle(r, pg, 1, false);
			u_trap_span_end(span);
		}
		done += k;
	}
}

/* Claim up to n pages from page i on whose state is from (or, for COPY, a
 * poisoned page, which COPY replaces) -> BUSY; not_wp: not an absent page
 * write-protected (WP_UNPOPULATED).  Returns how many; stops at the first
 * that cannot be claimed. */
static size_t claim_run(const struct u_range *r, size_t i, size_t n, uint8_t from,
			bool or_poison, bool not_wp, uint8_t *was)
{
	size_t k = 0;

	for (; k < n; k++) {
		_Atomic uint8_t *st = &r->pages[i + k];
		uint8_t old = was[k] = atomic_load(st);
		if ((old & U_PG_STATE) != from &&
		    !(or_poison && (old & U_PG_STATE) == U_PG_POISON))
			break;
		if (not_wp && (old & U_PG_WP))
			break;
		if (!atomic_compare_exchange_strong(st, &old,
				(uint8_t)((old & ~U_PG_STATE) | U_PG_BUSY)))
			break;
	}
	return k;
}

static void set_run(const struct u_range *r, size_t i, size_t n, uint8_t to, bool wp)
{
	for (size_t k = 0; k < n; k++) {
		uint8_t v = (uint8_t)(to | (wp ? U_PG_WP : 0));
		atomic_store(&r->pages[i + k], v);
	}
}

/* Give n claimed pages from page i on back as they were (states was[]): a
 * fill that failed leaves them absent, poisoned, protected, trapped or not,
 * as before (u_trap_fill() gives the pages it did not write their trap or
 * protection back). */
static void unclaim(const struct u_range *r, size_t i, size_t n, const uint8_t *was)
{
	for (size_t k = 0; k < n; k++)
		atomic_store(&r->pages[i + k], was[k]);
}

/* Fill [dst, dst+len) within one range; returns the bytes done, and sets
 * *err when it stopped short. */
static int64_t fill_piece(const struct u_range *r, uintptr_t dst, const char *src,
			  size_t len, enum op op, bool wp, int *err)
{
	const size_t first = (dst - r->start) / r->psize, n = len / r->psize;
	const uint8_t from = op == OP_CONTINUE ? U_PG_CACHED : U_PG_MISSING;
	int64_t done = 0;
	uint8_t was[256];
	bool reread = false;   /* the source of the page at done faults in first */

	u_refresh_state(r, dst, n);
	while ((size_t)done < len) {
		size_t i = first + (size_t)done / r->psize;
		size_t left = n - (size_t)done / r->psize;
		/* COPY replaces a poison marker, and so does ZEROPAGE on a
		 * shared shmem mapping (shmem_mfill_atomic_pte(); anonymous
		 * and private mappings' zero page needs a none pte). */
		const bool over_poison = op == OP_COPY ||
					 (op == OP_ZEROPAGE && r->mem == U_MEM_SHMEM);
		/* The zero page of a private mapping, and a poison marker,
		 * go only where the page table entry is empty: a write
		 * protection marker there (a protected hole) is EEXIST
		 * (mfill_atomic_pte_zeropage()'s pte_none(),
		 * mfill_atomic_pte_poison()). */
		const bool not_wp = (op == OP_ZEROPAGE && r->mem != U_MEM_SHMEM) || op == OP_POISON;
		/* The kernel reads COPY's source before it looks at the page
		 * (but for hugetlb, which looks first), faulting it in with
		 * nothing held: so here, before the page is claimed and
		 * closed.  A source page libuffd traps (a missing page of
		 * another range, a hole of a MINOR range) may block here on
		 * its own fault while the program writes the destination. */
		if (op == OP_COPY && (!u_hugetlb(r) || reread) &&
		    !u_src_readable(src + done, r->psize)) {
			*err = -EFAULT;
			break;
		}
		size_t k = claim_run(r, i, left > 256 ? 256 : left, from, over_poison, not_wp, was);
		if (!k) {
			uint8_t st = atomic_load(&r->pages[i]) & U_PG_STATE;
			/* CONTINUE needs the page in the page cache. */
			*err = op == OP_CONTINUE && st == U_PG_MISSING ? -EFAULT : -EEXIST;
			break;
		}
		uintptr_t at = dst + (uintptr_t)done;
		int got;
		switch (op) {
		case OP_POISON:
			/* The trap stays armed (a range without MISSING or
			 * MINOR traps, WP alone, gets one); the fault path
			 * raises SIGBUS. */
			got = r->mode & (UFFDIO_REGISTER_MODE_MISSING | UFFDIO_REGISTER_MODE_MINOR)
			      ? 0 : u_trap_arm(r, at, k * r->psize);
			if (!got) {
				set_run(r, i, k, U_PG_POISON, false);
				got = (int)k;
			}
			break;
		case OP_CONTINUE:
			got = u_trap_disarm(r, at, k * r->psize);
			if (!got)
				got = (int)k;
			if (got > 0 && wp)
				u_trap_protect(r, at, k * r->psize, true);
			/* Mapped, as the kernel's CONTINUE maps the page. */
			if (got > 0)
				sys_madvise((void *)at, k * r->psize, MADV_POPULATE_READ);
			break;
		case OP_ZEROPAGE:
			if (r->mem == U_MEM_SHMEM && k * r->psize > U_ZERO_LEN) {
				unclaim(r, i + U_ZERO_LEN / r->psize, k - U_ZERO_LEN / r->psize,
					was + U_ZERO_LEN / r->psize);
				k = U_ZERO_LEN / r->psize;
			}
			got = u_trap_fill(r, at, u_zero_page, k * r->psize, false);
			break;
		default:
			got = u_trap_fill(r, at, src + done, k * r->psize, wp);
			break;
		}
		if (got < 0) {
			unclaim(r, i, k, was);
			/* hugetlb: its source page faults in now, once. */
			if (got == -EFAULT && op == OP_COPY && u_hugetlb(r) && !reread) {
				reread = true;
				continue;
			}
			*err = got;
			break;
		}
		reread = (size_t)got < k;
		if (op != OP_POISON) {
			set_run(r, i, (size_t)got, U_PG_PRESENT, wp);
			if (r->mode & UFFDIO_REGISTER_MODE_WP)
				u_wp_settle(r, at, (size_t)got, wp);
		}
		unclaim(r, i + got, k - got, was + got);
		done += (int64_t)got * r->psize;
		/* Stopped short (a source page to fault in, a page the
		 * program wrote meanwhile): the next round says why. */
	}
	return done;
}

/* The kernel merges adjacent mappings registered alike into one (pieces
 * of one file where its offsets follow on), and an operation may span them;
 * ours stay separate ranges. */
static bool merged(const struct u_range *a, const struct u_range *b)
{
	if (a->end != b->start || a->ctx != b->ctx || a->mode != b->mode ||
	    a->prot != b->prot || a->mem != b->mem)
		return false;
	if (a->mem == U_MEM_ANON)
		return true;
	struct stat sa, sb;
	return a->memfd >= 0 && b->memfd >= 0 &&
	       b->file_off == a->file_off + (off_t)(a->end - a->start) &&
	       sys_fstat(a->memfd, &sa) == 0 && sys_fstat(b->memfd, &sb) == 0 &&
	       sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* The range holding dst, if [dst, dst+len) lies in one (kernel) mapping
 * registered with a userfaultfd: 0, or -ENOENT. */
static int dst_range(int self, uintptr_t dst, size_t len, struct u_range *r)
{
	struct u_range cur, next;

	if (!u_range_find_reg(dst, r, self))
		return -ENOENT;
	for (cur = *r; dst + len > cur.end; cur = next)
		if (!u_range_find_reg(cur.end, &next, self) || !merged(&cur, &next))
			return -ENOENT;
	return 0;
}

static int64_t mfill(int self, uintptr_t dst, const char *src, size_t len, enum op op,
		     bool wp)
{
	struct u_range r;
	int64_t done = 0;
	int err;

	u_range_enter();
	u_filling++;
	err = dst_range(self, dst, len, &r);
	if (!err && op == OP_CONTINUE && r.mem == U_MEM_ANON)
		err = -EINVAL;
	if (!err && wp && !(r.mode & UFFDIO_REGISTER_MODE_WP))
		err = -EINVAL;
	/* hugetlb: whole huge pages only, and no zero page to map. */
	if (!err && u_hugetlb(&r) &&
	    (op == OP_ZEROPAGE || ((dst | len) & (r.psize - 1))))
		err = -EINVAL;
	while (!err && (size_t)done < len) {
		uintptr_t at = dst + (uintptr_t)done;
		if (at >= r.end && !u_range_find_reg(at, &r, self)) {
			err = -ENOENT;
			break;
		}
		size_t piece = len - (size_t)done < r.end - at ? len - (size_t)done : r.end - at;
		done += fill_piece(&r, at, src ? src + done : NULL, piece, op, wp, &err);
	}
	u_filling--;
	u_range_leave();
	return done ? done : err;
}

int u_fill_finish(int ctx, uintptr_t dst, size_t len, int64_t ret, bool wake,
		  int64_t *result)
{
	*result = ret;
	if (ret < 0)
		return (int)ret;
	if (wake)
		u_wake(ctx, dst, dst + (uintptr_t)ret);
	return (size_t)ret == len ? 0 : -EAGAIN;
}

int u_copy_check(const struct uffdio_copy *a)
{
	int err = u_validate_range(a->src, a->len, false);

	if (!err)
		err = u_validate_range(a->dst, a->len, true);
	if (!err && (a->mode & ~(UFFDIO_COPY_MODE_DONTWAKE | UFFDIO_COPY_MODE_WP)))
		err = -EINVAL;
	return err;
}

int u_copy(struct u_ctx *ctx, struct uffdio_copy *a, int64_t *result)
{
	int err = u_copy_check(a);

	if (err)
		return err;
	int64_t ret = mfill(u_ctx_index(ctx), a->dst, (const char *)(uintptr_t)a->src,
			    a->len, OP_COPY, a->mode & UFFDIO_COPY_MODE_WP);
	return u_fill_finish(u_ctx_index(ctx), a->dst, a->len, ret,
		      !(a->mode & UFFDIO_COPY_MODE_DONTWAKE), result);
}

/* ZEROPAGE, POISON and CONTINUE: a range, a mode, a result; only the
 * operation and its mode bits differ. */
static int range_fill(struct u_ctx *ctx, const struct uffdio_range *range, uint64_t mode,
		      uint64_t allowed, uint64_t dontwake, uint64_t wp, enum op op,
		      int64_t *result)
{
	int err = u_validate_range(range->start, range->len, true);

	if (!err && (mode & ~allowed))
		err = -EINVAL;
	if (err)
		return err;
	int64_t ret = mfill(u_ctx_index(ctx), range->start, NULL, range->len, op, mode & wp);
	return u_fill_finish(u_ctx_index(ctx), range->start, range->len, ret,
			     !(mode & dontwake), result);
}

int u_zeropage(struct u_ctx *ctx, struct uffdio_zeropage *a, int64_t *result)
{
	return range_fill(ctx, &a->range, a->mode, UFFDIO_ZEROPAGE_MODE_DONTWAKE,
			  UFFDIO_ZEROPAGE_MODE_DONTWAKE, 0, OP_ZEROPAGE, result);
}

int u_poison(struct u_ctx *ctx, struct uffdio_poison *a, int64_t *result)
{
	return range_fill(ctx, &a->range, a->mode, UFFDIO_POISON_MODE_DONTWAKE,
			  UFFDIO_POISON_MODE_DONTWAKE, 0, OP_POISON, result);
}

int u_continue(struct u_ctx *ctx, struct uffdio_continue *a, int64_t *result)
{
	return range_fill(ctx, &a->range, a->mode,
			  UFFDIO_CONTINUE_MODE_DONTWAKE | UFFDIO_CONTINUE_MODE_WP,
			  UFFDIO_CONTINUE_MODE_DONTWAKE, UFFDIO_CONTINUE_MODE_WP,
			  OP_CONTINUE, result);
}
