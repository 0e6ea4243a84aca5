/* SPDX-License-Identifier: MIT */
/*
 * libuffd's own memory, kept out of the program's way.  Memory that mmap()
 * or malloc() hand out may land in a hole of a range the program registers
 * next, and libuffd must never trap (or count as the program's) its own page
 * states.  So it takes one large reservation up front (MAP_NORESERVE: pages
 * cost nothing until touched) and carves its allocations from it: they never
 * create a mapping of their own, which also keeps working when the process
 * is at vm.max_map_count.  Freed blocks go back to the kernel (MADV_DONTNEED)
 * and to a free list of exact sizes.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "user.h"

static char *arena;
static size_t arena_size, used;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

struct free_block {
	struct free_block *next;
	size_t bytes;
};
static struct free_block *free_list;

static size_t round_up(size_t n)
{
	return (n + u_page - 1) & ~(size_t)(u_page - 1);
}

/* The reservation's size: 64 GiB, smaller where the kernel accounts even
 * MAP_NORESERVE memory (vm.overcommit_memory=2): 4 GiB, 256 MiB.  A test
 * that runs the arena out sets UFFD_USER_ARENA=<bytes> (at most that). */
static void reserve(void)
{
	const char *cap = getenv("UFFD_USER_ARENA");
	const size_t most = cap ? round_up(strtoull(cap, NULL, 0)) : 0;

	for (int shift = 36; !arena && shift >= 28; shift -= 4) {
		const size_t size = most && most < (size_t)1 << shift ? most : (size_t)1 << shift;
		void *a = sys_mmap(NULL, size, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (a != MAP_FAILED)
			arena = a, arena_size = size;
	}
}

void *u_arena_alloc(size_t bytes)
{
	void *p = NULL;

	bytes = round_up(bytes);
	pthread_mutex_lock(&lock);
	if (!arena)
		reserve();
	for (struct free_block **b = &free_list; *b; b = &(*b)->next) {
		if ((*b)->bytes == bytes) {
			p = *b;
			*b = (*b)->next;
			memset(p, 0, sizeof(struct free_block));
			break;
		}
	}
	if (!p && arena && used + bytes <= arena_size) {
		p = arena + used;
		used += bytes;
	}
	pthread_mutex_unlock(&lock);
	if (!p) {
		/* No arena, or it is full: memory of its own, wherever it lands. */
		p = sys_mmap(NULL, bytes, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (p == MAP_FAILED) {
			errno = ENOMEM;
			return NULL;
		}
	}
	return p;
}

void u_arena_free(void *p, size_t bytes)
{
	struct free_block *b = p;

	bytes = round_up(bytes);
	if (!u_arena_owns((uintptr_t)p)) {
		sys_munmap(p, bytes);
		return;
	}
	sys_madvise(p, bytes, MADV_DONTNEED);   /* zero again when reused */
	pthread_mutex_lock(&lock);
	b->next = free_list;
	b->bytes = bytes;
	free_list = b;
	pthread_mutex_unlock(&lock);
}

int u_arena_owns(uintptr_t addr)
{
	return arena && addr >= (uintptr_t)arena && addr < (uintptr_t)arena + arena_size;
}

int u_arena_span(uintptr_t *lo, uintptr_t *hi)
{
	if (!arena)
		return 0;
	*lo = (uintptr_t)arena;
	*hi = (uintptr_t)arena + arena_size;
	return 1;
}

void u_arena_after_fork(void)
{
	pthread_mutex_init(&lock, NULL);
}
