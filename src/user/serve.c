/* SPDX-License-Identifier: MIT */
/*
 * The owner's side of a userfaultfd held by another process (see wire.h for
 * the channel and why it is built this way).  The monitor thread (ctx.c)
 * watches the service pipe; each client that says hello gets its own pair of
 * pipes and a thread here that runs its requests through u_ctx_ioctl(), the
 * same code a local ioctl runs: only this process can open its fill window,
 * so it does the work; the client's source bytes arrive as data.
 * In a child that kept contexts across fork (forkev.c) no thread may be
 * started: there the monitor serves its clients itself (u_serve_inline),
 * a request at a time as each becomes readable.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>

#include "../sys.h"
#include "user.h"
#include "wire.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

#define MAX_CLIENTS 64   /* a power of two (the inline tags) */

struct client {
	_Atomic int used;
	int pidfd;           /* the client process: its exit ends the first wait */
	int req_r, rep_w;    /* ours */
	int req_w, rep_r;    /* the client's, until it opened them */
	int marker;          /* the memfd naming them */
	unsigned gen;        /* inline: renewed per client, in its epoll tags */
};

static struct client clients[MAX_CLIENTS];
static int srv_r = -1, srv_w = -1, srv_marker = -1, srv_epoll = -1;
bool u_serve_inline;
/* Inline: one buffer for the source bytes of every client's COPY. */
static char *inline_data;

/* How long an inline server waits for the rest of a request that has
 * begun to arrive before it drops the client. */
#define INLINE_WAIT_MS 10000

static void close_fd(int *fd)
{
	if (*fd >= 0)
		sys_close(*fd);
	*fd = -1;
}

/* Close a client's fds and free its slot. */
static void client_close(struct client *c)
{
	if (u_serve_inline && srv_epoll >= 0) {
		if (c->req_r >= 0)
			epoll_ctl(srv_epoll, EPOLL_CTL_DEL, c->req_r, NULL);
		if (c->pidfd >= 0)
			epoll_ctl(srv_epoll, EPOLL_CTL_DEL, c->pidfd, NULL);
	}
	close_fd(&c->req_r);
	close_fd(&c->rep_w);
	close_fd(&c->req_w);
	close_fd(&c->rep_r);
	close_fd(&c->marker);
	close_fd(&c->pidfd);
	atomic_store(&c->used, 0);
}

static int memfd(const char *name)
{
	return (int)sys_ret(sys_call2(SYS_memfd_create, name, MFD_CLOEXEC));
}

int u_serve_start(int epoll_fd, uint32_t tag)
{
	int q[2];
	char name[64];

	/* Packet mode: each hello is read whole or not at all. */
	if (sys_pipe2(q, O_CLOEXEC | O_DIRECT | O_NONBLOCK) < 0)
		return -errno;
	snprintf(name, sizeof(name), W_SRV_NAME "%d", q[1]);
	int m = memfd(name);
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = tag };
	if (m < 0 || epoll_ctl(epoll_fd, EPOLL_CTL_ADD, q[0], &ev) < 0) {
		int err = -errno;
		sys_close(q[0]);
		sys_close(q[1]);
		if (m >= 0)
			sys_close(m);
		return err;
	}
	srv_r = q[0];
	srv_w = q[1];
	srv_marker = m;
	srv_epoll = epoll_fd;
	return 0;
}

int u_io_full(int fd, void *buf, size_t len, bool wr)
{
	for (size_t done = 0; done < len;) {
		char *at = (char *)buf + done;
		ssize_t n = wr ? sys_write(fd, at, len - done) : sys_read(fd, at, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		done += (size_t)n;
	}
	return 0;
}

/* Read len bytes, waiting at most INLINE_WAIT_MS for each part: 0 or -1. */
static int read_timed(int fd, void *buf, size_t len)
{
	for (size_t done = 0; done < len;) {
		struct pollfd p = { fd, POLLIN, 0 };
		int n = sys_poll(&p, 1, INLINE_WAIT_MS);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		ssize_t got = sys_read(fd, (char *)buf + done, len - done);
		if (got < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (got <= 0)
			return -1;
		done += (size_t)got;
	}
	return 0;
}

int u_wait_readable(int fd, long spin_ns)
{
	struct timespec t0, t;
	struct pollfd p = { fd, POLLIN, 0 };

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		int n = sys_poll(&p, 1, 0);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -1;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((t.tv_sec - t0.tv_sec) * 1000000000L + (t.tv_nsec - t0.tv_nsec) >= spin_ns)
			break;
		sched_yield();
	}
	while ((p.revents = 0, sys_poll(&p, 1, -1)) < 0)
		if (errno != EINTR)
			return -1;
	return 0;
}

/* One request: -errno or the ioctl's result; rq->arg holds the argument
 * after it.  Nothing in rq is trusted. */
static int serve_one(struct w_req *rq, char *data)
{
	struct u_ctx *ctx = u_ctx_of_id((dev_t)rq->dev, (ino_t)rq->ino);
	union {
		struct uffdio_copy copy;
		unsigned char bytes[W_ARG_MAX];
	} a;

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
	if (rq->argsize != _IOC_SIZE(rq->request))
		return -EINVAL;
	/* The kernel refuses UFFDIO_MOVE from any process but the owner
	 * (measured on Linux 6.18: EINVAL), and every request here is one. */
	if (rq->request == UFFDIO_MOVE)
		return -EINVAL;
	memcpy(a.bytes, rq->arg, rq->argsize);
	if (rq->request == UFFDIO_COPY) {
		/* The source bytes are here, in data. */
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

/* Read one request from c (readable), run it, reply: 0, or -1 when the
 * connection ends (the client is gone, or sent what cannot be framed). */
static int serve_request(struct client *c, char *data)
{
	struct w_req rq;
	struct w_rep rp;

	if (u_serve_inline ? read_timed(c->req_r, &rq, sizeof(rq)) :
			     u_io_full(c->req_r, &rq, sizeof(rq), false))
		return -1;
	/* A request we cannot frame ends the connection. */
	if (rq.magic != W_MAGIC || rq.argsize > W_ARG_MAX || rq.datalen > W_DATA_MAX)
		return -1;
	if (rq.datalen && (u_serve_inline ? read_timed(c->req_r, data, rq.datalen) :
			   u_io_full(c->req_r, data, rq.datalen, false)))
		return -1;
	memset(&rp, 0, sizeof(rp));
	/* The reply before the wake-ups: a woken thread may end this process
	 * at once (exit), and the client must not take an ioctl that was
	 * done for one that failed. */
	struct u_wake_hold hold = { .n = 0 };
	u_wake_held = &hold;
	rp.ret = serve_one(&rq, data);
	u_wake_held = NULL;
	rp.argsize = rq.argsize;
	memcpy(rp.arg, rq.arg, rq.argsize);
	int err = u_io_full(c->rep_w, &rp, sizeof(rp), true);
	u_wake_release(&hold);
	return err;
}

/* The client has opened its ends (its first request is here): the owner's
 * copies go, so that either side's exit is EOF on the other. */
static void client_connected(struct client *c)
{
	close_fd(&c->req_w);
	close_fd(&c->rep_r);
	close_fd(&c->marker);
}

/* An inline client's epoll tag: U_CLIENT_TAG, its generation (so that an
 * event of a closed client, still in the batch, cannot reach the slot's
 * next client), slot, and which fd (1: the pidfd). */
#define TAG_GEN(gen) (((gen) & 0xfffffu) << 7)
static uint32_t client_tag(const struct client *c, unsigned which)
{
	return U_CLIENT_TAG | TAG_GEN(c->gen) | (uint32_t)(c - clients) << 1 | which;
}

void u_serve_client(uint32_t tag)
{
	struct client *c = &clients[(tag >> 1) & (MAX_CLIENTS - 1)];

	if (!atomic_load(&c->used) || (tag & TAG_GEN(~0u)) != TAG_GEN(c->gen))
		return;
	if (tag & 1) {   /* the pidfd: the client exited */
		client_close(c);
		return;
	}
	if (c->req_w >= 0)
		client_connected(c);
	if (!inline_data)
		inline_data = u_arena_alloc(W_DATA_MAX);
	if (!inline_data || serve_request(c, inline_data))
		client_close(c);
}

static void *serve_client(void *arg)
{
	struct client *c = arg;
	char *data = NULL;
	sigset_t mask;

	/* No signals but the synchronous ones the fill path may meet. */
	sigfillset(&mask);
	sigdelset(&mask, SIGSEGV);
	sigdelset(&mask, SIGBUS);
	sys_sigprocmask(SIG_SETMASK, &mask, NULL);

	/* Until the client opened its ends (its first request), we hold them
	 * too, so only its exit can end this wait. */
	struct pollfd p[2] = { { c->req_r, POLLIN, 0 }, { c->pidfd, POLLIN, 0 } };
	while (sys_poll(p, 2, -1) < 0 && errno == EINTR)
		;
	if (!(p[0].revents & POLLIN))
		goto out;
	client_connected(c);
	data = u_arena_alloc(W_DATA_MAX);
	if (!data)
		goto out;
	/* The next request often follows within a fault's round trip. */
	while (!u_wait_readable(c->req_r, U_CHAN_SPIN_NS) && !serve_request(c, data))
		;
out:
	if (data)
		u_arena_free(data, W_DATA_MAX);
	client_close(c);
	return NULL;
}

static void start_client(const struct w_hello *h)
{
	struct client *c = NULL;
	int req[2], rep[2];
	char name[96];

	for (int i = 0; i < MAX_CLIENTS && !c; i++) {
		int expected = 0;
		if (atomic_compare_exchange_strong(&clients[i].used, &expected, 1))
			c = &clients[i];
	}
	if (!c)
		return;
	c->req_r = c->req_w = c->rep_r = c->rep_w = -1;
	c->marker = -1;
	c->pidfd = (int)sys_ret(sys_call2(SYS_pidfd_open, h->pid, 0));
	if (c->pidfd < 0 || sys_pipe2(req, O_CLOEXEC) < 0)
		goto fail;
	c->req_r = req[0];
	c->req_w = req[1];
	if (sys_pipe2(rep, O_CLOEXEC) < 0)
		goto fail;
	c->rep_r = rep[0];
	c->rep_w = rep[1];
	/* Room for a whole request with its data (best effort). */
	sys_fcntl(req[0], F_SETPIPE_SZ, 2 * W_DATA_MAX);
	snprintf(name, sizeof(name), W_CLI_NAME "%016llx:%d:%d",
		 (unsigned long long)h->nonce, req[1], rep[0]);
	c->marker = memfd(name);
	if (c->marker < 0)
		goto fail;

	if (u_serve_inline) {
		c->gen++;
		struct epoll_event req_ev = { .events = EPOLLIN, .data.u32 = client_tag(c, 0) };
		struct epoll_event pid_ev = { .events = EPOLLIN, .data.u32 = client_tag(c, 1) };
		if (epoll_ctl(srv_epoll, EPOLL_CTL_ADD, c->req_r, &req_ev) == 0 &&
		    epoll_ctl(srv_epoll, EPOLL_CTL_ADD, c->pidfd, &pid_ev) == 0)
			return;
		goto fail;
	}
	pthread_t t;
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 128 * 1024);
	int err = pthread_create(&t, &attr, serve_client, c);
	pthread_attr_destroy(&attr);
	if (!err)
		return;
fail:
	client_close(c);
}

void u_serve_accept(void)
{
	struct w_hello h;

	/* Packet mode: a short or long packet is somebody else's noise. */
	while (sys_read(srv_r, &h, sizeof(h)) == (ssize_t)sizeof(h))
		if (h.magic == W_MAGIC)
			start_client(&h);
}

/* A forked child serves nobody (its clients talk to the parent): it drops
 * the parent's service fds, which would otherwise keep the parent's
 * channels open after the parent died. */
void u_serve_after_fork(void)
{
	u_serve_inline = false;
	srv_epoll = -1;
	close_fd(&srv_r);
	close_fd(&srv_w);
	close_fd(&srv_marker);
	for (int i = 0; i < MAX_CLIENTS; i++) {
		struct client *c = &clients[i];
		if (atomic_load(&c->used))
			client_close(c);
	}
}
