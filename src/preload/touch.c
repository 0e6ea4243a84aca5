/* SPDX-License-Identifier: MIT */
/*
 * Kernel-mode accesses.  The kernel's userfaultfd makes a system call that
 * writes into a missing (or write-protected) registered page wait for the
 * page, like a user-mode access; the user backend's traps raise no signal
 * for the kernel's own accesses, so the call would fail with EFAULT.  Before
 * read, pread, readv, preadv, recv, recvfrom and recvmsg write into
 * registered pages, the shim touches the pages the call will fill from user
 * mode, with a write that keeps their content (an atomic add of 0), so that
 * they fault through the backend first: as many bytes as the descriptor has
 * ready (the rest of a regular file, FIONREAD on pipes and sockets).  Data
 * that arrives while the call waits may still meet a trapped page: the call
 * then fails with EFAULT having consumed nothing, and is made again once the
 * page it needs is touched.
 */
#include <errno.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "preload.h"

static int watching(void)
{
	return shim_backend != UFFD_BACKEND_KERNEL && u_fault_installed();
}

/* Does a page of [p, p+len) need a user-mode touch before the kernel
 * writes it?  (registered, and missing, in the page cache only, or
 * write-protected) */
static int needs_touch(uintptr_t p)
{
	struct u_range r;
	int need = 0;

	u_range_enter();
	if (u_range_find(p, &r) && r.ctx >= 0) {
		uint8_t st = atomic_load(&r.pages[(p - r.start) / r.psize]);
		need = (st & U_PG_STATE) != U_PG_PRESENT || (st & U_PG_WP);
	}
	u_range_leave();
	return need;
}

static void touch_range(void *buf, size_t len)
{
	uintptr_t a = (uintptr_t)buf, end = a + len;

	if (!len || end < a)
		return;
	for (uintptr_t p = a; p < end; p = (p & ~(uintptr_t)(u_page - 1)) + (uintptr_t)u_page)
		if (needs_touch(p))
			__atomic_fetch_add((volatile char *)p, 0, __ATOMIC_RELAXED);
}

static int any_registered(const struct iovec *iov, int n)
{
	for (int i = 0; i < n; i++) {
		uintptr_t a = (uintptr_t)iov[i].iov_base, end = a + iov[i].iov_len;
		for (uintptr_t p = a; p < end && p >= a;
		     p = (p & ~(uintptr_t)(u_page - 1)) + (uintptr_t)u_page)
			if (needs_touch(p))
				return 1;
	}
	return 0;
}

/* How many bytes a read at pos (-1: the file position) will deliver now. */
static size_t ready(int fd, off_t pos)
{
	struct stat st;
	int n;

	if (sys_fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
		off_t at = pos >= 0 ? pos : sys_lseek(fd, 0, SEEK_CUR);
		return at >= 0 && st.st_size > at ? (size_t)(st.st_size - at) : 0;
	}
	if (sys_ioctl(fd, FIONREAD, &n) == 0 && n > 0)
		return (size_t)n;
	return 0;
}

static void touch_iov(const struct iovec *iov, int n, size_t bytes)
{
	for (int i = 0; i < n && bytes; i++) {
		size_t len = iov[i].iov_len < bytes ? iov[i].iov_len : bytes;
		touch_range(iov[i].iov_base, len);
		bytes -= len;
	}
}

/* The call into iov (n entries) on fd: touch what it will fill, make it,
 * and after an EFAULT touch what it can fill now (at least one page) and
 * make it again. */
static ssize_t filled(int fd, off_t pos, const struct iovec *iov, int n,
		      ssize_t (*call)(void *ctx), void *ctx)
{
	if (!watching() || n <= 0 || !any_registered(iov, n))
		return call(ctx);
	size_t total = 0;
	for (int i = 0; i < n; i++)
		total += iov[i].iov_len;
	size_t want = ready(fd, pos);
	touch_iov(iov, n, want < total ? want : total);
	for (int tries = 0; ; tries++) {
		ssize_t ret = call(ctx);
		if (ret >= 0 || errno != EFAULT || tries >= 64 || !any_registered(iov, n))
			return ret;
		want = ready(fd, pos);
		if (want < (size_t)u_page)
			want = (size_t)u_page;
		touch_iov(iov, n, want < total ? want : total);
	}
}

/* ---- the calls ---- */
struct rw { int fd; void *buf; size_t len; off_t pos; const struct iovec *iov; int n;
	    int flags; struct sockaddr *from; socklen_t *fromlen; struct msghdr *msg; };

static ssize_t do_read(void *c)
{
	struct rw *a = c;
	return shim_real.read ? shim_real.read(a->fd, a->buf, a->len)
			      : sys_read(a->fd, a->buf, a->len);
}
static ssize_t do_pread(void *c)
{
	struct rw *a = c;
	return shim_real.pread ? shim_real.pread(a->fd, a->buf, a->len, a->pos)
			       : sys_pread(a->fd, a->buf, a->len, a->pos);
}
static ssize_t do_readv(void *c)
{
	struct rw *a = c;
	return shim_real.readv(a->fd, a->iov, a->n);
}
static ssize_t do_preadv(void *c)
{
	struct rw *a = c;
	return shim_real.preadv(a->fd, a->iov, a->n, a->pos);
}
static ssize_t do_recvfrom(void *c)
{
	struct rw *a = c;
	return shim_real.recvfrom(a->fd, a->buf, a->len, a->flags, a->from, a->fromlen);
}
static ssize_t do_recvmsg(void *c)
{
	struct rw *a = c;
	return shim_real.recvmsg(a->fd, a->msg, a->flags);
}

ssize_t shim_read_into(int fd, void *buf, size_t len)
{
	struct rw a = { .fd = fd, .buf = buf, .len = len };
	const struct iovec one = { buf, len };
	return filled(fd, -1, &one, 1, do_read, &a);
}

ssize_t shim_readv_into(int fd, const struct iovec *iov, int n)
{
	struct rw a = { .fd = fd, .iov = iov, .n = n };
	return filled(fd, -1, iov, n, do_readv, &a);
}

SHIM_EXPORT ssize_t pread(int fd, void *buf, size_t len, off_t pos)
{
	struct rw a = { .fd = fd, .buf = buf, .len = len, .pos = pos };
	const struct iovec one = { buf, len };
	ssize_t n = filled(fd, pos, &one, 1, do_pread, &a);
	if (shim_is_pagemap(fd))
		shim_pagemap_fix(buf, n, pos);
	return n;
}
SHIM_EXPORT ssize_t pread64(int fd, void *buf, size_t len, off_t pos)
{
	return pread(fd, buf, len, pos);
}

SHIM_EXPORT ssize_t preadv(int fd, const struct iovec *iov, int n, off_t pos)
{
	struct rw a = { .fd = fd, .iov = iov, .n = n, .pos = pos };
	return filled(fd, pos, iov, n, do_preadv, &a);
}
SHIM_EXPORT ssize_t preadv64(int fd, const struct iovec *iov, int n, off_t pos)
{
	return preadv(fd, iov, n, pos);
}

SHIM_EXPORT ssize_t recvfrom(int fd, void *buf, size_t len, int flags,
			     struct sockaddr *from, socklen_t *fromlen)
{
	struct rw a = { .fd = fd, .buf = buf, .len = len, .flags = flags,
			.from = from, .fromlen = fromlen };
	const struct iovec one = { buf, len };
	return filled(fd, -1, &one, 1, do_recvfrom, &a);
}

SHIM_EXPORT ssize_t recv(int fd, void *buf, size_t len, int flags)
{
	return recvfrom(fd, buf, len, flags, NULL, NULL);
}

/* Descriptors received over SCM_RIGHTS that are another process's
 * user-backend userfaultfd: known from now on (fdio.c's read then tells
 * their owner of the events read, and translates fork events' fds). */
static void note_received(const struct msghdr *msg)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR((struct msghdr *)msg); c;
	     c = CMSG_NXTHDR((struct msghdr *)msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			int fd;
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(fd));
			struct stat st;
			struct f_owner_ex o;
			if (sys_fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode) &&
			    sys_fcntl(fd, F_GETOWN_EX, (long)&o) == 0 && o.type == F_OWNER_PID &&
			    o.pid > 0)
				uffd_user_hint(fd);
		}
	}
}

SHIM_EXPORT ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
	struct rw a = { .fd = fd, .msg = msg, .flags = flags };
	ssize_t n = filled(fd, -1, msg->msg_iov, (int)msg->msg_iovlen, do_recvmsg, &a);
	if (n >= 0 && shim_backend != UFFD_BACKEND_KERNEL && msg->msg_controllen)
		note_received(msg);
	return n;
}
