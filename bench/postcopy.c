/* SPDX-License-Identifier: MIT */
/*
 * QEMU-postcopy-like throughput: a --postcopy-mib region registered MISSING;
 * --faulters threads read random pages of it (checking each page's stamp)
 * until every page is there; --handlers threads share the userfaultfd and
 * resolve each fault with UFFDIO_COPY; a background thread pushes every page
 * in address order with UFFDIO_COPY, so that it races with the handlers
 * (EEXIST on either side).  Figures: faults/s (messages read by the handlers
 * over the round's time) and pages placed/s (the region's pages over the
 * round's time, the round ending when the last page is placed).  Every page
 * is checked afterwards, and each must have been placed exactly once.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bench.h"

struct post {
	int fd;
	unsigned char *base;
	size_t pages;
	_Atomic int done;        /* the pusher went through every page */
	_Atomic long pushed, eexist, bad, errors;
	int first_errno;
};

static void *pusher(void *arg)
{
	struct post *p = arg;
	unsigned char *src = aligned_alloc(bench_page, bench_page);

	for (size_t i = 0; src && i < p->pages; i++) {
		bench_page_fill(src, i);
		struct uffdio_copy c = {
			.dst = (uintptr_t)p->base + i * bench_page, .src = (uintptr_t)src,
			.len = bench_page,
		};
		if (uffd_ioctl(p->fd, UFFDIO_COPY, &c) == 0)
			atomic_fetch_add(&p->pushed, 1);
		else if (errno == EEXIST)
			atomic_fetch_add(&p->eexist, 1);
		else if (!atomic_fetch_add(&p->errors, 1))
			p->first_errno = errno;
	}
	if (!src && !atomic_fetch_add(&p->errors, 1))
		p->first_errno = ENOMEM;
	free(src);
	atomic_store(&p->done, 1);
	return NULL;
}

static void *faulter(void *arg)
{
	struct post *p = arg;
	uint64_t st = (uint64_t)(uintptr_t)&st ^ bench_now_ns();

	while (!atomic_load_explicit(&p->done, memory_order_relaxed)) {
		size_t k = (size_t)(bench_rand(&st) % p->pages);
		const volatile unsigned char *pg = p->base + k * bench_page;
		uint64_t got;
		memcpy(&got, (const unsigned char *)pg + 8, sizeof(got));
		if (got != bench_stamp(k))
			atomic_fetch_add(&p->bad, 1);
	}
	return NULL;
}

int postcopy_run(const struct scenario *s, int backend, struct sample *out, char *err,
		 size_t errlen)
{
	const size_t len = (size_t)bench_opt.post_mib << 20;
	const int nf = bench_opt.post_faulters, nh = bench_opt.post_handlers;
	struct post p = { .fd = -1, .pages = len / bench_page };
	struct handler h[16];
	pthread_t ft[16], pt;
	int ret = BENCH_FAILED, started = 0, herr = 0;
	long faults = 0, placed = 0, eexist = 0;
	uint64_t ns = 0;

	(void)s;
	if (nf > 16 || nh > 16 || nf < 1 || nh < 1)
		return bench_err(err, errlen, "1 to 16 faulting and handler threads");
	p.base = bench_map(len, false);
	if (!p.base)
		return bench_err(err, errlen, "mmap: %s", strerror(errno));
	p.fd = bench_uffd(backend, O_CLOEXEC | O_NONBLOCK, 0, p.base, len,
			  UFFDIO_REGISTER_MODE_MISSING, err, errlen);
	if (p.fd < 0)
		goto out;
	for (; started < nh; started++)
		if (handler_start(&h[started], p.fd, H_COPY, p.base, len, -1) < 0) {
			bench_err(err, errlen, "handler thread: %s", strerror(errno));
			goto stop;
		}
	uint64_t t0 = bench_now_ns();
	for (int i = 0; i < nf; i++)
		pthread_create(&ft[i], NULL, faulter, &p);
	pthread_create(&pt, NULL, pusher, &p);
	pthread_join(pt, NULL);
	for (int i = 0; i < nf; i++)
		pthread_join(ft[i], NULL);
	ns = bench_now_ns() - t0;
	placed = atomic_load(&p.pushed);
	eexist = atomic_load(&p.eexist);
stop:
	/* Counted once stopped: a handler whose COPY woke the last faulter
	 * may not have counted it yet (seen: 511 pages placed of 512). */
	for (int i = 0; i < started; i++) {
		if (handler_stop(&h[i]) < 0 && !herr)
			herr = h[i].first_errno;
		faults += atomic_load(&h[i].msgs);
		placed += atomic_load(&h[i].done);
		eexist += atomic_load(&h[i].eexist);
	}
	if (started < nh)
		goto out;
	if (herr || atomic_load(&p.errors)) {
		bench_err(err, errlen, "UFFDIO_COPY: %s", strerror(herr ? herr : p.first_errno));
		goto out;
	}
	if (atomic_load(&p.bad)) {
		bench_err(err, errlen, "a faulting thread read a wrong page %ld times",
			  atomic_load(&p.bad));
		goto out;
	}
	if (placed != (long)p.pages) {
		bench_err(err, errlen, "%ld pages placed, expected %zu", placed, p.pages);
		goto out;
	}
	if (bench_check_pages(p.base, p.pages, -1, err, errlen))
		goto out;
	out->v = (double)faults * 1e9 / (double)ns;
	out->x[0] = (double)p.pages * 1e9 / (double)ns;
	out->x[1] = (double)eexist;
	out->x[2] = (double)faults;
	ret = BENCH_OK;
out:
	if (p.fd >= 0)
		close(p.fd);
	munmap(p.base, len);
	return ret;
}
