/* SPDX-License-Identifier: MIT */
/*
 * First touch: -n pages of anonymous memory registered MISSING, each written
 * once (one byte), resolved by a handler thread (UFFDIO_COPY or
 * UFFDIO_ZEROPAGE) or synchronously in the program's SIGBUS handler
 * (UFFD_FEATURE_SIGBUS + UFFDIO_COPY); without uffd, the floor.  Pages in
 * address order or in a random order; 1, 2 or 4 touching threads, each on its
 * own slice, or all over the whole region ("shared": a page may be touched by
 * two threads at once, and SIGBUS counts the signals); the handler pinned to
 * the toucher's CPU or to another.  Figure: the wall time of the touching
 * over the pages touched.  Every page is checked afterwards.
 * With ranges > 0 the pages are split into that many registered ranges (one
 * unregistered page between two), touched in a random order: what the
 * lookups cost with many ranges registered.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bench.h"
#include "touch.h"

struct round {
	int fd;
	unsigned char *base;
	size_t len;
	const struct touch_arg *a;
	size_t **order;          /* per thread: the pages it touches */
	size_t per_thread;
	size_t per_range;        /* ranges: registered pages per range, else 0 */
	int cpu;                 /* touchers pinned here, or -1 */
	pthread_barrier_t go;
	_Atomic long signals, copies, eexist, errors;
	_Atomic int first_errno;
};

static struct round *volatile sig_round;
static __thread unsigned char *sig_src;

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	struct round *r = sig_round;
	const int saved = errno;
	const uintptr_t page = (uintptr_t)si->si_addr & ~(uintptr_t)(bench_page - 1);

	(void)uc;
	if (!r || !sig_src || page < (uintptr_t)r->base || page >= (uintptr_t)r->base + r->len) {
		signal(sig, SIG_DFL);   /* not ours: die of it when retried */
		return;
	}
	atomic_fetch_add(&r->signals, 1);
	bench_page_fill(sig_src, (page - (uintptr_t)r->base) / bench_page);
	struct uffdio_copy c = { .dst = page, .src = (uintptr_t)sig_src, .len = bench_page };
	if (uffd_ioctl(r->fd, UFFDIO_COPY, &c) == 0)
		atomic_fetch_add(&r->copies, 1);
	else if (errno == EEXIST)
		atomic_fetch_add(&r->eexist, 1);
	else {
		int zero = 0;
		atomic_compare_exchange_strong(&r->first_errno, &zero, errno);
		atomic_fetch_add(&r->errors, 1);
	}
	errno = saved;
}

/* Where the k-th touchable page is (ranges leave a hole after each). */
static size_t phys(const struct round *r, size_t k)
{
	return r->per_range ? k / r->per_range * (r->per_range + 1) + k % r->per_range : k;
}

static void *toucher(void *arg)
{
	struct round *r = ((struct round **)arg)[0];
	const size_t *order = (const size_t *)((void **)arg)[1];
	unsigned char *src = NULL;

	if (r->cpu >= 0)
		bench_pin(r->cpu);
	if (r->a->resolve == T_SIGBUS) {
		src = aligned_alloc(bench_page, bench_page);
		sig_src = src;
	}
	pthread_barrier_wait(&r->go);
	volatile unsigned char *base = r->base;
	for (size_t i = 0; i < r->per_thread; i++)
		base[phys(r, order[i]) * bench_page] = BENCH_TOUCH;
	pthread_barrier_wait(&r->go);
	sig_src = NULL;
	free(src);
	return NULL;
}

/* The pages each thread touches: its slice (in order or shuffled), or
 * random pages of the whole region. */
static int plan(struct round *r, size_t pages, int threads, uint64_t seed)
{
	size_t *perm = r->a->random || r->a->shared ? bench_perm(pages, seed) : NULL;

	r->per_thread = pages / (size_t)threads;
	r->order = calloc((size_t)threads, sizeof(*r->order));
	if (!r->order || ((r->a->random || r->a->shared) && !perm))
		return -1;
	uint64_t st = seed * 7 + 1;
	for (int t = 0; t < threads; t++) {
		r->order[t] = malloc(r->per_thread * sizeof(size_t));
		if (!r->order[t])
			return -1;
		for (size_t i = 0; i < r->per_thread; i++) {
			size_t k = (size_t)t * r->per_thread + i;
			r->order[t][i] = r->a->shared ? (size_t)(bench_rand(&st) % pages)
				       : perm ? perm[k] : k;
		}
	}
	free(perm);
	return 0;
}

static void unplan(struct round *r, int threads)
{
	for (int t = 0; r->order && t < threads; t++)
		free(r->order[t]);
	free(r->order);
}

/* Every touched page holds what its resolution put there. */
static int check(const struct round *r, int threads, char *err, size_t errlen)
{
	static const unsigned char zero[65536];

	for (int t = 0; t < threads; t++)
		for (size_t i = 0; i < r->per_thread; i++) {
			size_t k = phys(r, r->order[t][i]);
			const unsigned char *pg = r->base + k * bench_page;
			bool ok = r->a->resolve == T_SIGBUS || r->a->resolve == T_THREAD_COPY
				? bench_page_ok(pg, k, BENCH_TOUCH)
				: pg[0] == BENCH_TOUCH && !memcmp(pg + 1, zero, bench_page - 1);
			if (!ok)
				return bench_err(err, errlen, "page %zu does not hold its content", k);
		}
	return 0;
}

int touch_run(const struct scenario *s, int backend, struct sample *out, char *err,
	      size_t errlen)
{
	const struct touch_arg *a = s->arg;
	const int threads = a->threads;
	size_t pages = bench_opt.pages - bench_opt.pages % (size_t)threads;
	static uint64_t seed = 1;
	struct round r = { .fd = -1, .a = a, .cpu = -1 };
	struct handler h;
	bool handler = false;
	int ret = BENCH_FAILED, here, other;

	if (a->ranges) {
		r.per_range = pages / (size_t)a->ranges ? pages / (size_t)a->ranges : 1;
		pages = r.per_range * (size_t)a->ranges;
		r.len = (size_t)a->ranges * (r.per_range + 1) * bench_page;
	} else {
		r.len = pages * bench_page;
	}
	r.base = bench_map(r.len, false);
	if (!r.base)
		return bench_err(err, errlen, "mmap: %s", strerror(errno));
	if (plan(&r, pages, threads, seed++) < 0) {
		bench_err(err, errlen, "out of memory");
		goto out;
	}
	bench_cpus(&here, &other);
	if (a->pin) {
		if (a->pin == PIN_OTHER && other < 0) {
			ret = bench_err(err, errlen, "one CPU only");
			ret = BENCH_UNSUPPORTED;
			goto out;
		}
		r.cpu = here;
	}
	if (a->resolve != T_NONE) {
		const bool sb = a->resolve == T_SIGBUS;
		r.fd = bench_uffd(backend, O_CLOEXEC | (sb ? 0 : O_NONBLOCK),
				  sb ? UFFD_FEATURE_SIGBUS : 0, r.base, a->ranges ? 0 : r.len,
				  UFFDIO_REGISTER_MODE_MISSING, err, errlen);
		if (r.fd < 0)
			goto out;
		for (int i = 0; i < a->ranges; i++) {
			struct uffdio_register reg = {
				.range = { .start = (uintptr_t)r.base +
						    (size_t)i * (r.per_range + 1) * bench_page,
					   .len = r.per_range * bench_page },
				.mode = UFFDIO_REGISTER_MODE_MISSING,
			};
			if (uffd_ioctl(r.fd, UFFDIO_REGISTER, &reg) < 0) {
				bench_err(err, errlen, "UFFDIO_REGISTER of range %d: %s", i,
					  strerror(errno));
				goto out;
			}
		}
		if (sb) {
			struct sigaction sa = { .sa_sigaction = on_sigbus, .sa_flags = SA_SIGINFO };
			sigemptyset(&sa.sa_mask);
			sigaction(SIGBUS, &sa, NULL);
			sig_round = &r;
		} else {
			int cpu = a->pin == PIN_SAME ? here : a->pin == PIN_OTHER ? other : -1;
			if (handler_start(&h, r.fd, a->resolve == T_THREAD_ZERO ? H_ZERO : H_COPY,
					  r.base, r.len, cpu) < 0) {
				bench_err(err, errlen, "handler thread: %s", strerror(errno));
				goto out;
			}
			handler = true;
		}
	}

	pthread_t tid[8];
	void *targ[8][2];
	pthread_barrier_init(&r.go, NULL, (unsigned)threads + 1);
	for (int t = 0; t < threads; t++) {
		targ[t][0] = &r;
		targ[t][1] = r.order[t];
		pthread_create(&tid[t], NULL, toucher, targ[t]);
	}
	pthread_barrier_wait(&r.go);
	uint64_t t0 = bench_now_ns();
	pthread_barrier_wait(&r.go);
	uint64_t ns = bench_now_ns() - t0;
	for (int t = 0; t < threads; t++)
		pthread_join(tid[t], NULL);
	pthread_barrier_destroy(&r.go);
	sig_round = NULL;

	if (handler && handler_stop(&h) < 0) {
		handler = false;
		bench_err(err, errlen, "handler: %s", strerror(h.first_errno));
		goto out;
	}
	/* Counted once the handler is gone: it counts after its ioctl returns. */
	long placed = handler ? atomic_load(&h.done) : atomic_load(&r.copies);
	handler = false;
	if (atomic_load(&r.errors)) {
		bench_err(err, errlen, "UFFDIO_COPY in the SIGBUS handler: %s",
			  strerror(atomic_load(&r.first_errno)));
		goto out;
	}
	if (check(&r, threads, err, errlen))
		goto out;
	if (!a->shared && a->resolve != T_NONE && placed != (long)pages) {
		bench_err(err, errlen, "%ld pages placed, expected %zu", placed, pages);
		goto out;
	}
	out->v = (double)ns / 1000.0 / (double)(pages);
	out->x[0] = (double)(a->resolve == T_SIGBUS ? atomic_load(&r.signals) : 0);
	out->x[1] = (double)(a->resolve == T_SIGBUS ? atomic_load(&r.eexist) : 0);
	ret = BENCH_OK;
out:
	if (handler)
		handler_stop(&h);
	if (r.fd >= 0)
		close(r.fd);
	munmap(r.base, r.len);
	unplan(&r, threads);
	return ret;
}
