/* SPDX-License-Identifier: MIT */
#ifndef LIBUFFD_USER_MAPS_H
#define LIBUFFD_USER_MAPS_H

#include <stdint.h>
#include <sys/sysmacros.h>
#include <sys/types.h>

enum u_vma_kind { U_VMA_ANON, U_VMA_SHMEM, U_VMA_SHMEM_PRIVATE, U_VMA_HUGETLB, U_VMA_OTHER };

struct u_vma {
	uintptr_t start, end;
	int prot;
	int shared;
	off_t offset;
	dev_t dev;
	ino_t ino;
	enum u_vma_kind kind;
	size_t psize;             /* page size: the huge page size for hugetlb */
	char path[256];
};

/* The mappings that overlap [start, end), in address order, as the kernel
 * sees them (libuffd's own memory left out): their count, or -errno.  Free
 * *out with u_vmas_free(*out, *capacity). */
int u_vmas_in(uintptr_t start, uintptr_t end, struct u_vma **out, int *capacity);
/* The same as /proc/self/maps shows them: our traps and write protection
 * split them, each piece with its protection (start, end, prot only). */
int u_maps_in(uintptr_t start, uintptr_t end, struct u_vma **out, int *capacity);
void u_vmas_free(struct u_vma *v, int capacity);
/* Is anything mapped in [start, end)?  1 or 0, or -errno.  Reads the maps
 * with system calls only: async-signal-safe. */
int u_maps_any(uintptr_t start, uintptr_t end);
/* The protection of the mapping holding addr as /proc/self/maps shows it
 * (our PROT_NONE traps included), or -1 where nothing is mapped. */
int u_maps_prot(uintptr_t addr);
/* Whether the mapping could be made writable (the kernel's VM_MAYWRITE). */
int u_vma_maywrite(const struct u_vma *v);
/* An fd (O_RDWR) on the file a shared mapping maps, or -1. */
int u_vma_open_file(const struct u_vma *v);

#endif
