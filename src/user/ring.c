/* SPDX-License-Identifier: MIT */
/*
 * Requests of other processes, in the rings they share with us (wire.h),
 * and the threads that run them: the client's server thread (serve.c), or
 * any thread of ours blocked in a fault, which watches the rings while it
 * waits (wait.c).  The faulting thread then runs the handler's COPY itself,
 * as the kernel's fills the page and wakes it: on one CPU the round trip is
 * faulter -> handler -> faulter.
 *
 * A ring stays mapped while a thread uses it (users); the server detaches
 * it (waiting for them) before it unmaps it.  Nothing in a ring is trusted:
 * the request is copied out, then checked; a malformed one is an error for
 * that request.  Async-signal-safe (a faulting thread runs this in its
 * SIGSEGV handler): atomics, futexes and system calls only.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <linux/futex.h>
#include <sys/ioctl.h>

#include "../sys.h"
#include "user.h"
#include "wire.h"

#ifndef SYS_futex_waitv
#define SYS_futex_waitv 449
#endif
#define WAITV_U32     0x02    /* FUTEX2_SIZE_U32 */
#define WAITV_PRIVATE 128     /* FUTEX2_PRIVATE */

struct waitv {                /* struct futex_waitv */
	uint64_t val, uaddr;
	uint32_t flags, reserved;
};

/* The rings watchers watch: those of the first WATCH_MAX slots (a watcher
 * sleeps on all of their bells at once, and its stack may be a small
 * alternate signal stack).  The others' clients always ring their server. */
#define WATCH_MAX 14

struct peer {
	_Atomic(struct w_ring *) ring;   /* NULL: none */
	int rep_w;                       /* the client's reply pipe (O_NONBLOCK) */
	_Atomic int users;               /* threads using ring and rep_w */
	_Atomic int closing;
};

static struct peer peers[U_RING_MAX];
static _Atomic int peers_live;
/* Renewed when a ring comes, so that a watcher asleep on the others wakes
 * and watches it too. */
static _Atomic int peers_gen;
static struct w_public *pub;     /* our public page, or NULL: nobody watches */

void u_ring_set_public(struct w_public *page)
{
	/* Watchers sleep in futex_waitv (Linux 5.16): without it they cannot
	 * be woken by a client, so none counts itself as one. */
	const long r = sys_call5(SYS_futex_waitv, NULL, 0, 0, NULL, 0);
	pub = r == -ENOSYS ? NULL : page;
}

static struct w_ring *peer_get(struct peer *p)
{
	atomic_fetch_add(&p->users, 1);
	struct w_ring *r = atomic_load(&p->ring);
	if (r && !atomic_load(&p->closing))
		return r;
	if (atomic_fetch_sub(&p->users, 1) == 1)
		sys_futex(&p->users, FUTEX_WAKE_PRIVATE, INT_MAX, NULL);
	return NULL;
}

static void peer_put(struct peer *p)
{
	if (atomic_fetch_sub(&p->users, 1) == 1 && atomic_load(&p->closing))
		sys_futex(&p->users, FUTEX_WAKE_PRIVATE, INT_MAX, NULL);
}

void u_ring_attach(int slot, struct w_ring *ring, int rep_w)
{
	struct peer *p = &peers[slot];

	p->rep_w = rep_w;
	ring->watched = slot < WATCH_MAX;
	atomic_store(&p->closing, 0);
	atomic_store(&p->ring, ring);
	atomic_fetch_add(&peers_live, 1);
	atomic_fetch_add(&peers_gen, 1);
	sys_futex(&peers_gen, FUTEX_WAKE_PRIVATE, INT_MAX, NULL);
}

void u_ring_detach(int slot)
{
	struct peer *p = &peers[slot];

	if (!atomic_load(&p->ring))
		return;
	atomic_store(&p->closing, 1);
	for (int u; (u = atomic_load(&p->users));)
		sys_futex(&p->users, FUTEX_WAIT_PRIVATE, u, NULL);
	atomic_store(&p->ring, NULL);
	atomic_fetch_sub(&peers_live, 1);
}

void u_ring_after_fork(void)
{
	/* The parent's rings and page are not ours (serve.c unmaps them). */
	for (int i = 0; i < U_RING_MAX; i++) {
		atomic_store(&peers[i].ring, NULL);
		atomic_store(&peers[i].users, 0);
	}
	atomic_store(&peers_live, 0);
	pub = NULL;
}

/* One request: -errno or the ioctl's result; rq->arg holds the argument
 * after it.  Nothing in rq is trusted; data is the ring's. */
static int serve_one(struct w_req *rq, const char *data)
{
	union {
		struct uffdio_copy copy;
		unsigned char bytes[W_ARG_MAX];
	} a;

	if (rq->magic != W_MAGIC || rq->argsize > W_ARG_MAX || rq->datalen > W_DATA_MAX)
		return -EINVAL;
	struct u_ctx *ctx = u_ctx_of_id((dev_t)rq->dev, (ino_t)rq->ino);
	if (!ctx)
		return -ENOTTY;
	if (rq->request == W_PROBE)
		return 0;
	if (rq->request == W_EVENTS) {
		/* Their senders wait for that (memory.c). */
		uint32_t n;
		if (rq->argsize != sizeof(n) || rq->datalen)
			return -EINVAL;
		memcpy(&n, rq->arg, sizeof(n));
		u_events_read(ctx, n);
		return 0;
	}
	if (rq->request == W_FORKFD) {
		uint32_t fd;
		pid_t child;
		if (rq->argsize != sizeof(fd) || rq->datalen)
			return -EINVAL;
		memcpy(&fd, rq->arg, sizeof(fd));
		int ret = u_fork_fd_taken(u_ctx_index(ctx), (int)fd, &child);
		if (!ret)
			memcpy(rq->arg, &child, sizeof(fd));
		return ret;
	}
	if (rq->argsize != _IOC_SIZE(rq->request))
		return -EINVAL;
	/* The kernel refuses UFFDIO_MOVE from any process but the owner
	 * (measured on Linux 6.18: EINVAL), and every request here is one. */
	if (rq->request == UFFDIO_MOVE)
		return -EINVAL;
	memcpy(a.bytes, rq->arg, rq->argsize);
	if (rq->request == UFFDIO_COPY) {
		/* The source bytes are in the ring. */
		if (rq->datalen != a.copy.len)
			return -EINVAL;
		uint64_t src = a.copy.src;
		a.copy.src = (uintptr_t)data;
		int ret = u_ctx_ioctl(ctx, rq->request, a.bytes);
		a.copy.src = src;
		memcpy(rq->arg, a.bytes, rq->argsize);
		return ret;
	}
	if (rq->datalen)
		return -EINVAL;
	int ret = u_ctx_ioctl(ctx, rq->request, a.bytes);
	memcpy(rq->arg, a.bytes, rq->argsize);
	return ret;
}

/* Take the request posted in p's ring r and run it: 1, or 0 when there is
 * none (or, for a watcher (server false), none it may run). */
static int run(struct peer *p, struct w_ring *r, bool server)
{
	struct w_req rq;
	struct w_rep rp;
	uint32_t posted = W_POSTED;

	if (atomic_load(&r->state) != W_POSTED ||
	    (!server && !w_resolving(((volatile struct w_req *)&r->req)->request)) ||
	    !atomic_compare_exchange_strong(&r->state, &posted, W_TAKEN))
		return 0;
	memcpy(&rq, (const void *)&r->req, sizeof(rq));
	memset(&rp, 0, sizeof(rp));
	/* The reply before the wake-ups: a woken thread may end this process
	 * at once (exit), and the client must not take an ioctl that was done
	 * for one that failed. */
	struct u_wake_hold hold = { .n = 0 }, *was = u_wake_held;
	u_wake_held = &hold;
	rp.ret = server || w_resolving(rq.request) ? serve_one(&rq, (const char *)r + W_RING_DATA)
						 : -EINVAL;
	u_wake_held = was;
	rp.argsize = rq.argsize <= W_ARG_MAX ? rq.argsize : 0;
	memcpy(rp.arg, rq.arg, rp.argsize);
	memcpy((void *)&r->rep, &rp, sizeof(rp));
	atomic_store(&r->state, W_DONE);
	/* Non-blocking: a client that reads no replies loses them. */
	const char done = 1;
	sys_write(p->rep_w, &done, 1);
	u_wake_release(&hold);
	return 1;
}

int u_ring_serve(int slot)
{
	struct peer *p = &peers[slot];
	struct w_ring *r = peer_get(p);

	if (!r)
		return 0;
	int ran = run(p, r, true);
	peer_put(p);
	return ran;
}

/* Watched slot i's ring, in use (peer_put() after), or NULL. */
static struct w_ring *watched(int i)
{
	if (!atomic_load(&peers_live) || !atomic_load_explicit(&peers[i].ring, memory_order_relaxed))
		return NULL;
	return peer_get(&peers[i]);
}

bool u_ring_run_posted(void)
{
	bool ran = false;

	for (int i = 0; i < WATCH_MAX; i++) {
		struct w_ring *r = watched(i);
		if (r) {
			ran |= run(&peers[i], r, false);
			peer_put(&peers[i]);
		}
	}
	return ran;
}

bool u_ring_watch_begin(void)
{
	if (!pub || !atomic_load(&peers_live))
		return false;
	atomic_fetch_add(&pub->watchers, 1);
	return true;
}

void u_ring_watch_end(void)
{
	atomic_fetch_sub(&pub->watchers, 1);
	/* A client that saw us counted did not ring its server. */
	u_ring_run_posted();
}

void u_ring_sleep(_Atomic int *word, int val)
{
	struct waitv w[2 + WATCH_MAX];
	int n = 0;

	w[n++] = (struct waitv){ (uint64_t)(unsigned)val, (uintptr_t)word,
				 WAITV_U32 | WAITV_PRIVATE, 0 };
	w[n++] = (struct waitv){ (uint64_t)(unsigned)atomic_load(&peers_gen),
				 (uintptr_t)&peers_gen, WAITV_U32 | WAITV_PRIVATE, 0 };
	for (int i = 0; i < WATCH_MAX; i++) {
		struct w_ring *r = watched(i);
		if (!r)
			continue;
		/* Shared: the client wakes it from its own mapping.  (Once
		 * unmapped, the address is EFAULT or another ring's: either
		 * ends the wait early, and the caller comes back.) */
		w[n++] = (struct waitv){ atomic_load(&r->bell), (uintptr_t)&r->bell, WAITV_U32, 0 };
		peer_put(&peers[i]);
	}
	/* Posted before the bells were read: run it now. */
	if (u_ring_run_posted())
		return;
	sys_call5(SYS_futex_waitv, w, n, 0, NULL, CLOCK_MONOTONIC);
}
