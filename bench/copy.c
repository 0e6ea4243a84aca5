/* SPDX-License-Identifier: MIT */
/*
 * UFFDIO_COPY alone: -n pages of a registered range filled with no fault in
 * the way, k contiguous pages per ioctl (1, 16, 64).  Figure: time per page.
 * Every page is checked afterwards.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bench.h"

int copy_run(const struct scenario *s, int backend, struct sample *out, char *err,
	     size_t errlen)
{
	const size_t k = (size_t)(uintptr_t)s->arg;
	const size_t pages = bench_opt.pages - bench_opt.pages % k;
	const size_t len = pages * bench_page;
	unsigned char *base = bench_map(len, false), *src = bench_map(len, false);
	int ret = BENCH_FAILED, fd = -1;

	if (!base || !src) {
		bench_err(err, errlen, "mmap: %s", strerror(errno));
		goto out;
	}
	for (size_t i = 0; i < pages; i++)
		bench_page_fill(src + i * bench_page, i);
	fd = bench_uffd(backend, O_CLOEXEC, 0, base, len, UFFDIO_REGISTER_MODE_MISSING,
			err, errlen);
	if (fd < 0)
		goto out;
	uint64_t t0 = bench_now_ns();
	for (size_t off = 0; off < len; off += k * bench_page) {
		struct uffdio_copy c = {
			.dst = (uintptr_t)base + off, .src = (uintptr_t)src + off,
			.len = k * bench_page,
		};
		if (uffd_ioctl(fd, UFFDIO_COPY, &c) < 0) {
			bench_err(err, errlen, "UFFDIO_COPY of %zu pages: %s", k, strerror(errno));
			goto out;
		}
	}
	uint64_t ns = bench_now_ns() - t0;
	if (bench_check_pages(base, pages, -1, err, errlen))
		goto out;
	out->v = (double)ns / 1000.0 / (double)pages;
	ret = BENCH_OK;
out:
	if (fd >= 0)
		close(fd);
	if (base)
		munmap(base, len);
	if (src)
		munmap(src, len);
	return ret;
}
