/* SPDX-License-Identifier: MIT */
/*
 * UFFDIO_MOVE: the source page's contents go to the (absent) destination
 * page and the source becomes absent, as the kernel's move_pages() does by
 * remapping.  Here the contents are copied (atomically for the destination)
 * and the source discarded; a source in a MISSING range gets its trap back.
 */
#include <errno.h>
#include <sys/mman.h>

#include "user.h"

static bool mapped(uintptr_t addr, size_t len)
{
	unsigned char vec[1];

	/* mincore() fails with ENOMEM where nothing is mapped. */
	for (size_t off = 0; off < len; off += u_page)
		if (mincore((void *)(addr + off), u_page, vec) && errno == ENOMEM)
			return false;
	return true;
}

/* Discard the source page; a registered MISSING page traps again. */
static void vacate(uintptr_t src)
{
	struct u_range r;

	madvise((void *)src, u_page, MADV_DONTNEED);
	if (u_range_find(src, &r) && (r.mode & UFFDIO_REGISTER_MODE_MISSING)) {
		atomic_store(&r.pages[(src - r.start) / u_page], U_PG_MISSING);
		u_trap_arm(&r, src, u_page);
	}
}

static int64_t move_pages(int ctx, uintptr_t dst, uintptr_t src, size_t len, uint64_t mode)
{
	struct u_range r, sr;
	int64_t done = 0;
	int err = 0;

	if (!mapped(dst, u_page) || !mapped(src, u_page))
		return -ENOENT;
	if (!u_range_find(dst, &r) || r.ctx != ctx || r.mem != U_MEM_ANON)
		return -EINVAL;
	if (dst + len > r.end || !mapped(src, len))
		return -EINVAL;
	if (u_range_find(src, &sr) && sr.mem != U_MEM_ANON)
		return -EINVAL;
	if (src < dst + len && dst < src + len)
		return -EINVAL;
	for (; (size_t)done < len; done += u_page) {
		uintptr_t d = dst + (uintptr_t)done, s = src + (uintptr_t)done;
		size_t i = (d - r.start) / u_page;
		unsigned char present;
		struct u_range probe = { .mem = U_MEM_ANON };
		if ((err = u_pages_present(&probe, s, u_page, &present)))
			break;
		_Atomic uint8_t *st = &r.pages[i];
		uint8_t old = atomic_load(st);
		if ((old & U_PG_STATE) != U_PG_MISSING) {
			err = -EEXIST;
			break;
		}
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
	u_range_enter();
	int64_t ret = move_pages(u_ctx_index(ctx), a->dst, a->src, a->len, a->mode);
	u_range_leave();
	*result = ret;
	if (ret < 0)
		return (int)ret;
	if (!(a->mode & UFFDIO_MOVE_MODE_DONTWAKE))
		u_wake(u_ctx_index(ctx), a->dst, a->dst + (uintptr_t)ret);
	return (uint64_t)ret == a->len ? 0 : -EAGAIN;
}
