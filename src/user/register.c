/* SPDX-License-Identifier: MIT */
/*
 * UFFDIO_REGISTER and UFFDIO_UNREGISTER, with the kernel's checks in the
 * kernel's order (fs/userfaultfd.c): mode, range, the mappings in the range
 * (EINVAL for memory that cannot be registered, EBUSY for another uffd's).
 * Registering arms a trap on every page that holds no data yet; pages that
 * do keep their contents.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <unistd.h>

#include "maps.h"
#include "user.h"

#define MODES (UFFDIO_REGISTER_MODE_MISSING | UFFDIO_REGISTER_MODE_WP | \
	       UFFDIO_REGISTER_MODE_MINOR)

static bool can_userfault(const struct u_vma *v, uint64_t mode)
{
	if (v->kind == U_VMA_SHMEM || v->kind == U_VMA_SHMEM_PRIVATE ||
	    v->kind == U_VMA_HUGETLB)
		return true;
	if (v->kind == U_VMA_ANON)
		return !(mode & UFFDIO_REGISTER_MODE_MINOR);
	return false;
}

/* Another context's registration in [start, end) of mapping v?  One whose
 * memory was mapped again since (unseen without the shim: stale.c) is
 * forgotten, as the kernel's ended with its mapping. */
static bool busy(int ctx, const struct u_vma *v, uintptr_t start, uintptr_t end)
{
	for (int i = 0; i < U_MAX_RANGES; i++) {
		struct u_range *r = u_range_at(i);
		if (!r || r->ctx < 0 || r->ctx == ctx || r->start >= end || r->end <= start)
			continue;
		const struct u_range o = *r;
		const uintptr_t s = o.start > start ? o.start : start;
		const uintptr_t e = o.end < end ? o.end : end;
		if (u_range_current(&o, v, s, e))
			return true;
		u_range_forget_span(o.ctx, s, e);
		i = -1;   /* the table changed: from the start */
	}
	return false;
}

/* Arm traps over the runs of pages whose state is st. */
static int arm_runs(const struct u_range *r, uint8_t st)
{
	size_t n = (r->end - r->start) / r->psize;

	for (size_t i = 0; i < n;) {
		if ((atomic_load(&r->pages[i]) & U_PG_STATE) != st) {
			i++;
			continue;
		}
		size_t j = i;
		while (j < n && (atomic_load(&r->pages[j]) & U_PG_STATE) == st)
			j++;
		int err = u_trap_arm(r, r->start + i * r->psize, (j - i) * r->psize);
		if (err)
			return err;
		i = j;
	}
	return 0;
}

/* hugetlb is not frozen: its trap (PROT_NONE) keeps the page under it, but a
 * fault between reading which pages hold data and arming the others
 * populates one (a write's data, or zeros) that the kernel, whose REGISTER
 * excludes faults, would count as there before.  Now that the traps stand
 * (nothing else populates those pages), read again: such a page keeps its
 * data, and a MISSING fault there would have a COPY overwrite it. */
static int settle_huge(const struct u_range *r, unsigned char *present, uint8_t held)
{
	const size_t n = (r->end - r->start) / r->psize;
	int err = u_pages_present(r, r->start, r->end - r->start, present);

	for (size_t i = 0; !err && i < n; i++) {
		if (!present[i] || (atomic_load(&r->pages[i]) & U_PG_STATE) != U_PG_MISSING)
			continue;
		atomic_store(&r->pages[i], held);
		/* A MINOR range keeps the trap (arm_runs(U_PG_CACHED) follows). */
		if (held == U_PG_PRESENT)
			err = u_trap_disarm(r, r->start + i * r->psize, r->psize);
	}
	return err;
}

/* The anonymous range being registered: writers wait (fault.c) while it is
 * frozen, for arming a trap discards the page under it. */
_Atomic uintptr_t u_freezing_start, u_freezing_end;

static void freeze(uintptr_t start, uintptr_t end, int prot)
{
	atomic_store(&u_freezing_start, start);
	atomic_store(&u_freezing_end, end);
	sys_mprotect((void *)start, end - start, prot & ~PROT_WRITE);
}

/* Is page i's trap armed (absent, or poisoned)? */
static bool trapped(const struct u_range *r, size_t i)
{
	uint8_t st = atomic_load(&r->pages[i]) & U_PG_STATE;

	return st == U_PG_MISSING || st == U_PG_POISON;
}

/* Writable again: the pages that hold data (absent ones are trapped). */
static void thaw(const struct u_range *r)
{
	const size_t n = (r->end - r->start) / r->psize;
	const bool guard = u_trap_guarded(r);

	for (size_t i = 0; i < n;) {
		if (!guard && trapped(r, i)) {
			i++;
			continue;
		}
		size_t j = i + 1;
		while (j < n && (guard || !trapped(r, j)))
			j++;
		sys_mprotect((void *)(r->start + i * r->psize), (j - i) * r->psize, r->prot);
		i = j;
	}
}

/* The range is in the registry: faults there are its own from now on. */
static void unfreeze(void)
{
	atomic_store(&u_freezing_end, 0);
	atomic_store(&u_freezing_start, 0);
}

/* A REGISTER's own arrays, a byte per page of its largest piece, taken
 * before anything changes (ENOMEM then leaves nothing half done): which
 * pages hold data, which this process maps (MINOR), which stay
 * write-protected. */
struct scratch {
	unsigned char *present, *mapped;
	uint8_t *wp;
	size_t bytes;
};

static int add_piece(struct u_ctx *ctx, const struct u_vma *v, uintptr_t start,
		     uintptr_t end, uint64_t mode, const struct scratch *sc)
{
	struct u_range r = {
		.start = start, .end = end, .ctx = u_ctx_index(ctx), .mode = mode,
		.prot = v->prot, .psize = v->psize, .memfd = -1,
	};
	size_t n = (end - start) / r.psize;
	int err;

	/* Memory that was page-cache backed is anonymous again first. */
	u_pcache_release(start, end);
	switch (v->kind) {
	case U_VMA_SHMEM:
		r.mem = U_MEM_SHMEM;
		break;
	case U_VMA_SHMEM_PRIVATE:
		r.mem = U_MEM_SHMEM_PRIVATE;
		break;
	case U_VMA_HUGETLB:
		r.mem = v->shared ? U_MEM_HUGETLB_SHARED : U_MEM_HUGETLB;
		break;
	default:
		r.mem = U_MEM_ANON;
	}
	/* The file, where fills or the page cache go through it. */
	if (r.mem != U_MEM_ANON && r.mem != U_MEM_HUGETLB) {
		r.memfd = u_vma_open_file(v);
		if (r.memfd < 0)
			return -errno;
		r.file_off = v->offset + (off_t)(start - v->start);
	}
	unsigned char *const present = sc->present;
	r.pages = u_pages_alloc(n);
	if (!r.pages) {
		err = -ENOMEM;
		goto fail;
	}
	/* No write may land between reading which pages hold data and arming
	 * the others (arming an anonymous page discards it). */
	/* Private hugetlb too: a page written between the scan and the trap
	 * would be taken for missing and a COPY would overwrite it (found by
	 * stress-hugetlb: writes lost). */
	const bool frozen = (r.mem == U_MEM_ANON || r.mem == U_MEM_HUGETLB) &&
			    (r.prot & PROT_WRITE) && (mode & UFFDIO_REGISTER_MODE_MISSING);
	if (frozen)
		freeze(start, end, r.prot);
	err = u_pages_present(&r, start, end - start, present);
	if (err) {
		if (frozen) {
			sys_mprotect((void *)start, end - start, r.prot);
			unfreeze();
		}
		goto fail;
	}
	const uint8_t held = mode & UFFDIO_REGISTER_MODE_MINOR ? U_PG_CACHED : U_PG_PRESENT;
	/* A shmem page this process already maps raises no minor fault (the
	 * kernel's comes only where the page table lacks a page the page
	 * cache holds): it is present. */
	unsigned char *mapped = NULL;
	if ((mode & UFFDIO_REGISTER_MODE_MINOR) &&
	    (r.mem == U_MEM_SHMEM || r.mem == U_MEM_SHMEM_PRIVATE)) {
		mapped = sc->mapped;
		err = u_pages_mapped(&r, start, end - start, mapped);
		if (err)
			goto fail;   /* (shmem is never frozen) */
	}
	for (size_t i = 0; i < n; i++) {
		struct u_range o;
		if (present[i])
			atomic_store(&r.pages[i], mapped && mapped[i] ? U_PG_PRESENT : held);
		/* Poisoned before, and still: the new registration takes it. */
		else if (u_range_find(start + i * r.psize, &o) && o.ctx < 0 &&
			 (atomic_load(&o.pages[(start + i * r.psize - o.start) / o.psize]) &
			  U_PG_STATE) == U_PG_POISON)
			atomic_store(&r.pages[i], U_PG_POISON);
	}
	/* Filled through the page cache where that cannot show (pcache.c). */
	if (frozen)
		u_pcache_adopt(&r, v->path);
	/* Armed before the range is in the registry: an access waits. */
	const int span = u_trap_span_begin(start, end);
	/* MINOR: every page, for a hole may enter the page cache later
	 * (the fault path then tells a minor fault from a missing one). */
	if (mode & (UFFDIO_REGISTER_MODE_MISSING | UFFDIO_REGISTER_MODE_MINOR))
		err = arm_runs(&r, U_PG_MISSING);
	if (!err && u_hugetlb(&r) &&
	    (mode & (UFFDIO_REGISTER_MODE_MISSING | UFFDIO_REGISTER_MODE_MINOR)))
		err = settle_huge(&r, present, held);
	if (!err && (mode & UFFDIO_REGISTER_MODE_MINOR))
		err = arm_runs(&r, U_PG_CACHED);
	if (!err)
		err = arm_runs(&r, U_PG_POISON);   /* the freeze may have opened them */
	/* Writable again before the range is published (no COPY can race
	 * with this); writers that fault meanwhile wait for unfreeze(). */
	if (frozen)
		thaw(&r);
	if (!err && u_range_add(&r) < 0)
		err = -errno;
	if (err)
		u_trap_disarm(&r, start, end - start);
	u_trap_span_end(span);
	if (frozen)
		unfreeze();
	if (err)
		goto fail;
	return 0;
fail:
	if (r.memfd >= 0)
		sys_close(r.memfd);
	if (r.pages)
		u_pages_free(r.pages);
	return err;
}

/* Is page a of orphan o still what an unregistration left there: its
 * poison trap, or its write protection (which a write lifts, fault.c)? */
static bool still_left(const struct u_range *o, uintptr_t a)
{
	const uint8_t st = atomic_load(&o->pages[(a - o->start) / o->psize]);

	if ((st & U_PG_STATE) == U_PG_POISON)
		return u_trap_standing(o, a);
	const int prot = u_maps_prot(a);
	return (st & U_PG_WP) && prot >= 0 && !(prot & PROT_WRITE);
}

/* Poison and protection left behind by an unregistration outlive the
 * registration, not the mapping: forget the pages that no longer hold them
 * (the program unmapped them, which libuffd does not see without the shim;
 * or wrote them).  Before REGISTER freezes anything: a frozen page is not
 * PROT_NONE either. */
static void prune_orphans(void)
{
	for (int i = 0; i < U_MAX_RANGES; i++) {
		struct u_range *r = u_range_at(i);
		if (!r || r->ctx >= 0)
			continue;
		const struct u_range o = *r;   /* the slot may change below */
		for (uintptr_t a = o.start; a < o.end; a += o.psize)
			if (!still_left(&o, a))
				u_range_remove_span(-1, a, a + o.psize);
	}
}

/* The start of ctx's first range above addr (UINTPTR_MAX: none). */
static uintptr_t next_own(int ctx, uintptr_t addr)
{
	struct u_range o;

	for (;;) {
		addr = u_range_next_start(addr);
		if (addr == UINTPTR_MAX || (u_range_find(addr, &o) && o.ctx == ctx))
			return addr;
	}
}

/* Register [s, e) of mapping v anew with mode and protection prot, over
 * whatever this context had there: the pages keep their data, and those
 * whose wp[] is set (the old range, or poison and protection left behind,
 * still describes them) their write protection, whatever the new modes: the
 * kernel keeps a page's uffd-wp bit when the mapping's modes change, and
 * after UNREGISTER of a registration without WP; it counts again under a
 * WP registration, and a write clears it (fault.c, F_DORMANT). */
static int replace(struct u_ctx *ctx, const struct u_vma *v, uintptr_t s, uintptr_t e,
		   uint64_t mode, int prot, const uint8_t *wp, const struct scratch *sc)
{
	const size_t n = (e - s) / v->psize;
	struct u_vma pv = *v;

	pv.prot = prot;
	if (u_range_remove_span(u_ctx_index(ctx), s, e) < 0)
		return -ENOMEM;   /* the ranges table is full (user.h) */
	int err = add_piece(ctx, &pv, s, e, mode, sc);
	if (err)
		return err;
	u_range_remove_span(-1, s, e);   /* its poison is the new range's now */
	struct u_range r;
	if (!u_range_find(s, &r))
		return 0;
	for (size_t i = 0; i < n && !err;) {
		size_t j = i;
		while (j < n && wp[j])
			j++;
		if (j > i)
			err = u_protect_span(&r, s + i * r.psize, s + j * r.psize);
		i = j + 1;
	}
	return err;
}

/* Forget this context's registrations in [s, e) of mapping v whose memory
 * was mapped again since (unseen without the shim: stale.c): they ended
 * with their mapping, as the kernel's, and the new memory is left as it
 * is. */
static void forget_stale(int self, const struct u_vma *v, uintptr_t s, uintptr_t e)
{
	for (uintptr_t at = s; at < e;) {
		struct u_range old;
		const bool mine = u_range_find(at, &old) && old.ctx == self;
		uintptr_t to = mine ? old.end : next_own(self, at);
		if (to > e)
			to = e;
		if (mine && !u_range_current(&old, v, at, to))
			u_range_forget_span(self, at, to);
		at = to;
	}
}

/* REGISTER over [s, e) of mapping v, as the kernel's
 * userfaultfd_register_range() treats each mapping: where this context
 * registered it already with every mode asked for, nothing changes; the
 * rest gets mode (no union), in one range per run.  Memory mapped again
 * since (unseen without the shim) is registered afresh (stale.c). */
static int register_piece(struct u_ctx *ctx, const struct u_vma *v, uintptr_t s, uintptr_t e,
			  uint64_t mode, const struct scratch *sc)
{
	const int self = u_ctx_index(ctx);
	uint8_t *const wp = sc->wp;
	uintptr_t run = 0;   /* the start of the run to register anew, or 0 */
	int prot = v->prot, err = 0;

	memset(wp, 0, (e - s) / v->psize);
	/* Protection left behind by an unregistration (release_span()). */
	for (uintptr_t at = s; at < e;) {
		struct u_range o;
		if (!u_range_find(at, &o)) {
			at = u_range_next_start(at);
			continue;
		}
		for (uintptr_t a = at; a < o.end && a < e; a += o.psize)
			if (o.ctx < 0)
				wp[(a - s) / v->psize] = U_PG_WP &
					atomic_load(&o.pages[(a - o.start) / o.psize]);
		at = o.end;
	}

	/* Mapped again since: that registration ended with its mapping (and
	 * its poison), the memory is the new mapping's. */
	forget_stale(self, v, s, e);
	for (uintptr_t at = s; at < e && !err;) {
		struct u_range old;
		const bool current = u_range_find(at, &old) && old.ctx == self;
		uintptr_t to = current ? old.end : next_own(self, at);
		if (to > e)
			to = e;
		if (current && (old.mode & mode) == mode) {
			if (run)
				err = replace(ctx, v, run, at, mode, prot,
					      wp + (run - s) / v->psize, sc);
			run = 0;
		} else {
			if (!run)
				run = at;
			/* The registered protection, not our traps'. */
			if (current)
				prot = old.prot;
			if (current)
				for (uintptr_t a = at; a < to; a += old.psize)
					wp[(a - s) / v->psize] = U_PG_WP &
						atomic_load(&old.pages[(a - old.start) / old.psize]);
		}
		at = to;
	}
	if (!err && run)
		err = replace(ctx, v, run, e, mode, prot, wp + (run - s) / v->psize, sc);
	return err;
}

int u_register(struct u_ctx *ctx, struct uffdio_register *arg)
{
	const uint64_t mode = arg->mode;
	struct u_vma *vmas = NULL;
	int n, cap = 0, err;

	if (!mode || (mode & ~MODES))
		return -EINVAL;
	err = u_validate_range(arg->range.start, arg->range.len, true);
	if (err)
		return err;
	const uintptr_t start = arg->range.start, end = start + arg->range.len;

	u_ctx_reap();
	u_range_lock();
	prune_orphans();
	n = u_vmas_in(start, end, &vmas, &cap);
	err = n < 0 ? n : n == 0 ? -EINVAL : 0;
	/* hugetlb: the range starts and ends on huge page boundaries. */
	if (!err && vmas[0].kind == U_VMA_HUGETLB && (start & (vmas[0].psize - 1)))
		err = -EINVAL;
	bool basic = false;
	for (int i = 0; i < n && !err; i++) {
		basic |= vmas[i].kind == U_VMA_HUGETLB;
		if (!can_userfault(&vmas[i], mode))
			err = -EINVAL;
		else if (!u_vma_maywrite(&vmas[i]))
			err = -EPERM;
		else if (vmas[i].kind == U_VMA_HUGETLB && end <= vmas[i].end &&
			 end > vmas[i].start && (end & (vmas[i].psize - 1)))
			err = -EINVAL;
		else if (busy(u_ctx_index(ctx), &vmas[i], vmas[i].start > start ? vmas[i].start : start,
			      vmas[i].end < end ? vmas[i].end : end))
			err = -EBUSY;
	}
	struct scratch sc = { 0 };
	for (int i = 0; i < n && !err; i++) {
		uintptr_t s = vmas[i].start > start ? vmas[i].start : start;
		uintptr_t e = vmas[i].end < end ? vmas[i].end : end;
		if ((e - s) / vmas[i].psize > sc.bytes)
			sc.bytes = (e - s) / vmas[i].psize;
	}
	unsigned char *block = err ? NULL : u_arena_alloc(3 * sc.bytes);
	if (!err && !block)
		err = -ENOMEM;
	if (block) {
		sc.present = block;
		sc.mapped = block + sc.bytes;
		sc.wp = block + 2 * sc.bytes;
	}
	for (int i = 0; i < n && !err; i++) {
		uintptr_t s = vmas[i].start > start ? vmas[i].start : start;
		uintptr_t e = vmas[i].end < end ? vmas[i].end : end;
		err = register_piece(ctx, &vmas[i], s, e, mode, &sc);
	}
	if (block)
		u_arena_free(block, 3 * sc.bytes);
	u_range_unlock();
	u_vmas_free(vmas, cap);
	if (err)
		return err;
	/* hugetlb has no zero page and no MOVE: the basic set. */
	uint64_t ioctls = basic ? UFFD_API_RANGE_IOCTLS_BASIC : UFFD_API_RANGE_IOCTLS;
	if (!(mode & UFFDIO_REGISTER_MODE_WP))
		ioctls &= ~((uint64_t)1 << _UFFDIO_WRITEPROTECT);
	if (!(mode & UFFDIO_REGISTER_MODE_MINOR))
		ioctls &= ~((uint64_t)1 << _UFFDIO_CONTINUE);
	arg->ioctls = ioctls;
	return 0;
}

int u_unregister(struct u_ctx *ctx, struct uffdio_range *arg)
{
	struct u_vma *vmas = NULL;
	int n, cap = 0, err;

	err = u_validate_range(arg->start, arg->len, true);
	if (err)
		return err;
	const uintptr_t start = arg->start, end = start + arg->len;

	/* A context closed a moment ago holds nothing any more (as for
	 * REGISTER): its ranges must not look like another uffd's. */
	u_ctx_reap();
	u_range_lock();
	n = u_vmas_in(start, end, &vmas, &cap);
	err = n < 0 ? n : n == 0 ? -EINVAL : 0;
	if (!err && vmas[0].kind == U_VMA_HUGETLB && (start & (vmas[0].psize - 1)))
		err = -EINVAL;
	for (int i = 0; i < n && !err; i++) {
		uintptr_t s = vmas[i].start > start ? vmas[i].start : start;
		uintptr_t e = vmas[i].end < end ? vmas[i].end : end;
		/* Only through the uffd that registered it; only memory that
		 * could have been registered; no huge page cut in two. */
		if (busy(u_ctx_index(ctx), &vmas[i], s, e) || !can_userfault(&vmas[i], 0) ||
		    ((s | e) & (vmas[i].psize - 1)))
			err = -EINVAL;
	}
	for (int i = 0; i < n && !err; i++)
		forget_stale(u_ctx_index(ctx), &vmas[i],
			     vmas[i].start > start ? vmas[i].start : start,
			     vmas[i].end < end ? vmas[i].end : end);
	if (!err && u_range_remove_span(u_ctx_index(ctx), start, end) < 0)
		err = -ENOMEM;   /* the ranges table is full (user.h) */
	u_range_unlock();
	u_vmas_free(vmas, cap);
	if (!err)
		/* Faults blocked in the range retry and find ordinary memory. */
		u_wake(u_ctx_index(ctx), start, end);
	return err;
}
