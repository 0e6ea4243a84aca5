/* SPDX-License-Identifier: MIT */
/* Zero-fill and user-callback sources. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "source.h"

static int zero_read(void *priv, uint64_t off, void *buf, size_t len)
{
	(void)priv;
	(void)off;
	memset(buf, 0, len);
	return 0;
}

static int zero_write(void *priv, uint64_t off, const void *buf, size_t len)
{
	(void)priv;
	(void)off;
	(void)buf;
	(void)len;
	return 0;
}

struct uffd_source *uffd_source_zero(uint64_t size)
{
	static const struct uffd_source_ops ops = { .read = zero_read, .write = zero_write };
	struct uffd_source *src = uffd_source_new(&ops, NULL, size);

	if (src)
		src->zero = 1;
	return src;
}

struct callback_src {
	int (*fill)(void *ctx, uint64_t offset, void *page, size_t len);
	void *ctx;
};

static int callback_read(void *priv, uint64_t off, void *buf, size_t len)
{
	struct callback_src *c = priv;
	int r = c->fill(c->ctx, off, buf, len);

	return r > 0 ? -EIO : r;
}

struct uffd_source *uffd_source_callback(int (*fill)(void *ctx, uint64_t offset,
						     void *page, size_t len),
					 void *ctx, uint64_t size)
{
	static const struct uffd_source_ops ops = { .read = callback_read, .close = free };

	if (!fill) {
		errno = EINVAL;
		return NULL;
	}
	struct callback_src *c = malloc(sizeof(*c));
	if (!c)
		return NULL;
	c->fill = fill;
	c->ctx = ctx;
	struct uffd_source *src = uffd_source_new(&ops, c, size);
	if (!src)
		free(c);
	return src;
}
