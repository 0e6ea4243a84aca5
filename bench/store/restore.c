/* SPDX-License-Identifier: MIT */
/*
 * Restoring an image through the pager from loopback Redis and memcached
 * against the local file source, on each backend:
 *   full:   every page touched in order (readahead on): MB/s and faults/s;
 *   cold:   1/8 of the pages in a random order, recording the working set;
 *   warm:   the same workload while uffd_region_prefetch() fetches the
 *           recorded set: faults, completion time, speed-up over cold.
 * Network bytes and requests are the store client's counters; prefetch hits
 * are uffd_region_prefetch_hits() of the workload's pages; CPU: this
 * process's and the store server's during the cold and warm workloads (the
 * summary's CPU cold/warm: their sum, cold over warm, which a loaded machine
 * moves less than the times).  Reported, never
 * asserted.  UFFD_BENCH_STORE_SIZE (default 1G) sets the image size,
 * UFFD_BENCH_STORE_CHUNK (default 16384) the chunk size,
 * UFFD_BENCH_PREFETCH_THREADS (default 4) the prefetch threads,
 * UFFD_BENCH_URL_OPTS URL options of the restores (e.g. "?inflight=64").
 *   store-restore [-r REPS] [-b kernel|user] [-s file|redis|memcached] [-c table|auto]
 * runs every pick REPS times (the backends and sources alternating within a
 * repetition) and ends with a summary: best / median / worst of each figure.
 * -c table checks the chunks with the CRC tables instead of the CPU's crc32
 * instruction (to measure what the instruction saves; -c auto: the default).
 * Starts its own redis-server and memcached on loopback ports.
 */
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#include "harness.h"
#include "servers.h"
#include "simage.h"
#include "uffd/pager.h"
#include "uffd/store.h"

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

#define MAXREP 16

/* One pick's figures over the repetitions. */
struct figures {
	int n;
	double full_mbs[MAXREP], full_fps[MAXREP], cold_ms[MAXREP], warm_ms[MAXREP],
	       warm_pct[MAXREP], speedup[MAXREP], hits_pct[MAXREP], cpu_ratio[MAXREP];
};

static uint64_t npages;
static pid_t server = -1;         /* the store server of the source running, or -1 */

/* CPU time (user + system) of process pid, of this process when 0, none
 * when -1, in ms. */
static double cpu_ms(pid_t pid)
{
	char path[64], buf[1024];
	unsigned long ut = 0, st = 0;

	if (pid < 0)
		return 0;
	if (!pid) {
		struct rusage ru;
		getrusage(RUSAGE_SELF, &ru);
		return ru.ru_utime.tv_sec * 1e3 + ru.ru_utime.tv_usec / 1e3 +
		       ru.ru_stime.tv_sec * 1e3 + ru.ru_stime.tv_usec / 1e3;
	}
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
	if (f)
		fclose(f);
	buf[n] = 0;
	char *p = strrchr(buf, ')');   /* fields 14 and 15 after the name */
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
		return 0;
	return (ut + st) * 1e3 / sysconf(_SC_CLK_TCK);
}

static unsigned pf_threads = 4;
static uint64_t *set;
static size_t nset;

/* A source by name; for stores, *im gets the image (its client counters). */
static struct uffd_source *open_src(const char *what, const char *url, struct store_image **im)
{
	char why[256];

	*im = NULL;
	if (!strcmp(what, "file"))
		return uffd_source_file(url, 0);
	if (store_image_open(url, im, why, sizeof(why))) {
		fprintf(stderr, "store-restore: %s: %s\n", url, why);
		exit(1);
	}
	return store_source(*im);
}

struct net { uint64_t bytes, requests; };

static struct net net_of(struct store_image *im)
{
	struct net n = { 0, 0 };

	if (im) {
		n.bytes = atomic_load(&im->kv->stats.bytes_in);
		n.requests = atomic_load(&im->kv->stats.requests);
	}
	return n;
}

static long check(const char *m, const uint64_t *pages, size_t n)
{
	long bad = 0;

	for (size_t i = 0; i < n; i++)
		bad += !t_check(m + pages[i] * t_page, t_page, (unsigned)pages[i] + 1);
	return bad;
}

static void run(enum uffd_backend be, const char *what, const char *url, struct figures *fig)
{
	struct uffd_pager_config cfg = { .backend = be, .threads = 2,
					 .readahead = UFFD_PAGER_READAHEAD_DEFAULT };
	struct uffd_pager *p = uffd_pager_create(&cfg);
	struct uffd_pager_stats a, b;
	struct store_image *im;
	volatile char sink;

	if (!p) {
		printf("%-6s %-10s backend unavailable\n", uffd_backend_name(be), what);
		return;
	}
	/* full */
	struct uffd_source *src = open_src(what, url, &im);
	struct uffd_region *r = uffd_pager_map(p, src, npages * t_page, 0, 0);
	char *m = uffd_region_addr(r);
	struct net n0 = net_of(im);
	uffd_pager_stats(p, &a);
	double t0 = now_ms();
	for (uint64_t i = 0; i < npages; i++)
		sink = m[i * t_page];
	double full = now_ms() - t0;
	uffd_pager_stats(p, &b);
	struct net n1 = net_of(im);
	uint64_t *all = malloc(npages * sizeof(*all));
	for (uint64_t i = 0; i < npages; i++)
		all[i] = i;
	long bad = check(m, all, npages);
	free(all);
	int k = fig->n;
	fig->full_mbs[k] = npages * t_page / 1e6 / (full / 1e3);
	fig->full_fps[k] = (b.faults - a.faults) / (full / 1e3);
	printf("%-6s %-10s full: %7.0f ms %7.0f MB/s %8.0f faults/s (%llu faults) net %llu MB in %llu requests%s\n",
	       uffd_backend_name(be), what, full, npages * t_page / 1e6 / (full / 1e3),
	       (b.faults - a.faults) / (full / 1e3), (unsigned long long)(b.faults - a.faults),
	       (unsigned long long)((n1.bytes - n0.bytes) >> 20),
	       (unsigned long long)(n1.requests - n0.requests), bad ? " WRONG CONTENT" : "");
	uffd_region_unmap(r);
	uffd_source_close(src);

	/* cold, recording */
	src = open_src(what, url, &im);
	r = uffd_pager_map(p, src, npages * t_page, 0, 0);
	m = uffd_region_addr(r);
	uffd_region_record_start(r);
	n0 = net_of(im);
	uffd_pager_stats(p, &a);
	double s0 = cpu_ms(server), c0 = cpu_ms(0);
	t0 = now_ms();
	for (size_t i = 0; i < nset; i++)
		sink = m[set[i] * t_page];
	double cold = now_ms() - t0;
	double cold_scpu = cpu_ms(server) - s0, cold_cpu = cpu_ms(0) - c0;
	uffd_pager_stats(p, &b);
	n1 = net_of(im);
	uint64_t cold_faults = b.faults - a.faults;
	uint64_t *rec = malloc(npages * sizeof(*rec));
	size_t nrec = uffd_region_record(r, rec, npages);
	bad = check(m, set, nset);
	printf("%-6s %-10s cold: %7.0f ms %8llu faults, net %llu MB in %llu requests, recorded %zu pages, "
	       "CPU ms: restore %.0f, server %.0f%s\n",
	       uffd_backend_name(be), what, cold, (unsigned long long)cold_faults,
	       (unsigned long long)((n1.bytes - n0.bytes) >> 20),
	       (unsigned long long)(n1.requests - n0.requests), nrec, cold_cpu, cold_scpu,
	       bad ? " WRONG CONTENT" : "");
	uffd_region_unmap(r);
	uffd_source_close(src);

	/* warm: the same workload while the record is prefetched */
	src = open_src(what, url, &im);
	r = uffd_pager_map(p, src, npages * t_page, 0, 0);
	m = uffd_region_addr(r);
	n0 = net_of(im);
	uffd_pager_stats(p, &a);
	s0 = cpu_ms(server), c0 = cpu_ms(0);
	t0 = now_ms();
	uffd_region_prefetch(r, rec, nrec, pf_threads);
	for (size_t i = 0; i < nset; i++)
		sink = m[set[i] * t_page];
	double warm = now_ms() - t0;
	double warm_scpu = cpu_ms(server) - s0, warm_cpu = cpu_ms(0) - c0;
	uffd_region_prefetch_wait(r);
	uffd_pager_stats(p, &b);
	n1 = net_of(im);
	bad = check(m, set, nset);
	uint64_t warm_faults = b.faults - a.faults;
	size_t hits = uffd_region_prefetch_hits(r, set, nset);
	fig->cold_ms[k] = cold;
	fig->warm_ms[k] = warm;
	fig->warm_pct[k] = cold_faults ? 100.0 * warm_faults / cold_faults : 0;
	fig->speedup[k] = cold / warm;
	fig->hits_pct[k] = 100.0 * hits / nset;
	fig->cpu_ratio[k] = (cold_cpu + cold_scpu) / (warm_cpu + warm_scpu);
	fig->n++;
	printf("%-6s %-10s warm: %7.0f ms %8llu faults (%.1f%% of cold), %.2fx faster, "
	       "prefetched %llu pages (%zu hits, %llu late), net %llu MB in %llu requests, "
	       "CPU ms: restore %.0f, server %.0f%s\n",
	       uffd_backend_name(be), what, warm, (unsigned long long)warm_faults,
	       cold_faults ? 100.0 * warm_faults / cold_faults : 0.0,
	       cold / warm, (unsigned long long)(b.pages_prefetched - a.pages_prefetched), hits,
	       (unsigned long long)(b.prefetch_late - a.prefetch_late),
	       (unsigned long long)((n1.bytes - n0.bytes) >> 20),
	       (unsigned long long)(n1.requests - n0.requests), warm_cpu, warm_scpu,
	       bad ? " WRONG CONTENT" : "");
	uffd_region_unmap(r);
	uffd_source_close(src);
	free(rec);
	uffd_pager_destroy(p);
	(void)sink;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* "best / median / worst" of v[0..n); high: a higher value is better. */
static const char *spread(const double *v, int n, int high, const char *fmt)
{
	static char out[8][80];
	static int k;
	double s[MAXREP];
	char a[24], b[24], c[24];

	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_d);
	snprintf(a, sizeof(a), fmt, high ? s[n - 1] : s[0]);
	snprintf(b, sizeof(b), fmt, s[n / 2]);
	snprintf(c, sizeof(c), fmt, high ? s[0] : s[n - 1]);
	k = (k + 1) % 8;
	snprintf(out[k], sizeof(out[k]), "%s / %s / %s", a, b, c);
	return out[k];
}

static int have(const char *path)
{
	return access(path, X_OK) == 0;
}

int main(int argc, char **argv)
{
	int reps = 1, want_b = -1;
	const char *want_s = NULL;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "-r"))
			reps = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "-b"))
			want_b = !strcmp(argv[i + 1], "user") ? UFFD_BACKEND_USER : UFFD_BACKEND_KERNEL;
		else if (!strcmp(argv[i], "-s"))
			want_s = argv[i + 1];
		else if (!strcmp(argv[i], "-c") && !strcmp(argv[i + 1], "table"))
			store_crc32c_use_table(1);
		else if (!strcmp(argv[i], "-c") && !strcmp(argv[i + 1], "auto"))
			store_crc32c_use_table(0);
		else
			reps = 0;
	}
	if (reps < 1 || reps > MAXREP || argc % 2 == 0) {
		fprintf(stderr, "usage: store-restore [-r 1-%d] [-b kernel|user] "
			"[-s file|redis|memcached] [-c table|auto]\n", MAXREP);
		return 2;
	}
	const char *env = getenv("UFFD_BENCH_STORE_SIZE");
	const char *cenv = getenv("UFFD_BENCH_STORE_CHUNK");
	uint64_t size = 1ull << 30;
	uint32_t chunk = cenv ? (uint32_t)strtoul(cenv, NULL, 0) : 16384;
	if (getenv("UFFD_BENCH_PREFETCH_THREADS"))
		pf_threads = (unsigned)atoi(getenv("UFFD_BENCH_PREFETCH_THREADS"));
	char path[128];

	t_page = sysconf(_SC_PAGESIZE);
	if (env) {
		char *end;
		size = strtoull(env, &end, 10);
		size <<= *end == 'G' ? 30 : *end == 'M' ? 20 : *end == 'K' ? 10 : 0;
	}
	if (!have("/usr/bin/redis-server") || !have("/usr/bin/memcached")) {
		printf("store-restore: skipped: redis-server or memcached not installed\n");
		return 0;
	}
	npages = size / t_page;
	/* The image: page i holds t_fill(i + 1). */
	snprintf(path, sizeof(path), "/var/tmp/uffd-bench-store-%llu.img", (unsigned long long)size);
	struct stat st;
	if (stat(path, &st) || (uint64_t)st.st_size != size) {
		FILE *f = fopen(path, "w");
		char *pg = malloc(t_page);
		for (uint64_t i = 0; f && i < npages; i++) {
			t_fill(pg, t_page, (unsigned)i + 1);
			fwrite(pg, t_page, 1, f);
		}
		if (!f || fclose(f)) {
			perror(path);
			return 1;
		}
		free(pg);
	}
	/* The workload: 1/8 of the pages, distinct, in a scrambled order. */
	nset = npages / 8;
	set = malloc(nset * sizeof(*set));
	for (size_t i = 0; i < nset; i++)   /* 7919 is prime to nset (a power of 2) */
		set[i] = ((i * 7919) % nset) * 8 + (i % 8);

	struct t_server rs, ms;
	char rurl[128], murl[128];
	t_redis_start(&rs, NULL);
	t_memcached_start(&ms);
	snprintf(rurl, sizeof(rurl), "%s/bench", rs.url);
	snprintf(murl, sizeof(murl), "%s/bench", ms.url);
	int fd = open(path, O_RDONLY);
	double t0 = now_ms();
	if (uffd_image_push(rurl, fd, chunk)) {
		fprintf(stderr, "push: %s\n", uffd_image_strerror());
		return 1;
	}
	double tr = now_ms() - t0;
	t0 = now_ms();
	if (uffd_image_push(murl, fd, chunk)) {
		fprintf(stderr, "push: %s\n", uffd_image_strerror());
		return 1;
	}
	double tm = now_ms() - t0;
	close(fd);
	printf("store-restore: %llu MiB image, %u KiB chunks; push: redis %.0f MB/s, memcached %.0f MB/s; "
	       "workload %zu pages (1/8) in random order\n",
	       (unsigned long long)(size >> 20), chunk >> 10, size / 1e6 / (tr / 1e3), size / 1e6 / (tm / 1e3), nset);
	static const char *const names[3] = { "file", "redis", "memcached" };
	/* UFFD_BENCH_URL_OPTS (e.g. "?inflight=64") is appended to the restores' URLs. */
	const char *opts = getenv("UFFD_BENCH_URL_OPTS") ? getenv("UFFD_BENCH_URL_OPTS") : "";
	char rread[256], mread[256];
	snprintf(rread, sizeof(rread), "%s%s", rurl, opts);
	snprintf(mread, sizeof(mread), "%s%s", murl, opts);
	const char *urls[3] = { path, rread, mread };
	const pid_t pids[3] = { -1, rs.pid, ms.pid };
	static struct figures fig[2][3];
	for (int rep = 0; rep < reps; rep++)
		for (int b = 0; b < 2; b++)
			for (int s = 0; s < 3; s++)
				if ((want_b < 0 || want_b == UFFD_BACKEND_KERNEL + b) &&
				    (!want_s || !strcmp(want_s, names[s])))
					server = pids[s],
					run(UFFD_BACKEND_KERNEL + b, names[s], urls[s], &fig[b][s]);
	printf("\nsummary, best / median / worst of %d:\n%-6s %-10s %-26s %-26s %-26s %-26s "
	       "%-26s %-26s %-26s %s\n", reps, "", "source", "full MB/s", "full faults/s", "cold ms",
	       "warm ms", "warm faults % of cold", "warm speed-up", "prefetch hits %",
	       "CPU cold/warm");
	for (int b = 0; b < 2; b++)
		for (int s = 0; s < 3; s++) {
			struct figures *f = &fig[b][s];
			if (!f->n)
				continue;
			printf("%-6s %-10s %-26s %-26s %-26s %-26s %-26s %-26s %-26s %s\n",
			       uffd_backend_name(UFFD_BACKEND_KERNEL + b), names[s],
			       spread(f->full_mbs, f->n, 1, "%.0f"), spread(f->full_fps, f->n, 1, "%.0f"),
			       spread(f->cold_ms, f->n, 0, "%.0f"), spread(f->warm_ms, f->n, 0, "%.0f"),
			       spread(f->warm_pct, f->n, 0, "%.1f"), spread(f->speedup, f->n, 1, "%.2fx"),
			       spread(f->hits_pct, f->n, 1, "%.1f"),
			       spread(f->cpu_ratio, f->n, 1, "%.2fx"));
		}
	t_server_stop(&rs);
	t_server_stop(&ms);
	return 0;
}
