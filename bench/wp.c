/* SPDX-License-Identifier: MIT */
/*
 * The write-protect round trip: -n pages that hold data, registered WP and
 * write-protected; one thread writes each page once; a handler thread lifts
 * the protection of each faulting page (UFFDIO_WRITEPROTECT, which wakes the
 * writer).  Figure: time per write.  Every page is checked afterwards.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bench.h"

int wp_run(const struct scenario *s, int backend, struct sample *out, char *err,
	   size_t errlen)
{
	const size_t pages = bench_opt.pages, len = pages * bench_page;
	unsigned char *base = bench_map(len, false);
	struct handler h;
	int ret = BENCH_FAILED, fd = -1;

	(void)s;
	if (!base)
		return bench_err(err, errlen, "mmap: %s", strerror(errno));
	for (size_t i = 0; i < pages; i++)
		bench_page_fill(base + i * bench_page, i);
	fd = bench_uffd(backend, O_CLOEXEC | O_NONBLOCK, 0, base, len,
			UFFDIO_REGISTER_MODE_WP, err, errlen);
	if (fd < 0)
		goto out;
	struct uffdio_writeprotect w = {
		.range = { .start = (uintptr_t)base, .len = len },
		.mode = UFFDIO_WRITEPROTECT_MODE_WP,
	};
	if (uffd_ioctl(fd, UFFDIO_WRITEPROTECT, &w) < 0) {
		bench_err(err, errlen, "UFFDIO_WRITEPROTECT: %s", strerror(errno));
		goto out;
	}
	if (handler_start(&h, fd, H_UNPROTECT, base, len, -1) < 0) {
		bench_err(err, errlen, "handler thread: %s", strerror(errno));
		goto out;
	}
	volatile unsigned char *p = base;
	uint64_t t0 = bench_now_ns();
	for (size_t i = 0; i < pages; i++)
		p[i * bench_page] = BENCH_TOUCH;
	uint64_t ns = bench_now_ns() - t0;
	if (handler_stop(&h) < 0) {
		bench_err(err, errlen, "handler: %s", strerror(h.first_errno));
		goto out;
	}
	long done = atomic_load(&h.done);
	if (done != (long)pages) {
		bench_err(err, errlen, "%ld protections lifted, expected %zu", done, pages);
		goto out;
	}
	if (bench_check_pages(base, pages, BENCH_TOUCH, err, errlen))
		goto out;
	out->v = (double)ns / 1000.0 / (double)pages;
	ret = BENCH_OK;
out:
	if (fd >= 0)
		close(fd);
	munmap(base, len);
	return ret;
}
