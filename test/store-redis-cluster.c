/*
 * SPDX-License-Identifier: MIT
 *
 * An image in a Redis Cluster of three redis-server processes: its chunks
 * spread over every node, read back through one seed address (the slot map
 * from CLUSTER SLOTS); a slot being migrated (ASK: ASKING, then the key at
 * the importing node), a slot moved (MOVED: the map follows); and reads
 * while `redis-cli --cluster reshard` moves slots under them.
 */
#include <sys/wait.h>

#include "harness.h"
#include "rcluster.h"
#include "redis.h"
#include "simage.h"
#include "uffd/store.h"

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
		c[i] = t_rc_node(&s[i]);
		t_rc_myid(c[i], ids[i]);
	}
	snprintf(url, sizeof(url), "%s/img", s[0].url);
	T_EXPECT(uffd_image_push(url, fd, 16384) == 0);
	for (int i = 0; i < 3; i++)
		T_EXPECT(t_rc_int(c[i], "DBSIZE") > 10);   /* spread over every node */
	T_EXPECT_EQ(t_image_compare(url, fd), 0);

	/* Chunk 0's slot, its owner (src) and another node (dst). */
	store_key_chunk(key, sizeof(key), "img", 16384, 0);
	unsigned slot = rkv_key_slot(key, strlen(key));
	T_EXPECT_EQ(slot, t_rc_int(c[0], "CLUSTER KEYSLOT %s", key));
	int src = t_rc_owner(c, 3, slot);
	int dst = (src + 1) % 3;
	struct store_image *before = t_image_open(url);   /* its map: slot at src */

	/* Migrating: the key has moved to dst, the slot still belongs to src. */
	t_rc_migrate_key(c, s, ids, src, dst, slot, key);
	struct store_image *im = t_image_open(url);
	unsigned char *page = malloc(t_page), *want = malloc(t_page);
	T_ASSERT(page && want && pread(fd, want, t_page, 0) == t_page);
	T_EXPECT_EQ(store_image_read(im, 0, page, t_page), 0);
	T_EXPECT(memcmp(page, want, t_page) == 0);
	T_EXPECT(redirects(im) >= 1);                     /* ASK */
	store_image_close(im);

	/* Moved for good: a reader whose map is older gets MOVED and follows. */
	t_rc_settle(c, 3, ids, slot, dst);
	T_EXPECT_EQ(store_image_read(before, 0, page, t_page), 0);
	T_EXPECT(memcmp(page, want, t_page) == 0);
	T_EXPECT(redirects(before) >= 1);                 /* MOVED */
	store_image_close(before);

	/* Resharding while reading: 600 slots from every node to node 0. */
	snprintf(nocache, sizeof(nocache), "%s/img?cache=0", s[0].url);
	struct store_image *old = t_image_open(nocache);
	pid_t pid = t_rc_reshard(&s[1], ids[0], 600);
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
