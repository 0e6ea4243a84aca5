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
		if (wp) {
			uint64_t e;
			memcpy(&e, b + i, 8);
			e |= PM_UFFD_WP;
			memcpy(b + i, &e, 8);
		}
	}
}
