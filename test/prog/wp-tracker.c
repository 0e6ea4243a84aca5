/* SPDX-License-Identifier: MIT */
/*
 * A dirty-page tracker built on userfaultfd write protection with
 * UFFD_FEATURE_WP_ASYNC (no messages: a write just lifts the protection):
 * it protects 8 pages, lets the program write some, and finds the written
 * ones through /proc/self/pagemap's uffd-wp bit (57) and through the
 * PAGEMAP_SCAN ioctl (which also protects them again: PM_SCAN_WP_MATCHING),
 * with its limits (max_pages, vec_len) and category masks.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef UFFD_FEATURE_WP_ASYNC
#define UFFD_FEATURE_WP_ASYNC (1 << 15)
#endif
#define NPAGES 8

#ifndef PAGEMAP_SCAN
struct pm_scan_arg {
	uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages,
		 category_inverted, category_mask, category_anyof_mask, return_mask;
};
struct page_region {
	uint64_t start, end, categories;
};
#define PAGEMAP_SCAN _IOWR('f', 16, struct pm_scan_arg)
#define PM_SCAN_WP_MATCHING (1 << 0)
#define PM_SCAN_CHECK_WPASYNC (1 << 1)
#define PAGE_IS_WPALLOWED (1 << 0)
#define PAGE_IS_WRITTEN (1 << 1)
#define PAGE_IS_FILE (1 << 2)
#define PAGE_IS_PRESENT (1 << 3)
#endif
#define PM_PRESENT (1ULL << 63)
#define PM_UFFD_WP (1ULL << 57)

static long page;
static char *area;
static int uffd, pagemap;

static void show(const char *when)
{
	uint64_t e[NPAGES];
	off_t off = (off_t)((uintptr_t)area / page) * 8;

	if (pread(pagemap, e, sizeof(e), off) != sizeof(e)) {
		perror("pread pagemap");
		return;
	}
	printf("%-28s", when);
	for (int i = 0; i < NPAGES; i++)
		printf(" %c%c", e[i] & PM_PRESENT ? 'p' : '-', e[i] & PM_UFFD_WP ? 'W' : '.');
	/* The same through lseek + read. */
	uint64_t again[NPAGES];
	lseek(pagemap, off, SEEK_SET);
	if (read(pagemap, again, sizeof(again)) != sizeof(again) ||
	    memcmp(e, again, sizeof(e)) != 0)
		printf("  (read differs from pread)");
	printf("\n");
}

/* PAGEMAP_SCAN over the area; prints what it returned, in pages. */
static void scan(const char *what, uint64_t flags, uint64_t mask, uint64_t inverted,
		 uint64_t ret_mask, uint64_t max_pages, uint64_t vec_len)
{
	struct page_region vec[NPAGES];
	struct pm_scan_arg a = {
		.size = sizeof(a), .flags = flags, .start = (unsigned long)area,
		.end = (unsigned long)area + NPAGES * page, .vec = (unsigned long)vec,
		.vec_len = vec_len, .max_pages = max_pages, .category_inverted = inverted,
		.category_mask = mask, .return_mask = ret_mask,
	};
	int n = ioctl(pagemap, PAGEMAP_SCAN, &a);
	printf("%-28s %d", what, n);
	if (n < 0)
		printf(" (%s)", strerrorname_np(errno));
	for (int i = 0; i < n; i++)
		printf(" [%lu,%lu)=%llx", (unsigned long)((vec[i].start - (unsigned long)area) / page),
		       (unsigned long)((vec[i].end - (unsigned long)area) / page),
		       (unsigned long long)vec[i].categories);
	if (n >= 0)
		printf(", walk_end %ld", (long)((long)a.walk_end - (long)(unsigned long)area) / page);
	printf("\n");
}

static void protect(int on)
{
	struct uffdio_writeprotect w = { .range = { (unsigned long)area, NPAGES * page },
					 .mode = on ? UFFDIO_WRITEPROTECT_MODE_WP : 0 };
	if (ioctl(uffd, UFFDIO_WRITEPROTECT, &w))
		perror("UFFDIO_WRITEPROTECT");
}

int main(void)
{
	page = sysconf(_SC_PAGESIZE);
	uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	struct uffdio_api api = { .api = UFFD_API, .features = UFFD_FEATURE_WP_ASYNC };
	if (uffd < 0 || ioctl(uffd, UFFDIO_API, &api)) {
		perror("userfaultfd with WP_ASYNC");
		return 1;
	}
	pagemap = open("/proc/self/pagemap", O_RDONLY);
	area = mmap(NULL, NPAGES * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(area, 1, NPAGES * page);
	struct uffdio_register reg = { .range = { (unsigned long)area, NPAGES * page },
				       .mode = UFFDIO_REGISTER_MODE_WP };
	if (pagemap < 0 || ioctl(uffd, UFFDIO_REGISTER, &reg)) {
		perror("pagemap or UFFDIO_REGISTER");
		return 1;
	}
	show("registered:");
	protect(1);
	show("write-protected:");
	area[1 * page] = 2;
	area[3 * page + 7] = 2;
	area[6 * page] = 2;
	show("pages 1, 3, 6 written:");
	scan("scan, all categories:", 0, 0, 0, PAGE_IS_WPALLOWED | PAGE_IS_WRITTEN |
	     PAGE_IS_PRESENT | PAGE_IS_FILE, 0, NPAGES);
	scan("scan written, max 2 pages:", 0, PAGE_IS_WRITTEN, 0, PAGE_IS_WRITTEN, 2, NPAGES);
	scan("scan written, 1 region:", 0, PAGE_IS_WRITTEN, 0, PAGE_IS_WRITTEN, 0, 1);
	scan("scan not written:", 0, PAGE_IS_WRITTEN, PAGE_IS_WRITTEN, PAGE_IS_WRITTEN, 0, NPAGES);
	scan("scan written + protect:", PM_SCAN_WP_MATCHING | PM_SCAN_CHECK_WPASYNC,
	     PAGE_IS_WRITTEN, 0, PAGE_IS_WRITTEN, 0, NPAGES);
	show("after the scan:");
	area[2 * page] = 3;
	scan("written since:", PM_SCAN_WP_MATCHING | PM_SCAN_CHECK_WPASYNC,
	     PAGE_IS_WRITTEN, 0, PAGE_IS_WRITTEN, 0, NPAGES);
	scan("bad flags:", 1 << 5, 0, 0, PAGE_IS_WRITTEN, 0, NPAGES);
	protect(1);
	show("protected again:");
	protect(0);
	show("unprotected:");
	return 0;
}
