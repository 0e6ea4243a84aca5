/* SPDX-License-Identifier: MIT */
/* What the bench scenarios share: clock, errors, memory, backends, page
 * contents, random orders, CPUs and /proc figures. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

struct bench_opts bench_opt;
size_t bench_page;

uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int bench_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return BENCH_FAILED;
}

void *bench_map(size_t len, bool noreserve)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | (noreserve ? MAP_NORESERVE : 0), -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	madvise(p, len, MADV_NOHUGEPAGE);
	return p;
}

enum uffd_backend bench_backend_id(int backend)
{
	return backend == B_KERNEL ? UFFD_BACKEND_KERNEL : UFFD_BACKEND_USER;
}

int bench_uffd(int backend, int flags, uint64_t features, void *base, size_t len,
	       uint64_t mode, char *err, size_t errlen)
{
	if (backend == B_KERNEL && bench_opt.umo)
		flags |= UFFD_USER_MODE_ONLY;
	int fd = uffd_open(flags, bench_backend_id(backend));
	if (fd < 0)
		return bench_err(err, errlen, "uffd_open: %s", uffd_strerror());
	struct uffdio_api api = { .api = UFFD_API, .features = features };
	if (uffd_ioctl(fd, UFFDIO_API, &api) < 0) {
		bench_err(err, errlen, "UFFDIO_API(0x%llx): %s",
			  (unsigned long long)features, strerror(errno));
		close(fd);
		return -1;
	}
	struct uffdio_register reg = {
		.range = { .start = (uintptr_t)base, .len = len }, .mode = mode,
	};
	if (len && uffd_ioctl(fd, UFFDIO_REGISTER, &reg) < 0) {
		bench_err(err, errlen, "UFFDIO_REGISTER: %s", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

uint64_t bench_stamp(size_t index)
{
	return (uint64_t)index * 0x9e3779b97f4a7c15ull ^ 0x5eedf00dcafe1234ull;
}

static unsigned char template_byte(size_t j)
{
	return (unsigned char)(j * 31 + 7 + (j >> 8));
}

void bench_page_fill(unsigned char *dst, size_t index)
{
	static unsigned char tpl[65536];
	static _Atomic int ready;

	if (!__atomic_load_n(&ready, __ATOMIC_ACQUIRE)) {
		for (size_t j = 0; j < sizeof(tpl); j++)
			tpl[j] = template_byte(j);
		__atomic_store_n(&ready, 1, __ATOMIC_RELEASE);
	}
	memcpy(dst, tpl, bench_page);
	uint64_t s = bench_stamp(index);
	memcpy(dst + 8, &s, sizeof(s));
}

bool bench_page_ok(const unsigned char *pg, size_t index, int first)
{
	uint64_t s = bench_stamp(index);

	if (first >= 0 && pg[0] != first)
		return false;
	if (first < 0 && pg[0] != template_byte(0))
		return false;
	if (memcmp(pg + 8, &s, sizeof(s)))
		return false;
	for (size_t j = 1; j < bench_page; j++)
		if ((j < 8 || j >= 16) && pg[j] != template_byte(j))
			return false;
	return true;
}

int bench_check_pages(const unsigned char *base, size_t pages, int first, char *err,
		      size_t errlen)
{
	for (size_t i = 0; i < pages; i++)
		if (!bench_page_ok(base + i * bench_page, i, first))
			return bench_err(err, errlen, "page %zu does not hold its content", i);
	return 0;
}

uint64_t bench_rand(uint64_t *state)
{
	/* xorshift64*: reproducible, no locks (threads keep their own state). */
	uint64_t x = *state;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545f4914f6cdd1dull;
}

size_t *bench_perm(size_t n, uint64_t seed)
{
	size_t *p = malloc(n * sizeof(*p));
	uint64_t st = seed | 1;

	if (!p)
		return NULL;
	for (size_t i = 0; i < n; i++)
		p[i] = i;
	for (size_t i = n; i > 1; i--) {
		size_t j = (size_t)(bench_rand(&st) % i), t = p[i - 1];
		p[i - 1] = p[j];
		p[j] = t;
	}
	return p;
}

void bench_cpus(int *here, int *other)
{
	cpu_set_t set;

	*here = sched_getcpu();
	*other = -1;
	if (sched_getaffinity(0, sizeof(set), &set) < 0)
		return;
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (c != *here && CPU_ISSET(c, &set)) {
			*other = c;
			break;
		}
}

int bench_pin(int cpu)
{
	static cpu_set_t all;
	static int saved;
	cpu_set_t set;

	if (!saved) {
		sched_getaffinity(0, sizeof(all), &all);
		saved = 1;
	}
	if (cpu < 0)
		set = all;
	else {
		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
	}
	return sched_setaffinity(0, sizeof(set), &set) < 0 ? -errno : 0;
}

long bench_maps_lines(void)
{
	FILE *f = fopen("/proc/self/maps", "re");
	long n = 0;
	int c;

	if (!f)
		return -1;
	while ((c = getc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

long bench_rss_kib(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[128];
	long kib = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmRSS:", 6))
			kib = strtol(line + 6, NULL, 10);
	fclose(f);
	return kib;
}
