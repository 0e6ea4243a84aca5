/* SPDX-License-Identifier: MIT */
/*
 * The owner's side of a userfaultfd held by another process (see wire.h for
 * the channel and why it is built this way).  The monitor thread (ctx.c)
 * watches the service pipe; each client that says hello gets its pipes, its
 * ring (ring.c runs the requests posted there, through u_ctx_ioctl(), the
 * same code a local ioctl runs: only this process can open its fill window)
 * and a thread here that runs what the client rings it for.
 * In a child that kept contexts across fork (forkev.c) no thread may be
 * started: there the monitor serves its clients itself (u_serve_inline),
 * as each rings.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/ioctl.h>

#include "../sys.h"
#include "user.h"
#include "wire.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

#define MAX_CLIENTS U_RING_MAX

#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif

struct client {
	_Atomic int used;
	int pidfd;           /* the client process: its exit ends the first wait */
	int req_r, rep_w;    /* ours */
	int req_w;           /* the client's, until it connected */
	int rep_r;           /* kept: a reply never raises SIGPIPE here */
	int ring_fd;         /* until the client connected */
	struct w_ring *ring; /* mapped here (W_RING_SIZE) */
	int marker;          /* the memfd naming them */
	unsigned gen;        /* inline: renewed per client, in its epoll tags */
};

static struct client clients[MAX_CLIENTS];
static int srv_r = -1, srv_w = -1, srv_marker = -1, srv_epoll = -1;
static struct w_public *srv_public;   /* srv_marker's page, mapped here */
bool u_serve_inline;

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
	if (c->ring) {
		u_ring_detach((int)(c - clients));
		sys_munmap(c->ring, W_RING_SIZE);
		c->ring = NULL;
	}
	close_fd(&c->req_r);
	close_fd(&c->rep_w);
	close_fd(&c->req_w);
	close_fd(&c->rep_r);
	close_fd(&c->ring_fd);
	close_fd(&c->marker);
	close_fd(&c->pidfd);
	atomic_store(&c->used, 0);
}

static int memfd(const char *name)
{
	return (int)sys_ret(sys_call2(SYS_memfd_create, name, MFD_CLOEXEC));
}

/* A memfd of len bytes mapped here read-write, then sealed against any
 * change of size (a client's ftruncate would make our accesses fault) and,
 * with future_write, against writes by anyone who maps it from now on.
 * The mapping, or NULL (*fd -1). */
static void *shared_area(const char *name, size_t len, bool future_write, int *fd)
{
	unsigned seals = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL;
	void *p = MAP_FAILED;

	*fd = (int)sys_ret(sys_call2(SYS_memfd_create, name, MFD_CLOEXEC | MFD_ALLOW_SEALING));
	if (*fd >= 0 && !sys_call2(SYS_ftruncate, *fd, len))
		p = sys_mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, *fd, 0);
	if (future_write)
		seals |= F_SEAL_FUTURE_WRITE;
	if (p != MAP_FAILED && !sys_fcntl(*fd, F_ADD_SEALS, seals))
		return p;
	if (p != MAP_FAILED)
		sys_munmap(p, len);
	close_fd(fd);
	return NULL;
}

int u_serve_start(int epoll_fd, uint32_t tag)
{
	int q[2];
	char name[64];

	/* Packet mode: each hello is read whole or not at all. */
	if (sys_pipe2(q, O_CLOEXEC | O_DIRECT | O_NONBLOCK) < 0)
		return -errno;
	/* The marker is our public page too (clients map it read-only). */
	snprintf(name, sizeof(name), W_SRV_NAME "%d", q[1]);
	int m;
	struct w_public *page = shared_area(name, W_PUBLIC_SIZE, true, &m);
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = tag };
	if (!page || epoll_ctl(epoll_fd, EPOLL_CTL_ADD, q[0], &ev) < 0) {
		int err = page ? -errno : -ENOMEM;
		sys_close(q[0]);
		sys_close(q[1]);
		if (page) {
			sys_munmap(page, W_PUBLIC_SIZE);
			sys_close(m);
		}
		return err;
	}
	srv_r = q[0];
	srv_w = q[1];
	srv_marker = m;
	srv_public = page;
	srv_epoll = epoll_fd;
	u_ring_set_public(page);
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

/* The client rang (c->req_r is readable): run what it posted.  0, or -1
 * when the connection ends (the client is gone). */
static int serve_bell(struct client *c)
{
	char bells[64];
	ssize_t n = sys_read(c->req_r, bells, sizeof(bells));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (n <= 0)
		return -1;
	u_ring_serve((int)(c - clients));
	return 0;
}

/* The client has opened its ends (it rang once): the owner's copies go, so
 * that either side's exit is EOF on the other. */
static void client_connected(struct client *c)
{
	close_fd(&c->req_w);
	close_fd(&c->ring_fd);
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
	if (serve_bell(c))
		client_close(c);
}

static void *serve_client(void *arg)
{
	struct client *c = arg;
	sigset_t mask;

	/* No signals but the synchronous ones the fill path may meet. */
	sigfillset(&mask);
	sigdelset(&mask, SIGSEGV);
	sigdelset(&mask, SIGBUS);
	sys_sigprocmask(SIG_SETMASK, &mask, NULL);

	/* Until the client connected (it rings once), we hold its ends too,
	 * so only its exit can end this wait. */
	struct pollfd p[2] = { { c->req_r, POLLIN, 0 }, { c->pidfd, POLLIN, 0 } };
	while (sys_poll(p, 2, -1) < 0 && errno == EINTR)
		;
	if (!(p[0].revents & POLLIN))
		goto out;
	client_connected(c);
	/* Each bell is waited for in read(2) (see remote.c's forward()). */
	while (!serve_bell(c))
		;
out:
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
	c->req_r = c->req_w = c->rep_r = c->rep_w = c->ring_fd = -1;
	c->marker = -1;
	c->ring = NULL;
	c->pidfd = (int)sys_ret(sys_call2(SYS_pidfd_open, h->pid, 0));
	if (c->pidfd < 0 || sys_pipe2(req, O_CLOEXEC) < 0)
		goto fail;
	c->req_r = req[0];
	c->req_w = req[1];
	/* Replies never block the thread that runs a request. */
	if (sys_pipe2(rep, O_CLOEXEC) < 0)
		goto fail;
	c->rep_r = rep[0];
	c->rep_w = rep[1];
	if (sys_fcntl(rep[1], F_SETFL, O_NONBLOCK) < 0)
		goto fail;
	c->ring = shared_area("libuffd-ring", W_RING_SIZE, false, &c->ring_fd);
	if (!c->ring)
		goto fail;
	u_ring_attach((int)(c - clients), c->ring, c->rep_w);
	snprintf(name, sizeof(name), W_CLI_NAME "%016llx:%d:%d:%d",
		 (unsigned long long)h->nonce, req[1], rep[0], c->ring_fd);
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
	u_ring_after_fork();
	if (srv_public)
		sys_munmap(srv_public, W_PUBLIC_SIZE);
	srv_public = NULL;
	for (int i = 0; i < MAX_CLIENTS; i++) {
		struct client *c = &clients[i];
		if (atomic_load(&c->used))
			client_close(c);
	}
}
