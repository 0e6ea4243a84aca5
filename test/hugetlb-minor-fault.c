/* SPDX-License-Identifier: MIT */
/*
 * Minor faults on hugetlb (UFFD_FEATURE_MINOR_HUGETLBFS).  The kernel takes
 * MINOR registrations on hugetlb whether or not UFFDIO_API asked for the
 * feature, so both halves register after a handshake without it.  A hugetlb
 * memfd with huge pages 0 and 1 written through a second mapping (in the page
 * cache) is mapped MAP_SHARED and registered MINOR: a read of page 1 gives a
 * MINOR message, the handler changes the page through the other mapping and
 * CONTINUEs, and the reader sees the change.  A write to a hole (page 2) is no
 * userfault: the page is allocated and the write lands in the file.  A page
 * that enters the page cache after registering (page 3) faults as minor.
 * Anonymous MAP_PRIVATE hugetlb registered MINOR has no page cache: a touch
 * allocates a zero page, no message.  Last, on the kernel only: a cached
 * huge page that holds only zeros faults as minor too.
 */
#include <sys/mman.h>
#include "oracle.h"

static void fault_and_continue(int fd, char *sh, char *alias, size_t hp, int pg,
			       unsigned seed)
{
	struct orc_toucher t;
	struct uffd_msg m;

	orc_touch_start(&t, sh + pg * hp + 4321, 0, 0);
	T_ASSERT(t_read_msg(fd, &m, 5000));
	T_OBS("page %d: fault flags 0x%llx at huge page %lld", pg,
	      (unsigned long long)m.arg.pagefault.flags,
	      (long long)(((char *)(uintptr_t)m.arg.pagefault.address - sh) / (long)hp));
	T_EXPECT_EQ(m.arg.pagefault.flags, UFFD_PAGEFAULT_FLAG_MINOR);
	t_fill(alias + pg * hp, hp, seed);
	struct uffdio_continue c = { .range = { (uintptr_t)sh + pg * hp, hp } };
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_CONTINUE, &c));
	T_OBS("page %d: mapped %lld", pg, (long long)c.mapped);
	char v = orc_touch_join(&t);
	T_OBS("page %d: the reader saw the change %d, whole page %d", pg,
	      v == alias[pg * hp + 4321], t_check(sh + pg * hp, hp, seed));
}

static void scenario(void)
{
	long old, hp = orc_hugepages_reserve(6, &old);
	int fd = t_uffd_api(O_CLOEXEC | O_NONBLOCK, 0);
	T_OBS("UFFDIO_API offers MINOR_HUGETLBFS: %d",
	      !!(t_api_features & UFFD_FEATURE_MINOR_HUGETLBFS));
	int mfd = memfd_create("hugetlb-minor", MFD_HUGETLB | MFD_CLOEXEC);
	T_ASSERT(mfd >= 0);
	T_ASSERT(ftruncate(mfd, 5 * hp) == 0);
	char *alias = orc_mmap(5 * hp, PROT_READ | PROT_WRITE, MAP_SHARED, mfd);
	char *sh = orc_mmap(5 * hp, PROT_READ | PROT_WRITE, MAP_SHARED, mfd);
	t_fill(alias, hp, 1);
	t_fill(alias + hp, hp, 2);

	uint64_t ioctls = t_register(fd, sh, 5 * hp, UFFDIO_REGISTER_MODE_MINOR);
	T_OBS("register ioctls 0x%llx", (unsigned long long)ioctls);
	fault_and_continue(fd, sh, alias, hp, 1, 11);

	/* A hole: allocated by the access, no message. */
	sh[2 * hp + 10] = 0x33;
	T_OBS("hole: the write landed in the file %d, nothing queued %d",
	      alias[2 * hp + 10] == 0x33, orc_nothing_queued(fd));

	/* Into the page cache after registering. */
	t_fill(alias + 3 * hp, hp, 3);
	fault_and_continue(fd, sh, alias, hp, 3, 13);
	/* Page 0 was cached before registering and never mapped here. */
	fault_and_continue(fd, sh, alias, hp, 0, 10);

	char *pr = orc_mmap(hp, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1);
	t_register(fd, pr, hp, UFFDIO_REGISTER_MODE_MINOR);
	T_OBS("private: a touch reads %d, nothing queued %d", pr[77], orc_nothing_queued(fd));
	pr[78] = 5;
	T_OBS("private: the write landed %d", pr[78] == 5);

	if (t_limit_begin("a cached huge page of zeros looks like a hole")) {
		memset(alias + 4 * hp, 0, hp);
		struct orc_toucher t;
		struct uffd_msg m;
		orc_touch_start(&t, sh + 4 * hp, 0, 0);
		T_ASSERT(t_read_msg(fd, &m, 5000));
		T_EXPECT_EQ(m.arg.pagefault.flags, UFFD_PAGEFAULT_FLAG_MINOR);
		struct uffdio_continue c = { .range = { (uintptr_t)sh + 4 * hp, hp } };
		T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_CONTINUE, &c));
		orc_touch_join(&t);
		t_limit_end();
	}
	close(fd);
	munmap(pr, hp);
	munmap(sh, 5 * hp);
	munmap(alias, 5 * hp);
	close(mfd);
	orc_hugepages_release(old);
}
T_MAIN("hugetlb-minor-fault", scenario)
