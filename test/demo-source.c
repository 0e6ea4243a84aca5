/* SPDX-License-Identifier: MIT */
/*
 * `uffd demo --source URL` against a Redis server and two memcached servers
 * this test starts: the first run finds no image and pushes the demo's
 * snapshot, the second reuses it; each restores it eagerly, then cold
 * (recording) and warm (prefetching the record) on this half's backend,
 * checks every byte and exits 0.  Its JSON accounts for every page of the
 * working set: the cold record holds them all; in the warm restore each was
 * a prefetch hit, a fault or read ahead, and no more hits than pages
 * prefetched.  Timings are printed, never checked.
 */
#include <ftw.h>
#include <libgen.h>
#include <sys/wait.h>

#include "harness.h"
#include "servers.h"

static char out[16384];

/* The number after "key": in the row named name (-1 when absent). */
static long long field(const char *name, const char *key)
{
	char pat[96];
	snprintf(pat, sizeof(pat), "\"name\":\"%s\"", name);
	const char *row = strstr(out, pat), *end = row ? strchr(row, '}') : NULL;
	snprintf(pat, sizeof(pat), "\"%s\":", key);
	const char *at = row ? strstr(row, pat) : NULL;
	if (!at || at > end)
		return -1;
	return strtoll(at + strlen(pat), NULL, 10);
}

static int ran(const char *name)
{
	char pat[96];
	snprintf(pat, sizeof(pat), "\"name\":\"%s\",\"lazy\":%s,\"ran\":true", name,
		 strncmp(name, "eager", 5) ? "true" : "false");
	return strstr(out, pat) != NULL;
}

/* Run the demo on url; 1 when it exited 0. */
static int demo(const char *url, const char *cache)
{
	char exe[4096], cmd[8600];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	T_ASSERT(n > 0);
	exe[n] = 0;
	snprintf(cmd, sizeof(cmd), "XDG_CACHE_HOME=%s %s/../uffd demo --source %s --size 8M "
		 "--backend %s --json 2>&1", cache, dirname(exe), url, uffd_backend_name(t_backend));
	FILE *f = popen(cmd, "r");
	T_ASSERT(f);
	size_t len = fread(out, 1, sizeof(out) - 1, f);
	out[len] = 0;
	int status = pclose(f);
	if (strstr(out, "without libuffd-store"))
		t_skip("uffd was built without libuffd-store (hiredis, libmemcached)");
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static void one_store(const char *name, const char *base, const char *cache)
{
	char url[256], cold[32], warm[32];
	const char *b = uffd_backend_name(t_backend);

	snprintf(url, sizeof(url), "%s/demo", base);
	snprintf(cold, sizeof(cold), "cold, %s", b);
	snprintf(warm, sizeof(warm), "warm, %s", b);
	for (int run = 0; run < 2; run++) {
		int ok = demo(url, cache);
		int pushed = strstr(out, "\"pushed\":true") != NULL;
		int matched = strstr(out, "\"every_byte_matched\":true") != NULL;
		long long ws = field(cold, "working_set"), rec = field(cold, "recorded"),
			  wws = field(warm, "working_set"), hits = field(warm, "prefetch_hits"),
			  pf = field(warm, "pages_prefetched"), faults = field(warm, "faults"),
			  ra = field(warm, "pages_read_ahead"), net = field(warm, "net_bytes");
		int accounted = ws > 0 && wws == ws && rec >= ws && hits >= 0 && hits <= pf &&
				pf <= rec && hits + faults + ra >= ws && net > 0;
		T_OBS("%s, run %d: exit 0 %d, pushed %d, eager %d, cold %d, warm %d, matched %d, "
		      "accounted %d", name, run, ok, pushed, ran("eager (store)"), ran(cold),
		      ran(warm), matched, accounted);
		printf("# %s run %d: working set %lld, recorded %lld, warm: prefetched %lld, "
		       "hits %lld, faults %lld, read ahead %lld\n", name, run, ws, rec, pf, hits,
		       faults, ra);
		T_EXPECT(ok && matched && accounted);
		T_EXPECT_EQ(pushed, run == 0);
		T_EXPECT(ran("eager (store)") && ran(cold) && ran(warm));
		if (!(ok && matched && accounted))
			fprintf(stderr, "%s\n", out);
	}
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

static void scenario(void)
{
	struct t_server r, m[2];
	char cache[] = "/tmp/uffd-demo-source-XXXXXX", mc[160];

	int probe = uffd_open(O_CLOEXEC, t_backend);
	if (probe < 0)
		t_skip("%s backend unavailable: %s", uffd_backend_name(t_backend), uffd_strerror());
	close(probe);
	T_ASSERT(mkdtemp(cache));
	t_redis_start(&r, NULL);
	one_store("redis", r.url, cache);
	t_server_stop(&r);
	t_memcached_start(&m[0]);
	t_memcached_start(&m[1]);
	snprintf(mc, sizeof(mc), "memcached://127.0.0.1:%d,127.0.0.1:%d", m[0].port, m[1].port);
	one_store("memcached", mc, cache);
	t_server_stop(&m[0]);
	t_server_stop(&m[1]);
	nftw(cache, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

T_MAIN("demo-source", scenario)
