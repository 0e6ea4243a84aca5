/* SPDX-License-Identifier: MIT */
/*
 * The file calls on a user-backend userfaultfd, where its pipe would answer
 * differently from the kernel's userfaultfd (fs/userfaultfd.c):
 *   read, readv  EINVAL before UFFDIO_API and for a buffer shorter than one
 *                message; only whole messages are read;
 *   poll, ppoll  POLLERR (alone, at once) before UFFDIO_API and on a
 *                descriptor without O_NONBLOCK;
 *   close, dup2, dup3 onto one: the context is released at once when its
 *                last reference goes, as the kernel's release();
 *   dup, dup2, dup3, fcntl(F_DUPFD*): the new number is known as a
 *                possible userfaultfd, so the calls above recognise it.
 * Every other descriptor passes straight through to the C library.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/syscall.h>

#include "preload.h"

#define MSG sizeof(struct uffd_msg)

/* The user-backend context behind fd, or NULL (the cheap test first). */
static struct u_ctx *user_ctx(int fd)
{
	if (shim_backend == UFFD_BACKEND_KERNEL || !uffd_user_hinted(fd))
		return NULL;
	return u_ctx_of_fd(fd);
}

static int not_ready(struct u_ctx *ctx)
{
	return atomic_load(&ctx->state) != U_CTX_READY;
}

static ssize_t real_read(int fd, void *buf, size_t count)
{
	if (shim_real.read)
		return shim_real.read(fd, buf, count);
	return sys_ret(sys_call3(SYS_read, fd, buf, count));
}

/* Copy len bytes at offset off of the data a read put in iov to buf (out
 * false), or from buf back there (out true): a message may straddle two
 * buffers of a readv.  false when the vector ends first. */
static bool iov_xfer(const struct iovec *iov, int iovcnt, size_t off, void *buf,
		     size_t len, bool out)
{
	char *b = buf;

	for (int v = 0; v < iovcnt && len; v++) {
		if (off >= iov[v].iov_len) {
			off -= iov[v].iov_len;
			continue;
		}
		size_t k = iov[v].iov_len - off < len ? iov[v].iov_len - off : len;
		char *at = (char *)iov[v].iov_base + off;
		memcpy(out ? at : b, out ? b : at, k);
		b += k;
		len -= k;
		off = 0;
	}
	return len == 0;
}

/* The messages just read: the events among them were read (their senders
 * wait for that; ctx NULL: fd is another process's userfaultfd, or a number
 * that was one). */
static void count_events(int fd, struct u_ctx *ctx, ssize_t n, const struct iovec *iov,
			 int iovcnt)
{
	unsigned events = 0;

	for (ssize_t off = 0; off + (ssize_t)MSG <= n; off += MSG) {
		unsigned char event;
		if (!iov_xfer(iov, iovcnt, (size_t)off, &event, 1, false))
			break;
		events += event != UFFD_EVENT_PAGEFAULT;
	}
	if (events && ctx)
		u_events_read(ctx, events);
	else if (events && n % (ssize_t)MSG == 0)
		u_remote_events_read(fd, events);
}

/* Fork events read from another process's userfaultfd carry an fd number
 * of that process: give the reader one of its own, as the kernel does.
 * Every read path below that may read another process's messages. */
static void remote_fork_fds(int fd, ssize_t n, const struct iovec *iov, int iovcnt)
{
	if (n <= 0 || n % (ssize_t)MSG)
		return;
	for (ssize_t off = 0; off < n; off += MSG) {
		struct uffd_msg m;
		if (!iov_xfer(iov, iovcnt, (size_t)off, &m, MSG, false))
			return;
		if (m.event != UFFD_EVENT_FORK)
			continue;
		int nfd = u_remote_fork_fd(fd, (int)m.arg.fork.ufd);
		if (nfd >= 0) {
			m.arg.fork.ufd = (uint32_t)nfd;
			iov_xfer(iov, iovcnt, (size_t)off, &m, MSG, true);
		}
	}
}

/* A hinted descriptor that is no context of ours: perhaps another
 * process's userfaultfd (a fork event's fd, one received over a socket). */
static bool maybe_remote(int fd)
{
	return shim_backend != UFFD_BACKEND_KERNEL && uffd_user_hinted(fd);
}

ssize_t shim_read(int fd, void *buf, size_t count)
{
	struct u_ctx *ctx = user_ctx(fd);

	if (ctx) {
		if (not_ready(ctx) || count < MSG) {
			errno = EINVAL;
			return -1;
		}
		count -= count % MSG;
		ssize_t n = real_read(fd, buf, count);
		const struct iovec one = { buf, count };
		count_events(fd, ctx, n, &one, 1);
		return n;
	}
	if (maybe_remote(fd)) {
		ssize_t n = shim_read_into(fd, buf, count);
		const struct iovec one = { buf, count };
		remote_fork_fds(fd, n, &one, 1);
		count_events(fd, NULL, n, &one, 1);
		return n;
	}
	if (shim_is_pagemap(fd)) {
		off_t off = sys_lseek(fd, 0, SEEK_CUR);
		ssize_t n = shim_read_into(fd, buf, count);
		shim_pagemap_fix(buf, n, off);
		return n;
	}
	return shim_read_into(fd, buf, count);
}

SHIM_EXPORT ssize_t read(int fd, void *buf, size_t count)
{
	return shim_read(fd, buf, count);
}

ssize_t shim_readv(int fd, const struct iovec *iov, int iovcnt)
{
	struct u_ctx *ctx = user_ctx(fd);
	struct iovec whole[IOV_MAX];

	if (ctx && iovcnt >= 0 && iovcnt <= IOV_MAX) {
		/* Cut the vector down to whole messages. */
		size_t total = 0;
		for (int i = 0; i < iovcnt; i++)
			total += iov[i].iov_len;
		if (not_ready(ctx) || total < MSG) {
			errno = EINVAL;
			return -1;
		}
		size_t want = total - total % MSG;
		int n = 0;
		for (; n < iovcnt && want; n++) {
			whole[n] = iov[n];
			if (whole[n].iov_len > want)
				whole[n].iov_len = want;
			want -= whole[n].iov_len;
		}
		iov = whole;
		iovcnt = n;
		ssize_t got = shim_real.readv ? shim_real.readv(fd, iov, iovcnt)
					      : sys_ret(sys_call3(SYS_readv, fd, iov, iovcnt));
		count_events(fd, ctx, got, iov, iovcnt);
		return got;
	}
	ssize_t got = shim_readv_into(fd, iov, iovcnt);
	if (maybe_remote(fd) && iovcnt > 0) {
		remote_fork_fds(fd, got, iov, iovcnt);
		count_events(fd, NULL, got, iov, iovcnt);
	}
	return got;
}

SHIM_EXPORT ssize_t readv(int fd, const struct iovec *iov, int iovcnt)
{
	return shim_readv(fd, iov, iovcnt);
}

/* The kernel's userfaultfd_poll(): EPOLLERR alone for a descriptor without
 * O_NONBLOCK or before UFFDIO_API.  Returns how many such fds. */
static int poll_errors(struct pollfd *fds, nfds_t n, unsigned char *err)
{
	int count = 0;

	for (nfds_t i = 0; i < n; i++) {
		err[i] = 0;
		struct u_ctx *ctx = user_ctx(fds[i].fd);
		if (!ctx)
			continue;
		int fl = sys_fcntl(fds[i].fd, F_GETFL, 0);
		if (not_ready(ctx) || (fl >= 0 && !(fl & O_NONBLOCK)))
			err[i] = 1, count++;
	}
	return count;
}

static int poll_now(struct pollfd *fds, nfds_t n, const unsigned char *err)
{
	int ret = sys_poll(fds, n, 0);
	if (ret < 0)
		return ret;
	ret = 0;
	for (nfds_t i = 0; i < n; i++) {
		if (err[i])
			fds[i].revents = POLLERR;
		ret += fds[i].revents != 0;
	}
	return ret;
}

#define POLL_SCAN 256   /* fds checked for the rule above */

SHIM_EXPORT int poll(struct pollfd *fds, nfds_t n, int timeout)
{
	unsigned char err[POLL_SCAN];

	if (shim_backend != UFFD_BACKEND_KERNEL && n <= POLL_SCAN && poll_errors(fds, n, err))
		return poll_now(fds, n, err);
	if (shim_real.poll)
		return shim_real.poll(fds, n, timeout);
	return sys_poll(fds, n, timeout);
}

SHIM_EXPORT int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *ts,
		      const sigset_t *mask)
{
	unsigned char err[POLL_SCAN];

	if (shim_backend != UFFD_BACKEND_KERNEL && n <= POLL_SCAN && poll_errors(fds, n, err))
		return poll_now(fds, n, err);
	if (shim_real.ppoll)
		return shim_real.ppoll(fds, n, ts, mask);
	errno = ENOSYS;
	return -1;
}

/* ---- descriptors going away or being copied ---- */
int shim_close(int fd)
{
	const int was_uffd = shim_backend != UFFD_BACKEND_KERNEL && uffd_user_hinted(fd);

	shim_forget_fd(fd);
	shim_forget_pagemap(fd);
	int ret = shim_real.close ? shim_real.close(fd) : sys_close(fd);
	if (ret == 0 && was_uffd) {
		const int saved = errno;
		u_ctx_reap();
		errno = saved;
	}
	return ret;
}

SHIM_EXPORT int close(int fd)
{
	return shim_close(fd);
}

/* newfd was (maybe) replaced by a copy of oldfd. */
static int copied(int oldfd, int newfd, int was_uffd)
{
	if (newfd < 0 || shim_backend == UFFD_BACKEND_KERNEL)
		return newfd;
	const int saved = errno;
	if (newfd != oldfd) {
		shim_forget_fd(newfd);
		shim_forget_pagemap(newfd);
		if (was_uffd)
			u_ctx_reap();
	}
	if (uffd_user_hinted(oldfd))
		uffd_user_hint(newfd);
	errno = saved;
	return newfd;
}

SHIM_EXPORT int dup(int oldfd)
{
	return copied(oldfd, shim_real.dup ? shim_real.dup(oldfd)
					   : (int)sys_ret(sys_call3(SYS_fcntl, oldfd, F_DUPFD, 0)), 0);
}

SHIM_EXPORT int dup2(int oldfd, int newfd)
{
	const int was = uffd_user_hinted(newfd);
	int ret = shim_real.dup2 ? shim_real.dup2(oldfd, newfd)
				 : (int)sys_ret(sys_call3(SYS_dup3, oldfd, newfd, 0));
	return copied(oldfd, ret, was);
}

SHIM_EXPORT int dup3(int oldfd, int newfd, int flags)
{
	const int was = uffd_user_hinted(newfd);
	int ret = shim_real.dup3 ? shim_real.dup3(oldfd, newfd, flags)
				 : sys_dup3(oldfd, newfd, flags);
	return copied(oldfd, ret, was);
}

SHIM_EXPORT int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	va_start(ap, cmd);
	long arg = va_arg(ap, long);
	va_end(ap);
	int ret = shim_real.fcntl ? shim_real.fcntl(fd, cmd, arg)
				  : (int)sys_ret(sys_call3(SYS_fcntl, fd, cmd, arg));
	if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC)
		return copied(fd, ret, 0);
	return ret;
}
SHIM_EXPORT int fcntl64(int fd, int cmd, ...) __attribute__((alias("fcntl")));
