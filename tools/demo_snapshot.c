/* SPDX-License-Identifier: MIT */
/*
 * The demo's memory snapshot: page i holds 64-bit words derived from i
 * alone (a different pattern on every page, so a page in the wrong place or
 * a page of zeros shows), written once to a cache folder and reused.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "demo.h"

static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static void page_fill(void *page, uint64_t idx, long psize)
{
	uint64_t *w = page, seed = mix(idx);

	for (size_t j = 0; j < (size_t)psize / 8; j++)
		w[j] = seed ^ (j * 0x9e3779b97f4a7c15ull);
}

int demo_page_ok(const void *page, uint64_t idx, long psize)
{
	const uint64_t *w = page;
	uint64_t seed = mix(idx), bad = 0;

	for (size_t j = 0; j < (size_t)psize / 8; j++)
		bad |= w[j] ^ (seed ^ (j * 0x9e3779b97f4a7c15ull));
	return bad == 0;
}

static int mkdirs(char *path)
{
	for (char *s = path + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = 0;
		int r = mkdir(path, 0755);
		*s = '/';
		if (r < 0 && errno != EEXIST)
			return -errno;
	}
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int demo_snapshot_path(char *buf, size_t len, uint64_t size)
{
	const char *xdg = getenv("XDG_CACHE_HOME");
	char dir[4096];

	if (xdg && *xdg == '/')
		snprintf(dir, sizeof(dir), "%s/libuffd", xdg);
	else
		snprintf(dir, sizeof(dir), "/var/tmp/libuffd-demo");
	int r = mkdirs(dir);
	if (r < 0)
		return r;
	if ((size_t)snprintf(buf, len, "%s/snapshot-%lluK.img", dir,
			     (unsigned long long)(size >> 10)) >= len)
		return -ENAMETOOLONG;
	return 0;
}

/* A file already there: the right size, and its first, middle and last
 * pages hold their content. */
static int looks_right(const char *path, uint64_t size, long page)
{
	struct stat st;
	int ok = 0, fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	char *buf = malloc((size_t)page);
	if (buf && fstat(fd, &st) == 0 && (uint64_t)st.st_size == size) {
		uint64_t n = size / (uint64_t)page, probe[3] = { 0, n / 2, n - 1 };
		ok = 1;
		for (int i = 0; i < 3 && ok; i++)
			ok = pread(fd, buf, (size_t)page, (off_t)(probe[i] * (uint64_t)page)) == page &&
			     demo_page_ok(buf, probe[i], page);
	}
	free(buf);
	close(fd);
	return ok;
}

int demo_snapshot_make(const char *path, uint64_t size, long page, int *created, double *secs)
{
	double t0 = demo_now_ms();
	*created = 0;
	if (looks_right(path, size, page)) {
		*secs = (demo_now_ms() - t0) / 1000;
		return 0;
	}
	/* Written under a name of its own, renamed when complete: a run at
	 * the same time never reads a half-written snapshot. */
	char tmp[4200];
	snprintf(tmp, sizeof(tmp), "%s.%d.tmp", path, (int)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	const size_t chunk = 8u << 20;
	char *buf = malloc(chunk);
	int err = buf ? 0 : -ENOMEM;
	const uint64_t npages = size / (uint64_t)page, per = chunk / (size_t)page;
	for (uint64_t pg = 0; pg < npages && !err; pg += per) {
		uint64_t n = npages - pg < per ? npages - pg : per;
		for (uint64_t i = 0; i < n; i++)
			page_fill(buf + i * (size_t)page, pg + i, page);
		size_t len = (size_t)n * (size_t)page, done = 0;
		while (done < len && !err) {
			ssize_t w = pwrite(fd, buf + done, len - done, (off_t)(pg * (uint64_t)page + done));
			if (w < 0 && errno != EINTR)
				err = -errno;
			else if (w > 0)
				done += (size_t)w;
		}
		demo_progress("creating the snapshot", pg + n, npages);
	}
	demo_progress_end();
	free(buf);
	if (close(fd) < 0 && !err)
		err = -errno;
	if (!err && rename(tmp, path) < 0)
		err = -errno;
	if (err) {
		unlink(tmp);
		return err;
	}
	*created = 1;
	*secs = (demo_now_ms() - t0) / 1000;
	return 0;
}
