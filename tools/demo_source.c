/* SPDX-License-Identifier: MIT */
/*
 * `uffd demo --source URL`: the demo's snapshot as image ID of a Redis or
 * memcached store (pushed first when the store lacks it).  Eager: the whole
 * image read from the store, then the workload.  On each backend, cold: the
 * pager restores lazily while the workload runs, recording the working set;
 * warm: the same workload while uffd_region_prefetch() fetches the record.
 * The workload is the working set alone (1/16 of the pages at random, timed);
 * every page is checked after the timing.  Network bytes and requests are
 * the store client's counters (one image opened per restore).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "demo.h"

#ifndef UFFD_HAVE_STORE
int demo_source_run(struct demo_opts *o, struct demo_report *rep)
{
	(void)rep;
	fprintf(stderr, "uffd demo --source %s: this uffd was built without libuffd-store "
		"(hiredis and libmemcached not found at build time)\n", o->source);
	return 1;
}
#else
#include "image.h"
#include "uffd/store.h"

#define PUSH_CHUNK     16384u     /* a page of the working set costs its chunk */
#define PF_THREADS     4
#define EAGER_EXTENT   (1u << 20)
#define EAGER_BATCH    16         /* extents per pipelined read */

static long psize;

static void net_of(struct store_image *im, struct demo_result *r)
{
	r->net_bytes = atomic_load(&im->kv->stats.bytes_in);
	r->requests = atomic_load(&im->kv->stats.requests);
}

/* Open the image; when the store has none of that ID, make the demo's
 * snapshot file and push it.  0, or 1 with a message. */
static int open_image(struct demo_opts *o, struct demo_report *rep, struct store_image **im)
{
	char why[256], path[4200];
	int e = store_image_open(o->source, im, why, sizeof(why));

	if (e == -ENOENT) {
		int created, fd;
		double secs;
		if ((e = demo_snapshot_path(path, sizeof(path), o->size)) < 0 ||
		    (e = demo_snapshot_make(path, o->size, psize, &created, &secs)) < 0) {
			fprintf(stderr, "uffd demo: cannot make the snapshot: %s\n", strerror(-e));
			return 1;
		}
		if (!o->json)
			printf("no image in the store: pushing %s (%llu MiB, %u KiB chunks)\n", path,
			       (unsigned long long)(o->size >> 20), PUSH_CHUNK >> 10);
		fflush(stdout);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 ||
		    uffd_image_push(o->source, fd, PUSH_CHUNK)) {
			fprintf(stderr, "uffd demo: push to %s: %s\n", o->source,
				fd < 0 ? strerror(errno) : uffd_image_strerror());
			if (fd >= 0)
				close(fd);
			return 1;
		}
		close(fd);
		rep->pushed = 1;
		e = store_image_open(o->source, im, why, sizeof(why));
	}
	if (e) {
		fprintf(stderr, "uffd demo: %s\n", why);
		return 1;
	}
	if ((*im)->h.size % (uint64_t)psize || !(*im)->h.size) {
		fprintf(stderr, "uffd demo: image of %llu bytes: not a whole number of pages\n",
			(unsigned long long)(*im)->h.size);
		store_image_close(*im);
		return 1;
	}
	return 0;
}

/* Read the whole image into memory, then the workload. */
static void eager(const char *url, uint64_t size, struct demo_result *r)
{
	const uint64_t npages = size / (uint64_t)psize;
	struct store_image *im;
	double t0 = demo_now_ms();

	if (store_image_open(url, &im, r->why, sizeof(r->why)))
		return;
	char *mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		snprintf(r->why, sizeof(r->why), "%s", strerror(errno));
		store_image_close(im);
		return;
	}
	for (uint64_t off = 0; off < size;) {
		struct store_req reqs[EAGER_BATCH];
		size_t n = 0;
		for (; n < EAGER_BATCH && off < size; n++, off += EAGER_EXTENT) {
			size_t len = size - off < EAGER_EXTENT ? (size_t)(size - off) : EAGER_EXTENT;
			reqs[n] = (struct store_req){ .off = off, .buf = mem + off, .len = len };
		}
		int e = store_image_read_batch(im, reqs, n);
		for (size_t i = 0; i < n && !e; i++)
			e = reqs[i].result;
		if (e) {
			store_image_why(im, r->why, sizeof(r->why));
			munmap(mem, size);
			store_image_close(im);
			return;
		}
		demo_progress("eager restore: reading", off >> 20, size >> 20);
	}
	r->bad_pages = demo_touch_random(mem, npages, "eager restore: checking", &r->first_ms, NULL);
	r->total_ms = demo_now_ms() - t0;
	r->first_ms -= t0;
	net_of(im, r);
	r->bad_pages += demo_touch_all(mem, npages, "eager restore: checking",
				       npages / 16 ? npages / 16 : 1, npages + npages / 16);
	r->ran = 1;
	munmap(mem, size);
	store_image_close(im);
}

/* A lazy restore on backend b: cold records into *rec, warm prefetches it. */
static void lazy(const struct demo_opts *o, uint64_t size, enum uffd_backend b,
		 struct demo_result *r, uint64_t **rec, size_t *nrec)
{
	const uint64_t npages = size / (uint64_t)psize;
	char label[64];
	struct store_image *im;
	struct uffd_source *src = NULL;
	struct uffd_region *reg = NULL;
	uint8_t *touched = calloc(npages, 1);
	uint64_t *ws = malloc(npages * sizeof(*ws));

	snprintf(label, sizeof(label), "%s restore (%s)", r->warm ? "warm" : "cold",
		 uffd_backend_name(b));
	double t0 = demo_now_ms();
	struct uffd_pager_config cfg = { .backend = b, .threads = o->threads,
					 .readahead = UFFD_PAGER_READAHEAD_DEFAULT };
	struct uffd_pager *p = uffd_pager_create(&cfg);
	if (!p || !touched || !ws) {
		snprintf(r->why, sizeof(r->why), "%s", p ? strerror(ENOMEM) : uffd_strerror());
		goto out;
	}
	if (store_image_open(o->source, &im, r->why, sizeof(r->why)))
		goto out;
	if (!(src = store_source(im))) {
		snprintf(r->why, sizeof(r->why), "%s", strerror(errno));
		store_image_close(im);
		goto out;
	}
	if (!(reg = uffd_pager_map(p, src, size, 0, 0)) ||
	    (r->warm ? uffd_region_prefetch(reg, *rec, *nrec, PF_THREADS)
		     : uffd_region_record_start(reg))) {
		snprintf(r->why, sizeof(r->why), "%s", strerror(errno));
		goto out;
	}
	const char *mem = uffd_region_addr(reg);
	r->bad_pages = demo_touch_random(mem, npages, label, &r->first_ms, touched);
	r->total_ms = demo_now_ms() - t0;
	r->first_ms -= t0;
	uffd_region_prefetch_wait(reg);
	struct uffd_pager_stats st;
	uffd_pager_stats(p, &st);
	net_of(im, r);
	r->faulted = demo_faulted(&st);
	r->faults = st.faults;
	r->read_ahead = st.pages_read_ahead;
	r->p50_ns = st.latency_p50_ns;
	r->p99_ns = st.latency_p99_ns;
	r->prefetched = st.pages_prefetched;
	r->late = st.prefetch_late;
	for (uint64_t pg = 0; pg < npages; pg++)
		if (touched[pg])
			ws[r->working_set++] = pg;
	r->hits = uffd_region_prefetch_hits(reg, ws, r->working_set);
	if (!r->warm) {
		*nrec = uffd_region_record(reg, NULL, 0);
		if ((*rec = malloc((*nrec ? *nrec : 1) * sizeof(**rec))))
			*nrec = uffd_region_record(reg, *rec, *nrec);
		else
			*nrec = 0;
		r->recorded = *nrec;
	}
	r->bad_pages += demo_touch_all(mem, npages, label, npages / 16 ? npages / 16 : 1,
				       npages + npages / 16);
	uffd_pager_stats(p, &st);
	r->errors = st.errors;
	r->ran = 1;
out:
	if (reg)
		uffd_region_unmap(reg);
	uffd_source_close(src);
	if (p)
		uffd_pager_destroy(p);
	free(touched);
	free(ws);
}

int demo_source_run(struct demo_opts *o, struct demo_report *rep)
{
	static const enum uffd_backend backends[] = { UFFD_BACKEND_KERNEL, UFFD_BACKEND_USER };
	struct store_image *im;

	psize = sysconf(_SC_PAGESIZE);
	if (open_image(o, rep, &im))
		return 1;
	rep->size = im->h.size;
	if (!o->json)
		printf("source: %s (%llu MiB, %u KiB chunks, %s)\n", o->source,
		       (unsigned long long)(rep->size >> 20), im->h.chunk >> 10,
		       rep->pushed ? "pushed now" : "already there");
	store_image_close(im);

	struct demo_result *r = &rep->r[0];
	snprintf(r->name, sizeof(r->name), "eager (store)");
	r->store = 1;
	if (!o->json)
		printf("eager restore: reading the whole image, then the working set\n");
	fflush(stdout);
	eager(o->source, rep->size, r);
	rep->n = 1;
	for (int i = 0; i < 2; i++) {
		uint64_t *rec = NULL;
		size_t nrec = 0;
		if (!o->want[1 + i])
			continue;
		for (int warm = 0; warm < 2; warm++) {
			r = &rep->r[rep->n++];
			snprintf(r->name, sizeof(r->name), "%s, %s", warm ? "warm" : "cold",
				 uffd_backend_name(backends[i]));
			r->lazy = r->store = 1;
			r->warm = warm;
			if (!demo_backend_usable(backends[i], r))
				continue;
			if (warm && !rep->r[rep->n - 2].ran) {
				snprintf(r->why, sizeof(r->why), "no cold restore, no record");
				continue;
			}
			r->cold_faults = warm ? rep->r[rep->n - 2].faults : 0;
			if (!o->json)
				printf("%s restore on the %s backend (%u handler threads, %s)\n",
				       warm ? "warm" : "cold", uffd_backend_name(backends[i]),
				       o->threads, warm ? "prefetching the record" : "recording");
			fflush(stdout);
			lazy(o, rep->size, backends[i], r, &rec, &nrec);
		}
		free(rec);
	}
	return 0;
}
#endif
