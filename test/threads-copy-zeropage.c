/* SPDX-License-Identifier: MIT */
/*
 * Many faulting threads, two handler threads.  Ten threads read pages of a
 * 48-page range at once, each in its own pseudo-random order (fixed seed),
 * overlapping: several threads fault on the same page, and duplicate
 * messages for a page are normal.  Two handlers poll the O_NONBLOCK fd, read
 * and resolve: UFFDIO_COPY (a per-page pattern) for even pages, UFFDIO_ZEROPAGE
 * for odd pages; EEXIST (resolved by the other handler, or a duplicate
 * message) is answered with UFFDIO_WAKE.  Every page is resolved exactly
 * once, every thread sees the right contents, and at the end every page is
 * checked byte for byte.  The number of messages varies and is not recorded.
 */
#include "acc.h"

#define NPAGES   48
#define NWORKERS 10
#define PER      24   /* pages each worker touches */

static int fd, stop_fd;
static char *mem;
static _Atomic int resolved, eexist_bad, other_err, bad_reads, go;

static void *handler(void *arg)
{
	char *src = t_map(t_page);
	(void)arg;

	for (;;) {
		struct pollfd p[2] = { { .fd = fd, .events = POLLIN },
				       { .fd = stop_fd, .events = POLLIN } };
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			atomic_fetch_add(&other_err, 1);
			break;
		}
		/* Stop once every message is read (all faults are over by then). */
		if (!(p[0].revents & POLLIN) && p[1].revents)
			break;
		if (!(p[0].revents & POLLIN))
			continue;
		struct uffd_msg msg;
		ssize_t n = read(fd, &msg, sizeof(msg));
		if (n < 0 && errno == EAGAIN)
			continue;    /* the other handler took it */
		if (n != sizeof(msg) || msg.event != UFFD_EVENT_PAGEFAULT) {
			atomic_fetch_add(&other_err, 1);
			continue;
		}
		uintptr_t page = msg.arg.pagefault.address & ~(uintptr_t)(t_page - 1);
		long idx = ACC_PG(page, mem);
		if (idx < 0 || idx >= NPAGES) {
			atomic_fetch_add(&other_err, 1);
			continue;
		}
		int r;
		int64_t out;
		if (idx % 2 == 0) {
			t_fill(src, t_page, 1000 + idx);
			struct uffdio_copy c = { .dst = page, .src = (uintptr_t)src,
						 .len = t_page };
			r = uffd_ioctl(fd, UFFDIO_COPY, &c);
			out = c.copy;
		} else {
			struct uffdio_zeropage z = { .range = { page, t_page } };
			r = uffd_ioctl(fd, UFFDIO_ZEROPAGE, &z);
			out = z.zeropage;
		}
		if (r == 0 && out == t_page) {
			atomic_fetch_add(&resolved, 1);
		} else if (r < 0 && errno == EEXIST) {
			if (out != -EEXIST)
				atomic_fetch_add(&eexist_bad, 1);
			struct uffdio_range w = { page, t_page };
			if (uffd_ioctl(fd, UFFDIO_WAKE, &w) < 0)
				atomic_fetch_add(&other_err, 1);
		} else {
			atomic_fetch_add(&other_err, 1);
		}
	}
	munmap(src, t_page);
	return NULL;
}

static int page_ok(long idx)
{
	const char *p = mem + idx * t_page;

	if (idx % 2 == 0)
		return t_check(p, t_page, 1000 + idx);
	for (long i = 0; i < t_page; i++)
		if (p[i])
			return 0;
	return 1;
}

static void *worker(void *arg)
{
	uint64_t seed = 77 + (uintptr_t)arg;
	char order[NPAGES];

	while (!atomic_load(&go))
		sched_yield();
	/* A pseudo-random subset, in pseudo-random order: a partial shuffle. */
	for (int i = 0; i < NPAGES; i++)
		order[i] = i;
	for (int i = 0; i < PER; i++) {
		int j = i + acc_rand(&seed) % (NPAGES - i);
		char tmp = order[i];
		order[i] = order[j];
		order[j] = tmp;
	}
	for (int i = 0; i < PER; i++) {
		long idx = order[i];
		volatile char *p = mem + idx * t_page + (acc_rand(&seed) % t_page);
		(void)*p;   /* the fault */
		if (!page_ok(idx))
			atomic_fetch_add(&bad_reads, 1);
	}
	return NULL;
}

static void scenario(void)
{
	fd = t_uffd_api(O_CLOEXEC | O_NONBLOCK, 0);
	stop_fd = eventfd(0, EFD_CLOEXEC);
	T_ASSERT(stop_fd >= 0);
	mem = t_map(NPAGES * t_page);
	t_register(fd, mem, NPAGES * t_page, UFFDIO_REGISTER_MODE_MISSING);

	pthread_t h[2], w[NWORKERS];
	for (int i = 0; i < 2; i++)
		T_ASSERT(pthread_create(&h[i], NULL, handler, NULL) == 0);
	for (long i = 0; i < NWORKERS; i++)
		T_ASSERT(pthread_create(&w[i], NULL, worker, (void *)i) == 0);
	atomic_store(&go, 1);
	for (int i = 0; i < NWORKERS; i++)
		pthread_join(w[i], NULL);

	/* The pages no worker touched fault now, from here. */
	int verified = 0, zero = 0;
	for (long idx = 0; idx < NPAGES; idx++) {
		if (page_ok(idx)) {
			verified++;
			zero += idx % 2;
		}
	}
	uint64_t one = 1;
	T_ASSERT(write(stop_fd, &one, sizeof(one)) == sizeof(one));
	for (int i = 0; i < 2; i++)
		pthread_join(h[i], NULL);

	T_OBS("pages verified: %d of %d", verified, NPAGES);
	T_OBS("zero pages zero: %d of %d", zero, NPAGES / 2);
	T_OBS("pages resolved (COPY/ZEROPAGE returned a page): %d", atomic_load(&resolved));
	T_OBS("wrong contents seen by the workers: %d", atomic_load(&bad_reads));
	T_OBS("EEXIST without -EEXIST in the output field: %d", atomic_load(&eexist_bad));
	T_OBS("other errors: %d", atomic_load(&other_err));
	T_EXPECT_EQ(verified, NPAGES);
	T_EXPECT_EQ(zero, NPAGES / 2);
	T_EXPECT_EQ(atomic_load(&resolved), NPAGES);
	T_EXPECT_EQ(atomic_load(&bad_reads), 0);
	T_EXPECT_EQ(atomic_load(&eexist_bad), 0);
	T_EXPECT_EQ(atomic_load(&other_err), 0);
	struct uffd_msg extra;
	T_EXPECT_ERR(read(fd, &extra, sizeof(extra)), EAGAIN);
	close(fd);
	close(stop_fd);
}
T_MAIN("threads-copy-zeropage", scenario)
