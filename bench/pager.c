/* SPDX-License-Identifier: MIT */
/*
 * The pager's scenarios.  pager-restore-*: a 1 GiB file (made once in
 * /var/tmp/libuffd-bench/, in the page cache after the first round, so this
 * measures the pager, not the disk) restored eagerly (pread(2) of the whole
 * file into anonymous memory) or lazily (uffd_pager_map(), one handler
 * thread, readahead up to 256 pages), then one read per page in order, each
 * page's first word checked: ms per restore.  pager-faults-N: 4 threads
 * touch the pages of a 64 MiB region at random, no readahead (every page a
 * fault), a callback source, N handler threads: faults served per second.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <uffd/pager.h>

#include "bench.h"

#define RESTORE_SIZE (1ull << 30)
#define RESTORE_PATH "/var/tmp/libuffd-bench/restore-1024M.img"
#define WORD(off) (((off) / 8) * 0x9e3779b97f4a7c15ull)

static int make_file(char *err, size_t errlen)
{
	struct stat st;

	if (stat(RESTORE_PATH, &st) == 0 && (uint64_t)st.st_size == RESTORE_SIZE)
		return 0;
	mkdir("/var/tmp/libuffd-bench", 0755);
	char tmp[128];
	snprintf(tmp, sizeof(tmp), "%s.%d", RESTORE_PATH, (int)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	const size_t chunk = 8u << 20;
	uint64_t *buf = malloc(chunk);
	int ok = fd >= 0 && buf;
	for (uint64_t off = 0; ok && off < RESTORE_SIZE; off += chunk) {
		for (size_t i = 0; i < chunk / 8; i++)
			buf[i] = WORD(off + i * 8);
		ok = pwrite(fd, buf, chunk, (off_t)off) == (ssize_t)chunk;
	}
	free(buf);
	if (fd >= 0)
		close(fd);
	if (!ok || rename(tmp, RESTORE_PATH) < 0) {
		unlink(tmp);
		return bench_err(err, errlen, "cannot make %s: %s", RESTORE_PATH, strerror(errno));
	}
	return 0;
}

/* One read per page in order, checking each page's first word. */
static int read_all(const char *mem, char *err, size_t errlen)
{
	for (uint64_t off = 0; off < RESTORE_SIZE; off += bench_page)
		if (*(const volatile uint64_t *)(mem + off) != WORD(off))
			return bench_err(err, errlen, "page at %llu holds the wrong bytes",
					 (unsigned long long)off);
	return 0;
}

int pager_restore_run(const struct scenario *s, int backend, struct sample *out, char *err,
		      size_t errlen)
{
	if (make_file(err, errlen) < 0)
		return BENCH_FAILED;
	uint64_t t0 = bench_now_ns();
	int ret;
	if (!s->arg) {          /* eager */
		int fd = open(RESTORE_PATH, O_RDONLY | O_CLOEXEC);
		char *mem = mmap(NULL, RESTORE_SIZE, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (fd < 0 || mem == MAP_FAILED) {
			if (fd >= 0)
				close(fd);
			return bench_err(err, errlen, "open/mmap: %s", strerror(errno));
		}
		ret = 0;
		for (uint64_t done = 0; done < RESTORE_SIZE && !ret;) {
			ssize_t n = pread(fd, mem + done, 8u << 20, (off_t)done);
			if (n <= 0)
				ret = bench_err(err, errlen, "pread: %s", n ? strerror(errno) : "short");
			else
				done += (uint64_t)n;
		}
		if (!ret)
			ret = read_all(mem, err, errlen);
		out->v = (double)(bench_now_ns() - t0) / 1e6;
		close(fd);
		munmap(mem, RESTORE_SIZE);
		return ret;
	}
	struct uffd_pager_config cfg = { .backend = bench_backend_id(backend), .threads = 1,
					 .readahead = UFFD_PAGER_READAHEAD_DEFAULT };
	struct uffd_pager *p = uffd_pager_create(&cfg);
	if (!p)
		return bench_err(err, errlen, "uffd_pager_create: %s", uffd_strerror());
	struct uffd_source *src = uffd_source_file(RESTORE_PATH, 0);
	struct uffd_region *r = src ? uffd_pager_map(p, src, RESTORE_SIZE, 0, 0) : NULL;
	if (!r) {
		ret = bench_err(err, errlen, "pager map: %s", strerror(errno));
	} else {
		ret = read_all(uffd_region_addr(r), err, errlen);
		out->v = (double)(bench_now_ns() - t0) / 1e6;
		struct uffd_pager_stats st;
		uffd_pager_stats(p, &st);
		out->x[0] = (double)(st.pages_filled - st.pages_read_ahead);
		out->x[1] = (double)st.pages_read_ahead;
	}
	uffd_pager_destroy(p);
	uffd_source_close(src);
	return ret;
}

static int fill(void *ctx, uint64_t off, void *page, size_t len)
{
	(void)ctx;
	for (size_t i = 0; i < len; i += bench_page)
		bench_page_fill((unsigned char *)page + i, (size_t)((off + i) / bench_page));
	return 0;
}

struct toucher {
	pthread_t th;
	const unsigned char *mem;
	size_t npages;
	uint64_t seed;
	int bad;
};

static void *touch(void *arg)
{
	struct toucher *t = arg;
	for (size_t k = 0; k < t->npages / 4; k++) {
		size_t pg = (size_t)(bench_rand(&t->seed) % t->npages);
		t->bad += !bench_page_ok(t->mem + pg * bench_page, pg, -1);
	}
	return NULL;
}

int pager_faults_run(const struct scenario *s, int backend, struct sample *out, char *err,
		     size_t errlen)
{
	const size_t len = 64u << 20, npages = len / bench_page;
	struct uffd_pager_config cfg = { .backend = bench_backend_id(backend),
					 .threads = (unsigned)(uintptr_t)s->arg };
	struct uffd_pager *p = uffd_pager_create(&cfg);
	if (!p)
		return bench_err(err, errlen, "uffd_pager_create: %s", uffd_strerror());
	struct uffd_source *src = uffd_source_callback(fill, NULL, len);
	struct uffd_region *r = src ? uffd_pager_map(p, src, len, 0, 0) : NULL;
	int ret = 0;
	if (!r) {
		ret = bench_err(err, errlen, "pager map: %s", strerror(errno));
		goto out;
	}
	struct toucher t[4];
	uint64_t t0 = bench_now_ns();
	for (int i = 0; i < 4; i++) {
		t[i] = (struct toucher){ .mem = uffd_region_addr(r), .npages = npages,
					 .seed = 0x9e3779b97f4a7c15ull * (uint64_t)(i + 1) };
		pthread_create(&t[i].th, NULL, touch, &t[i]);
	}
	int bad = 0;
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i].th, NULL);
		bad += t[i].bad;
	}
	double secs = (double)(bench_now_ns() - t0) / 1e9;
	struct uffd_pager_stats st;
	uffd_pager_stats(p, &st);
	out->v = (double)st.pages_filled / secs;
	out->x[0] = (double)st.pages_filled;
	if (bad)
		ret = bench_err(err, errlen, "%d touches saw wrong bytes", bad);
out:
	uffd_pager_destroy(p);
	uffd_source_close(src);
	return ret;
}
