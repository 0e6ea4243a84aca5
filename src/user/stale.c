/* SPDX-License-Identifier: MIT */
/*
 * Is a registration still the memory it was made on?  The kernel keeps a
 * registration in the mapping (VMA): munmap ends it, and a mapping made again
 * at the address has none.  Without the LD_PRELOAD shim libuffd does not see
 * munmap, so a range of the registry may describe a mapping that is gone.
 * REGISTER asks before it keeps a range (or its write protection) as the
 * kernel keeps a registered mapping's: an anonymous mapping has no identity
 * in /proc/self/maps, so the range must agree with the memory: the same kind
 * and file, every trap it armed still standing (a marker, or PROT_NONE),
 * every page it holds still there, the protection its write-protected pages
 * have.  What nothing tells apart is a limit (README: `memory mapped again
 * at a registered address`).
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include "maps.h"
#include "user.h"

static bool same_memory(const struct u_range *r, const struct u_vma *v, uintptr_t s)
{
	switch (r->mem) {
	case U_MEM_ANON:
		return v->kind == U_VMA_ANON;
	case U_MEM_HUGETLB:
		return v->kind == U_VMA_HUGETLB && !v->shared;
	case U_MEM_HUGETLB_SHARED:
		if (v->kind != U_VMA_HUGETLB || !v->shared)
			return false;
		break;
	case U_MEM_SHMEM:
		if (v->kind != U_VMA_SHMEM)
			return false;
		break;
	case U_MEM_SHMEM_PRIVATE:
		if (v->kind != U_VMA_SHMEM_PRIVATE)
			return false;
		break;
	}
	struct stat st;
	return sys_fstat(r->memfd, &st) == 0 && st.st_dev == v->dev && st.st_ino == v->ino &&
	       r->file_off + (off_t)(s - r->start) == v->offset + (off_t)(s - v->start);
}

/* The protection maps (m pieces, from u_maps_in()) show at page addr, or -1. */
static int prot_at(const struct u_vma *maps, int m, int *k, uintptr_t addr)
{
	while (*k < m && maps[*k].end <= addr)
		(*k)++;
	return *k < m && maps[*k].start <= addr ? maps[*k].prot : -1;
}

/* Do the n pages at s (page index first of r) look as r says? */
static bool pages_agree(const struct u_range *r, const struct u_vma *maps, int m, int *k,
			uintptr_t s, size_t first, size_t n)
{
	const bool guard = u_trap_guarded(r);
	unsigned char held[512], marked[512];

	if (u_pages_present(r, s, n * r->psize, held) ||
	    (guard && u_pages_guarded(s, n, marked)))
		return false;   /* cannot tell: as if new */
	for (size_t i = 0; i < n; i++) {
		uint8_t st = atomic_load(&r->pages[first + i]);
		uint8_t state = st & U_PG_STATE;
		if (state == U_PG_BUSY)
			continue;   /* a fill in flight: live */
		const bool trapped = u_pg_trapped(r, st);
		if (state == U_PG_PRESENT && !held[i])
			return false;
		if (trapped && guard && !marked[i])
			return false;
		/* A trapped page's write protection is its bit alone. */
		int want = trapped ? (guard ? r->prot : PROT_NONE) :
			   st & U_PG_WP ? r->prot & ~PROT_WRITE : r->prot;
		int prot = prot_at(maps, m, k, s + i * r->psize);
		if (prot < 0 || (prot != want && r->prot != PROT_NONE))
			return false;
	}
	return true;
}

static bool agrees(const struct u_range *r, const struct u_vma *v, uintptr_t s, uintptr_t e)
{
	if (!same_memory(r, v, s))
		return false;
	struct u_vma *maps = NULL;
	int cap = 0, k = 0, m = u_maps_in(s, e, &maps, &cap);
	const size_t first = (s - r->start) / r->psize, n = (e - s) / r->psize;
	bool yes = m > 0;
	for (size_t j = 0; yes && j < n; j += 512)
		yes = pages_agree(r, maps, m, &k, s + j * r->psize, first + j,
				  n - j < 512 ? n - j : 512);
	u_vmas_free(maps, cap);
	return yes;
}

bool u_range_current(const struct u_range *r, const struct u_vma *v, uintptr_t s, uintptr_t e)
{
	/* The shim ends a registration at munmap and mremap. */
	if (atomic_load(&u_events_seen))
		return true;
	/* A fill or protection change crossing the look may show a page
	 * half-changed: look again once none did. */
	for (int tries = 0;; tries++) {
		unsigned before, after;
		bool busy = u_trap_changing(&before);
		bool yes = agrees(r, v, s, e);
		if (yes || tries == 3 || (!busy && !u_trap_changing(&after) && before == after))
			return yes;
	}
}
