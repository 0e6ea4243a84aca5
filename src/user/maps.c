/* SPDX-License-Identifier: MIT */
/* Reading the process's mappings (/proc/self/maps): what REGISTER checks. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
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
		if (fs.f_type == HUGETLBFS_MAGIC)
			v->kind = U_VMA_HUGETLB;
		else if (fs.f_type == TMPFS_MAGIC && v->shared)
			v->kind = U_VMA_SHMEM;
		else if (fs.f_type == TMPFS_MAGIC)
			v->kind = U_VMA_SHMEM_PRIVATE;
	}
	close(fd);
}

int u_vma_open_file(const struct u_vma *v)
{
	char path[96];

	snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx",
		 (unsigned long)v->start, (unsigned long)v->end);
	int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0 && !v->shared)
		fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0 || (errno != EPERM && errno != EACCES))
		return fd;
	/* Without the privilege map_files needs: an fd the program holds. */
	char link[64];
	for (int i = 0; i < 4096; i++) {
		struct stat st;
		if (fstat(i, &st) == 0 && st.st_ino == v->ino && st.st_dev == v->dev) {
			snprintf(link, sizeof(link), "/proc/self/fd/%d", i);
			int f = open(link, O_RDWR | O_CLOEXEC);
			return f >= 0 || v->shared ? f : open(link, O_RDONLY | O_CLOEXEC);
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
	if (mprotect((void *)v->start, v->end - v->start, v->prot | PROT_WRITE))
		return errno != EACCES;
	mprotect((void *)v->start, v->end - v->start, v->prot);
	return 1;
}

int u_vmas_in(uintptr_t start, uintptr_t end, struct u_vma **out)
{
	FILE *f = fopen("/proc/self/maps", "re");
	char line[512];
	struct u_vma *v = NULL;
	int n = 0, cap = 0;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		struct u_vma cur;
		if (parse_line(line, &cur) < 0 || cur.end <= start || cur.start >= end)
			continue;
		/* Our own traps split mappings and change their protection;
		 * inside a registered range the protection is the range's. */
		struct u_range r;
		if (u_range_find(cur.start, &r) && cur.end <= r.end)
			cur.prot = r.prot;
		/* One entry per run the kernel would see as one mapping. */
		if (n && v[n - 1].end == cur.start && v[n - 1].prot == cur.prot &&
		    v[n - 1].shared == cur.shared && v[n - 1].ino == cur.ino &&
		    v[n - 1].dev == cur.dev && !strcmp(v[n - 1].path, cur.path) &&
		    (!cur.ino || v[n - 1].offset + (off_t)(cur.start - v[n - 1].start) == cur.offset)) {
			v[n - 1].end = cur.end;
			continue;
		}
		if (n == cap) {
			cap = cap ? 2 * cap : 8;
			struct u_vma *nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				free(v);
				fclose(f);
				return -ENOMEM;
			}
			v = nv;
		}
		classify(&cur);
		v[n++] = cur;
	}
	fclose(f);
	*out = v;
	return n;
}
