/* SPDX-License-Identifier: MIT */
/*
 * A damaged image never reads as wrong data: a corrupted chunk, a missing
 * chunk, a chunk of the wrong length, a header whose image is longer than
 * what is stored, and a malformed header all fail the reads over them with
 * EIO (which the pager turns into SIGBUS), while the rest of the image
 * still reads; reads past the end are ENODATA.  Redis and memcached.
 */
#include "harness.h"
#include "servers.h"
#include "simage.h"
#include "uffd/store.h"

static struct kv *raw(const char *base)
{
	struct store_url u;
	struct kv *kv;
	char why[256];

	T_ASSERT(store_url_parse(base, &u, why, sizeof(why)) == 0);
	T_ASSERT(kv_open(&u, &kv, why, sizeof(why)) == 0);
	return kv;
}

/* Read the page at off: 0 or -errno, recording the outcome. */
static int read_page(struct store_image *im, const char *what, uint64_t off, int fd)
{
	unsigned char *got = malloc(t_page), *want = calloc(1, t_page);
	int ret = store_image_read(im, off, got, t_page);

	T_ASSERT(got && want);
	if (!ret && pread(fd, want, t_page, off) >= 0 && memcmp(got, want, t_page))
		t_fail_at(__FILE__, __LINE__, "%s: page at %llu read wrong data", what,
			  (unsigned long long)off);
	T_OBS("%s: %s", what, ret ? t_errname(-ret) : "ok");
	free(got);
	free(want);
	return ret;
}

static void one_store(const char *name, const char *base)
{
	const uint64_t size = 2u << 20;   /* 32 chunks of 64 KiB */
	int fd = t_image_file(size, 3, 0, 0);
	const char *url = t_image_url(base, "bad");
	struct kv *kv = raw(base);
	char key[STORE_KEY_MAX], why[256];
	unsigned char *chunk = malloc(65536 + 1);
	size_t len;

	T_OBS("%s", name);
	T_ASSERT(chunk && uffd_image_push(url, fd, 65536) == 0);
	/* Chunk 3: one byte flipped.  Chunk 5: gone.  Chunk 7: a byte short,
	 * chunk 9: a byte long (each with a checksum that would match). */
	store_key_chunk(key, sizeof(key), "bad", 65536, 3);
	T_ASSERT(kv_get1(kv, key, chunk, 65536, &len) == 0 && len == 65536);
	chunk[100] ^= 1;
	T_ASSERT(kv_put1(kv, key, chunk, 65536) == 0);
	store_key_chunk(key, sizeof(key), "bad", 65536, 5);
	T_ASSERT(kv_del1(kv, key) == 0);
	store_key_chunk(key, sizeof(key), "bad", 65536, 7);
	T_ASSERT(kv_get1(kv, key, chunk, 65536, &len) == 0);
	T_ASSERT(kv_put1(kv, key, chunk, 65535) == 0);
	store_key_chunk(key, sizeof(key), "bad", 65536, 9);
	T_ASSERT(kv_get1(kv, key, chunk, 65536, &len) == 0);
	chunk[65536] = 0;
	T_ASSERT(kv_put1(kv, key, chunk, 65537) == 0);

	struct store_image *im = t_image_open(url);
	T_EXPECT_EQ(read_page(im, "corrupted chunk", 3 * 65536 + 4096, fd), -EIO);
	store_image_why(im, why, sizeof(why));
	T_EXPECT(strstr(why, "checksum"));
	T_EXPECT_EQ(read_page(im, "missing chunk", 5 * 65536, fd), -EIO);
	store_image_why(im, why, sizeof(why));
	T_EXPECT(strstr(why, "missing"));
	T_EXPECT_EQ(read_page(im, "short chunk", 7 * 65536 + 8192, fd), -EIO);
	T_EXPECT_EQ(read_page(im, "long chunk", 9 * 65536 + 8192, fd), -EIO);
	T_EXPECT_EQ(read_page(im, "good chunk", 4 * 65536, fd), 0);
	T_EXPECT_EQ(read_page(im, "past the end", size, fd), -ENODATA);

	/* One batch over good and bad chunks: only the bad extents fail. */
	unsigned char *buf = malloc(4 * t_page);
	struct store_req r[4] = {
		{ .off = 2 * 65536, .buf = buf, .len = t_page },
		{ .off = 3 * 65536, .buf = buf + t_page, .len = t_page },
		{ .off = 6 * 65536 - t_page, .buf = buf + 2 * t_page, .len = 2 * t_page },
	};
	T_EXPECT_EQ(store_image_read_batch(im, r, 3), 0);
	T_EXPECT_EQ(r[0].result, 0);
	T_EXPECT_EQ(r[1].result, -EIO);
	T_EXPECT_EQ(r[2].result, -EIO);   /* its second page is in chunk 6, its first in 5 */
	store_image_close(im);

	/* A short image: the header says 2 MiB, the second half is not there. */
	for (int i = 16; i < 32; i++) {
		store_key_chunk(key, sizeof(key), "bad", 65536, i);
		kv_del1(kv, key);
	}
	im = t_image_open(url);
	T_EXPECT_EQ(read_page(im, "short image, first half", 65536, fd), 0);
	T_EXPECT_EQ(read_page(im, "short image, second half", 20 * 65536, fd), -EIO);
	store_image_close(im);

	/* A malformed header: the image does not open. */
	store_key_header(key, sizeof(key), "bad");
	T_ASSERT(kv_put1(kv, key, "uffd-image 1\nsize 12\n\n", 22) == 0);
	T_EXPECT_EQ(store_image_open(url, &im, why, sizeof(why)), -EIO);
	T_EXPECT_EQ(store_image_open(t_image_url(base, "none"), &im, why, sizeof(why)), -ENOENT);

	kv->ops->close(kv);
	free(chunk);
	free(buf);
	close(fd);
}

static void scenario(void)
{
	struct t_server r, m;

	t_redis_start(&r, NULL);
	one_store("redis", r.url);
	t_server_stop(&r);
	t_memcached_start(&m);
	one_store("memcached", m.url);
	t_server_stop(&m);
}

T_MAIN("store-image-errors", scenario)
