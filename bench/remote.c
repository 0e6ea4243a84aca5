/* SPDX-License-Identifier: MIT */
/*
 * A handler in another process, Firecracker-style: the process maps -n pages
 * of private anonymous memory, forks a handler process, opens a userfaultfd,
 * registers the pages MISSING, sends the fd over a unix socket (SCM_RIGHTS)
 * and closes its own copy.  The handler polls, reads the messages and
 * resolves each with UFFDIO_COPY (on the user backend a request the owning
 * process executes, src/user/remote.c); the main thread touches the pages in
 * order.  Figure: time per fault; every page is checked and the handler must
 * have served exactly one fault per page.  remote-wake: the channel alone,
 * UFFDIO_WAKE (nothing waiting) called -n times from the other process.
 * (From bench/remote-roundtrip.c, by the remote engineer.)
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "../test/lib/passfd_io.h"

/* The other process, remote-wake: n UFFDIO_WAKEs; sends the ns they took. */
static int waker(int sock, long n)
{
	int fd = pfd_recv(sock);
	uint64_t t0 = bench_now_ns();
	for (long i = 0; i < n; i++) {
		struct uffdio_range r = { 0, bench_page };
		if (fd < 0 || uffd_ioctl(fd, UFFDIO_WAKE, &r))
			return 2;
	}
	uint64_t ns = bench_now_ns() - t0;
	return write(sock, &ns, sizeof(ns)) == sizeof(ns) ? 0 : 6;
}

/* The other process, remote-copy: serve n faults, report how many. */
static int handler(int sock, void *base, long n)
{
	unsigned char *src = bench_map(bench_page, false);
	int fd = pfd_recv(sock);
	long served = 0;

	if (!src || fd < 0)
		return 2;
	while (served < n) {
		struct pollfd p = { fd, POLLIN, 0 };
		if (poll(&p, 1, 30000) != 1)
			return 3;
		struct uffd_msg m[16];
		ssize_t got = read(fd, m, sizeof(m));
		if (got < 0 && errno == EAGAIN)
			continue;
		if (got <= 0)
			return 4;
		for (size_t i = 0; i < (size_t)got / sizeof(m[0]); i++) {
			uintptr_t page = m[i].arg.pagefault.address & ~(uintptr_t)(bench_page - 1);
			bench_page_fill(src, (page - (uintptr_t)base) / bench_page);
			struct uffdio_copy c = { page, (uintptr_t)src, bench_page, 0, 0 };
			if (uffd_ioctl(fd, UFFDIO_COPY, &c))
				return 5;
			served++;
		}
	}
	return write(sock, &served, sizeof(served)) == sizeof(served) ? 0 : 6;
}

struct other {
	bool copy;
	void *base;
	long n;
};

/* The other process: the handler or the waker. */
static int other(int sock, void *arg)
{
	const struct other *o = arg;

	return o->copy ? handler(sock, o->base, o->n) : waker(sock, o->n);
}

int remote_run(const struct scenario *s, int backend, struct sample *out, char *err,
	       size_t errlen)
{
	const bool copy = s->arg != NULL;
	const long n = (long)bench_opt.pages;
	const size_t len = copy ? (size_t)n * bench_page : 0;
	unsigned char *mem = copy ? bench_map(len, false) : NULL;
	int sock = -1, fd = -1, ret = BENCH_FAILED, status;
	pid_t pid = -1;

	if (copy && !mem)
		return bench_err(err, errlen, "mmap: %s", strerror(errno));
	/* The handler process first, as Firecracker's exists before the
	 * VMM registers its memory (a fork after REGISTER would also change
	 * how the user backend backs the range: src/user/pcache.c). */
	struct other o = { copy, mem, n };
	pid = pfd_spawn(other, &o, &sock);
	if (pid < 0) {
		bench_err(err, errlen, "socketpair or fork: %s", strerror(errno));
		goto out;
	}
	fd = bench_uffd(backend, O_CLOEXEC | O_NONBLOCK, 0, mem, len,
			UFFDIO_REGISTER_MODE_MISSING, err, errlen);
	if (fd < 0)
		goto out;
	if (pfd_send(sock, fd)) {
		bench_err(err, errlen, "sendmsg: %s", strerror(errno));
		goto out;
	}
	close(fd);
	fd = -1;
	uint64_t ns = 0;
	long served = 0;
	if (copy) {
		volatile unsigned char *p = mem;
		uint64_t t0 = bench_now_ns();
		for (long i = 0; i < n; i++)
			p[(size_t)i * bench_page] = BENCH_TOUCH;
		ns = bench_now_ns() - t0;
		if (read(sock, &served, sizeof(served)) != sizeof(served) || served != n) {
			bench_err(err, errlen, "the handler process served %ld faults of %ld",
				  served, n);
			goto out;
		}
	} else if (read(sock, &ns, sizeof(ns)) != sizeof(ns)) {
		bench_err(err, errlen, "the waker process failed");
		goto out;
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status)) {
		bench_err(err, errlen, "the other process ended with status 0x%x", status);
		pid = -1;
		goto out;
	}
	pid = -1;
	if (copy && bench_check_pages(mem, (size_t)n, BENCH_TOUCH, err, errlen))
		goto out;
	out->v = (double)ns / 1000.0 / (double)n;
	ret = BENCH_OK;
out:
	if (sock >= 0)
		close(sock);   /* first: a waiting other process sees EOF */
	if (pid > 0)
		waitpid(pid, &status, 0);
	if (fd >= 0)
		close(fd);
	if (mem)
		munmap(mem, len);
	return ret;
}
