/* SPDX-License-Identifier: MIT */
/*
 * A dirty-page tracker built on userfaultfd write protection with
 * UFFD_FEATURE_WP_ASYNC (no messages: a write just lifts the protection):
 * it protects 8 pages, lets the program write some, and finds the written
 * ones through /proc/self/pagemap's uffd-wp bit (57); then protects them all
 * again and checks the bits once more.
 */
#define _GNU_SOURCE
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
	protect(1);
	show("protected again:");
	protect(0);
	show("unprotected:");
	return 0;
}
