/* SPDX-License-Identifier: MIT */
/* Store URLs: redis://HOST:PORT[,HOST:PORT...]/ID[?timeout=MS&retries=N&inflight=N&cache=BYTES]
 * and memcached://... alike.  Several Redis hosts are Cluster seed nodes; several
 * memcached hosts are the servers keys are spread over. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

int store_id_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > STORE_ID_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '_' || s[i] == '-'))
			return 0;
	return 1;
}

static int fail(char *err, size_t errlen, const char *what, const char *url)
{
	snprintf(err, errlen, "%s in '%s'", what, url);
	return -EINVAL;
}

static int parse_int(const char *s, size_t n, long lo, long hi, long *out)
{
	char tmp[24], *end;

	if (n == 0 || n >= sizeof(tmp))
		return -1;
	memcpy(tmp, s, n);
	tmp[n] = 0;
	errno = 0;
	long v = strtol(tmp, &end, 10);
	if (errno || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static int parse_hosts(const char *s, size_t n, struct store_url *u)
{
	while (n > 0) {
		const char *comma = memchr(s, ',', n);
		size_t hl = comma ? (size_t)(comma - s) : n;
		const char *colon = memrchr(s, ':', hl);
		long port;

		if (u->nhosts == STORE_MAX_HOSTS || !colon || colon == s ||
		    (size_t)(colon - s) >= sizeof(u->hosts[0].host) ||
		    parse_int(colon + 1, hl - (colon + 1 - s), 1, 65535, &port))
			return -1;
		memcpy(u->hosts[u->nhosts].host, s, colon - s);
		u->hosts[u->nhosts].host[colon - s] = 0;
		u->hosts[u->nhosts].port = (int)port;
		u->nhosts++;
		if (!comma)
			break;
		n -= hl + 1;
		s = comma + 1;
		if (n == 0)
			return -1;
	}
	return u->nhosts ? 0 : -1;
}

static int parse_query(const char *q, struct store_url *u)
{
	while (*q) {
		const char *amp = strchr(q, '&');
		size_t n = amp ? (size_t)(amp - q) : strlen(q);
		const char *eq = memchr(q, '=', n);
		long v;

		if (!eq)
			return -1;
		size_t kl = eq - q, vl = n - kl - 1;
		if (kl == 7 && !memcmp(q, "timeout", 7) && !parse_int(eq + 1, vl, 1, 3600000, &v))
			u->timeout_ms = (int)v;
		else if (kl == 7 && !memcmp(q, "retries", 7) && !parse_int(eq + 1, vl, 0, 20, &v))
			u->retries = (int)v;
		else if (kl == 8 && !memcmp(q, "inflight", 8) && !parse_int(eq + 1, vl, 1, 1024, &v))
			u->inflight = (int)v;
		else if (kl == 5 && !memcmp(q, "cache", 5) && !parse_int(eq + 1, vl, 0, 1L << 34, &v))
			u->cache = v;
		else
			return -1;
		q += n + (amp ? 1 : 0);
	}
	return 0;
}

int store_url_parse(const char *url, struct store_url *u, char *err, size_t errlen)
{
	const char *p;

	memset(u, 0, sizeof(*u));
	u->timeout_ms = 2000;
	u->retries = 4;
	u->inflight = 32;
	u->cache = 8L << 20;
	if (!strncmp(url, "redis://", 8)) {
		u->kind = STORE_REDIS;
		p = url + 8;
	} else if (!strncmp(url, "memcached://", 12)) {
		u->kind = STORE_MEMCACHED;
		p = url + 12;
	} else {
		return fail(err, errlen, "not a redis:// or memcached:// URL", url);
	}
	size_t hl = strcspn(p, "/?");
	if (parse_hosts(p, hl, u))
		return fail(err, errlen, "bad HOST:PORT list", url);
	p += hl;
	if (*p == '/') {
		size_t il = strcspn(++p, "?");
		if (il > STORE_ID_MAX)
			return fail(err, errlen, "image id too long", url);
		memcpy(u->id, p, il);
		u->id[il] = 0;
		if (il && !store_id_valid(u->id))
			return fail(err, errlen, "bad image id (A-Z a-z 0-9 . _ - only)", url);
		p += il;
	}
	if (*p == '?' && parse_query(p + 1, u))
		return fail(err, errlen, "bad option (timeout=MS, retries=N, inflight=N, cache=BYTES)", url);
	return 0;
}
