/* SPDX-License-Identifier: MIT */
/*
 * Redis Cluster routing, per the cluster specification: a key's slot is
 * CRC16(key) mod 16384 (XMODEM CRC16; only the {hash tag} when there is a
 * non-empty one); CLUSTER SLOTS gives the owners; "-MOVED slot host:port"
 * means the slot moved for good (update the map, go there), "-ASK slot
 * host:port" that this one key is being migrated (send ASKING then the command
 * to that node, once, leaving the map alone); TRYAGAIN and CLUSTERDOWN are
 * retried after a pause.  hiredis has no cluster support: this file is it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "redis.h"

static uint16_t crc16(const char *buf, size_t len)
{
	uint16_t crc = 0;

	for (size_t i = 0; i < len; i++) {
		crc ^= (uint16_t)(unsigned char)buf[i] << 8;
		for (int k = 0; k < 8; k++)
			crc = crc & 0x8000 ? (uint16_t)(crc << 1) ^ 0x1021 : (uint16_t)(crc << 1);
	}
	return crc;
}

unsigned rkv_key_slot(const char *key, size_t len)
{
	const char *open = memchr(key, '{', len);

	if (open) {
		size_t rest = len - (open + 1 - key);
		const char *close = memchr(open + 1, '}', rest);
		if (close && close > open + 1)
			return crc16(open + 1, close - open - 1) & (RKV_NSLOTS - 1);
	}
	return crc16(key, len) & (RKV_NSLOTS - 1);
}

int rkv_load_slots(struct rkv *r, redisContext *c, const struct rnode *seed)
{
	redisReply *rep = redisCommand(c, "CLUSTER SLOTS");
	int ret = -EIO;

	if (!rep)
		return -EIO;
	if (rep->type == REDIS_REPLY_ERROR) {
		ret = 0;   /* "ERR This instance has cluster support disabled" */
		goto out;
	}
	if (rep->type != REDIS_REPLY_ARRAY)
		goto out;
	for (size_t i = 0; i < rep->elements; i++) {
		redisReply *e = rep->element[i];
		if (e->type != REDIS_REPLY_ARRAY || e->elements < 3 ||
		    e->element[0]->type != REDIS_REPLY_INTEGER ||
		    e->element[1]->type != REDIS_REPLY_INTEGER ||
		    e->element[2]->type != REDIS_REPLY_ARRAY || e->element[2]->elements < 2)
			goto out;
		long long lo = e->element[0]->integer, hi = e->element[1]->integer;
		redisReply *m = e->element[2];
		if (lo < 0 || hi >= RKV_NSLOTS || lo > hi || m->element[0]->type != REDIS_REPLY_STRING ||
		    m->element[1]->type != REDIS_REPLY_INTEGER)
			goto out;
		/* An empty host means "the address you reached me on". */
		const char *host = m->element[0]->len ? m->element[0]->str : seed->host;
		int n = rkv_node(r, host, (int)m->element[1]->integer);
		if (n < 0)
			goto out;
		for (long long s = lo; s <= hi; s++)
			atomic_store(&r->slots[s], (uint16_t)n);
	}
	ret = 1;
out:
	freeReplyObject(rep);
	return ret;
}

int rkv_route(struct rkv *r, const char *key, size_t len)
{
	if (!r->cluster)
		return 0;
	uint16_t n = atomic_load(&r->slots[rkv_key_slot(key, len)]);
	return n == RKV_NO_NODE ? 0 : n;
}

static int prefix(const char *s, size_t len, const char *p)
{
	size_t n = strlen(p);
	return len >= n && !memcmp(s, p, n);
}

int rkv_redirect(struct rkv *r, const char *err, size_t len, int *node)
{
	int kind;

	if (prefix(err, len, "MOVED "))
		kind = 1;
	else if (prefix(err, len, "ASK "))
		kind = 2;
	else if (prefix(err, len, "TRYAGAIN") || prefix(err, len, "CLUSTERDOWN"))
		return 3;
	else
		return 0;
	/* "MOVED 3999 127.0.0.1:6381" */
	char buf[300];
	if (len >= sizeof(buf))
		return 0;
	memcpy(buf, err, len);
	buf[len] = 0;
	char *sp = strchr(buf, ' '), *addr = sp ? strchr(sp + 1, ' ') : NULL;
	char *colon = addr ? strrchr(addr, ':') : NULL;
	if (!colon)
		return 0;
	long slot = strtol(sp + 1, NULL, 10);
	*colon = 0;
	int n = rkv_node(r, addr + 1, atoi(colon + 1));
	if (n < 0 || slot < 0 || slot >= RKV_NSLOTS)
		return 0;
	if (kind == 1)
		atomic_store(&r->slots[slot], (uint16_t)n);
	*node = n;
	return kind;
}
