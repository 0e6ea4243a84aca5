/* SPDX-License-Identifier: MIT */
/*
 * Closing a userfaultfd releases its registrations at once, for every ioctl
 * of a new userfaultfd made right after the close (close-then-register
 * covers REGISTER): the memory the closed one registered is unregistered
 * memory to UNREGISTER (0), COPY, COPY with MODE_WP, ZEROPAGE and POISON
 * (ENOENT, nothing filled) and WRITEPROTECT (ENOENT), on anonymous and
 * shmem memory, every round.  Found by the differential fuzzer
 * (test/fuzz-corpus/found-1-83, -85, -88, -113): the user backend released
 * a closed context on its monitor thread, and ioctls that ran before it did
 * saw the old registration (UNREGISTER EINVAL, COPY|WP EINVAL, ZEROPAGE
 * filling a page and saying EAGAIN).
 */
#include "oracle.h"

#define ROUNDS 300
#define PAGES 8

enum { UNREG, COPY, COPY_WP, ZERO, ZERO_PAST, POISON, WP, NCASES };
static const char *const names[NCASES] = {
	"UNREGISTER", "COPY", "COPY|WP", "ZEROPAGE", "ZEROPAGE past the end",
	"POISON", "WRITEPROTECT",
};

/* One round's ioctls on fd over mem: the errno of each (0: success). */
static void ioctls(int fd, char *mem, const char *src, int *err)
{
	const uint64_t s = (uintptr_t)mem;
	struct uffdio_range r = { s, PAGES * t_page };
	struct uffdio_copy c = { s, (uintptr_t)src, t_page, UFFDIO_COPY_MODE_DONTWAKE, 0 };
	struct uffdio_copy cw = { s + t_page, (uintptr_t)src, t_page, UFFDIO_COPY_MODE_WP, 0 };
	struct uffdio_zeropage z = { { s + 2 * t_page, t_page }, 0, 0 };
	/* Half in the old registration, half past the mapping's end. */
	struct uffdio_zeropage zp = { { s + (PAGES - 1) * t_page, 2 * t_page }, 0, 0 };
	struct uffdio_poison p = { { s + 3 * t_page, t_page }, 0, 0 };
	struct uffdio_writeprotect w = { { s, PAGES * t_page }, UFFDIO_WRITEPROTECT_MODE_WP };

#define RUN(i, req, arg) (errno = 0, err[i] = uffd_ioctl(fd, req, arg) < 0 ? errno : 0)
	RUN(UNREG, UFFDIO_UNREGISTER, &r);
	RUN(COPY, UFFDIO_COPY, &c);
	RUN(COPY_WP, UFFDIO_COPY, &cw);
	RUN(ZERO, UFFDIO_ZEROPAGE, &z);
	RUN(ZERO_PAST, UFFDIO_ZEROPAGE, &zp);
	RUN(POISON, UFFDIO_POISON, &p);
	RUN(WP, UFFDIO_WRITEPROTECT, &w);
#undef RUN
}

static void rounds(const char *what, char *mem, void *arg)
{
	const char *src = arg;
	const uint64_t features = UFFD_FEATURE_PAGEFAULT_FLAG_WP | UFFD_FEATURE_MISSING_SHMEM |
				  UFFD_FEATURE_WP_HUGETLBFS_SHMEM | UFFD_FEATURE_POISON;
	int first[NCASES], differ[NCASES] = { 0 };
	int filled = 0;

	for (int i = 0; i < ROUNDS; i++) {
		int old = t_uffd_api(O_CLOEXEC | O_NONBLOCK, features);
		t_register(old, mem, PAGES * t_page,
			   UFFDIO_REGISTER_MODE_MISSING | UFFDIO_REGISTER_MODE_WP);
		close(old);
		int fd = t_uffd_api(O_CLOEXEC | O_NONBLOCK, features);
		int err[NCASES];
		ioctls(fd, mem, src, err);
		for (int k = 0; k < NCASES; k++) {
			if (i == 0)
				first[k] = err[k];
			differ[k] += err[k] != first[k];
		}
		/* Nothing was filled: every page is still empty. */
		for (int pg = 0; pg < PAGES; pg++)
			filled += mem[pg * t_page] != 0;
		close(fd);
	}
	for (int k = 0; k < NCASES; k++) {
		T_OBS("%s: %s %s, %d rounds of %d otherwise", what, names[k],
		      first[k] ? t_errname(first[k]) : "ok", differ[k], ROUNDS);
		T_EXPECT_EQ(differ[k], 0);
	}
	T_OBS("%s: pages found filled: %d", what, filled);
	T_EXPECT_EQ(filled, 0);
}

static void scenario(void)
{
	char *src = t_map(t_page);
	memset(src, 0x5a, t_page);

	orc_each_memory(ORC_ANON | ORC_SHMEM_SHARED, PAGES * t_page, rounds, src);
	munmap(src, t_page);
}

T_MAIN("close-then-resolve", scenario)
