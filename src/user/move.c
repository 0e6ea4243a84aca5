/* SPDX-License-Identifier: MIT */
/*
 * UFFDIO_MOVE: the source page's contents go to the (absent) destination
 * page and the source becomes absent, as the kernel's move_pages() does by
 * remapping.  Here the contents are copied (atomically for the destination)
 * and the source discarded; a source in a MISSING range gets its trap back.
 * The checks follow mm/userfaultfd.c in order; the mappings are read from
 * /proc/self/maps, so UFFDIO_MOVE is not async-signal-safe.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "maps.h"
#include "user.h"

/* The mapping holding addr: 0, or -ENOENT. */
static int vma_at(uintptr_t addr, struct u_vma *out)
{
	struct u_vma *v = NULL;
	int cap = 0, n = u_vmas_in(addr, addr + 1, &v, &cap);

	if (n > 0)
		*out = v[0];
	u_vmas_free(v, cap);
	return n < 0 ? n : n == 0 ? -ENOENT : 0;
}

/* Discard the source page; a registered MISSING page traps again. */
static void vacate(uintptr_t src)
{
	struct u_range r;

	sys_madvise((void *)src, u_page, MADV_DONTNEED);
	u_pcache_discard(src, u_page);   /* a shared page cache keeps it else */
	if (u_range_find(src, &r) && (r.mode & UFFDIO_REGISTER_MODE_MISSING)) {
		atomic_store(&r.pages[(src - r.start) / u_page], U_PG_MISSING);
		u_trap_arm(&r, src, u_page);
	}
}

/* Registering splits the kernel's mappings at the range's ends; ours are
 * not split, so a run crossing a registration boundary crosses a mapping. */
static bool crosses_registration(uintptr_t start, size_t len)
{
	struct u_range r;
	uintptr_t base = u_range_find(start, &r) ? r.start : 0;

	for (uintptr_t a = start + u_page; a < start + len; a += u_page) {
		uintptr_t here = u_range_find(a, &r) ? r.start : 0;
		if (here != base)
			return true;
	}
	return false;
}

static int check_areas(int ctx, uintptr_t dst, uintptr_t src, size_t len, struct u_range *r)
{
	struct u_vma dv, sv;
	int err = vma_at(dst, &dv);

	if (!err)
		err = vma_at(src, &sv);
	if (err)
		return err;
	/* Our traps split mappings and change protections: a registered
	 * page's mapping is its range, with the range's protection. */
	struct u_range reg;
	if (u_range_find(dst, &reg))
		dv.prot = reg.prot, dv.end = reg.end;
	if (u_range_find(src, &reg))
		sv.prot = reg.prot, sv.end = reg.end;
	if (sv.shared || dv.shared || src + len > sv.end || dst + len > dv.end ||
	    crosses_registration(src, len))
		return -EINVAL;
	if (sv.prot != dv.prot || !(sv.prot & PROT_WRITE))
		return -EINVAL;
	/* The kernel split the mapping at the registered range's ends. */
	if (!u_range_find(dst, r) || r->ctx != ctx || dst + len > r->end)
		return -EINVAL;
	if (sv.kind != U_VMA_ANON || dv.kind != U_VMA_ANON)
		return -EINVAL;
	return 0;
}

static int64_t move_pages(int ctx, uintptr_t dst, uintptr_t src, size_t len, uint64_t mode)
{
	struct u_range r;
	int64_t done = 0;
	int err = check_areas(ctx, dst, src, len, &r);

	for (; !err && (size_t)done < len; done += u_page) {
		uintptr_t d = dst + (uintptr_t)done, s = src + (uintptr_t)done;
		_Atomic uint8_t *st = &r.pages[(d - r.start) / u_page];
		/* A page that came without us (no MISSING trap): present. */
		u_refresh_state(&r, d, 1);
		uint8_t old = atomic_load(st);
		if ((old & U_PG_STATE) != U_PG_MISSING) {
			err = -EEXIST;
			break;
		}
		unsigned char present;
		struct u_range probe = { .mem = U_MEM_ANON, .psize = (size_t)u_page };
		if ((err = u_pages_present(&probe, s, u_page, &present)))
			break;
		if (!present) {
			if (mode & UFFDIO_MOVE_MODE_ALLOW_SRC_HOLES)
				continue;
			err = -ENOENT;
			break;
		}
		if (!atomic_compare_exchange_strong(st, &old, U_PG_BUSY)) {
			err = -EEXIST;
			break;
		}
		int got = u_trap_fill(&r, d, (const void *)s, u_page, false);
		if (got != 1) {
			atomic_store(st, U_PG_MISSING);
			err = got < 0 ? got : -EFAULT;
			break;
		}
		atomic_store(st, U_PG_PRESENT);
		vacate(s);
	}
	return done ? done : err;
}

int u_move(struct u_ctx *ctx, struct uffdio_move *a, int64_t *result)
{
	int err = u_validate_range(a->dst, a->len, true);

	if (!err)
		err = u_validate_range(a->src, a->len, true);
	if (!err && (a->mode & ~(UFFDIO_MOVE_MODE_ALLOW_SRC_HOLES | UFFDIO_MOVE_MODE_DONTWAKE)))
		err = -EINVAL;
	if (err)
		return err;
	u_ctx_reap();   /* not signal-safe anyway: a closed uffd's ranges go */
	u_range_enter();
	u_filling++;
	int64_t ret = move_pages(u_ctx_index(ctx), a->dst, a->src, a->len, a->mode);
	u_filling--;
	u_range_leave();
	return u_fill_finish(u_ctx_index(ctx), a->dst, a->len, ret,
			     !(a->mode & UFFDIO_MOVE_MODE_DONTWAKE), result);
}
