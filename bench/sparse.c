/* SPDX-License-Identifier: MIT */
/*
 * Sparse: a --sparse-gib region (16 GiB by default, MAP_NORESERVE) registered
 * MISSING; one thread writes --count random pages of it (repeats included), a
 * handler thread resolves each fault with UFFDIO_COPY.  Figures: time per
 * fault, and at the end the lines of /proc/self/maps and the RSS the round
 * added.  Every touched page is checked afterwards.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bench.h"

int sparse_run(const struct scenario *s, int backend, struct sample *out, char *err,
	       size_t errlen)
{
	const size_t len = (size_t)bench_opt.sparse_gib << 30, pages = len / bench_page;
	const long count = bench_opt.count;
	const uint64_t seed = 0x1234567ull;
	const long rss0 = bench_rss_kib();
	unsigned char *base = bench_map(len, true);
	struct handler h;
	int ret = BENCH_FAILED, fd = -1;

	(void)s;
	if (!base)
		return bench_err(err, errlen, "mmap of %zu bytes: %s", len, strerror(errno));
	fd = bench_uffd(backend, O_CLOEXEC | O_NONBLOCK, 0, base, len,
			UFFDIO_REGISTER_MODE_MISSING, err, errlen);
	if (fd < 0)
		goto out;
	if (handler_start(&h, fd, H_COPY, base, len, -1) < 0) {
		bench_err(err, errlen, "handler thread: %s", strerror(errno));
		goto out;
	}
	volatile unsigned char *p = base;
	uint64_t st = seed;
	uint64_t t0 = bench_now_ns();
	for (long i = 0; i < count; i++)
		p[(bench_rand(&st) % pages) * bench_page] = BENCH_TOUCH;
	uint64_t ns = bench_now_ns() - t0;
	if (handler_stop(&h) < 0) {
		bench_err(err, errlen, "handler: %s", strerror(h.first_errno));
		goto out;
	}
	long faults = atomic_load(&h.done);
	const long maps = bench_maps_lines(), rss = bench_rss_kib();
	st = seed;
	for (long i = 0; i < count; i++) {
		size_t k = (size_t)(bench_rand(&st) % pages);
		if (!bench_page_ok(base + k * bench_page, k, BENCH_TOUCH)) {
			bench_err(err, errlen, "page %zu does not hold its content", k);
			goto out;
		}
	}
	out->v = faults ? (double)ns / 1000.0 / (double)faults : 0;
	out->x[0] = (double)faults;
	out->x[1] = (double)maps;
	out->x[2] = (double)(rss - rss0) / 1024.0;
	ret = BENCH_OK;
out:
	if (fd >= 0)
		close(fd);
	munmap(base, len);
	return ret;
}
