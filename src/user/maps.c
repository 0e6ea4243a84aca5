/* SPDX-License-Identifier: MIT */
/* Reading the process's mappings (/proc/self/maps): what REGISTER checks. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "maps.h"
#include "user.h"

#ifndef TMPFS_MAGIC
#define TMPFS_MAGIC 0x01021994
#endif
#ifndef HUGETLBFS_MAGIC
#define HUGETLBFS_MAGIC 0x958458f6
#endif

static int parse_line(const char *line, struct u_vma *v)
{
	char perms[5] = "";
	unsigned long long start, end, off, ino;
	unsigned maj, min;
	int pathpos = 0;

	if (sscanf(line, "%llx-%llx %4s %llx %x:%x %llu %n", &start, &end, perms,
		   &off, &maj, &min, &ino, &pathpos) < 7)
		return -1;
	memset(v, 0, sizeof(*v));
	v->psize = (size_t)sysconf(_SC_PAGESIZE);
	v->start = start;
	v->end = end;
	v->prot = (perms[0] == 'r' ? PROT_READ : 0) | (perms[1] == 'w' ? PROT_WRITE : 0) |
		  (perms[2] == 'x' ? PROT_EXEC : 0);
	v->shared = perms[3] == 's';
	v->offset = (off_t)off;
	v->ino = ino;
	v->dev = makedev(maj, min);
	if (pathpos)
		snprintf(v->path, sizeof(v->path), "%s", line + pathpos);
	v->path[strcspn(v->path, "\n")] = 0;
	return 0;
}

/* What kind of memory: anonymous, shmem, hugetlb, or something else. */
static void classify(struct u_vma *v)
{
	if (v->ino && v->shared && u_pcache_file(v->dev, v->ino)) {
		/* Anonymous memory libuffd backs with a file (pcache.c). */
		v->kind = U_VMA_ANON;
		v->shared = 0;
		v->path[0] = 0;   /* dev, ino, offset: pcache.c checks them */
		return;
	}
	if (!v->ino && !v->shared) {
		v->kind = v->path[0] == 0 || !strcmp(v->path, "[heap]") ||
			  !strcmp(v->path, "[stack]") || !strncmp(v->path, "[anon:", 6)
			? U_VMA_ANON : U_VMA_OTHER;
		return;
	}
	v->kind = U_VMA_OTHER;
	int fd = u_vma_open_file(v);
	if (fd < 0)
		return;
	struct statfs fs;
	if (fstatfs(fd, &fs) == 0) {
		if (fs.f_type == HUGETLBFS_MAGIC) {
			v->kind = U_VMA_HUGETLB;
			v->psize = (size_t)fs.f_bsize;
		}
		else if (fs.f_type == TMPFS_MAGIC && v->shared)
			v->kind = U_VMA_SHMEM;
		else if (fs.f_type == TMPFS_MAGIC)
			v->kind = U_VMA_SHMEM_PRIVATE;
	}
	sys_close(fd);
}

/* The bounds the mapping holding addr has now: 0, or -1. */
static int bounds_now(uintptr_t addr, uintptr_t *start, uintptr_t *end)
{
	FILE *f = fopen("/proc/self/maps", "re");
	char line[512];
	int ret = -1;

	if (!f)
		return -1;
	while (ret && fgets(line, sizeof(line), f)) {
		unsigned long long s, e;
		if (sscanf(line, "%llx-%llx", &s, &e) == 2 && s <= addr && addr < e) {
			*start = s;
			*end = e;
			ret = 0;
		}
	}
	fclose(f);
	return ret;
}

/* A hex number at *p, advancing *p past it. */
static uintptr_t hex(const char **p, const char *end)
{
	uintptr_t v = 0;

	for (; *p < end; (*p)++) {
		char c = **p;
		int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
		if (d < 0)
			break;
		v = v << 4 | (uintptr_t)d;
	}
	return v;
}

/* Does [s, e), libuffd's own memory left out, meet [start, end)? */
static bool meets(uintptr_t s, uintptr_t e, uintptr_t start, uintptr_t end,
		  uintptr_t alo, uintptr_t ahi)
{
	const uintptr_t below = e < alo ? e : alo, above = s > ahi ? s : ahi;

	return (s < below && s < end && below > start) ||
	       (above < e && above < end && e > start);
}

int u_maps_any(uintptr_t start, uintptr_t end)
{
	uintptr_t alo = 0, ahi = 0;

	u_arena_span(&alo, &ahi);
	int fd = sys_open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	char buf[1024];
	size_t have = 0;
	int found = 0;
	bool skip = false;   /* in the tail of a line longer than buf */

	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t n = sys_read(fd, buf + have, sizeof(buf) - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		have += (size_t)n;
		/* Every whole line: "start-end ..." */
		char *line = buf, *nl;
		while (!found && (nl = memchr(line, '\n', have - (size_t)(line - buf)))) {
			const char *p = line;
			if (skip) {
				skip = false;
				line = nl + 1;
				continue;
			}
			uintptr_t s = hex(&p, nl);
			p++;
			uintptr_t e = hex(&p, nl);
			found = meets(s, e, start, end, alo, ahi);
			line = nl + 1;
		}
		if (found)
			break;
		have -= (size_t)(line - buf);
		memmove(buf, line, have);
		if (have == sizeof(buf) && !skip) {
			/* A line longer than buf: its start is parsed already
			 * (start-end come first), skip the rest of it. */
			const char *p = buf;
			uintptr_t s = hex(&p, buf + have);
			p++;
			found = meets(s, hex(&p, buf + have), start, end, alo, ahi);
			skip = true;
		}
		if (have == sizeof(buf))
			have = 0;
	}
	sys_close(fd);
	return found;
}

int u_maps_prot(uintptr_t addr)
{
	FILE *f = fopen("/proc/self/maps", "re");
	char line[512];
	int prot = -1;

	if (!f)
		return -1;
	while (prot < 0 && fgets(line, sizeof(line), f)) {
		struct u_vma v;
		if (parse_line(line, &v) == 0 && v.start <= addr && addr < v.end)
			prot = v.prot;
	}
	fclose(f);
	return prot;
}

int u_vma_open_file(const struct u_vma *v)
{
	char path[96];
	uintptr_t start = v->start, end = v->end;
	int fd;

	/* map_files names a mapping by its exact bounds, and other threads'
	 * traps (mprotect) split and merge mappings meanwhile: ENOENT then
	 * means "look again". */
	for (int tries = 0;; tries++) {
		snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx",
			 (unsigned long)start, (unsigned long)end);
		fd = sys_open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0 && !v->shared && errno != ENOENT)
			fd = sys_open(path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0 || errno != ENOENT || tries == 64 ||
		    bounds_now(v->start, &start, &end) < 0) {
			break;
		}
	}
	if (fd >= 0 || (errno != EPERM && errno != EACCES))
		return fd;
	/* Without the privilege map_files needs: an fd the program holds. */
	char link[64];
	for (int i = 0; i < 4096; i++) {
		struct stat st;
		if (sys_fstat(i, &st) == 0 && st.st_ino == v->ino && st.st_dev == v->dev) {
			snprintf(link, sizeof(link), "/proc/self/fd/%d", i);
			int f = sys_open(link, O_RDWR | O_CLOEXEC);
			return f >= 0 || v->shared ? f : sys_open(link, O_RDONLY | O_CLOEXEC);
		}
	}
	errno = EACCES;
	return -1;
}

int u_vma_maywrite(const struct u_vma *v)
{
	if (!v->shared || (v->prot & PROT_WRITE))
		return 1;
	/* A shared mapping of a file not open for writing (or sealed) can
	 * never be made writable: mprotect() says EACCES. */
	if (sys_mprotect((void *)v->start, v->end - v->start, v->prot | PROT_WRITE))
		return errno != EACCES;
	sys_mprotect((void *)v->start, v->end - v->start, v->prot);
	return 1;
}

/* The mappings meeting [start, end); as_registered: as the kernel sees them
 * (registered ranges whole, classified), else as /proc/self/maps shows
 * them (bounds and protection only). */
static int vmas_in(uintptr_t start, uintptr_t end, struct u_vma **out, int *capacity,
		   bool as_registered)
{
	FILE *f = fopen("/proc/self/maps", "re");
	char line[512];
	struct u_vma *v = NULL;
	int n = 0, cap = 0;
	uintptr_t in_range = 0;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		struct u_vma cur;
		if (parse_line(line, &cur) < 0 || cur.end <= start || cur.start >= end)
			continue;
		/* libuffd's own memory is not the program's.  The kernel merges
		 * the reservation with an adjacent anonymous mapping of the
		 * program's into one line: keep the program's part of it. */
		uintptr_t alo, ahi;
		if (u_arena_span(&alo, &ahi) && cur.start < ahi && cur.end > alo) {
			if (cur.start >= alo && cur.end <= ahi)
				continue;
			if (cur.start < alo && (cur.end <= ahi || start < alo))
				cur.end = alo;
			else
				cur.start = ahi;
			if (cur.end <= start || cur.start >= end)
				continue;
		}
		/* Our traps split a registered range into mappings of other
		 * protections; the kernel's mapping is the range, with its
		 * protection. */
		struct u_range r;
		uintptr_t in = 0;
		if (as_registered && u_range_find(cur.start, &r) && cur.end <= r.end) {
			cur.prot = r.prot;
			in = r.start;
		}
		if (n && in && in_range == in && v[n - 1].end == cur.start) {
			v[n - 1].end = cur.end;
			continue;
		}
		in_range = in;
		if (n == cap) {
			size_t ncap = cap ? 2 * cap : 64;
			struct u_vma *nv = u_arena_alloc(ncap * sizeof(*v));
			if (!nv) {
				u_vmas_free(v, cap);
				fclose(f);
				return -ENOMEM;
			}
			if (v)
				memcpy(nv, v, n * sizeof(*v));
			u_vmas_free(v, cap);
			v = nv;
			cap = ncap;
		}
		if (as_registered)
			classify(&cur);
		v[n++] = cur;
	}
	fclose(f);
	*out = v;
	*capacity = cap;
	return n;
}

int u_vmas_in(uintptr_t start, uintptr_t end, struct u_vma **out, int *capacity)
{
	return vmas_in(start, end, out, capacity, true);
}

int u_maps_in(uintptr_t start, uintptr_t end, struct u_vma **out, int *capacity)
{
	return vmas_in(start, end, out, capacity, false);
}

void u_vmas_free(struct u_vma *v, int capacity)
{
	if (v)
		u_arena_free(v, capacity * sizeof(*v));
}
