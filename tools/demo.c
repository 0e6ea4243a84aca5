/* SPDX-License-Identifier: MIT */
/*
 * `uffd demo`: restore a memory snapshot lazily with the pager, on each
 * backend that works here, against an eager restore (read the whole file),
 * run the same workload on each (random pages, then every page, each page
 * checked byte for byte) and say whether every byte matched.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "commands.h"
#include "demo.h"
#include "uffd.h"
#include "uffd/pager.h"

static long psize;

static int usage(FILE *out)
{
	fprintf(out,
		"usage: uffd demo [--size SIZE] [--backend kernel|user|all] [--threads N]\n"
		"                 [--file PATH | --source URL] [--json]\n"
		"\n"
		"Makes a memory snapshot file of SIZE bytes (default 1G; K, M, G suffixes)\n"
		"with known content, once: $XDG_CACHE_HOME/libuffd/ when XDG_CACHE_HOME is\n"
		"set, else /var/tmp/libuffd-demo/ (or --file PATH); later runs reuse it.\n"
		"Then restores it eagerly (read the whole file into memory) and lazily with\n"
		"the pager (uffd_pager_map: pages are read when first touched, sequential\n"
		"runs read ahead) on each backend that works here, runs the same workload on\n"
		"each (1/16 of the pages at random, then every page, each checked byte for\n"
		"byte) and prints a table: time to first access, total time, pages faulted\n"
		"and read ahead, fault latency p50/p99.  The last line says whether every\n"
		"byte matched.\n"
		"\n"
		"With --source redis://HOST:PORT[,...]/ID or memcached://H1:P1[,H2:P2...]/ID\n"
		"the snapshot is image ID of that store (pushed there first, in 16 KiB\n"
		"chunks, when the store has no such image; an image of another program's\n"
		"content shows as DIFFER).  The workload is then the working set alone:\n"
		"1/16 of the pages at random, timed, each checked (every other page is\n"
		"checked after the timing).  Eager reads the whole image from the store;\n"
		"on each backend a cold restore records the working set and a warm one\n"
		"prefetches that record while the workload runs.  A second table gives\n"
		"the bytes and requests sent to the store, the pages prefetched, the\n"
		"prefetch hits (pages prefetched before the workload touched them: the\n"
		"faults avoided) and the warm faults as a share of the cold ones.\n"
		"\n"
		"  --size SIZE       snapshot size (a whole number of pages)\n"
		"  --backend B       kernel, user or all (default: all that work here)\n"
		"  --threads N       pager handler threads (default 2)\n"
		"  --file PATH       the snapshot file to make or reuse\n"
		"  --source URL      restore image ID of a Redis or memcached store\n"
		"  --json            one JSON object instead of the table\n"
		"\n"
		"Exit status: 0 when every byte matched, 1 otherwise, 2 on bad usage.\n");
	return out == stdout ? 0 : 2;
}

static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	unsigned shift = 0;
	if (errno || end == s || *s == '-')
		return -1;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	}
	if (*end == 'i' || *end == 'B')
		end += *end == 'i' ? 1 : 0, end += *end == 'B' ? 1 : 0;
	if (*end || v == 0 || (shift && v > (~0ull >> shift)))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

uint64_t demo_touch_random(const char *mem, uint64_t npages, const char *label,
			   double *first_ms, uint8_t *touched)
{
	uint64_t bad = 0, x = 0x2545f4914f6cdd1dull;
	const uint64_t nrand = npages / 16 ? npages / 16 : 1;

	for (uint64_t k = 0; k < nrand; k++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		uint64_t pg = x % npages;
		const char *page = mem + pg * (uint64_t)psize;
		if (k == 0) {
			volatile char c = page[0];
			(void)c;
			*first_ms = demo_now_ms();
		}
		bad += !demo_page_ok(page, pg, psize);
		if (touched)
			touched[pg] = 1;
		demo_progress(label, k + 1, nrand + npages);
	}
	return bad;
}

uint64_t demo_touch_all(const char *mem, uint64_t npages, const char *label, uint64_t done,
			uint64_t total)
{
	uint64_t bad = 0;

	for (uint64_t pg = 0; pg < npages; pg++) {
		bad += !demo_page_ok(mem + pg * (uint64_t)psize, pg, psize);
		demo_progress(label, done + pg + 1, total);
	}
	demo_progress_end();
	return bad;
}

/* The workload: 1/16 of the pages at random, then every page in order, each
 * checked; the time of the first byte read goes to *first_ms. */
static uint64_t workload(const char *mem, uint64_t npages, const char *label, double *first_ms)
{
	const uint64_t nrand = npages / 16 ? npages / 16 : 1;
	uint64_t bad = demo_touch_random(mem, npages, label, first_ms, NULL);

	return bad + demo_touch_all(mem, npages, label, nrand, nrand + npages);
}

int demo_backend_usable(enum uffd_backend b, struct demo_result *r)
{
	struct uffd_backend_info info;

	if (uffd_backend_probe(b, 0, &info) == 0 && !info.available) {
		snprintf(r->why, sizeof(r->why), "%s", info.why);
		return 0;
	}
	return 1;
}

static void eager(const struct demo_opts *o, struct demo_result *r)
{
	const uint64_t npages = o->size / (uint64_t)psize;
	double t0 = demo_now_ms();
	int fd = open(o->file, O_RDONLY | O_CLOEXEC);
	char *mem = mmap(NULL, o->size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (fd < 0 || mem == MAP_FAILED) {
		snprintf(r->why, sizeof(r->why), "%s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	uint64_t done = 0;
	while (done < o->size) {
		size_t chunk = o->size - done < (8u << 20) ? (size_t)(o->size - done) : (8u << 20);
		ssize_t n = pread(fd, mem + done, chunk, (off_t)done);
		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			snprintf(r->why, sizeof(r->why), "read: %s", n ? strerror(errno) : "short file");
			close(fd);
			munmap(mem, o->size);
			return;
		}
		done += (uint64_t)n;
		demo_progress("eager restore: reading", done >> 20, o->size >> 20);
	}
	close(fd);
	r->bad_pages = workload(mem, npages, "eager restore: checking", &r->first_ms);
	r->total_ms = demo_now_ms() - t0;
	r->first_ms -= t0;
	r->ran = 1;
	munmap(mem, o->size);
}

static void lazy(const struct demo_opts *o, enum uffd_backend b, struct demo_result *r)
{
	const uint64_t npages = o->size / (uint64_t)psize;
	char label[64];
	snprintf(label, sizeof(label), "lazy restore (%s)", uffd_backend_name(b));

	double t0 = demo_now_ms();
	struct uffd_pager_config cfg = { .backend = b, .threads = o->threads,
					 .readahead = UFFD_PAGER_READAHEAD_DEFAULT };
	struct uffd_pager *p = uffd_pager_create(&cfg);
	if (!p) {
		snprintf(r->why, sizeof(r->why), "%s", uffd_strerror());
		return;
	}
	struct uffd_source *src = uffd_source_file(o->file, 0);
	struct uffd_region *reg = src ? uffd_pager_map(p, src, o->size, 0, 0) : NULL;
	if (!reg) {
		snprintf(r->why, sizeof(r->why), "%s", strerror(errno));
		uffd_pager_destroy(p);
		uffd_source_close(src);
		return;
	}
	r->bad_pages = workload(uffd_region_addr(reg), npages, label, &r->first_ms);
	r->total_ms = demo_now_ms() - t0;
	r->first_ms -= t0;
	uffd_region_unmap(reg);
	struct uffd_pager_stats st;
	uffd_pager_stats(p, &st);
	r->faulted = demo_faulted(&st);
	r->read_ahead = st.pages_read_ahead;
	r->p50_ns = st.latency_p50_ns;
	r->p99_ns = st.latency_p99_ns;
	r->errors = st.errors;
	r->ran = 1;
	uffd_pager_destroy(p);
	uffd_source_close(src);
}

int cmd_demo(int argc, char **argv)
{
	struct demo_opts o = { .size = 1ull << 30, .want = { 1, 1, 1 }, .threads = 2 };
	char path[4200];

	psize = sysconf(_SC_PAGESIZE);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "-h") || !strcmp(a, "--help"))
			return usage(stdout);
		if (!strcmp(a, "--json")) {
			o.json = 1;
		} else if (!strcmp(a, "--size") && v) {
			if (parse_size(v, &o.size) < 0 || o.size % (uint64_t)psize) {
				fprintf(stderr, "uffd demo: --size %s: a whole number of %ld-byte "
					"pages, e.g. 256M or 1G\n", v, psize);
				return 2;
			}
			i++;
		} else if (!strcmp(a, "--backend") && v) {
			if (!strcmp(v, "kernel"))
				o.want[2] = 0;
			else if (!strcmp(v, "user"))
				o.want[1] = 0;
			else if (strcmp(v, "all")) {
				fprintf(stderr, "uffd demo: --backend %s: kernel, user or all\n", v);
				return 2;
			}
			i++;
		} else if (!strcmp(a, "--threads") && v) {
			char *end;
			unsigned long n = strtoul(v, &end, 10);
			if (*end || n < 1 || n > UFFD_PAGER_MAX_THREADS) {
				fprintf(stderr, "uffd demo: --threads %s: 1 to %u\n", v,
					UFFD_PAGER_MAX_THREADS);
				return 2;
			}
			o.threads = (unsigned)n;
			i++;
		} else if (!strcmp(a, "--file") && v) {
			o.file = v;
			i++;
		} else if (!strcmp(a, "--source") && v) {
			o.source = v;
			i++;
		} else {
			fprintf(stderr, "uffd demo: unknown or incomplete argument '%s'\n", a);
			return usage(stderr);
		}
	}
	if (o.source && o.file) {
		fprintf(stderr, "uffd demo: --file and --source: one or the other\n");
		return 2;
	}
	struct demo_report rep = { .path = o.file, .size = o.size, .threads = o.threads,
				   .source = o.source };
	if (o.source) {
		if (demo_source_run(&o, &rep))
			return 1;
		goto report;
	}
	if (!o.file) {
		int e = demo_snapshot_path(path, sizeof(path), o.size);
		if (e < 0) {
			fprintf(stderr, "uffd demo: cannot make the cache folder: %s\n", strerror(-e));
			return 1;
		}
		o.file = path;
	}

	rep.path = o.file;
	if (!o.json)
		printf("snapshot: %s (%llu MiB)\n", o.file, (unsigned long long)(o.size >> 20));
	fflush(stdout);
	int e = demo_snapshot_make(o.file, o.size, psize, &rep.created, &rep.create_s);
	if (e < 0) {
		fprintf(stderr, "uffd demo: cannot write %s: %s\n", o.file, strerror(-e));
		return 1;
	}
	if (!o.json)
		printf("%s in %.1f s\n", rep.created ? "created" : "reused (content checked)",
		       rep.create_s);

	static const enum uffd_backend backends[] = { UFFD_BACKEND_KERNEL, UFFD_BACKEND_USER };
	snprintf(rep.r[0].name, sizeof(rep.r[0].name), "eager (pread)");
	if (!o.json)
		printf("eager restore: reading the whole file, then the workload\n");
	fflush(stdout);
	eager(&o, &rep.r[0]);
	rep.n = 1;
	for (int i = 0; i < 2; i++) {
		if (!o.want[1 + i])
			continue;
		struct demo_result *r = &rep.r[rep.n++];
		snprintf(r->name, sizeof(r->name), "lazy, %s", uffd_backend_name(backends[i]));
		r->lazy = 1;
		if (!demo_backend_usable(backends[i], r))
			continue;
		if (!o.json)
			printf("lazy restore on the %s backend (%u handler threads)\n",
			       uffd_backend_name(backends[i]), o.threads);
		fflush(stdout);
		lazy(&o, backends[i], r);
	}
report:;
	int ok = demo_all_matched(&rep);
	if (o.json) {
		demo_print_json(&rep);
	} else {
		demo_print_table(&rep);
		printf("every byte matched: %s\n", ok ? "yes" : "NO");
	}
	return ok ? 0 : 1;
}
