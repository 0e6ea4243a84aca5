/* SPDX-License-Identifier: MIT */
/*
 * The user backend's fixed tables filled (src/user/user.h): userfaultfds
 * open in the process, registered ranges, threads blocked in a fault at
 * once.  The kernel has no such bounds below its own (RLIMIT_NOFILE,
 * vm.max_map_count); the user backend fails the call that needs one slot
 * too many with the kernel's errno at its own limit (EMFILE for an open,
 * ENOMEM for a REGISTER), nothing half done, and everything opened and
 * registered before keeps working; a slot freed is taken again.  A fault
 * has no call to fail: past the waiters' table its message comes all the
 * same (before the fix the thread waited without it until another fault
 * was resolved, so a handler that reads every message before answering
 * any waited for ever).
 */
#include <pthread.h>

#include "oracle.h"

/* The bounds README's limits table states (U_MAX_* in src/user/user.h). */
#define MAX_UFFDS 256
#define MAX_RANGES 4096
#define MAX_WAITERS 1024   /* past it: no limit, another way of waiting */

#define LIMIT_UFFDS "256 userfaultfds, 4096 registered ranges per process"

/* One fault on page through fd, resolved by a COPY of src. */
static void fault_and_copy(int fd, char *page, const char *src, const char *what, char *base)
{
	struct orc_toucher t;
	struct uffd_msg m;

	orc_touch_start(&t, page + 5, 0, 0);
	orc_fault_msg(fd, &m, what, base);
	struct uffdio_copy c = { (uintptr_t)page, (uintptr_t)src, t_page, 0, 0 };
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_COPY, &c));
	T_EXPECT_EQ(orc_touch_join(&t), src[5]);
}

static void uffds(const char *src)
{
	enum { TRY = MAX_UFFDS + 40 };
	static int fds[TRY];
	int n = 0, err = 0;

	for (; n < TRY; n++) {
		errno = 0;
		fds[n] = uffd_open(O_CLOEXEC | O_NONBLOCK, t_backend);
		if (fds[n] < 0) {
			err = errno;
			break;
		}
	}
	if (t_limit_begin(LIMIT_UFFDS)) {
		T_EXPECT_EQ(n, TRY);
		t_limit_end();
	} else {
		T_EXPECT_EQ(n, MAX_UFFDS);
		T_EXPECT_EQ(err, EMFILE);
	}
	/* The first and the last one opened work. */
	char *mem = t_map(2 * t_page);
	const int ends[2] = { fds[0], fds[n - 1] };
	for (int i = 0; i < 2; i++) {
		struct uffdio_api api = { UFFD_API, 0, 0 };
		T_EXPECT_OK(uffd_ioctl(ends[i], UFFDIO_API, &api));
		t_register(ends[i], mem + i * t_page, t_page, UFFDIO_REGISTER_MODE_MISSING);
		fault_and_copy(ends[i], mem + i * t_page, src, i ? "last uffd" : "first uffd", mem);
	}
	/* One closed: its slot is free again. */
	close(fds[--n]);
	int fd = uffd_open(O_CLOEXEC | O_NONBLOCK, t_backend);
	T_EXPECT(fd >= 0);
	if (fd >= 0)
		close(fd);
	while (n > 0)
		close(fds[--n]);
	munmap(mem, 2 * t_page);
}

/* One-page ranges on every other page (so that no two merge), after one
 * range of three pages. */
static void ranges(const char *src)
{
	enum { TRY = MAX_RANGES + 40 };
	int fd = t_uffd_api(O_CLOEXEC | O_NONBLOCK, 0);
	char *mem = t_map((2 * TRY + 4) * t_page);   /* the ranges, one page, three */
	char *three = mem + (2 * TRY + 1) * t_page;
	int n = 0, err = 0;

	t_register(fd, three, 3 * t_page, UFFDIO_REGISTER_MODE_MISSING);
	for (; n < TRY; n++) {
		struct uffdio_register reg = { { (uintptr_t)mem + 2 * n * t_page, t_page },
					       UFFDIO_REGISTER_MODE_MISSING, 0 };
		errno = 0;
		if (uffd_ioctl(fd, UFFDIO_REGISTER, &reg) < 0) {
			err = errno;
			break;
		}
	}
	char *failed = mem + 2 * n * t_page;
	/* UNREGISTER of the middle of a range: the tail needs a slot. */
	struct uffdio_range mid = { (uintptr_t)three + t_page, t_page };
	errno = 0;
	int r = uffd_ioctl(fd, UFFDIO_UNREGISTER, &mid);
	const int unreg_err = errno;
	if (t_limit_begin(LIMIT_UFFDS)) {
		T_EXPECT_EQ(n, TRY);
		T_EXPECT_EQ(r, 0);
		t_limit_end();
	} else {
		T_EXPECT_EQ(n, MAX_RANGES - 1);
		T_EXPECT_EQ(err, ENOMEM);
		/* Not registered: ZEROPAGE there finds no range. */
		struct uffdio_zeropage z = { { (uintptr_t)failed, t_page }, 0, 0 };
		T_EXPECT(uffd_ioctl(fd, UFFDIO_ZEROPAGE, &z) < 0 && errno == ENOENT);
		/* The UNREGISTER changed nothing (it said 0 before the fix):
		 * the middle page is still registered. */
		T_EXPECT(r < 0 && unreg_err == ENOMEM);
		z.range.start = mid.start;
		T_EXPECT_EQ(uffd_ioctl(fd, UFFDIO_ZEROPAGE, &z), 0);
	}
	fault_and_copy(fd, mem, src, "first range", mem);
	fault_and_copy(fd, mem + 2 * (n - 1) * t_page, src, "last range", mem + 2 * (n - 1) * t_page);
	/* One unregistered: its slot is taken by the one that failed (the
	 * kernel's: one more), then by the middle's. */
	struct uffdio_range one = { (uintptr_t)mem + 2 * t_page, t_page };
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_UNREGISTER, &one));
	t_register(fd, failed, t_page, UFFDIO_REGISTER_MODE_MISSING);
	fault_and_copy(fd, failed, src, "range registered after", failed);
	one.start = (uintptr_t)mem + 4 * t_page;
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_UNREGISTER, &one));
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_UNREGISTER, &mid));
	T_OBS("the middle page reads %d", three[t_page]);
	fault_and_copy(fd, three + 2 * t_page, src, "the three pages' last", three);
	close(fd);
	munmap(mem, (2 * TRY + 4) * t_page);
}

/* Threads faulting at once, each on its own page of wmem. */
#define NTHREADS (MAX_WAITERS + 60)
static char *wmem;

static void *toucher(void *arg)
{
	return (void *)(uintptr_t)(unsigned char)wmem[(uintptr_t)arg * t_page + 1];
}

static void start_all(pthread_t *th)
{
	pthread_attr_t attr;

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	for (uintptr_t i = 0; i < NTHREADS; i++)
		T_ASSERT(pthread_create(&th[i], &attr, toucher, (void *)i) == 0);
	pthread_attr_destroy(&attr);
}

static int join_all(pthread_t *th, const char *src)
{
	int right = 0;

	for (int i = 0; i < NTHREADS; i++) {
		void *v;
		pthread_join(th[i], &v);
		right += (uintptr_t)v == (unsigned char)src[1];
	}
	return right;
}

static int copy_for(int fd, const struct uffd_msg *m, const char *src)
{
	struct uffdio_copy c = { m->arg.pagefault.address & ~(uint64_t)(t_page - 1),
				 (uintptr_t)src, t_page, 0, 0 };
	return uffd_ioctl(fd, UFFDIO_COPY, &c) == 0;
}

static void waiters(const char *src)
{
	static pthread_t th[NTHREADS];
	static struct uffd_msg msgs[NTHREADS];
	int fd = t_uffd_api(O_CLOEXEC | O_NONBLOCK, 0);
	char *mem = t_map(2 * NTHREADS * t_page);
	int n, copied;

	t_register(fd, mem, 2 * NTHREADS * t_page, UFFDIO_REGISTER_MODE_MISSING);
	/* Every message read before any is answered; then any that came
	 * only after (none: before the fix, the threads past the waiters'
	 * table sent theirs only once others were resolved). */
	wmem = mem;
	start_all(th);
	for (n = 0; n < NTHREADS && t_read_msg(fd, &msgs[n], 5000); n++)
		;
	const int before = n;
	copied = 0;
	for (int i = 0; i < n; i++)
		copied += copy_for(fd, &msgs[i], src);
	for (; n < NTHREADS && t_read_msg(fd, &msgs[0], 5000); n++)
		copied += copy_for(fd, &msgs[0], src);
	T_OBS("threads faulting at once %d: messages read before answering %d, in all %d, "
	      "pages copied %d, threads right %d", NTHREADS, before, n, copied, join_all(th, src));
	/* Each answered as it is read. */
	wmem = mem + NTHREADS * t_page;
	start_all(th);
	for (n = copied = 0; n < NTHREADS && t_read_msg(fd, &msgs[0], 5000); n++)
		copied += copy_for(fd, &msgs[0], src);
	T_OBS("threads faulting at once %d: messages %d, pages copied %d, threads right %d",
	      NTHREADS, n, copied, join_all(th, src));
	close(fd);
	munmap(mem, 2 * NTHREADS * t_page);
}

static void scenario(void)
{
	char *src = t_map(t_page);

	t_fill(src, t_page, 3);
	uffds(src);
	ranges(src);
	waiters(src);
	munmap(src, t_page);
}

T_MAIN("tables-full", scenario)
