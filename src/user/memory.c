/* SPDX-License-Identifier: MIT */
/*
 * What the program did to its memory, as the kernel's userfaultfd would
 * see it (mm/madvise.c, mm/mremap.c, mm/mmap.c, fs/userfaultfd.c):
 *   munmap   ends the registrations in the range; UFFD_EVENT_UNMAP {start,
 *            end} (the munmap's range) to each context that asked for it;
 *   mremap   a moved mapping keeps its registration where the context asked
 *            for UFFD_EVENT_REMAP (and gets REMAP {from, to, len}), else the
 *            new mapping is ordinary memory; then the old place is unmapped
 *            (UNMAP {from, from + len}); a shrink in place unmaps the tail;
 *   madvise  MADV_DONTNEED/_LOCKED, MADV_FREE and MADV_REMOVE send
 *            UFFD_EVENT_REMOVE {start, end} (clipped to the registration)
 *            before the pages go.  Dropped anonymous pages fault again in a
 *            MISSING range and lose their write protection (with or without
 *            UFFD_FEATURE_WP_UNPOPULATED, as measured on Linux 6.18); pages
 *            punched out of shared memory (MADV_REMOVE) fault again.
 * The thread that causes an event waits until a reader has read it (or the
 * userfaultfd is gone), as the kernel's userfaultfd_event_wait_completion().
 * Events are offered (UFFDIO_API) only where the LD_PRELOAD shim sees these
 * calls; the state changes apply to whoever calls in.
 */
#include <errno.h>
#include <linux/futex.h>
#include <sched.h>
#include <string.h>
#include <sys/mman.h>

#include "user.h"

#ifndef MADV_DONTNEED_LOCKED
#define MADV_DONTNEED_LOCKED 24
#endif

_Atomic int u_events_seen;

/* ---- sending an event and waiting for it to be read ---- */
int u_event_send(int c, const struct uffd_msg *msg)
{
	struct u_ctx *ctx = &u_ctxs[c];

	if (atomic_load(&ctx->state) != U_CTX_READY)
		return -1;
	/* Tickets in the order the messages enter the pipe. */
	while (atomic_exchange(&ctx->ev_lock, 1))
		sched_yield();
	const uint32_t ticket = atomic_fetch_add(&ctx->ev_sent, 1) + 1;
	int sent = u_ctx_send(ctx, msg);
	atomic_store(&ctx->ev_lock, 0);
	if (sent < 0)
		return -1;
	for (;;) {
		uint32_t seen = atomic_load(&ctx->ev_read);
		if ((int32_t)(seen - ticket) >= 0 || atomic_load(&ctx->state) != U_CTX_READY)
			return 0;
		/* Woken by the reader, or by the release of the context. */
		const struct timespec tick = { 1, 0 };
		sys_futex(&ctx->ev_read, FUTEX_WAIT_PRIVATE, (int)seen, &tick);
	}
}

void u_events_read(struct u_ctx *ctx, unsigned n)
{
	atomic_fetch_add(&ctx->ev_read, n);
	sys_futex(&ctx->ev_read, FUTEX_WAKE_PRIVATE, INT32_MAX, NULL);
}

static bool wants(int c, uint64_t feature)
{
	return c >= 0 && atomic_load(&u_ctxs[c].state) == U_CTX_READY &&
	       (u_ctxs[c].features & feature);
}

static void note_add(struct u_mem_note *note, int c)
{
	for (int i = 0; i < note->n; i++)
		if (note->ctx[i] == c)
			return;
	if (note->n < U_NOTE_MAX)
		note->ctx[note->n++] = c;
}

/* The contexts with registrations in [start, end) (the lock held). */
static void contexts_in(uintptr_t start, uintptr_t end, struct u_mem_note *all)
{
	all->n = 0;
	for (int i = 0; ; i++) {
		struct u_range *r = u_range_at(i);
		if (!r)
			break;
		if (r->ctx >= 0 && r->start < end && r->end > start)
			note_add(all, r->ctx);
	}
}

/* ---- munmap ---- */
/* End every registration in [start, end), poison left behind included. */
static void forget(uintptr_t start, uintptr_t end, struct u_mem_note *all)
{
	contexts_in(start, end, all);
	for (int i = 0; i < all->n; i++)
		u_range_remove_span(all->ctx[i], start, end);
	u_range_remove_span(-1, start, end);
}

int u_mem_unmap_begin(uintptr_t start, uintptr_t end, struct u_mem_note *note)
{
	struct u_mem_note all;

	note->n = 0;
	if (!u_page || start >= end)
		return 0;
	u_trap_change_begin();
	u_range_lock();
	if (!u_range_room(start, end, 0)) {
		u_range_unlock();
		u_trap_change_end();
		return -ENOMEM;
	}
	/* Page-cache backed areas: forgotten when they go whole, anonymous
	 * again when a part stays. */
	u_pcache_forget(start, end, start, end);
	u_pcache_release(start, end);
	forget(start, end, &all);
	u_range_unlock();
	u_trap_change_end();
	for (int i = 0; i < all.n; i++) {
		if (wants(all.ctx[i], UFFD_FEATURE_EVENT_UNMAP))
			note_add(note, all.ctx[i]);
		/* Faults blocked there retry and find the memory gone. */
		u_wake(all.ctx[i], start, end);
	}
	return 0;
}

void u_mem_unmap_end(const struct u_mem_note *note, uintptr_t start, uintptr_t end)
{
	for (int i = 0; i < note->n; i++) {
		struct uffd_msg msg;
		memset(&msg, 0, sizeof(msg));
		msg.event = UFFD_EVENT_UNMAP;
		msg.arg.remove.start = start;
		msg.arg.remove.end = end;
		u_event_send(note->ctx[i], &msg);
	}
}

/* ---- madvise ---- */
/* The REMOVE events: one per context and contiguous registered stretch
 * (the kernel's: one per VMA, clipped to the advice's range). */
static void remove_events(uintptr_t start, uintptr_t end)
{
	struct { int ctx; uintptr_t s, e; } ev[U_NOTE_MAX];
	int n = 0;

	u_range_lock();
	for (int i = 0; ; i++) {
		struct u_range *r = u_range_at(i);
		if (!r)
			break;
		if (r->start >= end || r->end <= start || !wants(r->ctx, UFFD_FEATURE_EVENT_REMOVE))
			continue;
		uintptr_t s = r->start > start ? r->start : start, e = r->end < end ? r->end : end;
		int j;
		for (j = 0; j < n; j++) {
			if (ev[j].ctx != r->ctx || s > ev[j].e || e < ev[j].s)
				continue;
			ev[j].s = s < ev[j].s ? s : ev[j].s;
			ev[j].e = e > ev[j].e ? e : ev[j].e;
			break;
		}
		if (j == n && n < U_NOTE_MAX)
			ev[n].ctx = r->ctx, ev[n].s = s, ev[n].e = e, n++;
	}
	u_range_unlock();
	for (int k = 0; k < n; k++) {
		/* In address order, as the kernel walks the VMAs. */
		int m = k;
		for (int j = k + 1; j < n; j++)
			if (ev[j].s < ev[m].s)
				m = j;
		struct uffd_msg msg;
		memset(&msg, 0, sizeof(msg));
		msg.event = UFFD_EVENT_REMOVE;
		msg.arg.remove.start = ev[m].s;
		msg.arg.remove.end = ev[m].e;
		int c = ev[m].ctx;
		ev[m] = ev[k];
		u_event_send(c, &msg);
	}
}

/* Anonymous pages about to be dropped: write protection goes, and in a
 * MISSING range the trap is armed again (a guard marker discards the page
 * itself; PROT_NONE keeps it out of reach until the madvise drops it). */
static void drop_anon(const struct u_range *r, uintptr_t s, uintptr_t e)
{
	for (uintptr_t p = s; p < e; p += r->psize) {
		_Atomic uint8_t *st = &r->pages[(p - r->start) / r->psize];
		uint8_t old = atomic_load(st);
		if ((old & U_PG_STATE) == U_PG_BUSY || (old & U_PG_STATE) == U_PG_POISON)
			continue;
		if (old & U_PG_WP) {
			if (!u_pg_trapped(r, old))
				u_trap_protect(r, p, r->psize, false);
			atomic_fetch_and(st, (uint8_t)~U_PG_WP);
		}
		if ((r->mode & UFFDIO_REGISTER_MODE_MISSING) &&
		    (old & U_PG_STATE) == U_PG_PRESENT && u_trap_arm(r, p, r->psize) == 0)
			atomic_store(st, U_PG_MISSING);
	}
}

/* Pages punched out of shared memory fault again in a MISSING range. */
static void drop_shared(const struct u_range *r, uintptr_t s, uintptr_t e)
{
	if (!(r->mode & UFFDIO_REGISTER_MODE_MISSING))
		return;
	for (uintptr_t p = s; p < e; p += r->psize) {
		_Atomic uint8_t *st = &r->pages[(p - r->start) / r->psize];
		uint8_t old = atomic_load(st);
		if ((old & U_PG_STATE) == U_PG_PRESENT && u_trap_arm(r, p, r->psize) == 0)
			atomic_store(st, (uint8_t)(U_PG_MISSING | (old & U_PG_WP)));
	}
}

static void for_each_piece(uintptr_t start, uintptr_t end, enum u_mem mem,
			   void (*fn)(const struct u_range *, uintptr_t, uintptr_t))
{
	u_trap_change_begin();
	const int span = u_trap_span_begin(start, end);
	u_range_lock();
	for (int i = 0; ; i++) {
		struct u_range *r = u_range_at(i);
		if (!r)
			break;
		if (r->ctx < 0 || r->mem != mem || r->start >= end || r->end <= start)
			continue;
		fn(r, r->start > start ? r->start : start, r->end < end ? r->end : end);
	}
	u_range_unlock();
	u_trap_span_end(span);
	u_trap_change_end();
}

static bool drops(int advice)
{
	return advice == MADV_DONTNEED || advice == MADV_DONTNEED_LOCKED ||
	       advice == MADV_FREE || advice == MADV_REMOVE;
}

/* Advice that changes nothing a page-cache-backed area would show. */
static bool harmless(int advice)
{
	return advice == MADV_NORMAL || advice == MADV_RANDOM ||
	       advice == MADV_SEQUENTIAL || advice == MADV_WILLNEED;
}

void u_mem_drop_begin(uintptr_t start, uintptr_t end, int advice)
{
	if (!u_page || start >= end)
		return;
	if (!harmless(advice) && u_pcache_overlaps(start, end)) {
		/* Anonymous again first: the advice then acts as on any. */
		u_range_lock();
		u_pcache_release(start, end);
		u_range_unlock();
	}
	if (!drops(advice))
		return;
	remove_events(start, end);
	if (advice == MADV_DONTNEED || advice == MADV_DONTNEED_LOCKED)
		for_each_piece(start, end, U_MEM_ANON, drop_anon);
}

void u_mem_drop_end(uintptr_t start, uintptr_t end, int advice, int ret)
{
	if (!u_page || start >= end || ret != 0 || advice != MADV_REMOVE)
		return;
	for_each_piece(start, end, U_MEM_SHMEM, drop_shared);
}

/* ---- mremap ---- */
/* Registrations of contexts with UFFD_FEATURE_EVENT_REMAP in [old, end):
 * the ranges a move adds at the new place. */
static int moving(uintptr_t old, uintptr_t end)
{
	int n = 0;

	for (int i = 0; ; i++) {
		struct u_range *r = u_range_at(i);
		if (!r)
			return n;
		n += r->start < end && r->end > old && wants(r->ctx, UFFD_FEATURE_EVENT_REMAP);
	}
}

int u_mem_remap_begin(uintptr_t old, size_t old_len, size_t new_len, struct u_mem_note *note)
{
	note->n = 0;
	if (!u_page)
		return 0;
	u_range_lock();
	/* Room for what the end may do, whether the mapping moves or shrinks
	 * in place (then the tail goes): else fail as the kernel's at
	 * vm.max_map_count, before anything changed. */
	const uintptr_t end = old + old_len;
	const bool room = u_range_room(old, end, moving(old, end)) &&
			  (new_len >= old_len || u_range_room(old + new_len, end, 0));
	if (room) {
		u_pcache_release(old, end);
		contexts_in(old, end, note);
	}
	u_range_unlock();
	return room ? 0 : -ENOMEM;
}

/* Move ctx c's registrations in [old, old+len) to new_addr, state and all
 * (the traps moved with the page tables). */
static void move_ranges(int c, uintptr_t old, size_t len, uintptr_t new_addr)
{
	struct u_range moved[U_NOTE_MAX];
	int n = 0;

	for (int i = 0; n < U_NOTE_MAX; i++) {
		struct u_range *r = u_range_at(i);
		if (!r)
			break;
		if (r->ctx != c || r->start >= old + len || r->end <= old)
			continue;
		uintptr_t s = r->start > old ? r->start : old;
		uintptr_t e = r->end < old + len ? r->end : old + len;
		struct u_range m = *r;
		size_t np = (e - s) / r->psize;
		m.pages = u_pages_alloc(np);
		if (!m.pages)
			continue;
		for (size_t k = 0; k < np; k++)
			atomic_store(&m.pages[k], atomic_load(&r->pages[(s - r->start) / r->psize + k]));
		m.pages_base = NULL;
		m.start = s - old + new_addr;
		m.end = e - old + new_addr;
		if (m.memfd >= 0) {
			m.file_off = r->file_off + (off_t)(s - r->start);
			m.memfd = sys_fcntl(r->memfd, F_DUPFD_CLOEXEC, 0);
		}
		moved[n++] = m;
	}
	u_range_remove_span(c, old, old + len);
	for (int i = 0; i < n; i++)
		if (u_range_add(&moved[i]) < 0)
			u_pages_free(moved[i].pages);
}

/* The moved memory's traps and protections, where its registration ended. */
static void open_moved(const struct u_range *r, uintptr_t old, size_t len, uintptr_t new_addr)
{
	uintptr_t s = r->start > old ? r->start : old, e = r->end < old + len ? r->end : old + len;

	if (s < e)
		u_trap_disarm(r, s - old + new_addr, e - s);
}

void u_mem_remap_end(const struct u_mem_note *note, uintptr_t old, size_t old_len,
		     uintptr_t new_addr, size_t new_len)
{
	if (!u_page || new_addr == (uintptr_t)MAP_FAILED)
		return;
	if (new_addr == old) {
		if (new_len < old_len) {
			/* A shrink in place unmaps the tail. */
			struct u_mem_note tail;
			u_mem_unmap_begin(old + new_len, old + old_len, &tail);
			u_mem_unmap_end(&tail, old + new_len, old + old_len);
		}
		return;
	}
	const size_t len = new_len < old_len ? new_len : old_len;
	struct u_mem_note remap = { 0 };
	u_trap_change_begin();
	const int spans[2] = { u_trap_span_begin(old, old + old_len),
			       u_trap_span_begin(new_addr, new_addr + len) };
	u_range_lock();
	for (int k = 0; k < note->n; k++) {
		const int c = note->ctx[k];
		if (wants(c, UFFD_FEATURE_EVENT_REMAP)) {
			move_ranges(c, old, len, new_addr);
			note_add(&remap, c);
			continue;
		}
		for (int i = 0; ; i++) {
			struct u_range *r = u_range_at(i);
			if (!r)
				break;
			if (r->ctx == c)
				open_moved(r, old, len, new_addr);
		}
	}
	/* What stayed behind is gone. */
	struct u_mem_note gone;
	forget(old, old + old_len, &gone);
	u_range_unlock();
	u_trap_span_end(spans[0]);
	u_trap_span_end(spans[1]);
	u_trap_change_end();
	for (int i = 0; i < gone.n; i++)
		u_wake(gone.ctx[i], old, old + old_len);
	for (int i = 0; i < remap.n; i++) {
		struct uffd_msg msg;
		memset(&msg, 0, sizeof(msg));
		msg.event = UFFD_EVENT_REMAP;
		msg.arg.remap.from = old;
		msg.arg.remap.to = new_addr;
		msg.arg.remap.len = old_len;
		u_event_send(remap.ctx[i], &msg);
	}
	/* Then, as mremap's own munmap of the old place: UNMAP. */
	struct u_mem_note unmap = { 0 };
	for (int k = 0; k < note->n; k++)
		if (wants(note->ctx[k], UFFD_FEATURE_EVENT_UNMAP))
			note_add(&unmap, note->ctx[k]);
	u_mem_unmap_end(&unmap, old, old + old_len);
}
