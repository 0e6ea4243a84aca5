/* Faults on hugetlb memory, private and shared: a touch in a missing huge
 * page gives a message (the exact address, with UFFD_FEATURE_EXACT_ADDRESS);
 * one UFFDIO_COPY of the whole huge page resolves it; WRITEPROTECT works by
 * whole huge pages only. */
#include <sys/mman.h>
#include "harness.h"
#include "oracle.h"

static void one(const char *what, int flags, size_t hp, char *src)
{
	int fd = t_uffd_api(O_CLOEXEC | O_NONBLOCK, UFFD_FEATURE_EXACT_ADDRESS);
	char *mem = mmap(NULL, 2 * hp, PROT_READ | PROT_WRITE, flags | MAP_ANONYMOUS | MAP_HUGETLB,
			 -1, 0);
	if (mem == MAP_FAILED)
		T_FATAL("%s: mmap: %s", what, t_errname(errno));
	t_register(fd, mem, 2 * hp, UFFDIO_REGISTER_MODE_MISSING | UFFDIO_REGISTER_MODE_WP);

	struct orc_toucher t;
	orc_touch_start(&t, mem + hp + 12345, 0, 0);
	struct uffd_msg m;
	T_ASSERT(t_read_msg(fd, &m, 5000));
	T_OBS("%s: fault flags 0x%llx at huge page offset %lld", what,
	      (unsigned long long)m.arg.pagefault.flags,
	      (long long)((char *)(uintptr_t)m.arg.pagefault.address - mem - (long)hp));
	struct uffdio_copy c = { (uintptr_t)mem + hp, (uintptr_t)src, hp, 0, 0 };
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_COPY, &c));
	char v = orc_touch_join(&t);
	T_OBS("%s: read after COPY %d, whole huge page intact %d", what, v == src[12345],
	      t_check(mem + hp, hp, 9));

	/* Write protection by huge pages; a write blocks until it is lifted. */
	struct uffdio_writeprotect wp = { { (uintptr_t)mem + hp, hp }, UFFDIO_WRITEPROTECT_MODE_WP };
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_WRITEPROTECT, &wp));
	orc_touch_start(&t, mem + hp + 7, 1, 0x77);
	T_ASSERT(t_read_msg(fd, &m, 5000));
	T_OBS("%s: write-protect fault flags 0x%llx", what,
	      (unsigned long long)m.arg.pagefault.flags);
	wp.mode = 0;
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_WRITEPROTECT, &wp));
	orc_touch_join(&t);
	T_OBS("%s: the write landed %d", what, mem[hp + 7] == 0x77);
	struct uffdio_writeprotect half = { { (uintptr_t)mem + hp, hp / 2 }, UFFDIO_WRITEPROTECT_MODE_WP };
	T_EXPECT_ERR(uffd_ioctl(fd, UFFDIO_WRITEPROTECT, &half), EINVAL);
	close(fd);
	munmap(mem, 2 * hp);
}

static void scenario(void)
{
	long old, hp = orc_hugepages_reserve(4, &old);
	char *src = t_map((size_t)hp);

	t_fill(src, (size_t)hp, 9);
	one("private", MAP_PRIVATE, (size_t)hp, src);
	one("shared", MAP_SHARED, (size_t)hp, src);
	munmap(src, (size_t)hp);
	orc_hugepages_release(old);
}
T_MAIN("hugetlb-fault", scenario)
