/*
 * SPDX-License-Identifier: MIT
 *
 * An image in a Redis Cluster of three redis-server processes: its chunks
 * spread over every node, read back through one seed address (the slot map
 * from CLUSTER SLOTS); a slot being migrated (ASK: ASKING, then the key at
 * the importing node), a slot moved (MOVED: the map follows); and reads
 * while `redis-cli --cluster reshard` moves slots under them.
 */
#include <hiredis.h>
#include <sys/wait.h>

#include "harness.h"
#include "redis.h"
#include "servers.h"
#include "simage.h"
#include "uffd/store.h"

static redisContext *node(const struct t_server *s)
{
	redisContext *c = redisConnect("127.0.0.1", s->port);

	T_ASSERT(c && !c->err);
	return c;
}

static void cmd_ok(redisContext *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	redisReply *r = redisvCommand(c, fmt, ap);
	va_end(ap);
	if (!r || r->type == REDIS_REPLY_ERROR)
		T_FATAL("redis: %s failed: %s", fmt, r ? r->str : c->errstr);
	freeReplyObject(r);
}

static void my_id(redisContext *c, char *id)
{
	redisReply *r = redisCommand(c, "CLUSTER MYID");

	T_ASSERT(r && r->type == REDIS_REPLY_STRING && r->len < 64);
	strcpy(id, r->str);
	freeReplyObject(r);
}

static long long integer(redisContext *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	redisReply *r = redisvCommand(c, fmt, ap);
	va_end(ap);
	T_ASSERT(r && r->type == REDIS_REPLY_INTEGER);
	long long v = r->integer;
	freeReplyObject(r);
	return v;
}

static uint64_t redirects(struct store_image *im)
{
	return atomic_load(&im->kv->stats.redirects);
}

static void scenario(void)
{
	struct t_server s[3];
	redisContext *c[3];
	char ids[3][64], url[128], nocache[128], key[STORE_KEY_MAX];
	const uint64_t size = 4u << 20;   /* 256 chunks of 16 KiB */
	int fd = t_image_file(size, 5, 0, 0);

	t_redis_cluster_start(s, 3);
	for (int i = 0; i < 3; i++) {
		c[i] = node(&s[i]);
		my_id(c[i], ids[i]);
	}
	snprintf(url, sizeof(url), "%s/img", s[0].url);
	T_EXPECT(uffd_image_push(url, fd, 16384) == 0);
	for (int i = 0; i < 3; i++)
		T_EXPECT(integer(c[i], "DBSIZE") > 10);   /* spread over every node */
	T_EXPECT_EQ(t_image_compare(url, fd), 0);

	/* Chunk 0's slot, its owner (src) and another node (dst). */
	store_key_chunk(key, sizeof(key), "img", 16384, 0);
	unsigned slot = rkv_key_slot(key, strlen(key));
	T_EXPECT_EQ(slot, integer(c[0], "CLUSTER KEYSLOT %s", key));
	int src = -1;
	for (int i = 0; i < 3; i++)
		if (integer(c[i], "CLUSTER COUNTKEYSINSLOT %u", slot) > 0)
			src = i;
	T_ASSERT(src >= 0);
	int dst = (src + 1) % 3;
	struct store_image *before = t_image_open(url);   /* its map: slot at src */

	/* Migrating: the key has moved to dst, the slot still belongs to src. */
	cmd_ok(c[dst], "CLUSTER SETSLOT %u IMPORTING %s", slot, ids[src]);
	cmd_ok(c[src], "CLUSTER SETSLOT %u MIGRATING %s", slot, ids[dst]);
	cmd_ok(c[src], "MIGRATE 127.0.0.1 %d %s 0 5000", s[dst].port, key);
	struct store_image *im = t_image_open(url);
	unsigned char *page = malloc(t_page), *want = malloc(t_page);
	T_ASSERT(page && want && pread(fd, want, t_page, 0) == t_page);
	T_EXPECT_EQ(store_image_read(im, 0, page, t_page), 0);
	T_EXPECT(memcmp(page, want, t_page) == 0);
	T_EXPECT(redirects(im) >= 1);                     /* ASK */
	store_image_close(im);

	/* Moved for good: a reader whose map is older gets MOVED and follows. */
	for (int i = 0; i < 3; i++)
		cmd_ok(c[i], "CLUSTER SETSLOT %u NODE %s", slot, ids[dst]);
	T_EXPECT_EQ(store_image_read(before, 0, page, t_page), 0);
	T_EXPECT(memcmp(page, want, t_page) == 0);
	T_EXPECT(redirects(before) >= 1);                 /* MOVED */
	store_image_close(before);

	/* Resharding while reading: 600 slots from every node to node 0. */
	char from0[32], to[70];
	snprintf(from0, sizeof(from0), "127.0.0.1:%d", s[1].port);
	snprintf(to, sizeof(to), "%s", ids[0]);
	snprintf(nocache, sizeof(nocache), "%s/img?cache=0", s[0].url);
	struct store_image *old = t_image_open(nocache);
	pid_t pid = fork();
	T_ASSERT(pid >= 0);
	if (pid == 0) {
		int nul = open("/dev/null", O_WRONLY);
		dup2(nul, 1);
		dup2(nul, 2);
		execlp("redis-cli", "redis-cli", "--cluster", "reshard", from0, "--cluster-from", "all",
		       "--cluster-to", to, "--cluster-slots", "600", "--cluster-yes",
		       (char *)NULL);
		_exit(127);
	}
	int status, rounds = 0;
	long bad = 0;
	do {
		bad += t_image_compare(nocache, fd);
		rounds++;
	} while (waitpid(pid, &status, WNOHANG) == 0);
	T_EXPECT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	T_EXPECT_EQ(bad, 0);
	T_EXPECT(rounds >= 1);
	/* A reader whose map predates the resharding reads every page right,
	 * following the redirects of the slots that moved. */
	for (uint64_t off = 0; off < size; off += t_page) {
		T_ASSERT(pread(fd, want, t_page, off) == t_page);
		if (store_image_read(old, off, page, t_page) || memcmp(page, want, t_page))
			bad++;
	}
	T_EXPECT_EQ(bad, 0);
	T_EXPECT(redirects(old) >= 1);
	store_image_close(old);

	free(page);
	free(want);
	for (int i = 0; i < 3; i++) {
		redisFree(c[i]);
		t_server_stop(&s[i]);
	}
	close(fd);
}

T_MAIN("store-redis-cluster", scenario)
