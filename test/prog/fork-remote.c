/* SPDX-License-Identifier: MIT */
/*
 * UFFD_FEATURE_EVENT_FORK with the handler in another process, as CRIU's
 * lazy-pages daemon: the program opens a userfaultfd (EVENT_FORK and
 * EVENT_UNMAP), registers its memory, sends the fd to a handler process over
 * a unix socket and closes its own.  Then it forks.  The handler's
 * UFFD_EVENT_FORK carries an fd in the handler's own table, on which it
 * serves the child: a missing page (UFFDIO_COPY) and an munmap (UNMAP, the
 * child waiting until it is read).  After the child's exit the parent's own
 * missing page faults to the handler on the first fd.  The handler's log
 * comes back over the socket and is printed.  With an argument the handler
 * reads its messages another way: "readv" (each message split over two
 * buffers), "sys-readv" (the same through syscall(SYS_readv)); both also
 * try pread(2) on the fd first (ESPIPE: nothing read).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../lib/passfd_io.h"
#include "../lib/prog.h"

#define NPAGES 4
static long page;
static char *area;
static const char *mode = "read";

static const char *where(unsigned long a)
{
	static char out[32];
	snprintf(out, sizeof(out), "area+%ld", (long)(a - (unsigned long)area) / page);
	return out;
}

/* One message from fd, read as the mode says. */
static ssize_t read_msg(int fd, struct uffd_msg *msg)
{
	if (!strcmp(mode, "read"))
		return read(fd, msg, sizeof(*msg));
	struct iovec iov[2] = { { msg, 5 }, { (char *)msg + 5, sizeof(*msg) - 5 } };
	if (!strcmp(mode, "readv"))
		return readv(fd, iov, 2);
	return syscall(SYS_readv, fd, iov, 2);
}

/* The handler process: serves both fds until the program says stop. */
static int handler(int sock, void *arg)
{
	int uffd = pfd_recv(sock), cfd = -1;
	char *src = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char fill = 'A';

	(void)arg;
	if (uffd < 0)
		return 2;
	if (strcmp(mode, "read")) {
		struct uffd_msg msg;
		ssize_t n = pread(uffd, &msg, sizeof(msg), 0);
		logf_("pread: %zd %s\n", n, n < 0 ? strerror(errno) : "");
	}
	for (;;) {
		struct pollfd p[3] = { { sock, POLLIN, 0 }, { uffd, POLLIN, 0 }, { cfd, POLLIN, 0 } };
		poll(p, cfd >= 0 ? 3 : 2, -1);
		if (p[0].revents)
			break;
		for (int k = 1; k < 3; k++) {
			struct uffd_msg msg;
			int fd = k == 1 ? uffd : cfd;
			const char *who = k == 1 ? "parent" : "child";
			if (!p[k].revents || fd < 0)
				continue;
			if (read_msg(fd, &msg) != sizeof(msg)) {
				if (k == 2 && (p[k].revents & (POLLHUP | POLLERR))) {
					close(cfd);   /* the child is gone */
					cfd = -1;
				}
				continue;
			}
			if (msg.event == UFFD_EVENT_FORK) {
				cfd = (int)msg.arg.fork.ufd;
				int fl = fcntl(cfd, F_GETFL);
				logf_("%s: FORK: a new userfaultfd (not the first: %s, O_NONBLOCK: %s)\n",
				      who, cfd != uffd ? "yes" : "no", fl >= 0 && (fl & O_NONBLOCK) ? "yes" : "no");
			} else if (msg.event == UFFD_EVENT_PAGEFAULT) {
				unsigned long at = msg.arg.pagefault.address & ~(page - 1);
				memset(src, fill, page);
				struct uffdio_copy c = { .dst = at, .src = (unsigned long)src, .len = page };
				int r = ioctl(fd, UFFDIO_COPY, &c);
				logf_("%s: PAGEFAULT %s: filled with '%c' (%d)\n", who, where(at), fill++, r);
			} else if (msg.event == UFFD_EVENT_UNMAP) {
				logf_("%s: UNMAP %s..", who, where(msg.arg.remove.start));
				logf_("%s\n", where(msg.arg.remove.end));
			} else {
				logf_("%s: event %u\n", who, msg.event);
			}
		}
	}
	if (write(sock, log_buf, log_len) != (ssize_t)log_len)
		return 3;
	return 0;
}

int main(int argc, char **argv)
{
	int sock;

	if (argc > 1)
		mode = argv[1];
	page = sysconf(_SC_PAGESIZE);
	area = mmap(NULL, NPAGES * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	pid_t h = pfd_spawn(handler, NULL, &sock);
	if (h < 0)
		return 1;
	int uffd = prog_uffd(UFFD_FEATURE_EVENT_FORK | UFFD_FEATURE_EVENT_UNMAP,
			     "userfaultfd with EVENT_FORK|UNMAP", area, NPAGES * page,
			     UFFDIO_REGISTER_MODE_MISSING);
	if (uffd < 0 || pfd_send(sock, uffd)) {
		perror("the userfaultfd sent to the handler");
		return 1;
	}
	close(uffd);

	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		char got = area[page];
		int r = munmap(area + 2 * page, page);
		printf("child: area+1 '%c', munmap(area+2) %d\n", got, r);
		fflush(stdout);
		_exit(0);
	}
	int status;
	waitpid(pid, &status, 0);
	printf("parent: child exited %d; area+3 '%c'\n",
	       WIFEXITED(status) ? WEXITSTATUS(status) : -1, area[3 * page]);
	fflush(stdout);
	shutdown(sock, SHUT_WR);
	char buf[4096];
	ssize_t n;
	printf("-- the handler's log --\n");
	fflush(stdout);
	while ((n = read(sock, buf, sizeof(buf))) > 0)
		fwrite(buf, 1, (size_t)n, stdout);
	waitpid(h, &status, 0);
	printf("handler exited %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	return 0;
}
