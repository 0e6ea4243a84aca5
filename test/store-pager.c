/*
 * SPDX-License-Identifier: MIT
 *
 * The pager restoring an image from Redis and from memcached (two servers),
 * opened with uffd_source_open("redis://...") and ("memcached://..."):
 * every page right when two threads touch them in their own orders (readahead
 * on); a corrupted chunk, a missing chunk and a short image (chunks past the
 * first 100 gone) raise SIGBUS in the thread that touches a page of theirs,
 * the rest still reads right; a server killed mid-restore makes the next
 * fault raise SIGBUS (no hang) and the pager count the error.
 */
#include "harness.h"
#include "pager_help.h"
#include "servers.h"
#include "simage.h"
#include "uffd/store.h"

#define NPAGES 2048   /* 8 MiB: 128 chunks of 64 KiB */

static char *base;

static int wrong_pages(const char *m, size_t from, size_t to)
{
	int wrong = 0;
	unsigned char zeros[4096] = { 0 };

	for (size_t i = from; i < to; i++) {
		const char *pg = m + i * (size_t)t_page;
		if (i >= 512 && i < 600 ? memcmp(pg, zeros, sizeof(zeros))
					: !t_check(pg, (size_t)t_page, TP_SEED(i)))
			wrong++;
	}
	return wrong;
}

/* Touch page pg: 1 if it raised SIGBUS. */
static int touch(char *m, size_t pg)
{
	char v;
	int code = 0;
	int s = tp_touch(m + pg * (size_t)t_page, 0, &v, &code);

	if (s)
		T_OBS("page %zu: SIGBUS si_code %d", pg, code);
	return s;
}

static struct uffd_region *map_url(struct uffd_pager *p, const char *url, struct uffd_source **src)
{
	*src = uffd_source_open(url);
	if (!*src)
		T_FATAL("uffd_source_open(%s): %s (%s)", url, t_errname(errno),
			uffd_source_store_strerror());
	T_EXPECT_EQ(uffd_source_size(*src), NPAGES * (uint64_t)t_page);
	struct uffd_region *r = uffd_pager_map(p, *src, NPAGES * (size_t)t_page, 0, 0);
	T_ASSERT(r);
	return r;
}

/* Regions with poisoned pages stay mapped to the end: on the user backend a
 * poisoned page outlives the munmap of its region (the README's limit
 * `madvise(MADV_DONTNEED) on a registered range`: munmap is not seen), and
 * the next region could be placed at the same address and inherit it. */
static struct { struct uffd_region *r; struct uffd_source *src; } keep[4];
static int nkeep;

static void one_store(struct uffd_pager *p, const char *name, const char *baseurl,
		      struct t_server *victims, int nvictims)
{
	int fd = t_image_file(NPAGES * (uint64_t)t_page, TP_SEED(0), 512, 600);
	char url[256], key[STORE_KEY_MAX];
	struct uffd_pager_stats st;
	struct uffd_source *src;

	T_OBS("%s", name);
	snprintf(url, sizeof(url), "%s/pg", baseurl);
	T_ASSERT(uffd_image_push(url, fd, 65536) == 0);

	/* Every page. */
	struct uffd_region *r = map_url(p, url, &src);
	base = uffd_region_addr(r);
	struct tp_sweep sw = { .base = base, .npages = NPAGES, .seed = 4321 };
	tp_threads(2, tp_sweep, &sw);
	T_EXPECT_EQ(sw.sigbus, 0);
	T_EXPECT_EQ(wrong_pages(base, 0, NPAGES), 0);
	uffd_pager_stats(p, &st);
	T_EXPECT_EQ(st.errors, 0);
	T_EXPECT_EQ(st.pages_filled, NPAGES);
	T_EXPECT_OK(uffd_region_unmap(r));
	uffd_source_close(src);

	/* Damage: chunk 3 corrupted, chunk 5 gone, chunks 100-127 gone. */
	struct store_url u;
	struct kv *kv;
	char why[256];
	unsigned char *chunk = malloc(65536);
	size_t len;
	T_ASSERT(chunk && store_url_parse(baseurl, &u, why, sizeof(why)) == 0);
	T_ASSERT(kv_open(&u, &kv, why, sizeof(why)) == 0);
	store_key_chunk(key, sizeof(key), "pg", 65536, 3);
	T_ASSERT(kv_get1(kv, key, chunk, 65536, &len) == 0);
	chunk[7] ^= 0x40;
	T_ASSERT(kv_put1(kv, key, chunk, 65536) == 0);
	store_key_chunk(key, sizeof(key), "pg", 65536, 5);
	T_ASSERT(kv_del1(kv, key) == 0);
	for (int i = 100; i < 128; i++) {
		store_key_chunk(key, sizeof(key), "pg", 65536, i);
		T_ASSERT(kv_del1(kv, key) == 0);
	}
	kv->ops->close(kv);
	free(chunk);
	r = map_url(p, url, &src);
	char *m = uffd_region_addr(r);
	T_EXPECT_EQ(touch(m, 40), 0);             /* chunk 2 */
	T_EXPECT_EQ(touch(m, 50), 1);             /* chunk 3: corrupted */
	T_EXPECT_EQ(touch(m, 70), 0);             /* chunk 4 */
	T_EXPECT_EQ(touch(m, 85), 1);             /* chunk 5: missing */
	T_EXPECT_EQ(touch(m, 1700), 1);           /* chunk 106: short image */
	T_EXPECT_EQ(touch(m, 1599), 0);           /* chunk 99 */
	T_EXPECT_EQ(wrong_pages(m, 40, 41) + wrong_pages(m, 70, 71) + wrong_pages(m, 1599, 1600), 0);
	uffd_pager_stats(p, &st);
	T_EXPECT_EQ(st.errors, 3);
	keep[nkeep].r = r;
	keep[nkeep++].src = src;

	/* The server killed mid-restore. */
	T_ASSERT(uffd_image_push(url, fd, 65536) == 0);
	snprintf(url, sizeof(url), "%s/pg?timeout=300&retries=1", baseurl);
	r = map_url(p, url, &src);
	m = uffd_region_addr(r);
	for (size_t i = 0; i < 100; i++)
		T_ASSERT(touch(m, i) == 0);
	T_EXPECT_EQ(wrong_pages(m, 0, 100), 0);
	for (int i = 0; i < nvictims; i++)
		t_server_kill(&victims[i]);
	T_EXPECT_EQ(touch(m, 1000), 1);
	uffd_pager_stats(p, &st);
	T_EXPECT_EQ(st.errors, 4);
	keep[nkeep].r = r;
	keep[nkeep++].src = src;
	close(fd);
	(void)p;   /* destroyed at the end, with the regions */
}

static void cleanup(struct uffd_pager **p, int n)
{
	for (int i = 0; i < nkeep; i++) {
		T_EXPECT_OK(uffd_region_unmap(keep[i].r));
		uffd_source_close(keep[i].src);
	}
	for (int i = 0; i < n; i++)
		uffd_pager_destroy(p[i]);
}

static void scenario(void)
{
	struct t_server r, m[2];
	struct uffd_pager *p[2];
	char mc[160];

	t_redis_start(&r, NULL);
	p[0] = tp_pager(2, UFFD_PAGER_READAHEAD_DEFAULT, 0);
	one_store(p[0], "redis", r.url, &r, 1);
	t_server_stop(&r);
	t_memcached_start(&m[0]);
	t_memcached_start(&m[1]);
	snprintf(mc, sizeof(mc), "memcached://127.0.0.1:%d,127.0.0.1:%d", m[0].port, m[1].port);
	p[1] = tp_pager(2, UFFD_PAGER_READAHEAD_DEFAULT, 0);
	one_store(p[1], "memcached", mc, m, 2);
	t_server_stop(&m[0]);
	t_server_stop(&m[1]);
	cleanup(p, 2);
}

T_MAIN("store-pager", scenario)
