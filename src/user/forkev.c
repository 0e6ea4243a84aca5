/* SPDX-License-Identifier: MIT */
/*
 * UFFD_FEATURE_EVENT_FORK, seen through pthread_atfork() (linked programs,
 * and programs under `uffd run`, whose preloaded library is this code).
 *
 * As the kernel's dup_userfaultfd(): a context with the feature and with
 * registered ranges gets, in the child, a context of its own that keeps the
 * ranges (their traps, write protection and page states come with the
 * fork), and the parent's reader gets a UFFD_EVENT_FORK message whose
 * arg.fork.ufd is an fd on it.  Before the fork the parent makes the new
 * context's pipe; in the child libuffd adopts its write end (the child owns
 * the new context and serves it, serve.c), binds the child's pid to it and
 * says it is ready; the parent then keeps the read end, the new fd, and
 * sends the message.  The reader resolves the child's faults through it, as
 * any holder of another process's fd (remote.c).
 */
#include <errno.h>
#include <string.h>

#include "../sys.h"
#include "user.h"

static struct { int r, w; } fork_pipe[U_MAX_CTX];
static int sync_pipe[2] = { -1, -1 };   /* the child says it is ready */
static bool forking;

static bool has_ranges(int ctx)
{
	bool any = false;

	u_range_lock();
	for (int i = 0; i < U_MAX_RANGES && !any; i++) {
		struct u_range *r = u_range_at(i);
		any = r && r->ctx == ctx;
	}
	u_range_unlock();
	return any;
}

void u_fork_prepare(void)
{
	forking = false;
	for (int i = 0; i < U_MAX_CTX; i++) {
		struct u_ctx *c = &u_ctxs[i];
		fork_pipe[i].r = fork_pipe[i].w = -1;
		if (atomic_load(&c->state) != U_CTX_READY ||
		    !(c->features & UFFD_FEATURE_EVENT_FORK) || !has_ranges(i))
			continue;
		int p[2];
		if (sys_pipe2(p, O_CLOEXEC) < 0)
			continue;   /* the child's memory is then ordinary */
		fork_pipe[i].r = p[0];
		fork_pipe[i].w = p[1];
		forking = true;
	}
	if (forking && sys_pipe2(sync_pipe, O_CLOEXEC) < 0)
		sync_pipe[0] = sync_pipe[1] = -1;
}

bool u_fork_child_adopt(struct u_ctx *c)
{
	const int i = u_ctx_index(c);
	struct stat st;

	if (!forking || fork_pipe[i].r < 0 || sync_pipe[1] < 0 ||
	    sys_fstat(fork_pipe[i].r, &st) < 0)
		return false;
	struct f_owner_ex owner = { F_OWNER_PID, sys_getpid() };
	sys_fcntl(fork_pipe[i].r, F_SETOWN_EX, (long)&owner);
	sys_close(fork_pipe[i].r);
	sys_close(c->out);
	c->out = fork_pipe[i].w;
	sys_fcntl(c->out, F_SETFL, O_NONBLOCK);
	sys_fcntl(c->out, F_SETPIPE_SZ, 1 << 20);
	c->dev = st.st_dev;
	c->ino = st.st_ino;
	fork_pipe[i].r = fork_pipe[i].w = -1;
	return true;
}

void u_fork_child_done(void)
{
	if (!forking)
		return;
	for (int i = 0; i < U_MAX_CTX; i++)
		for (int k = 0; k < 2; k++)
			if ((&fork_pipe[i].r)[k] >= 0)
				sys_close((&fork_pipe[i].r)[k]);
	if (sync_pipe[1] >= 0) {
		pid_t me = sys_getpid();
		u_io_full(sync_pipe[1], &me, sizeof(me), true);
		sys_close(sync_pipe[1]);
	}
	if (sync_pipe[0] >= 0)
		sys_close(sync_pipe[0]);
	sync_pipe[0] = sync_pipe[1] = -1;
	forking = false;
}

void u_fork_parent(void)
{
	pid_t child = 0;

	if (!forking)
		return;
	if (sync_pipe[1] >= 0)
		sys_close(sync_pipe[1]);
	/* The child is ready (or gone: EOF, and no event). */
	if (sync_pipe[0] < 0 || u_io_full(sync_pipe[0], &child, sizeof(child), false))
		child = 0;
	if (sync_pipe[0] >= 0)
		sys_close(sync_pipe[0]);
	sync_pipe[0] = sync_pipe[1] = -1;
	for (int i = 0; i < U_MAX_CTX; i++) {
		if (fork_pipe[i].r < 0)
			continue;
		struct u_ctx *c = &u_ctxs[i];
		sys_close(fork_pipe[i].w);
		int ufd = fork_pipe[i].r;
		fork_pipe[i].r = fork_pipe[i].w = -1;
		if (!child) {
			sys_close(ufd);
			continue;
		}
		/* The new fd has the flags the uffd was opened with. */
		if (c->flags & O_NONBLOCK)
			sys_fcntl(ufd, F_SETFL, O_NONBLOCK);
		if (!(c->flags & O_CLOEXEC))
			sys_fcntl(ufd, F_SETFD, 0);
		struct uffd_msg msg;
		memset(&msg, 0, sizeof(msg));
		msg.event = UFFD_EVENT_FORK;
		msg.arg.fork.ufd = (uint32_t)ufd;
		if (u_ctx_send(c, &msg) < 0)
			sys_close(ufd);
	}
	forking = false;
}
