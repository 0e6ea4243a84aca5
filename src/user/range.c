/* SPDX-License-Identifier: MIT */
/*
 * The registry of registered ranges.  Writers (REGISTER, UNREGISTER, release)
 * hold a mutex; readers (the fault handler, the resolving ioctls) may run in a
 * signal handler and take no lock: they read under a sequence counter and pin
 * the page-state arrays, which writers free only once no reader is inside.
 * A lookup is a binary search in the live slots sorted by start (order[]),
 * which writers keep sorted while the counter is odd.
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>

#include "user.h"

static struct u_range ranges[U_MAX_RANGES];
static _Atomic unsigned char live[U_MAX_RANGES];
static _Atomic int high_water;
static _Atomic short order[U_MAX_RANGES];   /* live slots by start */
static _Atomic int norder;
static _Atomic unsigned seq;        /* odd while a writer changes the table */
static _Atomic unsigned generation;
static _Atomic int readers;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

/* Shared state arrays: a header before the per-page bytes. */
struct pages_hdr {
	size_t refs;      /* ranges pointing into it (writers only) */
	size_t bytes;     /* mapping size */
	char pad[48];
};

#define LOAD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)
#define STORE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)

static void read_range(const struct u_range *r, struct u_range *out)
{
	out->start = LOAD(r->start);
	out->end = LOAD(r->end);
	out->ctx = LOAD(r->ctx);
	out->mode = LOAD(r->mode);
	out->prot = LOAD(r->prot);
	out->psize = LOAD(r->psize);
	out->mem = LOAD(r->mem);
	out->memfd = LOAD(r->memfd);
	out->file_off = LOAD(r->file_off);
	out->pages = LOAD(r->pages);
	out->pages_base = LOAD(r->pages_base);
	out->guard = LOAD(r->guard);
}

static void write_range(struct u_range *r, const struct u_range *in)
{
	STORE(r->start, in->start);
	STORE(r->end, in->end);
	STORE(r->ctx, in->ctx);
	STORE(r->mode, in->mode);
	STORE(r->prot, in->prot);
	STORE(r->psize, in->psize);
	STORE(r->mem, in->mem);
	STORE(r->memfd, in->memfd);
	STORE(r->file_off, in->file_off);
	STORE(r->pages, in->pages);
	STORE(r->pages_base, in->pages_base);
	STORE(r->guard, in->guard);
}

void u_range_enter(void)
{
	atomic_fetch_add(&readers, 1);
}

void u_range_leave(void)
{
	atomic_fetch_sub(&readers, 1);
}

unsigned u_range_generation(void)
{
	return atomic_load(&generation);
}

/* Inside a seq read section: the position in order[] of the first range
 * that starts above addr, and in *n the ranges in order[] (bounded: a torn
 * read of the counter is caught by the section's retry). */
static int order_above(uintptr_t addr, int *n)
{
	int lo = 0, hi = atomic_load_explicit(&norder, memory_order_relaxed);

	if (hi > U_MAX_RANGES)
		hi = U_MAX_RANGES;
	*n = hi;
	while (lo < hi) {
		int mid = (lo + hi) / 2;
		int i = atomic_load_explicit(&order[mid], memory_order_relaxed);
		if (LOAD(ranges[i].start) <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int u_range_find(uintptr_t addr, struct u_range *out)
{
	for (;;) {
		unsigned s = atomic_load(&seq);
		if (s & 1) {
			sched_yield();
			continue;
		}
		/* The last range that starts at or below addr. */
		int found = 0, n, lo = order_above(addr, &n);
		if (lo > 0) {
			int i = atomic_load_explicit(&order[lo - 1], memory_order_relaxed);
			if (addr < LOAD(ranges[i].end)) {
				read_range(&ranges[i], out);
				found = 1;
			}
		}
		if (atomic_load(&seq) == s)
			return found;
	}
}

uintptr_t u_range_next_start(uintptr_t addr)
{
	for (;;) {
		unsigned s = atomic_load(&seq);
		if (s & 1) {
			sched_yield();
			continue;
		}
		/* The first range that starts above addr. */
		int n, lo = order_above(addr, &n);
		uintptr_t next = UINTPTR_MAX;
		if (lo < n)
			next = LOAD(ranges[atomic_load_explicit(&order[lo], memory_order_relaxed)].start);
		if (atomic_load(&seq) == s)
			return next;
	}
}

int u_range_find_reg(uintptr_t addr, struct u_range *out, int self)
{
	return u_range_find(addr, out) && out->ctx >= 0 &&
	       (out->ctx == self || !u_ctx_closed(out->ctx));
}

void u_range_lock(void)
{
	pthread_mutex_lock(&lock);
}

void u_range_unlock(void)
{
	pthread_mutex_unlock(&lock);
}

/* Keep order[] sorted (writers only, while the counter is odd). */
static void order_insert(int slot)
{
	int n = atomic_load(&norder), at = n;

	while (at > 0 && ranges[atomic_load(&order[at - 1])].start > ranges[slot].start) {
		atomic_store_explicit(&order[at], atomic_load(&order[at - 1]), memory_order_relaxed);
		at--;
	}
	atomic_store_explicit(&order[at], (short)slot, memory_order_relaxed);
	atomic_store(&norder, n + 1);
}

static void order_remove(int slot)
{
	int n = atomic_load(&norder), at = 0;

	while (at < n && atomic_load(&order[at]) != slot)
		at++;
	if (at == n)
		return;
	for (; at + 1 < n; at++)
		atomic_store_explicit(&order[at], atomic_load(&order[at + 1]), memory_order_relaxed);
	atomic_store(&norder, n - 1);
}

/* While the counter is odd, readers wait: a signal handler of the writing
 * thread that faulted on a registered page would wait for itself.  So the
 * writer takes no signal meanwhile (writers are serialized by the lock). */
static sigset_t writer_mask;

static void write_begin(void)
{
	sigset_t all;

	sigfillset(&all);
	sys_sigprocmask(SIG_BLOCK, &all, &writer_mask);
	atomic_fetch_add(&seq, 1);
}

static void write_end(void)
{
	atomic_fetch_add(&generation, 1);
	atomic_fetch_add(&seq, 1);
	sys_sigprocmask(SIG_SETMASK, &writer_mask, NULL);
}

_Atomic uint8_t *u_pages_alloc(size_t npages)
{
	size_t bytes = (sizeof(struct pages_hdr) + npages + u_page - 1) & ~(size_t)(u_page - 1);
	/* Untouched parts of a sparse range cost nothing: zero means MISSING. */
	struct pages_hdr *h = u_arena_alloc(bytes);

	if (!h)
		return NULL;
	h->refs = 0;
	h->bytes = bytes;
	return (_Atomic uint8_t *)(h + 1);
}

void u_pages_free(_Atomic uint8_t *pages)
{
	struct pages_hdr *h = (struct pages_hdr *)pages - 1;

	u_arena_free(h, h->bytes);
}

static void pages_get(void *base)
{
	((struct pages_hdr *)base)->refs++;
}

/* Wait until no reader can still hold a range removed before the call. */
static void quiesce(void)
{
	while (atomic_load(&readers))
		sched_yield();
}

static void pages_put(void *base)
{
	struct pages_hdr *h = base;

	if (--h->refs)
		return;
	quiesce();
	u_arena_free(h, h->bytes);
}

struct u_range *u_range_at(int i)
{
	if (i < 0 || i >= atomic_load(&high_water) || !atomic_load(&live[i]))
		return NULL;
	return &ranges[i];
}

int u_range_add(const struct u_range *r)
{
	int hw = atomic_load(&high_water);
	int slot = -1;

	for (int i = 0; i < hw && slot < 0; i++)
		if (!atomic_load(&live[i]))
			slot = i;
	if (slot < 0) {
		if (hw == U_MAX_RANGES) {
			errno = ENOMEM;
			return -1;
		}
		slot = hw;
	}
	struct u_range copy = *r;
	if (!copy.pages_base)
		copy.pages_base = (struct pages_hdr *)copy.pages - 1;
	pages_get(copy.pages_base);
	write_begin();
	write_range(&ranges[slot], &copy);
	atomic_store(&live[slot], 1);
	order_insert(slot);
	if (slot == hw)
		atomic_store(&high_water, hw + 1);
	write_end();
	return 0;
}

/* A run of pages in state st left behind by an unregistration: a range of
 * no context.  Poisoned pages only raise SIGBUS (the kernel's poison markers
 * outlive the registration); protected ones (a registration without WP
 * whose pages kept their uffd-wp bit, register.c) stay so until written or
 * registered again.  If it cannot be kept, the pages become ordinary. */
static void orphan(const struct u_range *r, uintptr_t a, uintptr_t b, uint8_t st)
{
	size_t n = (b - a) / r->psize;
	struct u_range o = {
		.start = a, .end = b, .ctx = -1, .mode = 0, .prot = r->prot,
		.psize = r->psize, .mem = r->mem, .memfd = -1, .guard = r->guard,
	};

	o.pages = u_pages_alloc(n);
	if (o.pages) {
		for (size_t k = 0; k < n; k++)
			atomic_store(&o.pages[k], st);
		if (u_range_add(&o) == 0)
			return;
		u_pages_free(o.pages);
	}
	u_trap_disarm(r, a, b - a);
	if (st & U_PG_WP)
		u_trap_protect(r, a, b - a, false);
}

/* What an unregistration leaves of a page in state st: poison, a dormant
 * write protection (a range without WP mode; with it the kernel clears
 * the pages' uffd-wp bits), or nothing (0). */
static uint8_t left_behind(const struct u_range *r, uint8_t st)
{
	if ((st & U_PG_STATE) == U_PG_POISON)
		return U_PG_POISON;
	if ((st & U_PG_STATE) == U_PG_PRESENT && (st & U_PG_WP) &&
	    !(r->mode & UFFDIO_REGISTER_MODE_WP))
		return U_PG_PRESENT | U_PG_WP;
	return 0;
}

/* Unregister [s, e) of r: its traps open, but for what is left behind. */
static void release_span(const struct u_range *r, uintptr_t s, uintptr_t e)
{
	const size_t first = (s - r->start) / r->psize, n = (e - s) / r->psize;

	if (r->ctx < 0)
		return;   /* an orphan keeps its poison */
	for (size_t i = 0; i < n;) {
		const uint8_t left = left_behind(r, atomic_load(&r->pages[first + i]));
		size_t j = i + 1;
		while (j < n && left_behind(r, atomic_load(&r->pages[first + j])) == left)
			j++;
		uintptr_t a = s + i * r->psize, b = s + j * r->psize;
		if (left)
			orphan(r, a, b, left);
		else
			u_trap_disarm(r, a, b - a);
		i = j;
	}
}

/* Forget range i entirely; release: open its traps (else the memory is
 * left as it is: a mapping made since at its place). */
static void drop(int i, bool release)
{
	void *base = ranges[i].pages_base;
	struct u_range r = ranges[i];
	/* Out of the registry, traps still armed: an access waits. */
	const int span = u_trap_span_begin(r.start, r.end);

	write_begin();
	atomic_store(&live[i], 0);
	order_remove(i);
	write_end();
	/* A COPY that found the range may still be writing (through the
	 * file, or /proc/self/mem): done before the traps open, or it could
	 * overwrite what an access stores in the ordinary page meanwhile. */
	quiesce();
	if (release)
		release_span(&r, r.start, r.end);   /* may reuse slot i: r from here */
	u_trap_span_end(span);
	if (r.memfd >= 0)
		sys_close(r.memfd);
	pages_put(base);
}

/* [start, end) is a hole in the middle of one range of ctx (at most one can
 * hold it): that range is cut in two, its tail in a slot of its own, and
 * ends at end.  0, or -1 ENOMEM (no slot: nothing changed). */
static int split_middle(int ctx, uintptr_t start, uintptr_t end)
{
	const int hw = atomic_load(&high_water);

	for (int i = 0; i < hw; i++) {
		if (!atomic_load(&live[i]) || ranges[i].ctx != ctx)
			continue;
		const struct u_range r = ranges[i];
		if (!(start > r.start && end < r.end))
			continue;
		struct u_range tail = r;
		tail.start = end;
		tail.pages = r.pages + (end - r.start) / r.psize;
		if (r.memfd >= 0) {
			tail.file_off = r.file_off + (off_t)(end - r.start);
			tail.memfd = sys_fcntl(r.memfd, F_DUPFD_CLOEXEC, 0);
		}
		if (u_range_add(&tail) < 0) {
			if (tail.memfd >= 0)
				sys_close(tail.memfd);
			errno = ENOMEM;
			return -1;
		}
		write_begin();
		STORE(ranges[i].end, end);
		write_end();
		return 0;
	}
	return 0;
}

static int remove_span(int ctx, uintptr_t start, uintptr_t end, bool release)
{
	int removed = 0, hw;

	/* The only change that needs a slot, made first: a full table
	 * changes nothing (as the kernel's UNREGISTER at vm.max_map_count). */
	if (split_middle(ctx, start, end) < 0)
		return -1;
	hw = atomic_load(&high_water);
	for (int i = 0; i < hw; i++) {
		if (!atomic_load(&live[i]) || ranges[i].ctx != ctx)
			continue;
		struct u_range r = ranges[i];
		if (r.end <= start || r.start >= end)
			continue;
		uintptr_t s = r.start > start ? r.start : start;
		uintptr_t e = r.end < end ? r.end : end;
		removed++;
		if (s == r.start && e == r.end) {
			drop(i, release);
			continue;
		}
		const int span = u_trap_span_begin(s, e);
		write_begin();
		if (s == r.start) {
			STORE(ranges[i].pages, r.pages + (e - r.start) / r.psize);
			if (r.memfd >= 0)
				STORE(ranges[i].file_off, r.file_off + (off_t)(e - r.start));
			STORE(ranges[i].start, e);
		} else {
			STORE(ranges[i].end, s);
		}
		write_end();
		quiesce();   /* as in drop(): no COPY into [s, e) once it opens */
		if (release)
			release_span(&r, s, e);
		u_trap_span_end(span);
		hw = atomic_load(&high_water);
	}
	return removed;
}

bool u_range_room(uintptr_t start, uintptr_t end, int extra)
{
	const int hw = atomic_load(&high_water);
	int free = U_MAX_RANGES, need = extra;

	for (int i = 0; i < hw; i++) {
		if (!atomic_load(&live[i]))
			continue;
		free--;
		need += ranges[i].start < start && ranges[i].end > end;
	}
	return need <= free;
}

int u_range_remove_span(int ctx, uintptr_t start, uintptr_t end)
{
	return remove_span(ctx, start, end, true);
}

int u_range_forget_span(int ctx, uintptr_t start, uintptr_t end)
{
	return remove_span(ctx, start, end, false);
}

void u_range_drop_ctx(int ctx)
{
	int hw = atomic_load(&high_water);

	for (int i = 0; i < hw; i++)
		if (atomic_load(&live[i]) && ranges[i].ctx >= 0 &&
		    (ctx < 0 || ranges[i].ctx == ctx))
			drop(i, true);
}

void u_range_drop_shared_poison(void)
{
	int hw = atomic_load(&high_water);

	for (int i = 0; i < hw; i++) {
		if (!atomic_load(&live[i]) || ranges[i].ctx >= 0)
			continue;
		struct u_range r = ranges[i];
		const bool poison = (atomic_load(&r.pages[0]) & U_PG_STATE) == U_PG_POISON;
		if (poison && r.mem != U_MEM_SHMEM && r.mem != U_MEM_HUGETLB_SHARED)
			continue;
		drop(i, true);
		u_trap_disarm(&r, r.start, r.end - r.start);
		/* Protection left behind goes too (the kernel's fork clears
		 * the uffd-wp bits of a mapping not registered WP). */
		if (!poison)
			u_trap_protect(&r, r.start, r.end - r.start, false);
	}
}

/* In a child after fork(): no other thread exists, whatever the copies say. */
void u_range_after_fork(void)
{
	atomic_store(&readers, 0);
	atomic_store(&seq, atomic_load(&seq) & ~1u);
	pthread_mutex_init(&lock, NULL);
}
