/* SPDX-License-Identifier: MIT */
/*
 * remote-roundtrip: the round trip of a MISSING fault served by another
 * process, Firecracker-style, on both backends in one run.
 *
 * Per round and backend: the process maps N pages of private anonymous
 * memory, forks a handler process, opens a userfaultfd
 * (uffd_open(O_CLOEXEC | O_NONBLOCK, backend)), registers the pages MISSING,
 * sends the fd over a unix socket (SCM_RIGHTS) and closes its own copy.  The
 * handler polls, reads the messages and resolves each with UFFDIO_COPY; on
 * the user backend that COPY is a request the owning process executes
 * (src/user/remote.c).  The main thread touches the pages in order, one
 * byte each: time per fault = time of the loop / N.  Every round is checked
 * (each page holds the source with the toucher's byte on top, and the
 * handler served exactly N faults), else the bench aborts.
 * One unmeasured warm-up round per backend, then R rounds, the backends
 * alternating; µs per fault as best / median / max, and user/kernel of the
 * medians.  Then the channel alone: the handler process calls UFFDIO_WAKE
 * (nothing waits) N times, µs per call.
 *
 * Usage: remote-roundtrip [-n pages] [-r rounds]
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <uffd.h>

#define TOUCH_BYTE 0x5a
#define SRC_BYTE   0x33

static long page, npages = 5000;

static void die(const char *what)
{
	fprintf(stderr, "remote-roundtrip: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int send_fd(int sock, int fd)
{
	char byte = 'F';
	struct iovec iov = { &byte, 1 };
	union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(int))]; } u;
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = u.buf, .msg_controllen = sizeof(u.buf) };
	memset(&u, 0, sizeof(u));
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	return sendmsg(sock, &m, MSG_NOSIGNAL) == 1 ? 0 : -1;
}

static int recv_fd(int sock)
{
	char byte;
	struct iovec iov = { &byte, 1 };
	union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(int))]; } u;
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = u.buf, .msg_controllen = sizeof(u.buf) };
	if (recvmsg(sock, &m, MSG_CMSG_CLOEXEC) != 1 || !CMSG_FIRSTHDR(&m))
		return -1;
	int fd;
	memcpy(&fd, CMSG_DATA(CMSG_FIRSTHDR(&m)), sizeof(int));
	return fd;
}

static double now_us(void);

/* The channel alone: UFFDIO_WAKE (no thread waits) from the handler process;
 * reports the µs per call. */
static int waker(int sock)
{
	int fd = recv_fd(sock);
	double t0 = now_us();
	for (long i = 0; i < npages; i++) {
		struct uffdio_range r = { 0, (uint64_t)page };
		if (fd < 0 || uffd_ioctl(fd, UFFDIO_WAKE, &r))
			return 2;
	}
	double t = (now_us() - t0) / npages;
	return write(sock, &t, sizeof(t)) == sizeof(t) ? 0 : 6;
}

/* The handler process: serve npages faults, report how many. */
static int handler(int sock)
{
	char *src = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int fd = recv_fd(sock);
	long served = 0;

	if (src == MAP_FAILED || fd < 0)
		return 2;
	memset(src, SRC_BYTE, page);
	while (served < npages) {
		struct pollfd p = { fd, POLLIN, 0 };
		if (poll(&p, 1, 30000) != 1)
			return 3;
		struct uffd_msg m[16];
		ssize_t n = read(fd, m, sizeof(m));
		if (n < 0 && errno == EAGAIN)
			continue;
		if (n <= 0)
			return 4;
		for (size_t i = 0; i < (size_t)n / sizeof(m[0]); i++) {
			struct uffdio_copy c = { m[i].arg.pagefault.address & ~(uint64_t)(page - 1),
						 (uintptr_t)src, (uint64_t)page, 0, 0 };
			if (uffd_ioctl(fd, UFFDIO_COPY, &c))
				return 5;
			served++;
		}
	}
	return write(sock, &served, sizeof(served)) == sizeof(served) ? 0 : 6;
}

static double now_us(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

/* One round of the channel alone: µs per UFFDIO_WAKE from another process. */
static double wake_us(enum uffd_backend backend)
{
	int sv[2];
	double t = 0;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		die("socketpair");
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		close(sv[0]);
		_exit(waker(sv[1]));
	}
	close(sv[1]);
	int fd = uffd_open(O_CLOEXEC | O_NONBLOCK, backend);
	struct uffdio_api api = { UFFD_API, 0, 0 };
	if (fd < 0 || uffd_ioctl(fd, UFFDIO_API, &api) || send_fd(sv[0], fd))
		die(uffd_backend_name(backend));
	close(fd);
	int status;
	if (read(sv[0], &t, sizeof(t)) != sizeof(t) || waitpid(pid, &status, 0) != pid ||
	    !WIFEXITED(status) || WEXITSTATUS(status))
		die("waker");
	close(sv[0]);
	return t;
}

/* One round: µs per fault. */
static double round_us(enum uffd_backend backend)
{
	const size_t len = (size_t)npages * page;
	char *mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int sv[2];

	if (mem == MAP_FAILED)
		die("mmap");
	madvise(mem, len, MADV_NOHUGEPAGE);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		die("socketpair");
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		close(sv[0]);
		_exit(handler(sv[1]));
	}
	close(sv[1]);
	int fd = uffd_open(O_CLOEXEC | O_NONBLOCK, backend);
	struct uffdio_api api = { UFFD_API, 0, 0 };
	struct uffdio_register reg = { { (uintptr_t)mem, len }, UFFDIO_REGISTER_MODE_MISSING, 0 };
	if (fd < 0 || uffd_ioctl(fd, UFFDIO_API, &api) || uffd_ioctl(fd, UFFDIO_REGISTER, &reg))
		die(uffd_backend_name(backend));
	if (send_fd(sv[0], fd))
		die("sendmsg");
	close(fd);

	double t0 = now_us();
	for (long i = 0; i < npages; i++)
		((volatile char *)mem)[i * page] = TOUCH_BYTE;
	double t = (now_us() - t0) / npages;

	long served = 0;
	int status;
	if (read(sv[0], &served, sizeof(served)) != sizeof(served) || waitpid(pid, &status, 0) != pid ||
	    !WIFEXITED(status) || WEXITSTATUS(status) || served != npages) {
		fprintf(stderr, "remote-roundtrip: %s: handler failed (status 0x%x, served %ld)\n",
			uffd_backend_name(backend), status, served);
		exit(1);
	}
	for (long i = 0; i < npages; i++)
		if (mem[i * page] != TOUCH_BYTE || mem[i * page + 1] != SRC_BYTE ||
		    mem[i * page + page - 1] != SRC_BYTE) {
			fprintf(stderr, "remote-roundtrip: %s: page %ld is wrong\n",
				uffd_backend_name(backend), i);
			exit(1);
		}
	close(sv[0]);
	munmap(mem, len);
	return t;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	int rounds = 5, opt;
	const enum uffd_backend be[2] = { UFFD_BACKEND_KERNEL, UFFD_BACKEND_USER };

	page = sysconf(_SC_PAGESIZE);
	while ((opt = getopt(argc, argv, "n:r:")) != -1) {
		if (opt == 'n')
			npages = atol(optarg);
		else if (opt == 'r')
			rounds = atoi(optarg);
		else {
			fprintf(stderr, "usage: remote-roundtrip [-n pages] [-r rounds]\n");
			return 1;
		}
	}
	if (npages < 1 || rounds < 1 || rounds > 100)
		return 1;
	static const char *const what[2] = {
		"fault round trip (handler process, UFFDIO_COPY)",
		"UFFDIO_WAKE from another process (the channel alone)",
	};
	double (*const fn[2])(enum uffd_backend) = { round_us, wake_us };
	for (int w = 0; w < 2; w++) {
		double t[2][100], median[2];
		for (int b = 0; b < 2; b++)
			fn[w](be[b]);   /* warm-up */
		for (int r = 0; r < rounds; r++)
			for (int b = 0; b < 2; b++)
				t[b][r] = fn[w](be[b]);
		printf("%s, %ld pages, %d rounds\n", what[w], npages, rounds);
		printf("%-8s %10s %10s %10s  (us each)\n", "backend", "best", "median", "max");
		for (int b = 0; b < 2; b++) {
			qsort(t[b], (size_t)rounds, sizeof(double), cmp);
			median[b] = t[b][rounds / 2];
			printf("%-8s %10.2f %10.2f %10.2f\n", uffd_backend_name(be[b]), t[b][0],
			       median[b], t[b][rounds - 1]);
		}
		printf("user/kernel (medians): %.2f\n", median[1] / median[0]);
	}
	return 0;
}
