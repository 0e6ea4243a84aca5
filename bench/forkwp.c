/* SPDX-License-Identifier: MIT */
/*
 * Write protection across fork(): -n pages (at most FORK_PAGES) that hold
 * data, registered WP, every other page write-protected (a dirty tracker's
 * pattern: on the user backend, a mapping per protected page).  The child
 * writes to every page and checks them, then exits.
 *   fork-wp        without UFFD_FEATURE_EVENT_FORK: the child's memory is
 *                  ordinary (its writes do not fault).  Figure: fork() to
 *                  the child's exit seen by the parent.
 *   fork-wp-event  with it (root only): each write to a protected page
 *                  faults on the fork event's fd, and a handler thread of
 *                  the parent lifts the protection through it.  Figure:
 *                  the child's time per protected write; extra: the fork
 *                  itself.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

#define FORK_PAGES 4096

struct forked {
	int fd;                 /* the parent's userfaultfd */
	_Atomic long lifted;
	int err;
};

/* The reader: the fork event, then the child's faults through its fd. */
static void *fork_reader(void *arg)
{
	struct forked *f = arg;
	struct pollfd p = { f->fd, POLLIN, 0 };
	struct uffd_msg m;

	if (poll(&p, 1, 10000) != 1 || read(f->fd, &m, sizeof(m)) != sizeof(m) ||
	    m.event != UFFD_EVENT_FORK) {
		f->err = EPROTO;
		return NULL;
	}
	int cfd = (int)m.arg.fork.ufd;
	for (;;) {
		p = (struct pollfd){ cfd, POLLIN, 0 };
		if (poll(&p, 1, 10000) != 1)
			break;
		if (read(cfd, &m, sizeof(m)) != sizeof(m))
			break;   /* the child exited */
		if (m.event != UFFD_EVENT_PAGEFAULT)
			continue;
		uintptr_t pg = m.arg.pagefault.address & ~(uintptr_t)(bench_page - 1);
		struct uffdio_writeprotect w = { { pg, bench_page }, 0 };
		if (uffd_ioctl(cfd, UFFDIO_WRITEPROTECT, &w) < 0) {
			f->err = errno;
			break;
		}
		atomic_fetch_add(&f->lifted, 1);
	}
	close(cfd);
	return NULL;
}

/* In the child: write and check every page; report the time. */
static void child(unsigned char *base, size_t pages, int report)
{
	uint64_t t0 = bench_now_ns();
	for (size_t i = 0; i < pages; i++)
		base[i * bench_page] = BENCH_TOUCH;
	uint64_t ns = bench_now_ns() - t0;
	char err[64];
	if (bench_check_pages(base, pages, BENCH_TOUCH, err, sizeof(err)))
		ns = 0;
	_exit(write(report, &ns, sizeof(ns)) == sizeof(ns) && ns ? 0 : 1);
}

int forkwp_run(const struct scenario *s, int backend, struct sample *out, char *err,
	       size_t errlen)
{
	const bool event = s->arg != NULL;
	const size_t pages = bench_opt.pages < FORK_PAGES ? bench_opt.pages : FORK_PAGES;
	const size_t len = pages * bench_page;
	unsigned char *base = bench_map(len, false);
	int ret = BENCH_FAILED, fd = -1, rep[2] = { -1, -1 };
	struct forked f = { .fd = -1 };
	pthread_t reader;
	bool reading = false;

	if (!base)
		return bench_err(err, errlen, "mmap: %s", strerror(errno));
	if (event && geteuid() != 0) {
		bench_err(err, errlen, "UFFD_FEATURE_EVENT_FORK needs CAP_SYS_PTRACE");
		munmap(base, len);
		return BENCH_UNSUPPORTED;
	}
	for (size_t i = 0; i < pages; i++)
		bench_page_fill(base + i * bench_page, i);
	fd = bench_uffd(backend, O_CLOEXEC | O_NONBLOCK, event ? UFFD_FEATURE_EVENT_FORK : 0,
			base, len, UFFDIO_REGISTER_MODE_WP, err, errlen);
	if (fd < 0)
		goto out;
	for (size_t i = 0; i < pages; i += 2) {
		struct uffdio_writeprotect w = { { (uintptr_t)base + i * bench_page, bench_page },
						 UFFDIO_WRITEPROTECT_MODE_WP };
		if (uffd_ioctl(fd, UFFDIO_WRITEPROTECT, &w) < 0) {
			bench_err(err, errlen, "UFFDIO_WRITEPROTECT: %s", strerror(errno));
			goto out;
		}
	}
	if (pipe(rep) < 0) {
		bench_err(err, errlen, "pipe: %s", strerror(errno));
		goto out;
	}
	f.fd = fd;
	if (event) {
		if (pthread_create(&reader, NULL, fork_reader, &f)) {
			bench_err(err, errlen, "reader thread");
			goto out;
		}
		reading = true;
	}
	uint64_t t0 = bench_now_ns();
	pid_t pid = fork();
	if (pid == 0)
		child(base, pages, rep[1]);
	uint64_t t_fork = bench_now_ns() - t0;
	if (pid < 0) {
		bench_err(err, errlen, "fork: %s", strerror(errno));
		goto out;
	}
	uint64_t child_ns = 0;
	int status;
	close(rep[1]);
	rep[1] = -1;
	bool got = read(rep[0], &child_ns, sizeof(child_ns)) == sizeof(child_ns);
	waitpid(pid, &status, 0);
	uint64_t t_all = bench_now_ns() - t0;
	if (reading)
		pthread_join(reader, NULL);
	reading = false;
	if (!got || !WIFEXITED(status) || WEXITSTATUS(status)) {
		bench_err(err, errlen, "the child failed (its pages are wrong, or it died)");
		goto out;
	}
	if (event && (f.err || atomic_load(&f.lifted) != (long)(pages + 1) / 2)) {
		bench_err(err, errlen, "%ld protections lifted in the child, expected %zu (%s)",
			  atomic_load(&f.lifted), (pages + 1) / 2, strerror(f.err));
		goto out;
	}
	/* The parent's pages are as they were, the protected ones still protected. */
	if (bench_check_pages(base, pages, -1, err, errlen))
		goto out;
	out->v = event ? (double)child_ns / 1000.0 / (double)((pages + 1) / 2)
		       : (double)t_all / 1000.0;
	out->x[0] = (double)t_fork / 1000.0;
	ret = BENCH_OK;
out:
	if (reading)
		pthread_join(reader, NULL);
	for (int k = 0; k < 2; k++)
		if (rep[k] >= 0)
			close(rep[k]);
	if (fd >= 0)
		close(fd);
	munmap(base, len);
	return ret;
}
