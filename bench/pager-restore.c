/* SPDX-License-Identifier: MIT */
/*
 * The pager's benchmarks, both backends in one run (reported, never asserted):
 *
 *   restore   a 1 GiB file (made once in /var/tmp/libuffd-bench/, reused)
 *             restored eagerly (pread(2) of the whole file into anonymous
 *             memory) and lazily (uffd_pager_map(), then one read per page in
 *             order, readahead on): best / median / max of REPS runs, ms, and
 *             lazy/eager of the medians (the target: at most 2x);
 *   faults/s  4 threads touch the pages of a 64 MiB region in their own random
 *             orders, no readahead (every page a fault), a callback source,
 *             served by 1, 2 and 4 handler threads.
 *
 * Environment: PAGER_BENCH_SIZE (bytes, default 1 GiB), PAGER_BENCH_REPS (5).
 * The file is in the page cache after the first run: both restores read from
 * memory, so this measures the pager, not the disk.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <uffd.h>
#include <uffd/pager.h>

static long psize;

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* The file, made unless one of the right size is there. */
static int make_file(const char *path, uint64_t size)
{
	struct stat st;

	if (stat(path, &st) == 0 && (uint64_t)st.st_size == size)
		return 0;
	mkdir("/var/tmp/libuffd-bench", 0755);
	char tmp[256];
	snprintf(tmp, sizeof(tmp), "%s.%d", path, (int)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	const size_t chunk = 8u << 20;
	uint64_t *buf = malloc(chunk);
	for (uint64_t off = 0; buf && off < size; off += chunk) {
		for (size_t i = 0; i < chunk / 8; i++)
			buf[i] = (off / 8 + i) * 0x9e3779b97f4a7c15ull;
		size_t n = size - off < chunk ? (size_t)(size - off) : chunk;
		if (pwrite(fd, buf, n, (off_t)off) != (ssize_t)n) {
			free(buf);
			close(fd);
			unlink(tmp);
			return -1;
		}
	}
	free(buf);
	close(fd);
	return rename(tmp, path);
}

static volatile uint64_t sink;

static double eager(const char *path, uint64_t size)
{
	double t0 = now_ms();
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (fd < 0 || mem == MAP_FAILED)
		return -1;
	for (uint64_t done = 0; done < size;) {
		ssize_t n = pread(fd, mem + done, size - done < (8u << 20) ? size - done : (8u << 20),
				  (off_t)done);
		if (n <= 0)
			return -1;
		done += (uint64_t)n;
	}
	uint64_t s = 0;
	for (uint64_t off = 0; off < size; off += (uint64_t)psize)
		s += (unsigned char)mem[off];
	double t = now_ms() - t0;
	sink = s;
	close(fd);
	munmap(mem, size);
	return t;
}

static double lazy(const char *path, uint64_t size, enum uffd_backend b)
{
	double t0 = now_ms();
	struct uffd_pager_config cfg = { .backend = b, .threads = 1,
					 .readahead = UFFD_PAGER_READAHEAD_DEFAULT };
	struct uffd_pager *p = uffd_pager_create(&cfg);
	struct uffd_source *src = uffd_source_file(path, 0);
	struct uffd_region *r = p && src ? uffd_pager_map(p, src, size, 0, 0) : NULL;
	if (!r)
		return -1;
	const char *mem = uffd_region_addr(r);
	uint64_t s = 0;
	for (uint64_t off = 0; off < size; off += (uint64_t)psize)
		s += (unsigned char)mem[off];
	double t = now_ms() - t0;
	sink = s;
	uffd_pager_destroy(p);
	uffd_source_close(src);
	return t;
}

static void report(const char *what, double *v, int n, double *median)
{
	qsort(v, (size_t)n, sizeof(*v), cmp);
	*median = v[n / 2];
	printf("  %-22s %8.0f %8.0f %8.0f", what, v[0], v[n / 2], v[n - 1]);
}

static int fill(void *ctx, uint64_t off, void *page, size_t len)
{
	(void)ctx;
	memset(page, (int)(off >> 12) | 1, len);
	return 0;
}

struct toucher { pthread_t th; char *mem; uint64_t npages; unsigned seed; };

static void *touch(void *arg)
{
	struct toucher *t = arg;
	uint64_t x = t->seed * 0x9e3779b97f4a7c15ull + 1, s = 0;
	for (uint64_t k = 0; k < t->npages / 4; k++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		s += (unsigned char)t->mem[(x % t->npages) * (uint64_t)psize];
	}
	sink = s;
	return NULL;
}

static double faults_per_s(enum uffd_backend b, unsigned threads, uint64_t *faults)
{
	const uint64_t size = 64u << 20, npages = size / (uint64_t)psize;
	struct uffd_pager_config cfg = { .backend = b, .threads = threads };
	struct uffd_pager *p = uffd_pager_create(&cfg);
	struct uffd_source *src = uffd_source_callback(fill, NULL, size);
	struct uffd_region *r = p && src ? uffd_pager_map(p, src, size, 0, 0) : NULL;
	if (!r)
		return -1;
	struct toucher t[4];
	double t0 = now_ms();
	for (unsigned i = 0; i < 4; i++) {
		t[i] = (struct toucher){ .mem = uffd_region_addr(r), .npages = npages, .seed = i + 1 };
		pthread_create(&t[i].th, NULL, touch, &t[i]);
	}
	for (unsigned i = 0; i < 4; i++)
		pthread_join(t[i].th, NULL);
	double ms = now_ms() - t0;
	struct uffd_pager_stats st;
	uffd_pager_stats(p, &st);
	*faults = st.pages_filled;
	uffd_pager_destroy(p);
	uffd_source_close(src);
	return (double)st.pages_filled / (ms / 1e3);
}

int main(void)
{
	psize = sysconf(_SC_PAGESIZE);
	const char *env = getenv("PAGER_BENCH_SIZE");
	uint64_t size = env ? strtoull(env, NULL, 0) : 1ull << 30;
	size -= size % (uint64_t)psize;
	env = getenv("PAGER_BENCH_REPS");
	int reps = env ? atoi(env) : 5;
	if (reps < 1 || reps > 50)
		reps = 5;
	char path[128];
	snprintf(path, sizeof(path), "/var/tmp/libuffd-bench/restore-%lluM.img",
		 (unsigned long long)(size >> 20));
	if (make_file(path, size) < 0) {
		fprintf(stderr, "pager-restore: cannot make %s: %s\n", path, strerror(errno));
		return 1;
	}
	int have[3] = { 1, 0, 0 };
	static const enum uffd_backend bk[] = { UFFD_BACKEND_KERNEL, UFFD_BACKEND_USER };
	for (int i = 0; i < 2; i++) {
		struct uffd_backend_info info;
		have[1 + i] = uffd_backend_probe(bk[i], 0, &info) == 0 && info.available;
	}
	printf("pager restore of %llu MiB (%s), sequential, %d runs after a warm-up; ms:\n",
	       (unsigned long long)(size >> 20), path, reps);
	printf("  %-22s %8s %8s %8s  %s\n", "restore", "best", "median", "max", "lazy/eager");
	double v[3][50], med[3] = { 0 };
	eager(path, size);                   /* warm-up: the file into the page cache */
	for (int k = 0; k < reps; k++)         /* interleaved: noise hits each alike */
		for (int m = 0; m < 3; m++)
			if (have[m])
				v[m][k] = m ? lazy(path, size, bk[m - 1]) : eager(path, size);
	const char *names[] = { "eager (pread)", "lazy, kernel", "lazy, user" };
	for (int m = 0; m < 3; m++) {
		if (!have[m]) {
			printf("  %-22s unavailable\n", names[m]);
			continue;
		}
		report(names[m], v[m], reps, &med[m]);
		if (m && med[0] > 0)
			printf("  %.2fx", med[m] / med[0]);
		printf("\n");
	}
	printf("\nfaults/s: 4 threads touching 64 MiB at random, no readahead, callback source\n");
	printf("  %-10s %12s %12s %12s\n", "backend", "1 thread", "2 threads", "4 threads");
	for (int i = 0; i < 2; i++) {
		if (!have[1 + i])
			continue;
		printf("  %-10s", uffd_backend_name(bk[i]));
		for (unsigned th = 1; th <= 4; th *= 2) {
			uint64_t n;
			double fps = faults_per_s(bk[i], th, &n);
			printf(" %12.0f", fps);
		}
		printf("\n");
	}
	return 0;
}
