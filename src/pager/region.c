/* SPDX-License-Identifier: MIT */
/* uffd_pager_map() and uffd_region_unmap(): a registered anonymous mapping
 * per region, and the list the handler threads look faults up in. */
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "pager.h"

struct uffd_region *pager_region_of(struct uffd_pager *p, uintptr_t addr)
{
	for (struct uffd_region *r = p->regions; r; r = r->next)
		if (addr >= (uintptr_t)r->addr && addr - (uintptr_t)r->addr < r->len)
			return r;
	return NULL;
}

static void free_region(struct uffd_region *r)
{
	if (r->addr)
		munmap(r->addr, r->len);
	free((void *)r->state);
	free((void *)r->dirty);
	free((void *)r->snap);
	pager_ws_free(r);
	pthread_mutex_destroy(&r->wp_lock);
	free(r);
}

struct uffd_region *uffd_pager_map(struct uffd_pager *p, struct uffd_source *src,
				   size_t length, uint64_t offset, unsigned flags)
{
	if (!p || !src || !length || flags || (offset & (p->psize - 1)) ||
	    length > SIZE_MAX - p->psize) {
		errno = EINVAL;
		return NULL;
	}
	struct uffd_region *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	pthread_mutex_init(&r->wp_lock, NULL);
	r->pager = p;
	r->src = src;
	r->off = offset;
	r->len = (length + p->psize - 1) & ~(p->psize - 1);
	r->npages = r->len / p->psize;
	/* The first fault at the start of a region begins a sequential run. */
	atomic_store(&r->ra[0].next, 0);
	for (int i = 1; i < RA_STREAMS; i++)
		atomic_store(&r->ra[i].next, UINT64_MAX);
	int writeback = p->flags & UFFD_PAGER_WRITEBACK;
	int err;
	r->state = calloc(r->npages, 1);
	if (writeback)
		r->dirty = calloc(r->npages, 1);
	if (!r->state || (writeback && !r->dirty))
		goto fail;
	r->addr = mmap(NULL, r->len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (r->addr == MAP_FAILED) {
		r->addr = NULL;
		goto fail;
	}
	struct uffdio_register reg = {
		.range = { (uintptr_t)r->addr, r->len },
		.mode = UFFDIO_REGISTER_MODE_MISSING | (writeback ? UFFDIO_REGISTER_MODE_WP : 0),
	};
	if (uffd_ioctl(p->fd, UFFDIO_REGISTER, &reg) < 0)
		goto fail;
	pthread_rwlock_wrlock(&p->lock);
	r->next = p->regions;
	p->regions = r;
	pthread_rwlock_unlock(&p->lock);
	return r;
fail:
	err = errno;
	free_region(r);
	errno = err;
	return NULL;
}

void *uffd_region_addr(const struct uffd_region *r)
{
	return r ? r->addr : NULL;
}

size_t uffd_region_length(const struct uffd_region *r)
{
	return r ? r->len : 0;
}

int uffd_region_unmap(struct uffd_region *r)
{
	if (!r) {
		errno = EINVAL;
		return -1;
	}
	struct uffd_pager *p = r->pager;
	pager_ws_stop(r);   /* no prefetch thread may fill it any more */
	/* Once unlinked under the exclusive lock, no handler thread holds r. */
	pthread_rwlock_wrlock(&p->lock);
	struct uffd_region **pp = &p->regions;
	while (*pp && *pp != r)
		pp = &(*pp)->next;
	if (*pp)
		*pp = r->next;
	pthread_rwlock_unlock(&p->lock);
	/* Unregistering wakes any thread still waiting in the region. */
	struct uffdio_range range = { (uintptr_t)r->addr, r->len };
	int ret = uffd_ioctl(p->fd, UFFDIO_UNREGISTER, &range);
	int err = errno;
	free_region(r);
	errno = err;
	return ret < 0 ? -1 : 0;
}
