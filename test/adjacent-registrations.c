/* Adjacent ranges registered alike become one mapping in the kernel, so one
 * COPY or ZEROPAGE may span them; ranges registered with different modes
 * stay separate mappings, and an operation spanning them fails as a whole
 * (ENOENT, nothing filled).  Anonymous memory, and pieces of one mapping of
 * a file (shared and private shmem: the file offsets follow on), registered
 * one after another or registered again over a registration kept (found-5-
 * 77695 in test/fuzz-corpus/). */
#include "harness.h"
#include "oracle.h"

static void scenario(void)
{
	const uint64_t M = UFFDIO_REGISTER_MODE_MISSING;
	int fd = t_uffd_api(O_CLOEXEC | O_NONBLOCK, 0);
	char *mem = t_map(12 * t_page);
	char *src = t_map(4 * t_page);
	t_fill(src, 4 * t_page, 7);

	t_register(fd, mem, 2 * t_page, M);
	t_register(fd, mem + 2 * t_page, 2 * t_page, M);
	struct uffdio_copy c = { (uintptr_t)mem, (uintptr_t)src, 4 * t_page, 0, 0 };
	orc_ioctl_case("COPY across two registrations alike", fd, UFFDIO_COPY, &c,
		       "copy", &c.copy, 0);
	T_OBS("contents: %d", t_check(mem, 4 * t_page, 7));

	t_register(fd, mem + 4 * t_page, 2 * t_page, M);
	t_register(fd, mem + 6 * t_page, 2 * t_page, M);
	struct uffdio_zeropage z = { { (uintptr_t)mem + 5 * t_page, 2 * t_page }, 0, 0 };
	orc_ioctl_case("ZEROPAGE across two registrations alike", fd, UFFDIO_ZEROPAGE, &z,
		       "zeropage", &z.zeropage, 0);

	t_register(fd, mem + 8 * t_page, 2 * t_page, M | UFFDIO_REGISTER_MODE_WP);
	t_register(fd, mem + 10 * t_page, 2 * t_page, M);
	c = (struct uffdio_copy){ (uintptr_t)mem + 9 * t_page, (uintptr_t)src, 2 * t_page, 0, 0 };
	orc_ioctl_case("COPY across different modes", fd, UFFDIO_COPY, &c, "copy", &c.copy, ENOENT);
	c = (struct uffdio_copy){ (uintptr_t)mem + 7 * t_page, (uintptr_t)src, 2 * t_page, 0, 0 };
	orc_ioctl_case("COPY from a range alike into a different one", fd, UFFDIO_COPY, &c,
		       "copy", &c.copy, ENOENT);

	/* Pieces of one memfd mapping. */
	for (int shared = 1; shared >= 0; shared--) {
		int mfd = orc_memfd(8 * t_page);
		char *sh = orc_mmap(8 * t_page, PROT_READ | PROT_WRITE,
				    shared ? MAP_SHARED : MAP_PRIVATE, mfd);
		close(mfd);
		t_register(fd, sh, 2 * t_page, M);
		t_register(fd, sh + 2 * t_page, 2 * t_page, M);
		c = (struct uffdio_copy){ (uintptr_t)sh + t_page, (uintptr_t)src, 2 * t_page, 0, 0 };
		orc_ioctl_case(shared ? "shared shmem: COPY across two registrations alike" :
			       "private shmem: COPY across two registrations alike",
			       fd, UFFDIO_COPY, &c, "copy", &c.copy, 0);
		t_register(fd, sh + 5 * t_page, t_page, M);
		t_register(fd, sh + 4 * t_page, 4 * t_page, M);
		z = (struct uffdio_zeropage){ { (uintptr_t)sh + 4 * t_page, 4 * t_page }, 0, 0 };
		orc_ioctl_case(shared ? "shared shmem: ZEROPAGE across a registration kept" :
			       "private shmem: ZEROPAGE across a registration kept",
			       fd, UFFDIO_ZEROPAGE, &z, "zeropage", &z.zeropage, 0);
		munmap(sh, 8 * t_page);
	}
	close(fd);
}
T_MAIN("adjacent-registrations", scenario)
