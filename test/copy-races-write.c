/* SPDX-License-Identifier: MIT */
/*
 * UFFDIO_COPY into a page that the program writes meanwhile.  The COPY's
 * source is a missing page of another userfaultfd's MISSING range, so the
 * COPY blocks reading it (the kernel reads the source before it looks at
 * the destination: mfill_atomic_pte_copy() drops its locks and faults the
 * source in, then installs the page, EEXIST if one is there by then); while
 * it is blocked, a thread writes the destination page.  The order is made by
 * real events: the source's fault message, then the writer's completion (or
 * its own fault message).  Over anonymous memory and a shared and a private
 * mapping of a memfd, the destination registered
 *  - WP alone: the write allocates the page (no fault), the COPY then says
 *    EEXIST and the page keeps the write;
 *  - WP alone with UFFD_FEATURE_WP_ASYNC (and WP_UNPOPULATED, the absent page
 *    write-protected first): the same, the protection resolved by the write;
 *  - MISSING: the write is a userfault (message) that the COPY resolves; the
 *    write lands on the copied page.
 * Nothing is lost, nothing differs from the kernel.
 */
#include <pthread.h>

#include "oracle.h"

struct copier {
	pthread_t th;
	int fd;
	struct uffdio_copy c;
	int ret, err;
};

static void *copier_fn(void *arg)
{
	struct copier *k = arg;

	k->ret = uffd_ioctl(k->fd, UFFDIO_COPY, &k->c);
	k->err = errno;
	return NULL;
}

struct variant {
	const char *name;
	uint64_t features, mode;
	int protect;    /* WRITEPROTECT the absent page first */
};

static void run(const char *kind, char *dst, const struct variant *v)
{
	const int fs = t_uffd_api(O_CLOEXEC | O_NONBLOCK, 0);
	const int fd = t_uffd_api(O_CLOEXEC | O_NONBLOCK, v->features);
	char *src = t_map(t_page), *pat = t_map(t_page);
	memset(pat, 0x33, t_page);
	t_register(fs, src, t_page, UFFDIO_REGISTER_MODE_MISSING);
	t_register(fd, dst, t_page, v->mode);
	if (v->protect) {
		struct uffdio_writeprotect wp = { { (uintptr_t)dst, t_page },
						  UFFDIO_WRITEPROTECT_MODE_WP };
		T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_WRITEPROTECT, &wp));
	}

	struct copier k = { .fd = fd, .c = { (uintptr_t)dst, (uintptr_t)src, t_page, 0, 0 } };
	T_ASSERT(pthread_create(&k.th, NULL, copier_fn, &k) == 0);
	struct uffd_msg msg;
	orc_wait_msg(fs, &msg);
	T_OBS("%s, %s: the COPY reads its source: fault at source page %ld", kind, v->name,
	      ORC_PG(msg.arg.pagefault.address, src));

	/* The COPY is blocked on its source: the program writes the page. */
	struct orc_toucher w;
	orc_touch_start(&w, dst + 10, 1, 0x77);
	const int first = orc_touch_or_msg(&w, fd, &msg);
	T_OBS("%s, %s: while the COPY waits, the write %s", kind, v->name,
	      first ? "faulted" : "completed");
	if (first)
		T_OBS("its message: flags 0x%llx page %ld",
		      (unsigned long long)msg.arg.pagefault.flags,
		      ORC_PG(msg.arg.pagefault.address, dst));

	struct uffdio_copy sc = { (uintptr_t)src, (uintptr_t)pat, t_page, 0, 0 };
	T_EXPECT_OK(uffd_ioctl(fs, UFFDIO_COPY, &sc));
	pthread_join(k.th, NULL);
	T_OBS("COPY: %d %s copy %lld", k.ret, k.ret ? t_errname(k.err) : "ok",
	      (long long)k.c.copy);
	orc_touch_join(&w);
	T_OBS("page: byte 0 0x%x, byte 10 0x%x, byte 4095 0x%x", (unsigned char)dst[0],
	      (unsigned char)dst[10], (unsigned char)dst[t_page - 1]);
	T_EXPECT_EQ((unsigned char)dst[10], 0x77);
	T_OBS("nothing more queued: %d", orc_nothing_queued(fd));
	close(fd);
	close(fs);
	munmap(src, t_page);
	munmap(pat, t_page);
}

static void each(const char *kind, char *mem, void *arg)
{
	(void)arg;
	static const struct variant vs[] = {
		{ "WP", 0, UFFDIO_REGISTER_MODE_WP, 0 },
		{ "WP, WP_ASYNC", UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_WP_UNPOPULATED,
		  UFFDIO_REGISTER_MODE_WP, 1 },
		{ "MISSING", 0, UFFDIO_REGISTER_MODE_MISSING, 0 },
	};
	for (size_t i = 0; i < sizeof(vs) / sizeof(vs[0]); i++)
		run(kind, mem + (long)i * t_page, &vs[i]);
}

static void scenario(void)
{
	/* The features the memory kinds need, asked for once to skip early. */
	close(t_uffd_api(O_CLOEXEC, UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_WP_UNPOPULATED |
			 UFFD_FEATURE_WP_HUGETLBFS_SHMEM | UFFD_FEATURE_MISSING_SHMEM));
	orc_each_memory(ORC_ANON | ORC_SHMEM_SHARED | ORC_SHMEM_PRIVATE, 3 * t_page, each, NULL);
}
T_MAIN("copy-races-write", scenario)
