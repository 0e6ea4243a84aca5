/*
 * SPDX-License-Identifier: MIT
 *
 * Record and prefetch against a store: a restore from Redis and from
 * memcached records its working set, which is saved beside the image (key
 * uffd:ID:ws) and in a file and loaded back unchanged; the next restore
 * prefetches it and the workload then faults on none of its pages.  A push
 * of the image drops its record, as does rm; a malformed record is EIO.
 */
#include "harness.h"
#include "pager_help.h"
#include "servers.h"
#include "simage.h"
#include "uffd/store.h"

#define NPAGES 1024
#define NSET   200

static int touch_set(char *m, const uint64_t *set)
{
	int wrong = 0;
	char v;

	for (size_t i = 0; i < NSET; i++)
		if (tp_touch(m + set[i] * (size_t)t_page, 0, &v, NULL) ||
		    !t_check(m + set[i] * (size_t)t_page, (size_t)t_page, TP_SEED(set[i])))
			wrong++;
	return wrong;
}

static void one_store(struct uffd_pager *p, const char *name, const char *base)
{
	int fd = t_image_file(NPAGES * (uint64_t)t_page, TP_SEED(0), 0, 0);
	char url[256], file[] = "/tmp/uffd-ws-XXXXXX";
	uint64_t set[NSET], rec[NPAGES], *back = NULL;
	size_t n = 0;
	struct uffd_pager_stats a, b;

	T_OBS("%s", name);
	for (size_t i = 0; i < NSET; i++)
		set[i] = (i * 389 + 5) % NPAGES;
	snprintf(url, sizeof(url), "%s/ws", base);
	T_ASSERT(uffd_image_push(url, fd, 65536) == 0);

	struct uffd_source *src = uffd_source_open(url);
	T_ASSERT(src);
	struct uffd_region *r = uffd_pager_map(p, src, NPAGES * (size_t)t_page, 0, 0);
	T_ASSERT(r && uffd_region_record_start(r) == 0);
	T_EXPECT_EQ(touch_set(uffd_region_addr(r), set), 0);
	T_EXPECT_EQ(uffd_region_record(r, rec, NPAGES), NSET);
	T_EXPECT_OK(uffd_region_unmap(r));

	/* Saved and loaded, in the store and in a file. */
	T_EXPECT_OK(uffd_ws_save(url, rec, NSET));
	T_EXPECT_OK(uffd_ws_load(url, &back, &n));
	T_EXPECT_EQ(n, NSET);
	T_EXPECT(back && memcmp(back, set, sizeof(set)) == 0);
	free(back);
	int tf = mkstemp(file);
	T_ASSERT(tf >= 0);
	close(tf);
	T_EXPECT_OK(uffd_ws_save(file, rec, NSET));
	back = NULL;
	T_EXPECT_OK(uffd_ws_load(file, &back, &n));
	T_EXPECT(n == NSET && back && memcmp(back, set, sizeof(set)) == 0);
	free(back);
	T_ASSERT(truncate(file, 30) == 0);   /* cut inside the varints */
	T_EXPECT_ERR(uffd_ws_load(file, &back, &n), EIO);
	unlink(file);

	/* The next restore prefetches it: no fault on the working set. */
	T_EXPECT_OK(uffd_ws_load(url, &back, &n));
	r = uffd_pager_map(p, src, NPAGES * (size_t)t_page, 0, 0);
	T_ASSERT(r);
	uffd_pager_stats(p, &a);
	T_EXPECT_OK(uffd_region_prefetch(r, back, n, 2));
	T_EXPECT_OK(uffd_region_prefetch_wait(r));
	T_EXPECT_EQ(touch_set(uffd_region_addr(r), set), 0);
	uffd_pager_stats(p, &b);
	T_EXPECT_EQ(b.faults - a.faults, 0);
	T_EXPECT_EQ(b.pages_prefetched - a.pages_prefetched, NSET);
	T_EXPECT_OK(uffd_region_unmap(r));
	free(back);
	uffd_source_close(src);

	/* A new push drops the record; so does rm. */
	T_ASSERT(uffd_image_push(url, fd, 65536) == 0);
	T_EXPECT_ERR(uffd_ws_load(url, &back, &n), ENOENT);
	T_EXPECT_OK(uffd_ws_save(url, rec, NSET));
	T_ASSERT(uffd_image_remove(url) == 0);
	T_EXPECT_ERR(uffd_ws_load(url, &back, &n), ENOENT);
	close(fd);
}

static void scenario(void)
{
	struct t_server r, m;
	struct uffd_pager *p = tp_pager(2, 0, 0);

	t_redis_start(&r, NULL);
	one_store(p, "redis", r.url);
	t_server_stop(&r);
	t_memcached_start(&m);
	one_store(p, "memcached", m.url);
	t_server_stop(&m);
	uffd_pager_destroy(p);
}

T_MAIN("store-prefetch", scenario)
