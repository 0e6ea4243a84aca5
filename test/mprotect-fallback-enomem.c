/* The user backend's mprotect trap (used where the kernel lacks guard
 * markers) makes every trapped run of pages a mapping of its own, so
 * vm.max_map_count bounds it.  Reaching the bound must be a clean ENOMEM
 * from the ioctl, with every page before it intact and nothing hung; the
 * kernel has no such bound (its half checks the same copies succeed). */
#include <sys/mman.h>
#include "harness.h"
#include "oracle.h"

static void scenario(void)
{
	long limit = orc_max_map_count();
	if (limit <= 0 || limit > 1000000)
		t_skip("vm.max_map_count is %ld", limit);
	if (t_backend == UFFD_BACKEND_USER)
		setenv("UFFD_USER_TRAP", "mprotect", 1);  /* before the first open */
	int fd = t_uffd_api(O_CLOEXEC | O_NONBLOCK, 0);
	const long pages = 2 * limit + 64;  /* every other page copied: a split each */
	char *mem = mmap(NULL, pages * t_page, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	T_ASSERT(mem != MAP_FAILED);
	char *src = t_map(t_page);
	t_register(fd, mem, pages * t_page, UFFDIO_REGISTER_MODE_MISSING);

	long copied = 0, failed_at = -1;
	int err = 0;
	int64_t field = 0;
	for (long i = 0; i < pages; i += 2) {
		*(long *)src = i;
		struct uffdio_copy c = { (uintptr_t)mem + i * t_page, (uintptr_t)src, t_page, 0, 0 };
		if (uffd_ioctl(fd, UFFDIO_COPY, &c)) {
			err = errno;
			field = c.copy;
			failed_at = i;
			break;
		}
		copied++;
	}
	int intact = 1;
	for (long i = 0; i < copied * 2; i += 2)
		intact &= *(long *)(mem + i * t_page) == i;
	T_EXPECT(intact);
	if (t_backend == UFFD_BACKEND_KERNEL) {
		T_EXPECT_EQ(failed_at, -1);
	} else {
		/* ENOMEM near the bound, reported in the output field too. */
		T_EXPECT_EQ(err, ENOMEM);
		T_EXPECT_EQ(field, -ENOMEM);
		T_EXPECT(failed_at > 0 && copied < limit);
		/* The page that could not be filled is still missing, not lost:
		 * after unregistering (which merges the mappings) it reads 0. */
		struct uffdio_range r = { (uintptr_t)mem, pages * t_page };
		T_ASSERT(uffd_ioctl(fd, UFFDIO_UNREGISTER, &r) == 0);
		T_EXPECT_EQ(*(long *)(mem + failed_at * t_page), 0);
	}
	close(fd);
	munmap(mem, pages * t_page);
}
T_MAIN("mprotect-fallback-enomem", scenario)
