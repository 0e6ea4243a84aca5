/* SPDX-License-Identifier: MIT */
/*
 * Page-cache backing of registered anonymous ranges: the fast fill.
 *
 * Filling anonymous private memory atomically costs a VMA split and merge
 * per fill (trap.c: mprotect, /proc/self/mem, mprotect: about 8.4 µs a page,
 * taking the mmap lock for writing twice).  A range whose pages live in the
 * page cache of a file mapped MAP_SHARED is filled by writing the file
 * (pwrite) while the page's guard marker still traps it, then removing the
 * marker: the page appears whole, and no mmap lock is taken for writing
 * (about 4.7 µs, the access that follows included).
 *
 * So at REGISTER a plain anonymous range that holds no page yet (MISSING
 * mode only, writable, guard markers available) is mapped over by a memfd
 * of its size, shared: an "area".  A shared file mapping is not anonymous
 * memory: fork() would share it, MADV_DONTNEED would not drop its pages,
 * MADV_FREE would fail, mremap'd memory would stay a file.  Faults, fills,
 * reads, writes, mprotect, UNREGISTER and the uffd's close cannot tell the
 * difference; for anything else the area is made anonymous again first
 * (unback(): its pages copied into a fresh anonymous mapping that mremap
 * puts in its place, traps and protection kept), and the change goes on as
 * for any anonymous memory: REGISTER over it, munmap of a part of it (a
 * whole one just forgets it), any madvise but the four harmless ones,
 * mremap, fork (pthread_atfork).  That needs something that sees munmap,
 * madvise and mremap: the LD_PRELOAD shim (u_events_seen), so areas are
 * made only under the shim.  UFFD_USER_FILL=mem never makes them;
 * UFFD_USER_FILL=pcache makes them without the shim too, for measurements:
 * there a program's own munmap, madvise or mremap of the memory goes unseen
 * and shows the shared mapping (MADV_DONTNEED keeps the content).
 *
 * Invariant: a trapped page of an area is a hole of its file (or a page of
 * zeros), so opening its trap (ZEROPAGE) shows zeros.
 * Fills are async-signal-safe: a lookup in a fixed table, atomics, system
 * calls.  Everything else runs with the registry lock held.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "maps.h"
#include "user.h"

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#define MADV_GUARD_REMOVE 103
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

#define MAX_AREAS 64

enum { A_FREE, A_LIVE, A_GOING };

struct area {
	_Atomic int state;
	_Atomic int fillers;      /* fills in flight */
	uintptr_t start, end;
	int fd;                   /* the memfd: offset 0 is start */
	int advice;               /* MADV_(NO)HUGEPAGE the mapping had, or -1 */
	dev_t dev;
	ino_t ino;
};

static struct area areas[MAX_AREAS];
static _Atomic int forking;       /* between the fork hooks: no new area */
static int mode = -1;             /* -1 undecided, 0 never, 1 under the shim, 2 always */

static void decide(void)
{
	if (mode >= 0)
		return;
	const char *e = getenv("UFFD_USER_FILL");
	mode = e && !strcmp(e, "pcache") ? 2 : e && !strcmp(e, "mem") ? 0 : 1;
}

static bool enabled(void)
{
	decide();
	return mode == 2 || (mode == 1 && atomic_load(&u_events_seen));
}

/* The live area holding [addr, addr+len) with a fill counted in it, or NULL.
 * An area being made anonymous is waited for: after it, addr is not one. */
static struct area *fill_enter(uintptr_t addr, size_t len)
{
	for (int i = 0; i < MAX_AREAS; i++) {
		struct area *a = &areas[i];
		if (atomic_load(&a->state) == A_FREE)
			continue;
		atomic_fetch_add(&a->fillers, 1);
		int st = atomic_load(&a->state);
		if (st != A_FREE && addr >= a->start && addr + len <= a->end) {
			if (st == A_LIVE)
				return a;
			atomic_fetch_sub(&a->fillers, 1);
			while (atomic_load(&a->state) == A_GOING)
				sched_yield();
			return NULL;
		}
		atomic_fetch_sub(&a->fillers, 1);
	}
	return NULL;
}

static void punch(const struct area *a, off_t off, size_t len)
{
	sys_fallocate(a->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, (off_t)len);
}

int u_pcache_fill(uintptr_t addr, const void *src, size_t len)
{
	struct area *a = fill_enter(addr, len);
	const off_t off = (off_t)(addr - (a ? a->start : 0));
	size_t done = len;
	int err = 0;

	if (!a)
		return U_PCACHE_NONE;
	if (src != u_zero_page) {
		/* The trap stays armed while the file gets the content. */
		ssize_t w = sys_pwrite(a->fd, src, len, off);
		if (w < 0) {
			err = -errno;
			w = 0;
		}
		done = (size_t)w & ~(size_t)(u_page - 1);
		if ((size_t)w != done)   /* half a page: a hole again */
			punch(a, off + (off_t)done, (size_t)u_page);
		if (done < len && !err)
			err = -EFAULT;
	}
	if (done && sys_madvise((void *)addr, done, MADV_GUARD_REMOVE)) {
		err = -errno;
		punch(a, off, done);
		done = 0;
	}
	/* Mapped at once, as the kernel's COPY maps the page (the access
	 * that follows would map it anyway) and its ZEROPAGE the zero page:
	 * an empty page table entry would read as missing to a later
	 * REGISTER (pagemap), and the page be filled twice. */
	if (done)
		sys_madvise((void *)addr, done,
			    src == u_zero_page ? MADV_POPULATE_READ : MADV_POPULATE_WRITE);
	atomic_fetch_sub(&a->fillers, 1);
	return done ? (int)(done / (size_t)u_page) : err;
}

int u_pcache_discard(uintptr_t addr, size_t len)
{
	struct area *a = fill_enter(addr, len);

	if (!a)
		return 0;
	punch(a, (off_t)(addr - a->start), len);
	atomic_fetch_sub(&a->fillers, 1);
	return 1;
}

bool u_pcache_file(dev_t dev, ino_t ino)
{
	for (int i = 0; i < MAX_AREAS; i++)
		if (atomic_load(&areas[i].state) != A_FREE && areas[i].ino == ino &&
		    areas[i].dev == dev)
			return true;
	return false;
}

/* The mapping holding addr has only the flags a plain mmap gives, but a
 * huge page advice: that advice (MADV_HUGEPAGE, MADV_NOHUGEPAGE) or -1 for
 * none, which the area's mappings get too; -2 for other flags (locked,
 * not copied or wiped on fork, mergeable, ...): left as it is. */
static int plain_flags(uintptr_t addr)
{
	static const char *const plain[] = { "rd", "wr", "ex", "mr", "mw", "me", "ac", "nr",
					     "sd", "gu" };
	FILE *f = fopen("/proc/self/smaps", "re");
	char line[512];
	bool here = false;
	int advice = -2;

	if (!f)
		return -2;
	while (fgets(line, sizeof(line), f)) {
		unsigned long s, e;
		if (sscanf(line, "%lx-%lx ", &s, &e) == 2) {   /* a mapping's first line */
			here = addr >= s && addr < e;
			continue;
		}
		if (!here || strncmp(line, "VmFlags:", 8))
			continue;
		advice = -1;
		for (char *tok = strtok(line + 8, " \n"); tok && advice != -2; tok = strtok(NULL, " \n")) {
			bool ok = false;
			for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
				ok |= !strcmp(tok, plain[i]);
			if (!strcmp(tok, "hg") || !strcmp(tok, "nh"))
				advice = tok[0] == 'h' ? MADV_HUGEPAGE : MADV_NOHUGEPAGE;
			else if (!ok)
				advice = -2;
		}
		break;
	}
	fclose(f);
	return advice;
}

int u_pcache_adopt(const struct u_range *r, const char *path)
{
	const size_t len = r->end - r->start;
	struct area *a = NULL;

	if (!enabled() || atomic_load(&forking) || !u_trap_guarded(r) || r->mem != U_MEM_ANON ||
	    r->mode != UFFDIO_REGISTER_MODE_MISSING || !(r->prot & PROT_WRITE) ||
	    path[0])   /* [heap], [stack] and named memory stay as they are */
		return -EINVAL;
	for (size_t i = 0; i < len / (size_t)u_page; i++)
		if (atomic_load(&r->pages[i]) != U_PG_MISSING)
			return -EEXIST;
	if (u_pcache_overlaps(r->start, r->end))   /* could not be released */
		return -EBUSY;
	for (int i = 0; i < MAX_AREAS && !a; i++)
		if (atomic_load(&areas[i].state) == A_FREE && !atomic_load(&areas[i].fillers))
			a = &areas[i];
	if (!a)
		return -ENOSPC;
	const int advice = plain_flags(r->start);
	if (advice == -2)
		return -EINVAL;
	int fd = (int)sys_ret(sys_call2(SYS_memfd_create, "libuffd-anon", MFD_CLOEXEC));
	if (fd < 0)
		return -errno;
	struct stat st;
	if (sys_ret(sys_call2(SYS_ftruncate, fd, len)) < 0 || sys_fstat(fd, &st) < 0 ||
	    /* Frozen as REGISTER froze it: read-only until thaw(). */
	    sys_mmap((void *)r->start, len, r->prot & ~PROT_WRITE, MAP_SHARED | MAP_FIXED,
		     fd, 0) == MAP_FAILED) {
		int err = -errno;
		sys_close(fd);
		return err;
	}
	if (advice >= 0)
		sys_madvise((void *)r->start, len, advice);
	a->advice = advice;
	a->start = r->start;
	a->end = r->end;
	a->fd = fd;
	a->dev = st.st_dev;
	a->ino = st.st_ino;
	atomic_store(&a->state, A_LIVE);
	return 0;
}

/* Guard markers of [addr, addr+len), or-ed per page into vec from pagemap. */
static int guards(uintptr_t addr, size_t n, unsigned char *vec)
{
	uint64_t buf[512];
	int fd = sys_open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	for (size_t i = 0; i < n;) {
		size_t k = n - i < 512 ? n - i : 512;
		ssize_t got = sys_pread(fd, buf, k * 8, (off_t)((addr / (size_t)u_page + i) * 8));
		if (got <= 0) {
			sys_close(fd);
			return -EIO;
		}
		k = (size_t)got / 8;
		for (size_t j = 0; j < k; j++)
			vec[i + j] = (buf[j] >> 58) & 1;
		i += k;
	}
	sys_close(fd);
	return 0;
}

/* Copy the file's data into fresh anonymous memory at mem. */
static int copy_data(const struct area *a, char *mem)
{
	const off_t len = (off_t)(a->end - a->start);

	for (off_t pos = 0; pos < len;) {
		off_t data = sys_lseek(a->fd, pos, SEEK_DATA);
		if (data < 0)
			return errno == ENXIO ? 0 : -errno;
		off_t hole = sys_lseek(a->fd, data, SEEK_HOLE);
		if (hole < 0 || hole > len)
			hole = len;
		for (off_t at = data; at < hole;) {
			ssize_t got = sys_pread(a->fd, mem + at, (size_t)(hole - at), at);
			if (got <= 0)
				return got < 0 ? -errno : -EIO;
			at += got;
		}
		pos = hole;
	}
	return 0;
}

/* Is mapping v (or the part of it in a) still the area's file at the
 * area's offsets?  Where the program unmapped it unseen (no shim), another
 * mapping may be there now: that one is left alone. */
static bool ours(const struct area *a, const struct u_vma *v)
{
	return v->dev == a->dev && v->ino == a->ino &&
	       v->offset == (off_t)(v->start - a->start);
}

/* Protection prot on the parts of a that are still its mappings. */
static void protect_ours(const struct area *a, const struct u_vma *v, int nv, int prot)
{
	for (int k = 0; k < nv; k++) {
		uintptr_t s = v[k].start > a->start ? v[k].start : a->start;
		uintptr_t e = v[k].end < a->end ? v[k].end : a->end;
		if (ours(a, &v[k]))
			sys_mprotect((void *)s, e - s, prot < 0 ? v[k].prot : prot);
	}
}

/* Make area a anonymous memory again: same content, same traps, same
 * protection, mapping by mapping.  Accesses meanwhile fault and wait (the
 * area is PROT_NONE and in u_freezing_*); fills wait (A_GOING). */
static int unback(struct area *a)
{
	const size_t len = a->end - a->start, n = len / (size_t)u_page;
	struct u_vma *v = NULL;
	int cap = 0, nv = u_vmas_in(a->start, a->end, &v, &cap);
	unsigned char *trapped = u_arena_alloc(n);
	char *mem = sys_mmap(NULL, len, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	int err = nv < 0 ? nv : !trapped || mem == MAP_FAILED ? -ENOMEM : 0;

	if (!err) {
		atomic_store(&u_freezing_start, a->start);
		atomic_store(&u_freezing_end, a->end);
		protect_ours(a, v, nv, PROT_NONE);
		err = guards(a->start, n, trapped);
	}
	if (!err)
		err = copy_data(a, mem);
	for (size_t i = 0; !err && i < n;) {
		size_t j = i + 1;
		if (!trapped[i]) {
			i++;
			continue;
		}
		while (j < n && trapped[j])
			j++;
		if (sys_madvise(mem + i * (size_t)u_page, (j - i) * (size_t)u_page, MADV_GUARD_INSTALL))
			err = -errno;
		i = j;
	}
	/* Each mapping of the area with its own protection, moved into place
	 * (mremap replaces what is there at once; markers move along).  What
	 * is not moved is unmapped piece by piece: the places moved from are
	 * free address space at once, another thread's mmap may take them. */
	uintptr_t pos = a->start;   /* mem's pages below pos are dealt with */
	for (int k = 0; !err && k < nv; k++) {
		uintptr_t s = v[k].start > a->start ? v[k].start : a->start;
		uintptr_t e = v[k].end < a->end ? v[k].end : a->end;
		char *piece = mem + (s - a->start);
		if (s > pos)
			sys_munmap(mem + (pos - a->start), s - pos);
		pos = e;
		if (!ours(a, &v[k])) {
			sys_munmap(piece, e - s);
			continue;
		}
		if (a->advice >= 0)
			sys_madvise(piece, e - s, a->advice);
		if (sys_mprotect(piece, e - s, v[k].prot) ||
		    sys_mremap(piece, e - s, e - s, MREMAP_MAYMOVE | MREMAP_FIXED,
			       (void *)s) == MAP_FAILED) {
			err = -errno;
			pos = s;
		}
	}
	if (err && nv > 0)   /* left as it was: a shared area */
		protect_ours(a, v, nv, -1);
	if (mem != MAP_FAILED && pos < a->end)
		sys_munmap(mem + (pos - a->start), a->end - pos);
	atomic_store(&u_freezing_end, 0);
	atomic_store(&u_freezing_start, 0);
	if (trapped)
		u_arena_free(trapped, n);
	u_vmas_free(v, cap);
	return err;
}

/* Stop fills into a and wait for those in flight. */
static void stop_fills(struct area *a)
{
	atomic_store(&a->state, A_GOING);
	while (atomic_load(&a->fillers))
		sched_yield();
}

static void free_area(struct area *a)
{
	sys_close(a->fd);
	a->fd = -1;
	atomic_store(&a->state, A_FREE);
}

void u_pcache_release(uintptr_t start, uintptr_t end)
{
	for (int i = 0; i < MAX_AREAS; i++) {
		struct area *a = &areas[i];
		if (atomic_load(&a->state) != A_LIVE || a->end <= start || a->start >= end)
			continue;
		sigset_t all, old;
		sigfillset(&all);
		sys_sigprocmask(SIG_BLOCK, &all, &old);
		u_trap_change_begin();
		const int span = u_trap_span_begin(a->start, a->end);
		stop_fills(a);
		if (unback(a))
			atomic_store(&a->state, A_LIVE);   /* cannot: stays as it is */
		else
			free_area(a);
		u_trap_span_end(span);
		u_trap_change_end();
		sys_sigprocmask(SIG_SETMASK, &old, NULL);
	}
}

void u_pcache_forget(uintptr_t start, uintptr_t end, uintptr_t touching_start,
		     uintptr_t touching_end)
{
	for (int i = 0; i < MAX_AREAS; i++) {
		struct area *a = &areas[i];
		if (atomic_load(&a->state) != A_LIVE || a->start < start || a->end > end ||
		    a->start >= touching_end || a->end <= touching_start)
			continue;
		stop_fills(a);
		free_area(a);
	}
}

void u_pcache_after_fork(void)
{
	atomic_store(&forking, 0);
	for (int i = 0; i < MAX_AREAS; i++) {
		if (atomic_load(&areas[i].state) != A_FREE)
			sys_close(areas[i].fd);
		atomic_store(&areas[i].state, A_FREE);
		atomic_store(&areas[i].fillers, 0);
	}
}

bool u_pcache_overlaps(uintptr_t start, uintptr_t end)
{
	for (int i = 0; i < MAX_AREAS; i++)
		if (atomic_load(&areas[i].state) != A_FREE && areas[i].start < end &&
		    areas[i].end > start)
			return true;
	return false;
}

void u_pcache_before_fork(void)
{
	atomic_store(&forking, 1);
	u_range_lock();   /* a REGISTER making an area is done with it */
	u_pcache_release(0, UINTPTR_MAX);
	u_range_unlock();
}

void u_pcache_fork_done(void)
{
	atomic_store(&forking, 0);
}
