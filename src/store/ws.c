/* SPDX-License-Identifier: MIT */
/*
 * Working-set records beside an image: the page list uffd_region_record()
 * gives, kept in the store (key uffd:ID:ws) or in a file, compactly:
 *
 *     uffd-ws 1\n pages N\n \n   then N varints
 *
 * each the zigzag of (page - previous page - 1), LEB128: a sequential run
 * costs a byte a page, a scattered one two or three.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "uffd/store.h"
#include "kv.h"

static __thread char why[256];

static int encode(const uint64_t *pages, size_t n, unsigned char **out, size_t *len)
{
	unsigned char *b = malloc(64 + n * 10), *p;
	uint64_t prev = UINT64_MAX;   /* so that page 0 first is a delta of 0 */

	if (!b)
		return -ENOMEM;
	p = b + sprintf((char *)b, "uffd-ws 1\npages %zu\n\n", n);
	for (size_t i = 0; i < n; i++) {
		int64_t d = (int64_t)(pages[i] - prev - 1);
		uint64_t z = ((uint64_t)d << 1) ^ (uint64_t)(d >> 63);
		do {
			*p++ = (z & 0x7f) | (z > 0x7f ? 0x80 : 0);
			z >>= 7;
		} while (z);
		prev = pages[i];
	}
	*out = b;
	*len = p - b;
	return 0;
}

static int decode(const unsigned char *b, size_t len, uint64_t **pages, size_t *n)
{
	const unsigned char *end = memmem(b, len, "\n\n", 2), *p;
	size_t count;
	int used = 0;
	char text[64];

	if (!end || end - b >= (long)sizeof(text))
		return -EIO;
	memcpy(text, b, end - b);
	text[end - b] = 0;
	if (sscanf(text, "uffd-ws 1\npages %zu%n", &count, &used) != 1 || used != end - b ||
	    count > len)
		return -EIO;
	uint64_t *v = malloc((count ? count : 1) * sizeof(*v)), prev = UINT64_MAX;
	if (!v)
		return -ENOMEM;
	p = end + 2;
	for (size_t i = 0; i < count; i++) {
		uint64_t z = 0;
		int shift = 0;
		do {
			if (p == b + len || shift > 63) {
				free(v);
				return -EIO;
			}
			z |= (uint64_t)(*p & 0x7f) << shift;
			shift += 7;
		} while (*p++ & 0x80);
		int64_t d = (int64_t)(z >> 1) ^ -(int64_t)(z & 1);
		prev = prev + 1 + (uint64_t)d;
		v[i] = prev;
	}
	if (p != b + len) {
		free(v);
		return -EIO;
	}
	*pages = v;
	*n = count;
	return 0;
}

static int is_url(const char *where)
{
	return strstr(where, "://") != NULL;
}

static int store_key(const char *where, struct store_url *u, char *key, size_t len)
{
	int ret = store_url_parse(where, u, why, sizeof(why));

	if (ret)
		return ret;
	if (!u->id[0]) {
		snprintf(why, sizeof(why), "'%s' names no image", where);
		return -EINVAL;
	}
	return store_key_ws(key, len, u->id) < 0 ? -ENAMETOOLONG : 0;
}

static int fail(int err)
{
	if (!why[0])
		snprintf(why, sizeof(why), "%s", strerror(err));
	errno = err;
	return -1;
}

const char *uffd_ws_strerror(void)
{
	return why;
}

int uffd_ws_save(const char *where, const uint64_t *pages, size_t n)
{
	unsigned char *buf;
	size_t len;
	int ret;

	why[0] = 0;
	if (!where || (!pages && n))
		return fail(EINVAL);
	if ((ret = encode(pages, n, &buf, &len)))
		return fail(-ret);
	if (is_url(where)) {
		struct store_url u;
		struct kv *kv;
		char key[STORE_KEY_MAX];
		if (!(ret = store_key(where, &u, key, sizeof(key))) &&
		    !(ret = kv_open(&u, &kv, why, sizeof(why)))) {
			ret = kv_put1(kv, key, buf, len);
			if (ret && kv->why[0])
				snprintf(why, sizeof(why), "%s", kv->why);
			kv->ops->close(kv);
		}
	} else {
		int fd = open(where, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		ret = fd < 0 ? -errno : write(fd, buf, len) == (ssize_t)len ? 0 : -EIO;
		if (fd >= 0 && close(fd) && !ret)
			ret = -errno;
	}
	free(buf);
	return ret ? fail(-ret) : 0;
}

int uffd_ws_load(const char *where, uint64_t **pages, size_t *n)
{
	unsigned char *buf = NULL;
	size_t len = 0;
	int ret;

	why[0] = 0;
	if (!where || !pages || !n)
		return fail(EINVAL);
	if (is_url(where)) {
		struct store_url u;
		struct kv *kv;
		char key[STORE_KEY_MAX];
		if ((ret = store_key(where, &u, key, sizeof(key))) ||
		    (ret = kv_open(&u, &kv, why, sizeof(why))))
			return fail(-ret);
		size_t cap = 1 << 20;
		for (;;) {
			unsigned char *nb = realloc(buf, cap);
			if (!nb) {
				ret = -ENOMEM;
				break;
			}
			buf = nb;
			ret = kv_get1(kv, key, buf, cap, &len);
			if (ret || len <= cap)
				break;
			cap = len;
		}
		if (ret == -ENOENT)
			snprintf(why, sizeof(why), "no working set for image '%s'", u.id);
		kv->ops->close(kv);
	} else {
		int fd = open(where, O_RDONLY | O_CLOEXEC);
		struct stat st;
		ret = fd < 0 || fstat(fd, &st) ? -errno : 0;
		if (!ret && !(buf = malloc(st.st_size ? st.st_size : 1)))
			ret = -ENOMEM;
		if (!ret)
			ret = read(fd, buf, st.st_size) == st.st_size ? 0 : -EIO;
		len = ret ? 0 : (size_t)st.st_size;
		if (fd >= 0)
			close(fd);
	}
	if (!ret && (ret = decode(buf, len, pages, n)) == -EIO)
		snprintf(why, sizeof(why), "malformed working-set record");
	free(buf);
	return ret ? fail(-ret) : 0;
}
