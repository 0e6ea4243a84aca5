/* SPDX-License-Identifier: MIT */
/* Opening a store by URL kind, and one-item helpers over the batch calls. */
#include <errno.h>
#include <string.h>

#include "kv.h"

int kv_open(const struct store_url *u, struct kv **out, char *why, size_t whylen)
{
	if (u->kind == STORE_REDIS)
		return kv_redis_open(u, out, why, whylen);
	return kv_memcached_open(u, out, why, whylen);
}

int kv_get1(struct kv *kv, const char *key, void *buf, size_t cap, size_t *len)
{
	struct kv_item it = { .key = key, .klen = strlen(key), .buf = buf, .cap = cap };
	int ret = kv->ops->get(kv, &it, 1);

	*len = it.len;
	return ret ? ret : it.result;
}

int kv_put1(struct kv *kv, const char *key, const void *val, size_t len)
{
	struct kv_item it = { .key = key, .klen = strlen(key), .buf = (void *)val, .cap = len };
	int ret = kv->ops->put(kv, &it, 1);

	return ret ? ret : it.result;
}

int kv_del1(struct kv *kv, const char *key)
{
	struct kv_item it = { .key = key, .klen = strlen(key) };
	int ret = kv->ops->del(kv, &it, 1);

	return ret ? ret : it.result;
}
