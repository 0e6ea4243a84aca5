/* SPDX-License-Identifier: MIT */
/*
 * Prefetch hits (uffd_region_prefetch_hits): of the pages a workload touched,
 * those the prefetch installed before any fault asked for them.  One prefetch
 * thread fetches 64 pages (in growing batches), then a batch of 64 that the
 * source holds back until the test lets it go.  Touched: 32 of the first 64
 * (installed: hits), a page off the list (a fault: no hit), a page of the
 * held batch while it is in flight (the fault waits for the prefetch:
 * installed by it, but no hit), and one of the held batch once it is in (a
 * hit).  A region with no prefetch has no hits.
 */
#include <pthread.h>
#include <sched.h>

#include "pager_help.h"

#define NPAGES 256
#define GATE   100                /* the first page of the second batch */

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int reached, open_;

static int fill(void *ctx, uint64_t off, void *page, size_t len)
{
	(void)ctx;
	uint64_t first = off / (uint64_t)t_page, n = len / (size_t)t_page;

	if (first <= GATE && GATE < first + n) {
		pthread_mutex_lock(&lock);
		reached = 1;
		pthread_cond_broadcast(&cond);
		while (!open_)
			pthread_cond_wait(&cond, &lock);
		pthread_mutex_unlock(&lock);
	}
	for (uint64_t i = 0; i < n; i++)
		t_fill((char *)page + i * (size_t)t_page, (size_t)t_page, TP_SEED(first + i));
	return 0;
}

static int touch(char *m, uint64_t pg)
{
	char v;

	return tp_touch(m + pg * (size_t)t_page, 0, &v, NULL) ||
	       !t_check(m + pg * (size_t)t_page, (size_t)t_page, TP_SEED(pg));
}

static char *mem;
static _Atomic int late_wrong = -1;

static void *late_toucher(void *arg)
{
	(void)arg;
	late_wrong = touch(mem, GATE + 20);
	return NULL;
}

static void scenario(void)
{
	struct uffd_pager *p = tp_pager(1, 0, 0);
	struct uffd_source *src = uffd_source_callback(fill, NULL, NPAGES * (uint64_t)t_page);
	struct uffd_pager_stats st;
	uint64_t list[128], touched[40];
	size_t nt = 0;
	int wrong = 0;

	T_ASSERT(src);
	struct uffd_region *r = uffd_pager_map(p, src, NPAGES * (size_t)t_page, 0, 0);
	T_ASSERT(r);
	mem = uffd_region_addr(r);
	for (uint64_t i = 0; i < 64; i++) {
		list[i] = i;
		list[64 + i] = GATE + i;
	}
	T_EXPECT_OK(uffd_region_prefetch(r, list, 128, 1));
	/* The one prefetch thread reads the second batch once the first is in. */
	pthread_mutex_lock(&lock);
	while (!reached)
		pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);
	for (uint64_t pg = 0; pg < 32; pg++) {
		wrong += touch(mem, pg);
		touched[nt++] = pg;
	}
	wrong += touch(mem, 200);          /* off the list: a fault */
	touched[nt++] = 200;
	pthread_t t;
	T_ASSERT(pthread_create(&t, NULL, late_toucher, NULL) == 0);
	touched[nt++] = GATE + 20;
	/* Its fault has reached the handler, which left it to the prefetch. */
	do {
		sched_yield();
		uffd_pager_stats(p, &st);
	} while (st.prefetch_late == 0);
	pthread_mutex_lock(&lock);
	open_ = 1;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
	pthread_join(t, NULL);
	T_EXPECT_OK(uffd_region_prefetch_wait(r));
	wrong += late_wrong;
	wrong += touch(mem, GATE + 50);    /* in by now: a hit */
	touched[nt++] = GATE + 50;

	uffd_pager_stats(p, &st);
	size_t hits = uffd_region_prefetch_hits(r, touched, nt);
	T_OBS("prefetched %llu, late %llu, faults %llu, hits %zu of %zu touched, wrong %d",
	      (unsigned long long)st.pages_prefetched, (unsigned long long)st.prefetch_late,
	      (unsigned long long)st.faults, hits, nt, wrong);
	T_EXPECT_EQ(st.pages_prefetched, 128);
	T_EXPECT_EQ(st.prefetch_late, 1);
	T_EXPECT_EQ(st.faults, 2);
	T_EXPECT_EQ(hits, 33);
	T_EXPECT_EQ(wrong, 0);
	/* The page off the list and the one touched in flight: no hits. */
	T_EXPECT_EQ(uffd_region_prefetch_hits(r, touched + 32, 2), 0);
	T_EXPECT_OK(uffd_region_unmap(r));

	/* No prefetch: no hits. */
	r = uffd_pager_map(p, src, NPAGES * (size_t)t_page, 0, 0);
	T_ASSERT(r);
	mem = uffd_region_addr(r);
	T_EXPECT_EQ(touch(mem, 5), 0);
	uint64_t five = 5;
	T_EXPECT_EQ(uffd_region_prefetch_hits(r, &five, 1), 0);
	T_EXPECT_EQ(uffd_region_prefetch_hits(NULL, &five, 1), 0);
	T_EXPECT_OK(uffd_region_unmap(r));
	uffd_pager_destroy(p);
	uffd_source_close(src);
}

T_MAIN("pager-prefetch-hits", scenario)
