/* SPDX-License-Identifier: MIT */
/* The pager's counters and its fault-latency histogram: 16 buckets per
 * power of two (a quantile within 1/16 of its value). */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "pager.h"

uint64_t pager_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static unsigned bucket_of(uint64_t ns)
{
	if (ns < 32)
		return (unsigned)ns;
	unsigned e = 63u - (unsigned)__builtin_clzll(ns);    /* >= 5 */
	unsigned b = 32 + (e - 5) * 16 + (unsigned)((ns >> (e - 4)) & 15);
	return b < LAT_BUCKETS ? b : LAT_BUCKETS - 1;
}

/* The middle of a bucket's values. */
static uint64_t bucket_value(unsigned b)
{
	if (b < 32)
		return b;
	unsigned e = (b - 32) / 16 + 5, m = (b - 32) % 16;
	uint64_t lo = (uint64_t)(16 + m) << (e - 4);
	return lo + ((1ull << (e - 4)) >> 1);
}

void pager_lat_record(struct pager_stats *s, uint64_t ns)
{
	atomic_fetch_add_explicit(&s->lat[bucket_of(ns)], 1, memory_order_relaxed);
}

#define LOAD(x) atomic_load_explicit(&(x), memory_order_relaxed)

static void add(struct uffd_pager_stats *o, uint64_t *lat, const struct pager_stats *s)
{
	o->faults += LOAD(s->faults);
	o->faults_skipped += LOAD(s->skipped);
	o->wp_faults += LOAD(s->wp_faults);
	o->pages_filled += LOAD(s->filled);
	o->pages_read_ahead += LOAD(s->read_ahead);
	o->bytes_read += LOAD(s->bytes);
	o->errors += LOAD(s->errors);
	o->pages_written += LOAD(s->written);
	o->pages_prefetched += LOAD(s->prefetched);
	o->prefetch_bytes += LOAD(s->prefetch_bytes);
	o->prefetch_late += LOAD(s->prefetch_late);
	for (unsigned b = 0; b < LAT_BUCKETS; b++)
		lat[b] += LOAD(s->lat[b]);
}

static uint64_t quantile(const uint64_t *lat, uint64_t total, unsigned pct)
{
	if (!total)
		return 0;
	uint64_t want = (total * pct + 99) / 100, seen = 0;
	for (unsigned b = 0; b < LAT_BUCKETS; b++) {
		seen += lat[b];
		if (seen >= want)
			return bucket_value(b);
	}
	return bucket_value(LAT_BUCKETS - 1);
}

int uffd_pager_stats(const struct uffd_pager *p, struct uffd_pager_stats *out)
{
	uint64_t lat[LAT_BUCKETS] = { 0 }, total = 0;

	if (!p || !out) {
		errno = EINVAL;
		return -1;
	}
	memset(out, 0, sizeof(*out));
	add(out, lat, &p->stats);
	for (unsigned i = 0; i < p->nthreads; i++)
		add(out, lat, &p->threads[i].stats);
	for (unsigned b = 0; b < LAT_BUCKETS; b++)
		total += lat[b];
	out->latency_p50_ns = quantile(lat, total, 50);
	out->latency_p99_ns = quantile(lat, total, 99);
	return 0;
}
