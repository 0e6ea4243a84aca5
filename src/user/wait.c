/* SPDX-License-Identifier: MIT */
/*
 * Threads blocked in a fault.  Each takes a slot (address, context, a futex
 * word), publishes it, checks once more that it must wait, sends its message
 * and sleeps; a resolver marks matching slots woken and calls FUTEX_WAKE only
 * for sleepers.  A waiter polls its slot for a while first, yielding the CPU
 * between looks: a resolver on another CPU often answers sooner than a sleep
 * and a cross-CPU wake-up would cost, and a resolver waiting for this CPU
 * gets it at once.
 * The slot word carries a tag renewed at every claim, so a resolver that read
 * a slot just before it was freed and claimed again cannot wake the new owner.
 * Slots are grouped in buckets by the page's hash: a waiter takes a slot in
 * its page's bucket, or in the next ones when it is full (counting itself in
 * the spill of each full bucket it passed), so that waking one page looks
 * at one bucket, and at the next ones only while some waiter spilled over.
 * Past U_MAX_WAITERS threads at once, a waiter sends its message all the
 * same and sleeps on one shared word that every wake-up bumps, looking
 * again whether its page is still pending each time (rarely needed: it
 * only keeps a handler that reads every message before answering any from
 * waiting for ever).
 */
#include <errno.h>
#include <linux/futex.h>
#include <sched.h>
#include <time.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "user.h"

enum { SLOT_FREE, SLOT_CLAIMED, SLOT_WAITING, SLOT_SLEEPING, SLOT_WOKEN };
#define ST(w) ((w) & 7)
#define TAG(w) ((w) & ~7)
#define WORD(tag, st) ((tag) | (st))

struct slot {
	_Atomic int word;    /* tag | state */
	_Atomic int ctx;
	_Atomic uintptr_t page;
};

static struct slot slots[U_MAX_WAITERS];
static _Atomic int slots_used;   /* high-water mark */

#define PER_BUCKET 4
#define NBUCKETS (U_MAX_WAITERS / PER_BUCKET)
static _Atomic int spill[NBUCKETS];   /* waiters placed past this full bucket */
/* A wake of more pages than this looks at every slot instead. */
#define WAKE_BY_PAGE 64

#define SPIN_NS 50000     /* how long a waiter polls before it sleeps */

/* Waiters that found no slot, and the word they sleep on. */
static _Atomic int overflow_waiters;
static _Atomic int overflow_seq;

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

static long futex(_Atomic int *word, int op, int val)
{
	return sys_futex(word, op, val, NULL);
}

static unsigned bucket_of(uintptr_t page)
{
	return (unsigned)(((uint64_t)(page >> 12) * 0x9e3779b97f4a7c15ull) >> 40) % NBUCKETS;
}

/* Claim a slot for page: in its bucket, else in the first bucket after it
 * with room; *passed says how many full buckets were passed (their spill
 * counts this waiter until it leaves).  NULL: every slot is taken. */
static struct slot *claim(uintptr_t page, int *tag, int *passed)
{
	const unsigned home = bucket_of(page);

	{
		for (int k = 0; k < NBUCKETS; k++) {
			const unsigned b = (home + (unsigned)k) % NBUCKETS;
			for (int j = 0; j < PER_BUCKET; j++) {
				const int i = (int)b * PER_BUCKET + j;
				int w = atomic_load_explicit(&slots[i].word, memory_order_relaxed);
				if (ST(w) != SLOT_FREE)
					continue;
				int t = TAG(w) + 8;
				if (!atomic_compare_exchange_strong(&slots[i].word, &w,
								    WORD(t, SLOT_CLAIMED)))
					continue;
				int used = atomic_load(&slots_used);
				while (used <= i &&
				       !atomic_compare_exchange_weak(&slots_used, &used, i + 1))
					;
				*tag = t;
				*passed = k;
				return &slots[i];
			}
			/* Full: a waker of this bucket must look further. */
			atomic_fetch_add(&spill[b], 1);
		}
		for (int k = 0; k < NBUCKETS; k++)
			atomic_fetch_sub(&spill[(home + (unsigned)k) % NBUCKETS], 1);
	}
	return NULL;
}

/* No slot: send the message, and sleep until a wake-up finds the page no
 * longer pending (a wake-up bumps overflow_seq after its fill; the page is
 * looked at after the counter is read, so none is missed). */
static void wait_overflow(int ctx, uintptr_t page, unsigned gen, const struct uffd_msg *msg)
{
	struct u_ctx *c = &u_ctxs[ctx];
	bool sent = false;

	atomic_fetch_add(&overflow_waiters, 1);
	for (;;) {
		const int seq = atomic_load(&overflow_seq);
		if (!u_fault_pending(page, ctx, msg->arg.pagefault.flags) ||
		    u_range_generation() != gen || atomic_load(&c->state) != U_CTX_READY)
			break;
		if (!sent && u_ctx_send(c, msg) < 0)
			break;
		sent = true;
		futex(&overflow_seq, FUTEX_WAIT_PRIVATE, seq);
	}
	atomic_fetch_sub(&overflow_waiters, 1);
}

static void wake_overflow(void)
{
	/* Page states change by seq_cst stores, so a waiter that counted
	 * itself after this looks sees the change that came before it. */
	if (!atomic_load(&overflow_waiters))
		return;
	atomic_fetch_add(&overflow_seq, 1);
	futex(&overflow_seq, FUTEX_WAKE_PRIVATE, INT32_MAX);
}

static void unspill(uintptr_t page, int passed)
{
	const unsigned home = bucket_of(page);

	for (int k = 0; k < passed; k++)
		atomic_fetch_sub(&spill[(home + (unsigned)k) % NBUCKETS], 1);
}

/* The slot this thread waits in (innermost fault): a thread that resolves
 * its own fault (ring.c) wakes it without a system call. */
static __thread struct slot *own_slot __attribute__((tls_model("initial-exec")));

void u_wait_fault(int ctx, uintptr_t page, unsigned gen, const struct uffd_msg *msg)
{
	int tag, passed;
	struct slot *s = claim(page, &tag, &passed), *outer = own_slot;
	struct u_ctx *c = &u_ctxs[ctx];

	if (!s) {
		wait_overflow(ctx, page, gen, msg);
		return;
	}

	atomic_store(&s->ctx, ctx);
	atomic_store(&s->page, page);
	atomic_store(&s->word, WORD(tag, SLOT_WAITING));
	own_slot = s;
	/* Published: any resolution from here on wakes us.  Was there one
	 * before, or did the range or its context go away? */
	if (!u_fault_pending(page, ctx, msg->arg.pagefault.flags) || u_range_generation() != gen ||
	    atomic_load(&c->state) != U_CTX_READY)
		goto out;
	/* Counted among the watchers of the rings before the message goes:
	 * a handler in another process then posts its answer for us to run
	 * (ring.c) instead of waking the owner's server thread. */
	const bool watching = u_ring_watch_begin();
	if (u_ctx_send(c, msg) < 0)
		goto unwatch;
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0;; i++) {
		if (ST(atomic_load_explicit(&s->word, memory_order_acquire)) == SLOT_WOKEN)
			goto unwatch;
		if (watching && u_ring_run_posted())
			continue;
		if (i < 64) {
			cpu_relax();
			continue;
		}
		/* A handler in another process needs a CPU to answer: no
		 * looking on with the CPU yielded, which on a busy machine
		 * hands it to any other process for a time slice; asleep,
		 * the handler's post wakes us (ring.c). */
		if (watching)
			break;
		sched_yield();
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((t.tv_sec - t0.tv_sec) * 1000000000L + (t.tv_nsec - t0.tv_nsec) > SPIN_NS)
			break;
	}
	const int sleeping = WORD(tag, SLOT_SLEEPING);
	int w = WORD(tag, SLOT_WAITING);
	if (atomic_compare_exchange_strong(&s->word, &w, sleeping))
		while (atomic_load(&s->word) == sleeping) {
			if (watching)
				u_ring_sleep(&s->word, sleeping);
			else
				futex(&s->word, FUTEX_WAIT_PRIVATE, sleeping);
		}
unwatch:
	if (watching)
		u_ring_watch_end();
out:
	own_slot = outer;
	atomic_store(&s->word, WORD(tag, SLOT_FREE));
	unspill(page, passed);
}

/* Wake slot s if its waiter waits on ctx for a page in [start, end). */
static void wake_slot(struct slot *s, int ctx, uintptr_t start, uintptr_t end)
{
	int w = atomic_load(&s->word);

	if (ST(w) != SLOT_WAITING && ST(w) != SLOT_SLEEPING)
		return;
	if (ctx >= 0 && atomic_load(&s->ctx) != ctx)
		return;
	uintptr_t p = atomic_load(&s->page);
	if (p < start || p >= end)
		return;
	/* Only this claim of the slot (same tag) can be woken. */
	const int tag = TAG(w);
	for (;;) {
		if (atomic_compare_exchange_strong(&s->word, &w, WORD(tag, SLOT_WOKEN))) {
			if (ST(w) == SLOT_SLEEPING && s != own_slot)
				futex(&s->word, FUTEX_WAKE_PRIVATE, 1);
			return;
		}
		if (TAG(w) != tag || ST(w) != SLOT_SLEEPING)
			return;
	}
}

/* The buckets a waiter on page may be in: its own, and the next ones while
 * a waiter spilled past. */
static void wake_page(int ctx, uintptr_t page, uintptr_t start, uintptr_t end)
{
	const unsigned home = bucket_of(page);

	for (int k = 0; k < NBUCKETS; k++) {
		const unsigned b = (home + (unsigned)k) % NBUCKETS;
		for (int j = 0; j < PER_BUCKET; j++)
			wake_slot(&slots[b * PER_BUCKET + j], ctx, start, end);
		if (!atomic_load(&spill[b]))
			return;
	}
}

__thread struct u_wake_hold *u_wake_held __attribute__((tls_model("initial-exec")));

void u_wake_release(struct u_wake_hold *hold)
{
	for (int i = 0; i < hold->n; i++)
		u_wake(hold->w[i].ctx, hold->w[i].start, hold->w[i].end);
	hold->n = 0;
}

void u_wake(int ctx, uintptr_t start, uintptr_t end)
{
	const uintptr_t pg = (uintptr_t)u_page;
	struct u_wake_hold *hold = u_wake_held;

	if (hold && hold->n < U_WAKE_HOLD) {
		hold->w[hold->n].ctx = ctx;
		hold->w[hold->n].start = start;
		hold->w[hold->n].end = end;
		hold->n++;
		return;
	}
	wake_overflow();

	if (end > start && (end - start) / pg <= WAKE_BY_PAGE) {
		/* Waiters wait on the page (small or huge) holding the
		 * address: each small page start names its bucket. */
		for (uintptr_t p = start & ~(pg - 1); p < end; p += pg)
			wake_page(ctx, p, start, end);
		return;
	}
	int used = atomic_load(&slots_used);
	for (int i = 0; i < used; i++)
		wake_slot(&slots[i], ctx, start, end);
}
