/* SPDX-License-Identifier: MIT */
/*
 * The owner's side of a userfaultfd held by another process (see wire.h for
 * the channel and why it is built this way).  The monitor thread (ctx.c)
 * watches the service pipe; each client that says hello gets its own pair of
 * pipes and a thread here that runs its requests through u_ctx_ioctl(), the
 * same code a local ioctl runs: only this process can open its fill window,
 * so it does the work; the client's source bytes arrive as data.
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

#define MAX_CLIENTS 64

struct client {
	_Atomic int used;
	int pidfd;           /* the client process: its exit ends the first wait */
	int req_r, rep_w;    /* ours */
	int req_w, rep_r;    /* the client's, until it opened them */
	int marker;          /* the memfd naming them */
};

static struct client clients[MAX_CLIENTS];
static int srv_r = -1, srv_w = -1, srv_marker = -1;

static void close_fd(int *fd)
{
	if (*fd >= 0)
		sys_close(*fd);
	*fd = -1;
}

/* Close a client's fds and free its slot. */
static void client_close(struct client *c)
{
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
	close_fd(&c->req_w);
	close_fd(&c->rep_r);
	close_fd(&c->marker);
	data = u_arena_alloc(W_DATA_MAX);
	if (!data)
		goto out;
	for (;;) {
		struct w_req rq;
		struct w_rep rp;
		/* The next request often follows within a fault's round trip. */
		if (u_wait_readable(c->req_r, U_CHAN_SPIN_NS) ||
		    u_io_full(c->req_r, &rq, sizeof(rq), false))
			break;
		/* A request we cannot frame ends the connection. */
		if (rq.magic != W_MAGIC || rq.argsize > W_ARG_MAX || rq.datalen > W_DATA_MAX)
			break;
		if (rq.datalen && u_io_full(c->req_r, data, rq.datalen, false))
			break;
		memset(&rp, 0, sizeof(rp));
		/* The reply before the wake-ups: a woken thread may end this
		 * process at once (exit), and the client must not take an
		 * ioctl that was done for one that failed. */
		struct u_wake_hold hold = { .n = 0 };
		u_wake_held = &hold;
		rp.ret = serve_one(&rq, data);
		u_wake_held = NULL;
		rp.argsize = rq.argsize;
		memcpy(rp.arg, rq.arg, rq.argsize);
		int err = u_io_full(c->rep_w, &rp, sizeof(rp), true);
		u_wake_release(&hold);
		if (err)
			break;
	}
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
	close_fd(&srv_r);
	close_fd(&srv_w);
	close_fd(&srv_marker);
	for (int i = 0; i < MAX_CLIENTS; i++) {
		struct client *c = &clients[i];
		if (atomic_load(&c->used))
			client_close(c);
	}
}
