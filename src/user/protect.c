/* SPDX-License-Identifier: MIT */
/*
 * UFFDIO_WRITEPROTECT and UFFDIO_WAKE.  Write protection is the page's
 * protection without PROT_WRITE (mprotect), applied to the pages that hold
 * data (and, with UFFD_FEATURE_WP_UNPOPULATED, to absent ones too); each run
 * of protected pages is a VMA, so vm.max_map_count bounds how fragmented the
 * protection can be: mprotect's ENOMEM is returned as is.
 */
#include <errno.h>
#include <sys/mman.h>

#include "maps.h"
#include "user.h"

/* Protect (or unprotect) n pages at at; returns how many from the first
 * got it.  mprotect may fail part way (ENOMEM at vm.max_map_count) having
 * changed the mappings before the failure: page by page (each page is in
 * one mapping, so each call is all or nothing) tells exactly which. */
static size_t apply(const struct u_range *r, uintptr_t at, size_t n, bool wp, int *err)
{
	*err = u_trap_protect(r, at, n * r->psize, wp);
	if (!*err)
		return n;
	for (size_t i = 0; i < n; i++) {
		*err = u_trap_protect(r, at + i * r->psize, r->psize, wp);
		if (*err)
			return i;
	}
	return n;
}

/* Does page st take protection wp (present: whether it holds data, -1 not
 * known)?  A trapped page takes its bit here and now, and no protection:
 * its trap opens with the protection the bit (or the fill) says.  Without
 * WP_UNPOPULATED an absent page takes nothing; a poisoned one never (the
 * kernel leaves a poison marker as it is). */
static bool decide(const struct u_range *r, _Atomic uint8_t *st, bool wp,
		   bool unpopulated, int present)
{
	for (;;) {
		uint8_t old = atomic_load(st);
		const uint8_t state = old & U_PG_STATE;
		if (state == U_PG_BUSY)
			return false;   /* its fill decides */
		if (!u_pg_trapped(r, old))
			return wp ? unpopulated || (present >= 0 ? present : state != U_PG_MISSING)
				  : old & U_PG_WP;
		if (state == U_PG_POISON)
			return false;
		/* Shared memory filled elsewhere is there, trap or not. */
		const bool bit = wp && (unpopulated || state == U_PG_CACHED || present > 0);
		const uint8_t now = bit ? old | U_PG_WP : old & (uint8_t)~U_PG_WP;
		if (now == old || atomic_compare_exchange_strong(st, &old, now))
			return false;
	}
}

/* Set or clear U_PG_WP over a piece of a range, protecting runs.  The bits
 * change first, then the protection, then u_wp_settle() looks at the bits
 * again: another call may have changed both meanwhile (see user.h).  A
 * failure (ENOMEM) gives the pages not reached their bit back: every page is
 * left as its state says, and a write to a page still protected still waits
 * as a WP fault.  A page being filled (BUSY) is left to its fill, whose mode
 * decides its protection. */
static int protect_piece(const struct u_range *r, uintptr_t s, uintptr_t e,
			 bool wp, bool unpopulated)
{
	const size_t first = (s - r->start) / r->psize, n = (e - s) / r->psize;
	unsigned char vec[256];
	size_t run = 0;
	int err = 0;

	for (size_t k = 0; k < n && !err; k += 256) {
		size_t m = n - k < 256 ? n - k : 256;
		bool know = wp && !unpopulated &&
			    u_pages_present(r, s + k * r->psize, m * r->psize, vec) == 0;
		for (size_t j = 0; j <= m; j++) {
			bool take = false;
			if (j < m)
				take = decide(r, &r->pages[first + k + j], wp, unpopulated,
					      know ? vec[j] : -1);
			if (take) {
				run++;
				continue;
			}
			if (run) {
				const size_t at = k + j - run;
				uint64_t changed[256 / 64] = { 0 };
				/* Un-protected by their bits before their
				 * protection: a write meanwhile waits. */
				const int span = u_trap_span_begin(s + at * r->psize,
								   s + (at + run) * r->psize);
				for (size_t i = 0; i < run; i++) {
					_Atomic uint8_t *st = &r->pages[first + at + i];
					uint8_t old = wp ? atomic_fetch_or(st, U_PG_WP)
							 : atomic_fetch_and(st, (uint8_t)~U_PG_WP);
					if (!(old & U_PG_WP) == wp)
						changed[i / 64] |= 1ull << (i % 64);
				}
				size_t done = apply(r, s + at * r->psize, run, wp, &err);
				for (size_t i = done; i < run; i++) {
					_Atomic uint8_t *st = &r->pages[first + at + i];
					if (!(changed[i / 64] >> (i % 64) & 1))
						continue;
					if (wp)
						atomic_fetch_and(st, (uint8_t)~U_PG_WP);
					else
						atomic_fetch_or(st, U_PG_WP);
				}
				u_wp_settle(r, s + at * r->psize, done, wp);
				u_trap_span_end(span);
				run = 0;
				if (err)
					break;
			}
		}
	}
	return err;
}

int u_protect_span(const struct u_range *r, uintptr_t s, uintptr_t e)
{
	return protect_piece(r, s, e, true, true);
}

int u_writeprotect(struct u_ctx *ctx, struct uffdio_writeprotect *a)
{
	int err = u_validate_range(a->range.start, a->range.len, true);

	if (err)
		return err;
	if (a->mode & ~(UFFDIO_WRITEPROTECT_MODE_DONTWAKE | UFFDIO_WRITEPROTECT_MODE_WP))
		return -EINVAL;
	const bool wp = a->mode & UFFDIO_WRITEPROTECT_MODE_WP;
	const bool dontwake = a->mode & UFFDIO_WRITEPROTECT_MODE_DONTWAKE;
	if (wp && dontwake)
		return -EINVAL;
	const uintptr_t start = a->range.start, end = start + a->range.len;
	const bool unpopulated = ctx->features & UFFD_FEATURE_WP_UNPOPULATED;

	/* Walk the range: every mapped part must be registered with WP. */
	err = -ENOENT;
	u_range_enter();
	for (uintptr_t at = start; at < end;) {
		struct u_range r;
		if (!u_range_find_reg(at, &r, u_ctx_index(ctx))) {
			/* Unregistered up to the next registration: a hole is
			 * skipped, a mapping is ENOENT.  (A range of a closed
			 * context, or poison left behind, counts as neither.) */
			uintptr_t next = u_range_next_start(at);
			if (next > end)
				next = end;
			int any = u_maps_any(at, next);
			if (any) {
				err = any < 0 ? any : -ENOENT;
				break;
			}
			at = next;
			continue;
		}
		if (!(r.mode & UFFDIO_REGISTER_MODE_WP)) {
			err = -ENOENT;
			break;
		}
		if (u_hugetlb(&r) && ((start | a->range.len) & (r.psize - 1))) {
			err = -EINVAL;
			break;
		}
		uintptr_t e = r.end < end ? r.end : end;
		/* File memory keeps its protection in page table markers, on
		 * holes too (userfaultfd_wp_use_markers()); anonymous memory
		 * only with WP_UNPOPULATED. */
		err = protect_piece(&r, at, e, wp, unpopulated || r.mem != U_MEM_ANON);
		if (err)
			break;
		at = e;
	}
	u_range_leave();
	if (err)
		return err;
	if (!wp && !dontwake)
		u_wake(u_ctx_index(ctx), start, end);
	return 0;
}

int u_wake_ioctl(struct u_ctx *ctx, struct uffdio_range *a)
{
	int err = u_validate_range(a->start, a->len, true);

	if (err)
		return err;
	u_wake(u_ctx_index(ctx), a->start, a->start + a->len);
	return 0;
}
