/* SPDX-License-Identifier: MIT */
/* A handler thread: every thread polls the pager's one userfaultfd and reads
 * up to PAGER_BATCH messages at a time (O_NONBLOCK: a thread that finds the
 * queue already emptied by another goes back to poll), so faults spread
 * over the threads. */
#include <errno.h>
#include <poll.h>
#include <unistd.h>

#include "pager.h"

static void handle(struct pager_thread *t, const struct uffd_msg *msgs, size_t n, uint64_t t0)
{
	struct uffd_pager *p = t->pager;
	struct fault faults[PAGER_BATCH];
	size_t nf = 0;

	pthread_rwlock_rdlock(&p->lock);
	for (size_t i = 0; i < n; i++) {
		if (msgs[i].event != UFFD_EVENT_PAGEFAULT)
			continue;      /* the pager asks for no other event */
		uintptr_t addr = (uintptr_t)msgs[i].arg.pagefault.address;
		struct uffd_region *r = pager_region_of(p, addr);
		if (!r)
			continue;      /* unmapped since the fault: unregistering woke it */
		atomic_fetch_add_explicit(&t->stats.faults, 1, memory_order_relaxed);
		uint64_t pg = (addr - (uintptr_t)r->addr) / p->psize;
		if (msgs[i].arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WP)
			pager_wp_fault(t, r, pg);
		else
			faults[nf++] = (struct fault){ r, pg, msgs[i].arg.pagefault.flags };
	}
	if (nf)
		pager_fill_faults(t, faults, nf, t0);
	pthread_rwlock_unlock(&p->lock);
}

void *pager_handler_main(void *arg)
{
	struct pager_thread *t = arg;
	struct uffd_pager *p = t->pager;
	struct uffd_msg msgs[PAGER_BATCH];

	for (;;) {
		struct pollfd pf[2] = { { .fd = p->fd, .events = POLLIN },
					{ .fd = p->stop_fd, .events = POLLIN } };
		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pf[1].revents || (pf[0].revents & POLLNVAL))
			break;
		ssize_t n = read(p->fd, msgs, sizeof(msgs));
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			break;
		}
		handle(t, msgs, (size_t)n / sizeof(msgs[0]), pager_now_ns());
	}
	return NULL;
}
