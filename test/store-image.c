/* SPDX-License-Identifier: MIT */
/*
 * Images in Redis and in memcached (two servers): push, read every page back
 * (single reads and batches; a tail shorter than a page, chunks of zeros that
 * are not stored), pull, list, push again with another chunk size (the old
 * chunks go), remove (nothing stays behind).
 */
#include "harness.h"
#include "servers.h"
#include "simage.h"
#include "uffd/store.h"

static int count_ids(void *ctx, const struct uffd_image_info *in)
{
	long *n = ctx;

	if (!strcmp(in->id, "img") && !in->error)
		*n = (long)in->size;
	return 0;
}

/* How many of image id's chunk keys each server holds (memcached: by asking
 * each server alone). */
static long keys_on(const char *base, const char *id, uint32_t chunk, uint64_t nchunks)
{
	struct store_url u;
	struct kv *kv;
	char why[256], key[STORE_KEY_MAX], buf[8];
	long n = 0;
	size_t len;

	T_ASSERT(store_url_parse(base, &u, why, sizeof(why)) == 0);
	T_ASSERT(kv_open(&u, &kv, why, sizeof(why)) == 0);
	for (uint64_t i = 0; i < nchunks; i++) {
		store_key_chunk(key, sizeof(key), id, chunk, i);
		n += kv_get1(kv, key, buf, sizeof(buf), &len) == 0;
	}
	kv->ops->close(kv);
	return n;
}

static void one_store(const char *name, const char *base, const struct t_server *each, int nservers)
{
	const uint64_t size = (3u << 20) + 5 * 4096 + 100;   /* 774 pages, the last short */
	int fd = t_image_file(size, 7, 200, 300);            /* chunks 13-17 (64 KiB) are zeros */
	const char *url = t_image_url(base, "img");
	long listed = 0;

	T_OBS("%s: push = %d", name, uffd_image_push(url, fd, 0));
	T_EXPECT_EQ(t_image_compare(url, fd), 0);
	T_EXPECT(uffd_image_list(base, count_ids, &listed) == 0);
	T_EXPECT_EQ(listed, size);

	int out = memfd_create("pulled", MFD_CLOEXEC);
	T_EXPECT(uffd_image_pull(url, out) == 0);
	T_EXPECT_EQ(lseek(out, 0, SEEK_END), size);
	T_EXPECT_EQ(t_image_compare(url, out), 0);
	close(out);

	/* Page by page in order: each stored chunk fetched once, its other
	 * pages read from the image's chunk cache. */
	struct store_image *im = t_image_open(url);
	unsigned char *pg = malloc(t_page);
	long bad = 0;
	for (uint64_t off = 0; off < size; off += t_page)
		bad += store_image_read(im, off, pg, t_page) != 0;
	T_OBS("%s: page by page: %ld failed, %lu chunks fetched, %lu from the cache", name, bad,
	      (unsigned long)atomic_load(&im->chunks_fetched),
	      (unsigned long)atomic_load(&im->cache_hits));
	T_EXPECT_EQ(atomic_load(&im->chunks_fetched), 49 - 5);
	store_image_close(im);
	free(pg);

	/* 49 chunks of 64 KiB; the 5 of zeros (pages 208-287, chunks 13-17) are
	 * not stored; the rest of pages 200-299 shares chunks with data. */
	long total = 0;
	for (int s = 0; s < nservers; s++) {
		long k = keys_on(each[s].url, "img", 65536, 49);
		T_EXPECT(nservers == 1 || k > 0);   /* consistent hashing spreads them */
		total += k;
	}
	T_EXPECT_EQ(total, 49 - 5);

	/* Again with 16 KiB chunks: readable, and no 64 KiB chunk is left. */
	T_OBS("%s: push 16k = %d", name, uffd_image_push(url, fd, 16384));
	T_EXPECT_EQ(t_image_compare(url, fd), 0);
	total = 0;
	for (int s = 0; s < nservers; s++)
		total += keys_on(each[s].url, "img", 65536, 49);
	T_EXPECT_EQ(total, 0);

	T_OBS("%s: rm = %d", name, uffd_image_remove(url));
	T_EXPECT_EQ(t_image_compare(url, fd), -1);
	total = 0;
	for (int s = 0; s < nservers; s++)
		total += keys_on(each[s].url, "img", 16384, 194);
	T_EXPECT_EQ(total, 0);
	errno = 0;
	T_OBS("%s: rm again = %d %s", name, uffd_image_remove(url), t_errname(errno));
	listed = 0;
	T_EXPECT(uffd_image_list(base, count_ids, &listed) == 0);
	T_EXPECT_EQ(listed, 0);

	/* Bad input. */
	errno = 0;
	T_EXPECT_EQ(uffd_image_push(url, fd, 1000), -1);
	T_OBS("%s: chunk 1000: %s", name, t_errname(errno));
	T_EXPECT_EQ(uffd_image_push(base, fd, 0), -1);
	T_OBS("%s: no id: %s", name, t_errname(errno));
	close(fd);
}

static void scenario(void)
{
	struct t_server r, m[2];
	char base[160];

	t_redis_start(&r, NULL);
	one_store("redis", r.url, &r, 1);
	t_server_stop(&r);

	t_memcached_start(&m[0]);
	t_memcached_start(&m[1]);
	snprintf(base, sizeof(base), "memcached://127.0.0.1:%d,127.0.0.1:%d", m[0].port, m[1].port);
	one_store("memcached", base, m, 2);
	t_server_stop(&m[0]);
	t_server_stop(&m[1]);
}

T_MAIN("store-image", scenario)
