/*
 * SPDX-License-Identifier: MIT
 *
 * The pager restoring an image from a Redis Cluster of three redis-server
 * processes: every page right when two threads touch them (readahead on); a
 * fault on a page whose chunk is being migrated (ASK) and, once the slot has
 * moved, on a region whose slot map is older (MOVED); restores while
 * `redis-cli --cluster reshard` moves 1000 slots, each page right and no
 * SIGBUS; and a region mapped before the resharding, touched after it,
 * follows the redirects.
 */
#include <sys/wait.h>

#include "harness.h"
#include "pager_help.h"
#include "rcluster.h"
#include "redis.h"
#include "simage.h"
#include "uffd/store.h"

#define NPAGES 2048   /* 8 MiB: 512 chunks of 16 KiB */
#define CHUNK  16384

/* What the restores saw (every page read, checked). */
static struct tp_sweep sw = { .npages = NPAGES, .seed = 777, .check = 1 };

struct restore {
	struct store_image *im;
	struct uffd_source *src;
	struct uffd_region *r;
};

static struct restore map(struct uffd_pager *p, const char *url)
{
	struct restore x;

	x.im = t_image_open(url);
	T_ASSERT((x.src = store_source(x.im)));
	T_ASSERT((x.r = uffd_pager_map(p, x.src, NPAGES * (size_t)t_page, 0, 0)));
	return x;
}

static void unmap(struct restore *x)
{
	T_EXPECT(uffd_region_unmap(x->r) == 0);   /* not an observable: the rounds vary */
	uffd_source_close(x->src);     /* closes the image */
}

/* Two threads touch every page of x (one in order, one at random). */
static void restore_all(struct restore *x)
{
	sw.base = uffd_region_addr(x->r);
	tp_threads(2, tp_sweep, &sw);
}

static uint64_t redirects(const struct restore *x)
{
	return atomic_load(&x->im->kv->stats.redirects);
}

static void scenario(void)
{
	struct t_server s[3];
	redisContext *c[3];
	char ids[3][64], url[128], key[STORE_KEY_MAX];
	int fd = t_image_file(NPAGES * (uint64_t)t_page, TP_SEED(0), 0, 0);
	struct uffd_pager_stats st;

	t_redis_cluster_start(s, 3);
	for (int i = 0; i < 3; i++) {
		c[i] = t_rc_node(&s[i]);
		t_rc_myid(c[i], ids[i]);
	}
	snprintf(url, sizeof(url), "%s/img?cache=0", s[0].url);
	T_ASSERT(uffd_image_push(url, fd, CHUNK) == 0);
	struct uffd_pager *p = tp_pager(2, UFFD_PAGER_READAHEAD_DEFAULT, 0);

	/* Every page, through one seed. */
	struct restore x = map(p, url);
	restore_all(&x);
	T_OBS("whole restore: %d SIGBUS, %d wrong pages", sw.sigbus, sw.wrong);
	T_EXPECT(sw.sigbus == 0 && sw.wrong == 0);
	unmap(&x);

	/* ASK: chunk 5's key moved, its slot not yet. */
	store_key_chunk(key, sizeof(key), "img", CHUNK, 5);
	unsigned slot = rkv_key_slot(key, strlen(key));
	int src = t_rc_owner(c, 3, slot), dst = (src + 1) % 3;
	struct restore stale = map(p, url);       /* its map: slot at src */
	x = map(p, url);
	t_rc_migrate_key(c, s, ids, src, dst, slot, key);
	char v;
	size_t pg = 5 * CHUNK / (size_t)t_page;
	char *m = uffd_region_addr(x.r) + pg * (size_t)t_page;
	T_EXPECT_EQ(tp_touch(m, 0, &v, NULL), 0);
	T_EXPECT(t_check(m, (size_t)t_page, TP_SEED(pg)));
	T_OBS("ASK: redirected %d", redirects(&x) >= 1);
	unmap(&x);
	/* MOVED: the slot is dst's now; the stale region follows. */
	t_rc_settle(c, 3, ids, slot, dst);
	m = uffd_region_addr(stale.r) + pg * (size_t)t_page;
	T_EXPECT_EQ(tp_touch(m, 0, &v, NULL), 0);
	T_EXPECT(t_check(m, (size_t)t_page, TP_SEED(pg)));
	T_OBS("MOVED: redirected %d", redirects(&stale) >= 1);
	unmap(&stale);

	/* Restores while 1000 slots move to node 0. */
	struct restore old = map(p, url);
	pid_t pid = t_rc_reshard(&s[1], ids[0], 1000);
	int status, rounds = 0;
	sw.sigbus = sw.wrong = 0;
	do {
		x = map(p, url);
		restore_all(&x);
		unmap(&x);
		rounds++;
	} while (waitpid(pid, &status, WNOHANG) == 0);
	T_EXPECT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	T_OBS("during the resharding: %d SIGBUS, %d wrong pages", sw.sigbus, sw.wrong);
	printf("# %d restores while resharding\n", rounds);
	/* A region mapped before: every page read after the slots moved. */
	restore_all(&old);
	T_OBS("mapped before the resharding: %d SIGBUS, %d wrong pages, redirected %d",
	      sw.sigbus, sw.wrong, redirects(&old) >= 1);
	unmap(&old);
	uffd_pager_stats(p, &st);
	T_EXPECT_EQ(st.errors, 0);
	T_EXPECT_EQ(sw.sigbus, 0);
	T_EXPECT_EQ(sw.wrong, 0);

	uffd_pager_destroy(p);
	for (int i = 0; i < 3; i++) {
		redisFree(c[i]);
		t_server_stop(&s[i]);
	}
	close(fd);
}

T_MAIN("store-cluster-pager", scenario)
