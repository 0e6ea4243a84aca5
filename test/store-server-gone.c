/*
 * SPDX-License-Identifier: MIT
 *
 * The store misbehaving mid-restore: a stopped (unresponsive) server makes
 * reads fail with EIO after the URL's timeout and retries instead of hanging;
 * a slow server (stopped while a read waits, then resumed) is waited for; a
 * killed server fails reads with EIO and says why; once a server is back on
 * its address the same image reads again (reconnect).  Redis and memcached.
 */
#include <pthread.h>
#include <signal.h>

#include "harness.h"
#include "servers.h"
#include "simage.h"
#include "uffd/store.h"

static int read_at(struct store_image *im, uint64_t off)
{
	unsigned char *buf = malloc(t_page);
	int ret = store_image_read(im, off, buf, t_page);

	free(buf);
	return ret;
}

struct slow { struct store_image *im; int ret; };

static void *slow_reader(void *arg)
{
	struct slow *s = arg;

	s->ret = read_at(s->im, 40 * 65536);
	return NULL;
}

static void one_store(const char *name, struct t_server *srv)
{
	const uint64_t size = 4u << 20;   /* 64 chunks */
	int fd = t_image_file(size, 11, 0, 0);
	char url[256], why[256];

	T_OBS("%s", name);
	snprintf(url, sizeof(url), "%s/gone", srv->url);
	T_ASSERT(uffd_image_push(url, fd, 65536) == 0);

	/* Timeouts: 300 ms a request, 2 retries, for the unresponsive cases. */
	snprintf(url, sizeof(url), "%s/gone?timeout=300&retries=2", srv->url);
	struct store_image *im = t_image_open(url);
	T_EXPECT_EQ(read_at(im, 0), 0);

	t_server_pause(srv);
	T_EXPECT_EQ(read_at(im, 10 * 65536), -EIO);
	store_image_why(im, why, sizeof(why));
	T_EXPECT(why[0] != 0);
	t_server_resume(srv);
	T_EXPECT_EQ(read_at(im, 11 * 65536), 0);
	store_image_close(im);

	/* Slow: the read is sent to a stopped server, which then resumes. */
	snprintf(url, sizeof(url), "%s/gone?timeout=20000", srv->url);
	struct slow s = { .im = t_image_open(url) };
	pthread_t t;
	t_server_pause(srv);
	uint64_t before = atomic_load(&s.im->kv->stats.requests);
	T_ASSERT(pthread_create(&t, NULL, slow_reader, &s) == 0);
	while (atomic_load(&s.im->kv->stats.requests) == before)
		sched_yield();   /* until the request is on its way */
	t_server_resume(srv);
	pthread_join(t, NULL);
	T_EXPECT_EQ(s.ret, 0);
	store_image_close(s.im);

	/* Killed. */
	snprintf(url, sizeof(url), "%s/gone?timeout=300&retries=2", srv->url);
	im = t_image_open(url);
	T_EXPECT_EQ(read_at(im, 20 * 65536), 0);
	t_server_kill(srv);
	T_EXPECT_EQ(read_at(im, 21 * 65536), -EIO);
	store_image_why(im, why, sizeof(why));
	T_EXPECT(why[0] != 0);

	/* Back, with the image pushed again: the same reader reconnects. */
	t_server_restart(srv);
	snprintf(url, sizeof(url), "%s/gone", srv->url);
	T_ASSERT(uffd_image_push(url, fd, 65536) == 0);
	T_EXPECT_EQ(read_at(im, 22 * 65536), 0);
	T_EXPECT(atomic_load(&im->kv->stats.reconnects) > 0);
	store_image_close(im);
	close(fd);
}

static void scenario(void)
{
	struct t_server r, m;

	t_redis_start(&r, NULL);
	one_store("redis", &r);
	t_server_stop(&r);
	t_memcached_start(&m);
	one_store("memcached", &m);
	t_server_stop(&m);
}

T_MAIN("store-server-gone", scenario)
