/* SPDX-License-Identifier: MIT */
/*
 * User backend contexts.  The program's userfaultfd is the read end of a
 * pipe, so read(2), poll(2), epoll, O_NONBLOCK, O_CLOEXEC and dup(2) work on
 * it unchanged (and, as on the kernel's, it is O_RDONLY: write(2) is EBADF);
 * libuffd keeps the write end and writes each struct uffd_msg there, in one
 * atomic write.  A monitor thread watches libuffd's ends: when the program's
 * last reference is closed (EPOLLERR: no reader left), the context is
 * released as the kernel releases a userfaultfd (its ranges unregistered,
 * its blocked faults woken).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <linux/futex.h>
#include <sys/stat.h>
#include <unistd.h>

#include "user.h"

struct u_ctx u_ctxs[U_MAX_CTX];

static pthread_mutex_t ctx_lock = PTHREAD_MUTEX_INITIALIZER;
static int monitor_epoll = -1;   /* >= 0 once the monitor runs */
static pthread_mutex_t monitor_lock = PTHREAD_MUTEX_INITIALIZER;

/* The fd numbers uffd_user_open() returned: the context's index + 1. */
#define HINTS 65536
static _Atomic short hints[HINTS];

/* The live contexts by the pipe's inode: a bit per context in a bucket,
 * so that an fd under another number (a dup) is found in O(1) too. */
#define BUCKETS 64
#define WORDS (U_MAX_CTX / 64)
static _Atomic uint64_t buckets[BUCKETS][WORDS];

static unsigned bucket_of(dev_t dev, ino_t ino)
{
	return (unsigned)(((uint64_t)ino * 0x9e3779b97f4a7c15ull ^ (uint64_t)dev) >> 58) % BUCKETS;
}

static void bucket_set(const struct u_ctx *c, bool on)
{
	const int i = u_ctx_index(c);
	const uint64_t bit = 1ull << (i % 64);
	_Atomic uint64_t *w = &buckets[bucket_of(c->dev, c->ino)][i / 64];

	if (on)
		atomic_fetch_or(w, bit);
	else
		atomic_fetch_and(w, ~bit);
}

static bool is(const struct u_ctx *c, const struct stat *st)
{
	int s = atomic_load(&c->state);

	return (s == U_CTX_OPEN || s == U_CTX_READY) && c->ino == st->st_ino &&
	       c->dev == st->st_dev;
}

struct u_ctx *u_ctx_of_id(dev_t dev, ino_t ino)
{
	const struct stat st = { .st_dev = dev, .st_ino = ino };
	_Atomic uint64_t *b = buckets[bucket_of(dev, ino)];

	for (int w = 0; w < WORDS; w++)
		for (uint64_t bits = atomic_load(&b[w]); bits; bits &= bits - 1) {
			struct u_ctx *c = &u_ctxs[w * 64 + __builtin_ctzll(bits)];
			if (is(c, &st))
				return c;
		}
	return NULL;
}

struct u_ctx *u_ctx_of_fd(int fd)
{
	struct stat st;

	/* The fstat tells a live fd from a closed number reused by another file. */
	if (fd < 0 || sys_fstat(fd, &st) < 0 || !S_ISFIFO(st.st_mode))
		return NULL;
	if (fd < HINTS) {
		int i = atomic_load_explicit(&hints[fd], memory_order_relaxed) - 1;
		if (i >= 0 && is(&u_ctxs[i], &st))
			return &u_ctxs[i];
	}
	return u_ctx_of_id(st.st_dev, st.st_ino);
}


int uffd_user_hinted(int fd)
{
	return fd >= HINTS || (fd >= 0 && atomic_load_explicit(&hints[fd], memory_order_relaxed));
}

void uffd_user_hint(int fd)
{
	if (fd >= 0 && fd < HINTS)
		atomic_store_explicit(&hints[fd], 1, memory_order_relaxed);
}

static int send_msg(struct u_ctx *ctx, const struct uffd_msg *msg)
{
	for (;;) {
		if (atomic_load(&ctx->state) != U_CTX_READY)
			return -1;
		ssize_t n = sys_write(ctx->out, msg, sizeof(*msg));
		if (n == (ssize_t)sizeof(*msg))
			return 0;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EPIPE) {
			/* No reader left.  SIGPIPE is blocked in the fault path
			 * (see fault.c): take it back before it is delivered. */
			sigset_t pipe_set;
			struct timespec now = { 0, 0 };
			sigemptyset(&pipe_set);
			sigaddset(&pipe_set, SIGPIPE);
			sys_sigtimedwait(&pipe_set, NULL, &now);
			return -1;
		}
		if (n < 0 && errno == EAGAIN) {
			/* The reader is behind: wait for room, or for it to go. */
			struct pollfd p = { .fd = ctx->out, .events = POLLOUT };
			sys_poll(&p, 1, 1000);
			if (p.revents & (POLLHUP | POLLERR))
				return -1;
			continue;
		}
		return -1;
	}
}

int u_ctx_send(struct u_ctx *ctx, const struct uffd_msg *msg)
{
	/* Counted, so that a release cannot close the pipe (and its number
	 * be reused) while a faulting thread writes to it. */
	atomic_fetch_add(&ctx->senders, 1);
	int ret = send_msg(ctx, msg);
	atomic_fetch_sub(&ctx->senders, 1);
	return ret;
}

/* Release a context u_ctx_reap() claimed (made DEAD): unregister its
 * ranges, wake its faults, free the slot. */
static void release(struct u_ctx *ctx)
{
	u_trap_change_begin();
	u_range_lock();
	u_range_drop_ctx(u_ctx_index(ctx));
	u_range_unlock();
	u_trap_change_end();
	u_wake(u_ctx_index(ctx), 0, UINTPTR_MAX);
	/* A thread waiting for its event to be read: no reader is left. */
	sys_futex(&ctx->ev_read, FUTEX_WAKE_PRIVATE, INT32_MAX, NULL);
	if (monitor_epoll >= 0)
		epoll_ctl(monitor_epoll, EPOLL_CTL_DEL, ctx->out, NULL);
	while (atomic_load(&ctx->senders))
		sched_yield();
	/* Under the lock: u_ctx_reap() polls the fd under it. */
	pthread_mutex_lock(&ctx_lock);
	sys_close(ctx->out);
	ctx->out = -1;
	bucket_set(ctx, false);
	atomic_store(&ctx->state, U_CTX_FREE);
	pthread_mutex_unlock(&ctx_lock);
}

bool u_ctx_closed(int i)
{
	struct u_ctx *c = &u_ctxs[i];
	bool closed = true;

	/* Counted as a sender: a release in progress closes out only after. */
	atomic_fetch_add(&c->senders, 1);
	int s = atomic_load(&c->state);
	if (s == U_CTX_OPEN || s == U_CTX_READY) {
		struct pollfd p = { .fd = c->out, .events = 0 };
		closed = sys_poll(&p, 1, 0) == 1 && (p.revents & (POLLERR | POLLHUP));
	}
	atomic_fetch_sub(&c->senders, 1);
	return closed;
}

void u_ctx_reap(void)
{
	bool gone[U_MAX_CTX] = { false };

	/* A context whose reader is gone is claimed (made DEAD) under the lock,
	 * where it was seen gone: the monitor and a thread in REGISTER both
	 * reap, and a claim made later could take a new context that an open
	 * put in the slot meanwhile (seen: close-then-register's new fd hung
	 * up under load).  Slots are freed and taken only under the lock. */
	pthread_mutex_lock(&ctx_lock);
	for (int i = 0; i < U_MAX_CTX; i++) {
		struct u_ctx *c = &u_ctxs[i];
		int s = atomic_load(&c->state);
		if (s != U_CTX_OPEN && s != U_CTX_READY)
			continue;
		struct pollfd p = { .fd = c->out, .events = 0 };
		gone[i] = sys_poll(&p, 1, 0) == 1 && (p.revents & (POLLERR | POLLHUP)) &&
			  atomic_compare_exchange_strong(&c->state, &s, U_CTX_DEAD);
	}
	pthread_mutex_unlock(&ctx_lock);
	for (int i = 0; i < U_MAX_CTX; i++)
		if (gone[i])
			release(&u_ctxs[i]);
	/* A release the monitor began is finished too: until then its
	 * ranges are still registered. */
	for (int i = 0; i < U_MAX_CTX; i++)
		while (atomic_load(&u_ctxs[i].state) == U_CTX_DEAD)
			sched_yield();
}

void uffd_user_reap(void)
{
	u_ctx_reap();
}

static _Atomic int monitor_running;

static void monitor_loop(void)
{
	for (;;) {
		struct epoll_event ev[16];
		int n = epoll_wait(monitor_epoll, ev, 16, -1);
		bool closed = false;
		for (int i = 0; i < n; i++)
			if (ev[i].data.u32 == U_SERVE_TAG)
				u_serve_accept();
			else if (ev[i].data.u32 >= U_CLIENT_TAG)
				u_serve_client(ev[i].data.u32);
			else
				closed = true;
		/* Not the slot the event names: u_ctx_reap() may have released
		 * that context meanwhile and a new one taken its slot.  Reaping
		 * releases exactly the contexts whose reader is gone. */
		if (closed)
			u_ctx_reap();
	}
}

static void *monitor(void *arg)
{
	(void)arg;
	atomic_store(&monitor_running, 1);
	sys_futex(&monitor_running, FUTEX_WAKE_PRIVATE, 1, NULL);
	monitor_loop();
	return NULL;
}

/* In a child that kept contexts (UFFD_FEATURE_EVENT_FORK): its monitor,
 * which also serves the clients itself, runs as the bare task forkev.c
 * starts (a fork handler may not start a thread).  0, or -1: the contexts
 * cannot be served. */
static int serve_forked(void)
{
	monitor_epoll = epoll_create1(EPOLL_CLOEXEC);
	if (monitor_epoll < 0 || u_serve_start(monitor_epoll, U_SERVE_TAG) < 0)
		goto fail;
	u_serve_inline = true;
	for (int i = 0; i < U_MAX_CTX; i++) {
		struct u_ctx *c = &u_ctxs[i];
		struct epoll_event ev = { .events = 0, .data.u32 = (uint32_t)i };
		if (atomic_load(&c->state) != U_CTX_FREE &&
		    epoll_ctl(monitor_epoll, EPOLL_CTL_ADD, c->out, &ev) < 0)
			goto fail;
	}
	if (u_fork_start_task(monitor_loop) == 0)
		return 0;
fail:
	u_serve_after_fork();
	if (monitor_epoll >= 0)
		sys_close(monitor_epoll);
	monitor_epoll = -1;
	return -1;
}

/* The child forgets context i: its ranges become ordinary memory. */
static void forget(int i)
{
	struct u_ctx *c = &u_ctxs[i];

	u_range_drop_ctx(i);
	if (c->out >= 0)
		sys_close(c->out);
	c->out = -1;
	atomic_store(&c->state, U_CTX_FREE);
}

/* After fork() the child's memory is ordinary again, as for a child of a
 * kernel userfaultfd without UFFD_FEATURE_EVENT_FORK.  The contexts stay the
 * parent's: the child forgets them (and closes its copies of their write
 * ends), so that its ioctls on the inherited fds go to the parent, which
 * owns them (remote.c), as the kernel's act on the registering mm.  With
 * UFFD_FEATURE_EVENT_FORK the child keeps the context's ranges under a
 * context of its own (forkev.c), and serves it.  Async-signal-safe calls
 * only (see forkev.c). */
static void child_after_fork(void)
{
	bool adopted = false;

	u_arena_after_fork();
	u_range_after_fork();
	u_trap_after_fork();
	u_pcache_after_fork();
	u_serve_after_fork();
	if (monitor_epoll >= 0)
		sys_close(monitor_epoll);
	monitor_epoll = -1;
	pthread_mutex_init(&monitor_lock, NULL);
	pthread_mutex_init(&ctx_lock, NULL);
	for (int i = 0; i < U_MAX_CTX; i++) {
		struct u_ctx *c = &u_ctxs[i];
		if (atomic_load(&c->state) == U_CTX_FREE)
			continue;
		atomic_store(&c->senders, 0);
		bucket_set(c, false);
		if (u_fork_child_adopt(c)) {
			bucket_set(c, true);
			adopted = true;
		} else {
			forget(i);
		}
	}
	const bool served = adopted && serve_forked() == 0;
	if (adopted && !served)
		for (int i = 0; i < U_MAX_CTX; i++)
			if (atomic_load(&u_ctxs[i].state) != U_CTX_FREE) {
				bucket_set(&u_ctxs[i], false);
				forget(i);
			}
	u_range_drop_shared_poison();
	u_fork_child_done(served);
}

/* The fork hooks: page-cache backed memory is made anonymous before
 * (pcache.c), the child's events prepared (forkev.c). */
static void fork_prepare(void)
{
	u_pcache_before_fork();
	u_fork_prepare();
}

static void fork_parent(void)
{
	u_fork_parent();
	u_pcache_fork_done();
}

/* Start the monitor thread, unless it runs (or a forked child's task,
 * serve_forked(), does): 0, or an errno.  Called under monitor_lock.  A
 * failure (no memory for the thread's stack, no descriptor) leaves nothing
 * behind, and the next open tries again. */
static int start_monitor(void)
{
	sigset_t all, old;
	pthread_t t;
	pthread_attr_t attr;

	if (monitor_epoll >= 0)
		return 0;
	monitor_epoll = epoll_create1(EPOLL_CLOEXEC);
	if (monitor_epoll < 0)
		return errno;
	/* Other processes that hold our fds reach us through it (serve.c);
	 * without it they get an error, our own use is unaffected. */
	u_serve_start(monitor_epoll, U_SERVE_TAG);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	/* The monitor takes no signals: they belong to the program's threads. */
	sigfillset(&all);
	sys_sigprocmask(SIG_SETMASK, &all, &old);
	atomic_store(&monitor_running, 0);
	int err = pthread_create(&t, &attr, monitor, NULL);
	sys_sigprocmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (err) {
		if (err == EAGAIN)   /* no memory for its stack: what the kernel says */
			err = ENOMEM;
		u_serve_after_fork();   /* drops the service, as a child does */
		sys_close(monitor_epoll);
		monitor_epoll = -1;
		return err;
	}
	/* Running before uffd_open() returns: a fork() right after it must not
	 * catch the new thread halfway through its start (its locks held). */
	while (!atomic_load(&monitor_running))
		sys_futex(&monitor_running, FUTEX_WAIT_PRIVATE, 0, NULL);
	static int atfork_done;
	if (!atfork_done) {
		atfork_done = 1;
		pthread_atfork(fork_prepare, fork_parent, child_after_fork);
	}
	return 0;
}

#define USER_FLAGS (O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY)

int uffd_user_open(int flags)
{
	int sv[2];

	flags &= ~UFFD_OPEN_ALLOW_USER_MODE_ONLY;
	if (flags & ~USER_FLAGS) {
		uffd_set_why("unknown flags 0x%x", flags & ~USER_FLAGS);
		errno = EINVAL;
		return -1;
	}
	u_trap_init();
	int trap_err = u_trap_open_fds();
	if (trap_err) {
		errno = -trap_err;
		uffd_set_why("cannot open /proc/self/mem or pagemap: %s", strerror(errno));
		return -1;
	}
	if (u_fault_install() < 0) {
		uffd_set_why("cannot install the SIGSEGV handler: %s", strerror(errno));
		return -1;
	}
	pthread_mutex_lock(&monitor_lock);
	int monitor_err = start_monitor();
	pthread_mutex_unlock(&monitor_lock);
	if (monitor_err) {
		errno = monitor_err;
		uffd_set_why("cannot start the monitor thread: %s", strerror(errno));
		return -1;
	}
	if (sys_pipe2(sv, O_CLOEXEC) < 0) {
		uffd_set_why("pipe2: %s", strerror(errno));
		return -1;
	}
	if (!(flags & O_CLOEXEC))
		sys_fcntl(sv[0], F_SETFD, 0);
	if (flags & O_NONBLOCK)
		sys_fcntl(sv[0], F_SETFL, O_NONBLOCK);
	/* libuffd never blocks in write(2): it polls, and notices a reader
	 * that went away.  Room for many pending messages (best effort). */
	sys_fcntl(sv[1], F_SETFL, O_NONBLOCK);
	sys_fcntl(sv[1], F_SETPIPE_SZ, 1 << 20);

	struct stat st;
	if (sys_fstat(sv[0], &st) < 0)
		goto fail;
	struct u_ctx *ctx = NULL;
	for (int round = 0; !ctx && round < 2; round++) {
		/* Full: one closed a moment ago may still wait for the
		 * monitor to release it (its slot is free once reaped). */
		if (round)
			u_ctx_reap();
		pthread_mutex_lock(&ctx_lock);
		for (int i = 0; i < U_MAX_CTX && !ctx; i++)
			if (atomic_load(&u_ctxs[i].state) == U_CTX_FREE)
				ctx = &u_ctxs[i];
		if (!ctx)
			pthread_mutex_unlock(&ctx_lock);
	}
	if (!ctx) {
		errno = EMFILE;
		uffd_set_why("too many user-backend userfaultfds (%d)", U_MAX_CTX);
		goto fail;
	}
	ctx->out = sv[1];
	ctx->dev = st.st_dev;
	ctx->ino = st.st_ino;
	ctx->features = 0;
	atomic_store(&ctx->ev_sent, 0);
	atomic_store(&ctx->ev_read, 0);
	ctx->flags = flags & (O_CLOEXEC | O_NONBLOCK);
	atomic_store(&ctx->api_busy, 0);
	bucket_set(ctx, true);
	atomic_store(&ctx->state, U_CTX_OPEN);
	pthread_mutex_unlock(&ctx_lock);

	/* EPOLLERR (always reported) comes when the program's last reference goes. */
	struct epoll_event ev = { .events = 0, .data.u32 = u_ctx_index(ctx) };
	if (epoll_ctl(monitor_epoll, EPOLL_CTL_ADD, sv[1], &ev) < 0) {
		int err = errno;
		bucket_set(ctx, false);
		atomic_store(&ctx->state, U_CTX_FREE);
		errno = err;
		uffd_set_why("epoll_ctl: %s", strerror(errno));
		goto fail;
	}
	/* The owner's pid, bound to the open file description: a process that
	 * receives or inherits the fd finds us by it (wire.h). */
	struct f_owner_ex owner = { F_OWNER_PID, sys_getpid() };
	sys_fcntl(sv[0], F_SETOWN_EX, (long)&owner);
	if (sv[0] < HINTS)
		atomic_store(&hints[sv[0]], (short)(u_ctx_index(ctx) + 1));
	return sv[0];
fail:;
	int err = errno;
	sys_close(sv[0]);
	sys_close(sv[1]);
	errno = err;
	return -1;
}
