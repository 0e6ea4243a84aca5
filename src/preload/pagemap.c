/* SPDX-License-Identifier: MIT */
/*
 * /proc/self/pagemap (and /proc/<own pid>/pagemap, /proc/thread-self/...)
 * as the kernel fills it for userfaultfd's write protection: bit 57 of an
 * entry is set when the page is write-protected by userfaultfd.  The user
 * backend's protection is an mprotect the kernel does not count there, so
 * the shim sets the bit from libuffd's page state in what read and pread
 * return from such a file.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>

#include "preload.h"

#define PM_UFFD_WP (1ULL << 57)
#define PM_FILE (1ULL << 61)
#define PAGEMAP_FDS 65536
static _Atomic unsigned char pagemap_fds[PAGEMAP_FDS];

int shim_is_pagemap(int fd)
{
	return fd >= 0 && fd < PAGEMAP_FDS &&
	       atomic_load_explicit(&pagemap_fds[fd], memory_order_relaxed);
}

void shim_forget_pagemap(int fd)
{
	if (shim_is_pagemap(fd))
		atomic_store(&pagemap_fds[fd], 0);
}

int shim_is_pagemap_path(int dirfd, const char *path)
{
	char own[64];

	if (shim_backend == UFFD_BACKEND_KERNEL || !path || strncmp(path, "/proc/", 6))
		return 0;
	(void)dirfd;
	if (!strcmp(path, "/proc/self/pagemap") || !strcmp(path, "/proc/thread-self/pagemap"))
		return 1;
	snprintf(own, sizeof(own), "/proc/%d/pagemap", (int)sys_getpid());
	return !strcmp(path, own);
}

int shim_note_pagemap(int fd)
{
	if (fd >= 0 && fd < PAGEMAP_FDS)
		atomic_store(&pagemap_fds[fd], 1);
	return fd;
}

/* n bytes of entries read at file offset off into buf. */
void shim_pagemap_fix(void *buf, ssize_t n, off_t off)
{
	if (n <= 0 || off < 0 || (off % 8) || !u_fault_installed())
		return;
	unsigned char *b = buf;
	for (ssize_t i = 0; i + 8 <= n; i += 8) {
		uintptr_t addr = (uintptr_t)((off + i) / 8) * (uintptr_t)u_page;
		struct u_range r;
		bool wp = false;
		u_range_enter();
		if (u_range_find(addr, &r) && r.ctx >= 0 && (r.mode & UFFDIO_REGISTER_MODE_WP))
			wp = atomic_load(&r.pages[(addr - r.start) / r.psize]) & U_PG_WP;
		u_range_leave();
		/* Page-cache backed anonymous memory (pcache.c) is anonymous. */
		const bool anon = u_pcache_overlaps(addr, addr + (uintptr_t)u_page);
		if (wp || anon) {
			uint64_t e;
			memcpy(&e, b + i, 8);
			if (wp)
				e |= PM_UFFD_WP;
			if (anon)
				e &= ~PM_FILE;
			memcpy(b + i, &e, 8);
		}
	}
}

/* ---- PAGEMAP_SCAN (Linux 6.7) ---- */
struct scan_arg {
	uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages,
		 category_inverted, category_mask, category_anyof_mask, return_mask;
};
struct scan_region {
	uint64_t start, end, categories;
};
#define PAGEMAP_SCAN_REQ _IOWR('f', 16, struct scan_arg)
#define SCAN_WP_MATCHING 1
#define SCAN_CHECK_WPASYNC 2
#define IS_WPALLOWED (1 << 0)
#define IS_WRITTEN (1 << 1)
#define IS_FILE (1 << 2)
#define IS_PRESENT (1 << 3)
#define IS_SWAPPED (1 << 4)
#define IS_HUGE (1 << 6)

unsigned long shim_pagemap_scan_request(void)
{
	return PAGEMAP_SCAN_REQ;
}

/* Does [start, end) hold memory the user backend registered? */
static bool scan_touches_user(uint64_t start, uint64_t end)
{
	for (uint64_t a = start; a < end && a >= start; a += (uint64_t)u_page) {
		struct u_range r;
		u_range_enter();
		bool in = u_range_find((uintptr_t)a, &r) && r.ctx >= 0;
		u_range_leave();
		if (in)
			return true;
	}
	return false;
}

/* A page's categories: the kernel's, from the pagemap entry, with the
 * user backend's write protection in place of the page tables' uffd-wp
 * bit.  *wp_async: the page's registration tracks writes asynchronously;
 * *r_out: its range (when in one). */
static uint64_t categories(int fd, uintptr_t a, bool *wp_async, bool *in_user, struct u_range *r)
{
	uint64_t e = 0, c = 0;
	bool wp = false;

	sys_pread(fd, &e, sizeof(e), (off_t)(a / (uintptr_t)u_page) * 8);
	*wp_async = *in_user = false;
	u_range_enter();
	if (u_range_find(a, r) && r->ctx >= 0) {
		*in_user = true;
		*wp_async = (r->mode & UFFDIO_REGISTER_MODE_WP) &&
			    (u_ctxs[r->ctx].features & UFFD_FEATURE_WP_ASYNC);
		wp = atomic_load(&r->pages[(a - r->start) / r->psize]) & U_PG_WP;
		if (u_hugetlb(r))
			c |= IS_HUGE;
	} else {
		wp = e & PM_UFFD_WP;
	}
	u_range_leave();
	if (*wp_async)
		c |= IS_WPALLOWED;
	if (e & (1ULL << 63)) {
		c |= IS_PRESENT;
		if (!wp)
			c |= IS_WRITTEN;
	}
	if (e & (1ULL << 62))
		c |= IS_SWAPPED;
	if ((e & PM_FILE) && !u_pcache_overlaps(a, a + (uintptr_t)u_page))
		c |= IS_FILE;
	return c;
}

/* Write-protect [s, e) of r's context, as UFFDIO_WRITEPROTECT would. */
static void protect_run(const struct u_range *r, uintptr_t s, uintptr_t e)
{
	struct uffdio_writeprotect w = { .range = { s, e - s }, .mode = UFFDIO_WRITEPROTECT_MODE_WP };
	u_writeprotect(&u_ctxs[r->ctx], &w);
}

/* The ioctl on a pagemap fd whose range holds user-backend memory: the
 * kernel validates the arguments (a call without the write-protect flags,
 * which cannot change anything), then the walk is made here. */
int shim_pagemap_scan(int fd, void *argp, int (*real)(int, unsigned long, void *))
{
	struct scan_arg *uarg = argp, arg;

	if (!u_fault_installed())
		return real(fd, PAGEMAP_SCAN_REQ, argp);
	memcpy(&arg, uarg, sizeof(arg));   /* a bad pointer faults as the program's own */
	if (arg.size != sizeof(arg) || arg.end <= arg.start || !scan_touches_user(arg.start, arg.end))
		return real(fd, PAGEMAP_SCAN_REQ, argp);
	struct scan_arg probe = arg;
	probe.flags &= ~(uint64_t)(SCAN_WP_MATCHING | SCAN_CHECK_WPASYNC);
	probe.end = arg.start + (uint64_t)u_page;   /* validated, one page walked */
	if ((arg.flags & ~(uint64_t)(SCAN_WP_MATCHING | SCAN_CHECK_WPASYNC)) ||
	    real(fd, PAGEMAP_SCAN_REQ, &probe) < 0) {
		if (arg.flags & ~(uint64_t)(SCAN_WP_MATCHING | SCAN_CHECK_WPASYNC))
			errno = EINVAL;
		return -1;
	}

	struct scan_region *vec = (struct scan_region *)(uintptr_t)arg.vec;
	uint64_t n = 0, found = 0, walk_end = arg.end;
	uintptr_t run_s = 0, run_e = 0;
	struct u_range run_r = { 0 }, r;
	int ret = 0;
	const uint64_t end = (arg.end + (uint64_t)u_page - 1) & ~((uint64_t)u_page - 1);

	walk_end = end;
	for (uint64_t a = arg.start; a < end; a += (uint64_t)u_page) {
		bool wp_async, in_user;
		uint64_t c = categories(fd, (uintptr_t)a, &wp_async, &in_user, &r);
		if (!wp_async && (arg.flags & SCAN_CHECK_WPASYNC)) {
			walk_end = a;
			errno = EPERM;
			ret = -1;
			break;
		}
		if (!wp_async && (arg.flags & SCAN_WP_MATCHING))
			continue;   /* such memory is skipped */
		uint64_t k = c ^ arg.category_inverted;
		if ((k & arg.category_mask) != arg.category_mask ||
		    (arg.category_anyof_mask && !(k & arg.category_anyof_mask)))
			continue;
		if (arg.max_pages && found == arg.max_pages) {
			walk_end = a;
			break;
		}
		const uint64_t rc = c & arg.return_mask;
		if (vec && arg.return_mask) {
			if (n && vec[n - 1].end == a && vec[n - 1].categories == rc) {
				vec[n - 1].end = a + (uint64_t)u_page;
			} else if (n == arg.vec_len) {
				walk_end = a;
				break;
			} else {
				vec[n].start = a;
				vec[n].end = a + (uint64_t)u_page;
				vec[n].categories = rc;
				n++;
			}
		}
		found++;
		if ((arg.flags & SCAN_WP_MATCHING) && in_user && wp_async) {
			if (run_e == a && run_r.start == r.start && run_r.ctx == r.ctx) {
				run_e += (uintptr_t)u_page;
			} else {
				if (run_e > run_s)
					protect_run(&run_r, run_s, run_e);
				run_r = r;
				run_s = (uintptr_t)a;
				run_e = (uintptr_t)a + (uintptr_t)u_page;
			}
		}
	}
	if (run_e > run_s)
		protect_run(&run_r, run_s, run_e);
	uarg->walk_end = walk_end;
	return ret < 0 ? ret : (int)n;
}
