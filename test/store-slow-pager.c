/*
 * SPDX-License-Identifier: MIT
 *
 * A slow store: Redis, and memcached, behind a proxy that holds every reply
 * 5 ms.  A sequential restore of 1024 pages (64 KiB chunks) through the
 * pager: with readahead the workload waits on at most 1/16 of its pages
 * (a fault's window, doubling up to 256 pages, is fetched as one pipelined
 * batch), without readahead on every page; both read every page right.  The
 * pages per second of each are printed, never checked.
 */
#include <time.h>

#include "harness.h"
#include "pager_help.h"
#include "proxy.h"
#include "servers.h"
#include "simage.h"
#include "uffd/store.h"

#define NPAGES 1024
#define DELAY_MS 5

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Touch every page in order through a pager with readahead ra; the faults. */
static uint64_t restore(const char *url, unsigned ra, const char *what)
{
	struct uffd_pager *p = tp_pager(1, ra, 0);
	struct uffd_source *src = uffd_source_open(url);
	struct uffd_pager_stats st;
	int wrong = 0, sigbus = 0;
	char v;

	if (!src)
		T_FATAL("uffd_source_open(%s): %s", url, uffd_source_store_strerror());
	struct uffd_region *r = uffd_pager_map(p, src, NPAGES * (size_t)t_page, 0, 0);
	T_ASSERT(r);
	char *m = uffd_region_addr(r);
	double t0 = now_ms();
	for (size_t pg = 0; pg < NPAGES; pg++) {
		char *a = m + pg * (size_t)t_page;
		if (tp_touch(a, 0, &v, NULL))
			sigbus++;
		else if (!t_check(a, (size_t)t_page, TP_SEED(pg)))
			wrong++;
	}
	double ms = now_ms() - t0;
	uffd_pager_stats(p, &st);
	printf("# %s: %.0f pages/s, %llu faults\n", what, NPAGES / (ms / 1e3),
	       (unsigned long long)st.faults);
	T_EXPECT_EQ(sigbus, 0);
	T_EXPECT_EQ(wrong, 0);
	T_EXPECT_EQ(st.errors, 0);
	T_EXPECT_OK(uffd_region_unmap(r));
	uffd_source_close(src);
	uffd_pager_destroy(p);
	return st.faults;
}

static void one_store(const char *name, const char *direct, int port, char kind)
{
	struct t_proxy px;
	char url[160], what[64];
	int fd = t_image_file(NPAGES * (uint64_t)t_page, TP_SEED(0), 0, 0);

	snprintf(url, sizeof(url), "%s/slow", direct);
	T_ASSERT(uffd_image_push(url, fd, 65536) == 0);
	t_proxy_start(&px, port, DELAY_MS);
	snprintf(url, sizeof(url), "%s://127.0.0.1:%d/slow", kind == 'r' ? "redis" : "memcached",
		 px.port);
	snprintf(what, sizeof(what), "%s, readahead", name);
	uint64_t with = restore(url, UFFD_PAGER_READAHEAD_DEFAULT, what);
	snprintf(what, sizeof(what), "%s, no readahead", name);
	uint64_t without = restore(url, 0, what);
	T_OBS("%s: faults with readahead <= 1/16 of the pages: %d; without: %llu", name,
	      with <= NPAGES / 16, (unsigned long long)without);
	T_EXPECT(with <= NPAGES / 16);
	T_EXPECT_EQ(without, NPAGES);
	t_proxy_stop(&px);
	close(fd);
}

static void scenario(void)
{
	struct t_server r, m;

	t_redis_start(&r, NULL);
	one_store("redis", r.url, r.port, 'r');
	t_server_stop(&r);
	t_memcached_start(&m);
	one_store("memcached", m.url, m.port, 'm');
	t_server_stop(&m);
}

T_MAIN("store-slow-pager", scenario)
