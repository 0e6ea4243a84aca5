/* SPDX-License-Identifier: MIT */
/*
 * A 16 GiB MAP_NORESERVE anonymous region registered MISSING; one thread
 * touches 2000 pseudo-random pages (fixed seed, repeats included) while a
 * handler thread resolves each fault with UFFDIO_COPY of a per-page
 * pattern.  Every touched page holds its pattern, and the mappings do not
 * multiply: the registered region stays within a few lines of
 * /proc/self/maps, whatever the number of pages touched, and the rest of
 * the address space (libuffd's own memory) gains far fewer lines than
 * pages were touched.  Only the region's count has a small constant bound:
 * a sanitizer's runtime maps memory of its own as the test runs (ASan once
 * added 9 lines), never inside the region, and never a line per fault.
 * The raw line counts are not observables.
 */
#include "acc.h"

#define SIZE    (16ULL << 30)
#define TOUCHES 2000

static int fd, stop_fd;
static char *mem;
static _Atomic int copies, errors;

static unsigned seed_of(uintptr_t page)
{
	return (unsigned)(ACC_PG(page, mem) * 2654435761u + 17);
}

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
			atomic_fetch_add(&errors, 1);
			break;
		}
		if (!(p[0].revents & POLLIN)) {
			if (p[1].revents)
				break;
			continue;
		}
		struct uffd_msg msg;
		ssize_t n = read(fd, &msg, sizeof(msg));
		if (n < 0 && errno == EAGAIN)
			continue;
		if (n != sizeof(msg) || msg.event != UFFD_EVENT_PAGEFAULT) {
			atomic_fetch_add(&errors, 1);
			continue;
		}
		uintptr_t page = msg.arg.pagefault.address & ~(uintptr_t)(t_page - 1);
		t_fill(src, t_page, seed_of(page));
		struct uffdio_copy c = { .dst = page, .src = (uintptr_t)src, .len = t_page };
		if (uffd_ioctl(fd, UFFDIO_COPY, &c) == 0)
			atomic_fetch_add(&copies, 1);
		else
			atomic_fetch_add(&errors, 1);
	}
	munmap(src, t_page);
	return NULL;
}

static void scenario(void)
{
	fd = t_uffd_api(O_CLOEXEC | O_NONBLOCK, 0);
	stop_fd = eventfd(0, EFD_CLOEXEC);
	T_ASSERT(stop_fd >= 0);
	mem = mmap(NULL, SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	T_ASSERT(mem != MAP_FAILED);
	const char *trap = getenv("UFFD_USER_TRAP");
	if (trap && !strcmp(trap, "mprotect"))
		t_limit("mprotect trap fallback: one mapping per trapped run");
	t_register(fd, mem, SIZE, UFFDIO_REGISTER_MODE_MISSING);
	pthread_t h;
	T_ASSERT(pthread_create(&h, NULL, handler, NULL) == 0);

	const long npages = SIZE / t_page;
	static long touched[TOUCHES];
	uint64_t seed = 16;
	int before = acc_maps_lines_in(mem, SIZE), before_all = acc_maps_lines();
	int bad = 0;
	for (int i = 0; i < TOUCHES; i++) {
		long pg = ((uint64_t)acc_rand(&seed) << 16 ^ acc_rand(&seed)) % npages;
		if (i % 10 == 9)
			pg = touched[acc_rand(&seed) % i];    /* a page seen before */
		touched[i] = pg;
		char *p = mem + pg * t_page;
		long off = acc_rand(&seed) % t_page;
		volatile char v = p[off];   /* the fault, when first touched */
		(void)v;
		bad += !t_check(p, t_page, seed_of((uintptr_t)p));
	}
	int after = acc_maps_lines_in(mem, SIZE), after_all = acc_maps_lines();

	/* Count the distinct pages, and check each again. */
	int distinct = 0, again = 0;
	for (int i = 0; i < TOUCHES; i++) {
		int seen = 0;
		for (int j = 0; j < i && !seen; j++)
			seen = touched[j] == touched[i];
		if (seen)
			continue;
		distinct++;
		char *p = mem + touched[i] * t_page;
		again += t_check(p, t_page, seed_of((uintptr_t)p));
	}
	uint64_t one = 1;
	T_ASSERT(write(stop_fd, &one, sizeof(one)) == sizeof(one));
	pthread_join(h, NULL);

	T_OBS("touches %d, distinct pages %d", TOUCHES, distinct);
	T_OBS("wrong contents at first touch: %d", bad);
	T_OBS("pages verified at the end: %d of %d", again, distinct);
	T_OBS("COPYs done: %d, errors %d", atomic_load(&copies), atomic_load(&errors));
	/* Elsewhere: less than a line per 16 pages touched. */
	const int elsewhere = (after_all - after) - (before_all - before);
	T_OBS("maps growth bounded: %d", after - before <= 8 && elsewhere < distinct / 16);
	T_EXPECT_EQ(bad, 0);
	T_EXPECT_EQ(again, distinct);
	T_EXPECT_EQ(atomic_load(&copies), distinct);
	T_EXPECT_EQ(atomic_load(&errors), 0);
	if (after - before > 8)
		t_fail_at(__FILE__, __LINE__, "the region's /proc/self/maps lines grew from %d to %d",
			  before, after);
	if (elsewhere >= distinct / 16)
		t_fail_at(__FILE__, __LINE__, "/proc/self/maps outside the region grew by %d lines "
			  "for %d pages touched", elsewhere, distinct);
	close(fd);
	close(stop_fd);
	munmap(mem, SIZE);
}
T_MAIN("sparse-16g", scenario)
