/* SPDX-License-Identifier: MIT */
/*
 * The address space runs out (RLIMIT_AS reached: no mmap of even one page
 * succeeds).  The kernel's userfaultfd needs no address space of the
 * process: opening one, UFFDIO_API, REGISTER of anonymous, shmem and hugetlb
 * memory, COPY, ZEROPAGE, WRITEPROTECT and a fault's wake-up all work.
 * Where the user backend needs memory of its own, the call fails with
 * ENOMEM and nothing is half done (a limit); once address space is given
 * back every call works, and faults taken meanwhile are resolved.
 */
#include <sys/resource.h>

#include "oracle.h"

#define LIMIT_NAME "the user backend's own memory counts towards RLIMIT_AS"
/* A sanitizer's runtime allocates for a new thread: where no address space
 * is left it aborts instead of failing the thread's creation. */
#if defined(__SANITIZE_ADDRESS__) || LIBUFFD_TSAN
#define SANITIZER_THREADS 1
#else
#define SANITIZER_THREADS 0
#endif

/* A call the kernel makes without address space of the process: there it
 * succeeds; the user backend's may fail with ENOMEM (the limit, named in
 * its line) and must then be made again once there is room.  1 if it did
 * fail so. */
static int needs_room(const char *what, long r)
{
	const int e = errno;

	if (r >= 0)
		return 0;
	if (t_backend == UFFD_BACKEND_USER && e == ENOMEM) {
		t_limit_begin(LIMIT_NAME);   /* the user half names it */
		return 1;
	}
	T_FATAL("%s with no address space left: %s", what, t_errname(e));
}

/* A call's outcome, recorded. */
static int outcome(const char *what, long r)
{
	const int e = errno;

	T_OBS("%s: %s", what, r < 0 ? t_errname(e) : "ok");
	return r < 0 ? -e : 0;
}

static int do_register(int fd, void *addr, size_t len, uint64_t mode)
{
	struct uffdio_register reg = { { (uintptr_t)addr, len }, mode, 0 };
	return (int)uffd_ioctl(fd, UFFDIO_REGISTER, &reg);
}

static int do_copy(int fd, void *dst, const void *src, size_t len)
{
	struct uffdio_copy c = { (uintptr_t)dst, (uintptr_t)src, len, 0, 0 };
	return (int)uffd_ioctl(fd, UFFDIO_COPY, &c);
}

static int do_zeropage(int fd, void *dst, size_t len)
{
	struct uffdio_zeropage z = { { (uintptr_t)dst, len }, 0, 0 };
	return (int)uffd_ioctl(fd, UFFDIO_ZEROPAGE, &z);
}

static int do_wp(int fd, void *addr, size_t len, int on)
{
	struct uffdio_writeprotect w = { { (uintptr_t)addr, len },
					 on ? UFFDIO_WRITEPROTECT_MODE_WP : 0 };
	return (int)uffd_ioctl(fd, UFFDIO_WRITEPROTECT, &w);
}

/* The first userfaultfd of the process, opened with no room: the kernel's
 * needs none; the user backend's monitor thread needs a stack.  A failed
 * open leaves no descriptor of its own (the first may keep the backend's
 * /proc/self/mem and pagemap, a second adds none), and once there is room
 * an open succeeds (it did not, ever after, before the fix). */
static void first_open(void)
{
	orc_as_exhaust();
	errno = 0;
	int fd = uffd_open(O_CLOEXEC | O_NONBLOCK, t_backend);
	if (needs_room("first open", fd)) {
		const int before = orc_fds_open();
		T_EXPECT(uffd_open(O_CLOEXEC | O_NONBLOCK, t_backend) < 0 && errno == ENOMEM);
		T_EXPECT_EQ(orc_fds_open(), before);
	} else {
		struct uffdio_api api = { UFFD_API, UFFD_FEATURE_PAGEFAULT_FLAG_WP, 0 };
		needs_room("UFFDIO_API", uffd_ioctl(fd, UFFDIO_API, &api));
		close(fd);
	}
	orc_as_give_back();
	fd = uffd_open(O_CLOEXEC | O_NONBLOCK, t_backend);
	outcome("open, address space back", fd);
	if (fd >= 0)
		close(fd);
	orc_as_restore();
}

/* The first REGISTER of the process with no room: the user backend's
 * arena (its own memory, arena.c) is made there.  Nothing is registered
 * when it fails (ZEROPAGE there: ENOENT, the page reads as before); with
 * room it registers, and its fault is resolved. */
static void first_register(char *anon)
{
	int fd = t_uffd_api(O_CLOEXEC | O_NONBLOCK, 0);
	struct uffd_msg m;

	orc_as_exhaust();
	errno = 0;
	if (needs_room("first REGISTER",
		       do_register(fd, anon, t_page, UFFDIO_REGISTER_MODE_MISSING))) {
		T_EXPECT(do_zeropage(fd, anon, t_page) < 0 && errno == ENOENT);
		T_EXPECT_EQ(anon[0], 0);
	}
	orc_as_restore();
	T_ASSERT(madvise(anon, t_page, MADV_DONTNEED) == 0);
	outcome("REGISTER, address space back",
		do_register(fd, anon, t_page, UFFDIO_REGISTER_MODE_MISSING));
	struct orc_toucher t;
	orc_touch_start(&t, anon, 0, 0);
	orc_fault_msg(fd, &m, "fault after", anon);
	outcome("ZEROPAGE for it", do_zeropage(fd, anon, t_page));
	T_EXPECT_EQ(orc_touch_join(&t), 0);
	close(fd);
}

/* The calls of the main part, made with no room, then (those that failed)
 * again with room. */
enum op_kind { REG, COPY, ZERO, WP, UNWP };
struct op {
	const char *what;
	enum op_kind kind;
	char *addr;
	size_t len;
	int failed;
};

static int run_op(int fd, const struct op *o, const char *src)
{
	const int mode = UFFDIO_REGISTER_MODE_MISSING | UFFDIO_REGISTER_MODE_WP;

	switch (o->kind) {
	case REG: return do_register(fd, o->addr, o->len, mode);
	case COPY: return do_copy(fd, o->addr, src, o->len);
	case ZERO: return do_zeropage(fd, o->addr, o->len);
	case WP: return do_wp(fd, o->addr, o->len, 1);
	case UNWP: return do_wp(fd, o->addr, o->len, 0);
	}
	return -1;
}

static void scenario(void)
{
	long hpres, hp = orc_hugepages_reserve(4, &hpres);
	char *anon = t_map(4 * t_page);
	int mfd = orc_memfd(4 * t_page);
	char *shm = orc_mmap(4 * t_page, PROT_READ | PROT_WRITE, MAP_SHARED, mfd);
	char *huge = mmap(NULL, 2 * hp, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	char *hshared = mmap(NULL, 2 * hp, PROT_READ | PROT_WRITE,
			     MAP_SHARED | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	T_ASSERT(huge != MAP_FAILED && hshared != MAP_FAILED);
	char *src = t_map(hp);
	t_fill(src, hp, 5);

	if (!SANITIZER_THREADS)
		first_open();
	first_register(anon + 3 * t_page);

	/* A userfaultfd opened before, a fault pending: everything the
	 * kernel does without address space. */
	int fd = t_uffd_api(O_CLOEXEC | O_NONBLOCK, UFFD_FEATURE_PAGEFAULT_FLAG_WP);
	t_register(fd, anon, 2 * t_page,
		   UFFDIO_REGISTER_MODE_MISSING | UFFDIO_REGISTER_MODE_WP);
	struct orc_toucher t;
	struct uffd_msg m;
	orc_touch_start(&t, anon + 1, 0, 0);
	orc_fault_msg(fd, &m, "anon fault before", anon);
	struct op ops[] = {
		{ "REGISTER anon", REG, anon + 2 * t_page, t_page, 0 },
		{ "REGISTER shmem", REG, shm, 4 * t_page, 0 },
		{ "REGISTER hugetlb", REG, huge, 2 * hp, 0 },
		{ "REGISTER shared hugetlb", REG, hshared, 2 * hp, 0 },
		{ "COPY anon (the pending fault)", COPY, anon, t_page, 0 },
		{ "ZEROPAGE anon", ZERO, anon + t_page, t_page, 0 },
		{ "WRITEPROTECT anon", WP, anon, 2 * t_page, 0 },
		{ "un-WRITEPROTECT anon", UNWP, anon, 2 * t_page, 0 },
		{ "COPY shmem", COPY, shm, t_page, 0 },
		{ "ZEROPAGE shmem", ZERO, shm + t_page, t_page, 0 },
		{ "WRITEPROTECT shmem", WP, shm, 2 * t_page, 0 },
		{ "un-WRITEPROTECT shmem", UNWP, shm, 2 * t_page, 0 },
		{ "COPY hugetlb", COPY, huge, hp, 0 },
		{ "WRITEPROTECT hugetlb", WP, huge, hp, 0 },
		{ "un-WRITEPROTECT hugetlb", UNWP, huge, hp, 0 },
		{ "COPY shared hugetlb", COPY, hshared, hp, 0 },
		{ "WRITEPROTECT shared hugetlb", WP, hshared, hp, 0 },
		{ "un-WRITEPROTECT shared hugetlb", UNWP, hshared, hp, 0 },
	};
	const int nops = sizeof(ops) / sizeof(ops[0]);

	orc_as_exhaust();
	int fd2 = uffd_open(O_CLOEXEC | O_NONBLOCK, t_backend);
	needs_room("second open", fd2);
	if (fd2 >= 0)
		close(fd2);
	for (int i = 0; i < nops; i++) {
		errno = 0;
		ops[i].failed = needs_room(ops[i].what, run_op(fd, &ops[i], src));
	}
	/* What failed is not half done: a failed fill left the page missing
	 * (a second try would otherwise say EEXIST). */
	orc_as_restore();
	for (int i = 0; i < nops; i++)
		if (ops[i].failed)
			T_EXPECT_EQ(run_op(fd, &ops[i], src), 0);

	T_EXPECT_EQ(orc_touch_join(&t), src[1]);
	T_OBS("anon %d %d shmem %d %d hugetlb %d %d", t_check(anon, t_page, 5), anon[t_page],
	      t_check(shm, t_page, 5), shm[t_page], t_check(huge, hp, 5), t_check(hshared, hp, 5));

	close(fd);
	munmap(anon, 4 * t_page);
	munmap(shm, 4 * t_page);
	close(mfd);
	munmap(huge, 2 * hp);
	munmap(hshared, 2 * hp);
	munmap(src, hp);
	orc_hugepages_release(hpres);
}

T_MAIN("address-space-exhausted", scenario)
