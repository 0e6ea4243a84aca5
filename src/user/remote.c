/* SPDX-License-Identifier: MIT */
/*
 * The holder's side of a userfaultfd owned by another process: the third
 * backend in the table (uffd_remote_ops).  The fd is the owner's pipe, so
 * read(2) and poll(2) work on it unchanged; each ioctl goes to the owner,
 * which runs it on its own memory (ring.c), as the kernel's ioctls act on
 * the registering mm.  The channel, the ring and how the owner is found:
 * wire.h.
 *
 * UFFDIO_COPY reads its source here (it is the caller's memory, as
 * copy_from_user() reads the caller's) straight into the ring, at most
 * W_DATA_MAX per request; the owner fills and wakes per request, and the
 * parts add up to the kernel's result (bytes done before the first error,
 * or the error when none was done).  One request at a time per owner.
 * Not async-signal-safe (a lock per owner).
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/futex.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/uio.h>

#include "../sys.h"
#include "user.h"
#include "wire.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

#define MAX_CHANS 16
#define CONNECT_WAIT_MS 10000   /* the owner's monitor answers at once */

struct chan {
	pid_t owner;               /* 0: free */
	int req_w, rep_r, pidfd;
	struct w_ring *ring;       /* W_RING_SIZE, shared with the owner */
	const struct w_public *pub;   /* the owner's public page, read-only */
	pthread_mutex_t lock;      /* one request in flight */
};

static struct chan chans[MAX_CHANS];
static pthread_mutex_t chans_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

/* The owner's pid bound to fd's open file description (F_SETOWN_EX at
 * uffd_open), if fd is a pipe and the owner is another process; else 0. */
static pid_t owner_of(int fd, struct stat *st)
{
	struct f_owner_ex o;

	if (sys_fstat(fd, st) < 0 || !S_ISFIFO(st->st_mode))
		return 0;
	if (sys_fcntl(fd, F_GETOWN_EX, (long)&o) < 0 || o.type != F_OWNER_PID ||
	    o.pid <= 0 || o.pid == sys_getpid())
		return 0;
	return o.pid;
}

static int proc_err(int err)
{
	if (err == EACCES || err == EPERM)
		return -EPERM;   /* another user's process: refused */
	return err == ENOENT ? -ESRCH : -err;
}

/* Find in owner's fd table the marker memfd whose name starts with prefix;
 * its name's rest goes to rest[], its fd number (there) to *num.  0,
 * -ENOENT (none), or -errno. */
static int find_marker(pid_t owner, const char *prefix, char *rest, size_t restlen, int *num)
{
	char path[64], link[256], want[128];
	int found = -ENOENT;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)owner);
	snprintf(want, sizeof(want), "/memfd:%s", prefix);
	int dfd = sys_open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return proc_err(errno);
	DIR *d = fdopendir(dfd);
	if (!d) {
		int err = -errno;
		sys_close(dfd);
		return err;
	}
	for (struct dirent *e; found == -ENOENT && (e = readdir(d));) {
		ssize_t n = readlinkat(dfd, e->d_name, link, sizeof(link) - 1);
		if (n < 0) {
			if (errno == EACCES || errno == EPERM) {
				found = -EPERM;
				break;
			}
			continue;
		}
		link[n] = 0;
		if (!strncmp(link, want, strlen(want))) {
			snprintf(rest, restlen, "%s", link + strlen(want));
			*num = atoi(e->d_name);
			found = 0;
		}
	}
	closedir(d);
	return found;
}

static int open_owner_fd(pid_t owner, int fd, int flags)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)owner, fd);
	int f = sys_open(path, flags | O_CLOEXEC);
	return f < 0 ? proc_err(errno) : f;
}

/* write(2) with SIGPIPE held back: a dead owner is EPIPE, not our death. */
static int write_all(int fd, struct iovec *iov, int n)
{
	sigset_t pipe_set, old;
	int ret = 0;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	sys_sigprocmask(SIG_BLOCK, &pipe_set, &old);
	while (n > 0) {
		ssize_t w = sys_ret(sys_call3(SYS_writev, fd, iov, n));
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			ret = -1;
			if (errno == EPIPE && !sigismember(&old, SIGPIPE)) {
				struct timespec now = { 0, 0 };
				sys_sigtimedwait(&pipe_set, NULL, &now);
			}
			break;
		}
		while (n > 0 && (size_t)w >= iov->iov_len) {
			w -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (char *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
	sys_sigprocmask(SIG_SETMASK, &old, NULL);
	return ret;
}

static void chan_close(struct chan *c)
{
	int *fds[] = { &c->req_w, &c->rep_r, &c->pidfd };

	for (size_t i = 0; i < 3; i++) {
		if (*fds[i] >= 0)
			sys_close(*fds[i]);
		*fds[i] = -1;
	}
	if (c->ring)
		sys_munmap(c->ring, W_RING_SIZE);
	if (c->pub)
		sys_munmap((void *)c->pub, W_PUBLIC_SIZE);
	c->ring = NULL;
	c->pub = NULL;
	c->owner = 0;
}

/* Map the owner's fd n: len bytes, shared.  The mapping, or NULL (*err). */
static void *map_owner_fd(pid_t owner, int n, size_t len, bool writable, int *err)
{
	int f = open_owner_fd(owner, n, writable ? O_RDWR : O_RDONLY);

	*err = f < 0 ? f : 0;
	if (f < 0)
		return NULL;
	void *p = sys_mmap(NULL, len, writable ? PROT_READ | PROT_WRITE : PROT_READ, MAP_SHARED,
			   f, 0);
	sys_close(f);
	if (p != MAP_FAILED)
		return p;
	*err = -EPROTO;
	return NULL;
}

/* Ring the owner's server thread for us.  0, or -1: the owner is gone. */
static int ring_server(struct chan *c)
{
	char bell = 1;
	struct iovec iov = { &bell, 1 };

	return write_all(c->req_w, &iov, 1);
}

/* Say hello on the owner's service pipe, wait for the owner's pipes and
 * ring for us to appear in its fd table, open them, map the ring and the
 * owner's public page, ring once (connected).  0 or -errno. */
static int chan_connect(struct chan *c, pid_t owner)
{
	char rest[128];
	int pubfd, err = find_marker(owner, W_SRV_NAME, rest, sizeof(rest), &pubfd);

	if (err)
		return err == -ENOENT ? -ENOTTY : err;   /* no libuffd there */
	int q = open_owner_fd(owner, atoi(rest), O_WRONLY);
	if (q < 0)
		return q;
	c->pidfd = (int)sys_ret(sys_call2(SYS_pidfd_open, owner, 0));
	struct w_hello h = { .magic = W_MAGIC, .pid = (uint32_t)sys_getpid() };
	if (c->pidfd < 0 || getrandom(&h.nonce, sizeof(h.nonce), 0) != sizeof(h.nonce)) {
		sys_close(q);
		return -ESRCH;
	}
	struct iovec iov = { &h, sizeof(h) };
	err = write_all(q, &iov, 1);
	sys_close(q);
	if (err)
		return -ESRCH;

	char prefix[64];
	int marker;
	snprintf(prefix, sizeof(prefix), W_CLI_NAME "%016llx:", (unsigned long long)h.nonce);
	for (int waited = 0;; waited++) {
		err = find_marker(owner, prefix, rest, sizeof(rest), &marker);
		if (err != -ENOENT)
			break;
		struct pollfd p = { c->pidfd, POLLIN, 0 };
		if (waited >= CONNECT_WAIT_MS || sys_poll(&p, 1, 1) > 0)
			return waited >= CONNECT_WAIT_MS ? -ETIMEDOUT : -ESRCH;
	}
	if (err)
		return err;
	int req, rep, ring;
	if (sscanf(rest, "%d:%d:%d", &req, &rep, &ring) != 3)
		return -EPROTO;
	c->req_w = open_owner_fd(owner, req, O_WRONLY);
	c->rep_r = open_owner_fd(owner, rep, O_RDONLY);
	if (c->req_w < 0 || c->rep_r < 0)
		return c->req_w < 0 ? c->req_w : c->rep_r;
	c->ring = map_owner_fd(owner, ring, W_RING_SIZE, true, &err);
	if (!err)
		c->pub = map_owner_fd(owner, pubfd, W_PUBLIC_SIZE, false, &err);
	if (err)
		return err;
	c->owner = owner;
	return ring_server(c) ? -ESRCH : 0;
}

/* A forked child does not share its parent's channels. */
static void chans_after_fork(void)
{
	pthread_mutex_init(&chans_lock, NULL);
	for (int i = 0; i < MAX_CHANS; i++) {
		pthread_mutex_init(&chans[i].lock, NULL);
		if (chans[i].owner)
			chan_close(&chans[i]);
	}
}

static void chans_init(void)
{
	for (int i = 0; i < MAX_CHANS; i++) {
		chans[i].req_w = chans[i].rep_r = chans[i].pidfd = -1;
		pthread_mutex_init(&chans[i].lock, NULL);
	}
	pthread_atfork(NULL, NULL, chans_after_fork);
}

/* Has the channel's owner exited?  (Its pid may be anybody's now.) */
static bool chan_stale(const struct chan *c)
{
	struct pollfd p = { c->pidfd, POLLIN, 0 };

	return sys_poll(&p, 1, 0) != 0;
}

/* The channel to owner, locked; connects if there is none.  0 or -errno. */
static int chan_get(pid_t owner, struct chan **out)
{
	struct chan *c = NULL, *free_slot = NULL;

	pthread_once(&atfork_once, chans_init);
	pthread_mutex_lock(&chans_lock);
	for (int i = 0; i < MAX_CHANS; i++) {
		/* Channels to owners that exited are closed here, so that
		 * neither they nor a new process under a reused pid hold a
		 * slot.  (Not while another thread uses the channel.) */
		if (chans[i].owner && !pthread_mutex_trylock(&chans[i].lock)) {
			if (chan_stale(&chans[i]))
				chan_close(&chans[i]);
			pthread_mutex_unlock(&chans[i].lock);
		}
		if (!c && chans[i].owner == owner)
			c = &chans[i];
		else if (!chans[i].owner && !free_slot)
			free_slot = &chans[i];
	}
	int err = 0;
	if (!c && !free_slot)
		err = -EMFILE;
	if (!c && free_slot) {
		err = chan_connect(free_slot, owner);
		if (err)
			chan_close(free_slot);
		else
			c = free_slot;
	}
	if (c)
		pthread_mutex_lock(&c->lock);
	pthread_mutex_unlock(&chans_lock);
	*out = c;
	return err;
}

/* One request (its source bytes, datalen, already in the ring) and its
 * reply.  0, or -ESRCH when the owner is gone (the kernel's answer once the
 * registering mm is gone). */
static int forward(struct chan *c, const struct stat *st, unsigned long request,
		   const void *arg, uint32_t argsize, uint32_t datalen, struct w_rep *rep)
{
	struct w_ring *r = c->ring;
	struct w_req *rq = &r->req;

	memset(rq, 0, sizeof(*rq));
	rq->magic = W_MAGIC;
	rq->argsize = argsize;
	rq->request = request;
	rq->dev = st->st_dev;
	rq->ino = st->st_ino;
	rq->datalen = datalen;
	memcpy(rq->arg, arg, argsize);
	atomic_store(&r->state, W_POSTED);
	atomic_fetch_add(&r->bell, 1);
	/* A thread of the owner blocked in a fault runs it, if one watches
	 * our ring; else the owner's server thread for us. */
	int err = 0;
	if (w_resolving(request) && r->watched && atomic_load(&c->pub->watchers) > 0)
		sys_futex(&r->bell, FUTEX_WAKE, 1, NULL);
	else
		err = ring_server(c);
	/* The reply is waited for in read(2), not polled for first: polling
	 * with the CPU yielded between looks (50 us, as a faulting thread
	 * does) made the round trip 3-4x slower on a loaded machine, where a
	 * yield hands the CPU to another process for a time slice (README). */
	char done;
	ssize_t n = 0;
	while (!err && (n = sys_read(c->rep_r, &done, 1)) < 0 && errno == EINTR)
		;
	/* The bell found the owner gone (EPIPE), but its threads run what is
	 * posted, rung or not, and it may have ended just after replying (a
	 * COPY that let its last thread exit): the reply stands. */
	if (err && atomic_load(&r->state) == W_DONE) {
		memcpy(rep, &r->rep, sizeof(*rep));
		chan_close(c);
		return rep->argsize == argsize ? 0 : -ESRCH;
	}
	if (err || n != 1 || atomic_load(&r->state) != W_DONE) {
		chan_close(c);
		return -ESRCH;
	}
	memcpy(rep, &r->rep, sizeof(*rep));
	atomic_store(&r->state, W_IDLE);
	if (rep->argsize != argsize) {
		chan_close(c);
		return -ESRCH;
	}
	return 0;
}

/* Read up to n bytes of the caller's source at src into buf, whole pages;
 * returns how many could be read. */
static size_t read_src(char *buf, uint64_t src, size_t n)
{
	if (!u_guarded_copy(buf, (const void *)(uintptr_t)src, n))
		return n;
	size_t done = 0;
	while (done < n && !u_guarded_copy(buf + done, (const void *)(uintptr_t)(src + done),
					   (size_t)u_page))
		done += (size_t)u_page;
	return done;
}

static int remote_copy(struct chan *c, const struct stat *st, struct uffdio_copy *user)
{
	struct uffdio_copy a;

	if (u_guarded_copy(&a, user, offsetof(struct uffdio_copy, copy)))
		return -EFAULT;
	int err = u_copy_check(&a);
	if (err)
		return err;
	uint64_t done = 0;
	while (done < a.len) {
		size_t n = a.len - done < W_DATA_MAX ? (size_t)(a.len - done) : W_DATA_MAX;
		char *buf = (char *)c->ring + W_RING_DATA;
		size_t got = read_src(buf, a.src + done, n);
		if (!got) {
			err = -EFAULT;
			break;
		}
		struct uffdio_copy part = { a.dst + done, a.src + done, got, a.mode, INT64_MIN };
		struct w_rep rep;
		err = forward(c, st, UFFDIO_COPY, &part, sizeof(part), (uint32_t)got, &rep);
		if (err)
			break;
		memcpy(&part, rep.arg, sizeof(part));
		if (part.copy == INT64_MIN) {   /* stopped before any page */
			err = rep.ret;
			break;
		}
		if (part.copy > 0)
			done += (uint64_t)part.copy;
		if (part.copy != (int64_t)got) {
			err = part.copy < 0 ? (int)part.copy : rep.ret;
			break;
		}
		err = got < n ? -EFAULT : 0;
		if (err)
			break;
	}
	if (!done && (err == -ESRCH || err == -ENOTTY))
		return err;   /* as the kernel: no result written */
	int64_t result = done ? (int64_t)done : err;
	if (u_guarded_copy(&user->copy, &result, sizeof(result)))
		return -EFAULT;
	if (result < 0)
		return (int)result;
	return done == a.len ? 0 : -EAGAIN;
}

static int remote_request(struct chan *c, const struct stat *st, unsigned long request,
			  void *arg)
{
	const uint32_t size = _IOC_SIZE(request);
	unsigned char in[W_ARG_MAX];
	struct w_rep rep;

	if (request == UFFDIO_COPY)
		return remote_copy(c, st, arg);
	if (size > W_ARG_MAX)
		return -EINVAL;
	if (size && u_guarded_copy(in, arg, size))
		return -EFAULT;
	int err = forward(c, st, request, in, size, 0, &rep);
	if (err)
		return err;
	/* The argument as the owner left it: output fields, or UFFDIO_API's
	 * zeroed struct on error. */
	if (size && memcmp(in, rep.arg, size) && u_guarded_copy(arg, rep.arg, size))
		return -EFAULT;
	return rep.ret;
}

static int remote_ioctl(int fd, unsigned long request, void *arg)
{
	struct stat st;
	struct chan *c;
	pid_t owner = owner_of(fd, &st);

	if (!owner)
		return -ENOTTY;
	u_trap_init();
	if (u_fault_install() < 0)   /* the guarded copies need it */
		return -errno;
	int err = chan_get(owner, &c);
	if (err)
		return err;
	/* The owner answers -ENOTTY when the pipe is none of its contexts. */
	err = remote_request(c, &st, request, arg);
	pthread_mutex_unlock(&c->lock);
	if (err != -ENOTTY)
		uffd_user_hint(fd);   /* the shim's read tells the owner of events read */
	return err;
}

int u_remote_fork_fd(int fd, int ufd)
{
	struct stat st;
	struct chan *c;
	struct w_rep rep;
	pid_t owner = owner_of(fd, &st);

	if (!owner)
		return -ENOTTY;
	int nfd = open_owner_fd(owner, ufd, O_RDONLY);
	if (nfd < 0)
		return nfd;
	uint32_t arg = (uint32_t)ufd;
	int err = chan_get(owner, &c);
	if (!err) {
		err = forward(c, &st, W_FORKFD, &arg, sizeof(arg), 0, &rep);
		pthread_mutex_unlock(&c->lock);
	}
	if (!err)
		err = rep.ret;
	if (err) {
		sys_close(nfd);
		return err;
	}
	pid_t child;
	memcpy(&child, rep.arg, sizeof(child));
	struct f_owner_ex o = { F_OWNER_PID, child };
	sys_fcntl(nfd, F_SETOWN_EX, (long)&o);
	/* The flags of the fd the event came on (the kernel: of the uffd). */
	if (sys_fcntl(fd, F_GETFL, 0) & O_NONBLOCK)
		sys_fcntl(nfd, F_SETFL, O_NONBLOCK);
	if (!(sys_fcntl(fd, F_GETFD, 0) & FD_CLOEXEC))
		sys_fcntl(nfd, F_SETFD, 0);
	uffd_user_hint(nfd);
	return nfd;
}

void u_remote_events_read(int fd, unsigned n)
{
	struct stat st;
	struct chan *c;
	struct w_rep rep;
	uint32_t count = n;
	pid_t owner = owner_of(fd, &st);

	if (!owner || chan_get(owner, &c))
		return;
	forward(c, &st, W_EVENTS, &count, sizeof(count), 0, &rep);
	pthread_mutex_unlock(&c->lock);
}

static int remote_owns(int fd)
{
	struct stat st;
	struct chan *c;
	pid_t owner = owner_of(fd, &st);

	if (!owner || chan_get(owner, &c))
		return 0;
	struct w_rep rep;
	int ok = !forward(c, &st, W_PROBE, NULL, 0, 0, &rep) && rep.ret == 0;
	pthread_mutex_unlock(&c->lock);
	return ok;
}

const struct uffd_ops uffd_remote_ops = {
	.name = "user (remote)",
	.backend = UFFD_BACKEND_USER,
	.owns = remote_owns,
	.ioctl = remote_ioctl,
};
