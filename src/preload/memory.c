/* SPDX-License-Identifier: MIT */
/*
 * The program's munmap, mremap, madvise and mmap(MAP_FIXED) on memory the
 * user backend may have registered: libuffd is told before and after each
 * (src/user/memory.c), which sends UFFD_EVENT_UNMAP, REMAP and REMOVE and
 * keeps its page state true.  Nothing happens before a user-backend
 * userfaultfd exists, nor in kernel mode.  Calls with arguments the kernel
 * refuses pass straight through to fail as they do.
 */
#include <errno.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "preload.h"

static int watching(void)
{
	return shim_backend != UFFD_BACKEND_KERNEL && u_fault_installed();
}

static uintptr_t page_end(const void *addr, size_t len)
{
	return ((uintptr_t)addr + len + (uintptr_t)u_page - 1) & ~((uintptr_t)u_page - 1);
}

static int aligned(const void *addr, size_t len)
{
	return len && !((uintptr_t)addr & (uintptr_t)(u_page - 1)) && page_end(addr, len) > (uintptr_t)addr;
}

static int real_munmap(void *addr, size_t len)
{
	return shim_real.munmap ? shim_real.munmap(addr, len) : sys_munmap(addr, len);
}

SHIM_EXPORT int munmap(void *addr, size_t len)
{
	if (!watching() || !aligned(addr, len))
		return real_munmap(addr, len);
	const uintptr_t s = (uintptr_t)addr, e = page_end(addr, len);
	struct u_mem_note note;
	if (u_mem_unmap_begin(s, e, &note)) {
		errno = ENOMEM;
		return -1;
	}
	int ret = real_munmap(addr, len);
	if (ret == 0) {
		const int saved = errno;
		u_mem_unmap_end(&note, s, e);
		errno = saved;
	}
	return ret;
}

SHIM_EXPORT int madvise(void *addr, size_t len, int advice)
{
	int (*real)(void *, size_t, int) = shim_real.madvise;

	if (!watching() || !aligned(addr, len))
		return real ? real(addr, len, advice) : sys_madvise(addr, len, advice);
	const uintptr_t s = (uintptr_t)addr, e = page_end(addr, len);
	u_mem_drop_begin(s, e, advice);
	int ret = real ? real(addr, len, advice) : sys_madvise(addr, len, advice);
	const int saved = errno;
	u_mem_drop_end(s, e, advice, ret);
	errno = saved;
	return ret;
}

SHIM_EXPORT void *mremap(void *old, size_t old_len, size_t new_len, int flags, ...)
{
	va_list ap;
	va_start(ap, flags);
	void *want = flags & MREMAP_FIXED ? va_arg(ap, void *) : NULL;
	va_end(ap);
	void *(*real)(void *, size_t, size_t, int, ...) = shim_real.mremap;

	if (!watching() || !aligned(old, old_len ? old_len : 1)) {
		return real ? real(old, old_len, new_len, flags, want)
			    : sys_mremap(old, old_len, new_len, flags, want);
	}
	struct u_mem_note note;
	if (u_mem_remap_begin((uintptr_t)old, page_end(old, old_len) - (uintptr_t)old,
			      page_end(old, new_len) - (uintptr_t)old, &note)) {
		errno = ENOMEM;
		return MAP_FAILED;
	}
	void *ret = real ? real(old, old_len, new_len, flags, want)
			 : sys_mremap(old, old_len, new_len, flags, want);
	if (ret != MAP_FAILED && old_len) {
		const int saved = errno;
		u_mem_remap_end(&note, (uintptr_t)old, page_end(old, old_len) - (uintptr_t)old,
				(uintptr_t)ret, page_end(ret, new_len) - (uintptr_t)ret);
		errno = saved;
	}
	return ret;
}

/* mmap(MAP_FIXED) over a mapping unmaps it first, as munmap would. */
SHIM_EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	void *(*real)(void *, size_t, int, int, int, off_t) = shim_real.mmap;

	if (!watching() || !(flags & MAP_FIXED) || !aligned(addr, len))
		return real ? real(addr, len, prot, flags, fd, off)
			    : sys_mmap(addr, len, prot, flags, fd, off);
	const uintptr_t s = (uintptr_t)addr, e = page_end(addr, len);
	struct u_mem_note note;
	if (u_mem_unmap_begin(s, e, &note)) {
		errno = ENOMEM;
		return MAP_FAILED;
	}
	void *ret = real ? real(addr, len, prot, flags, fd, off) : sys_mmap(addr, len, prot, flags, fd, off);
	if (ret != MAP_FAILED) {
		const int saved = errno;
		u_mem_unmap_end(&note, s, e);
		errno = saved;
	}
	return ret;
}
SHIM_EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	return mmap(addr, len, prot, flags, fd, off);
}
