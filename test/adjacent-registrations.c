/* Adjacent ranges registered alike become one mapping in the kernel, so one
 * COPY or ZEROPAGE may span them; ranges registered with different modes
 * stay separate mappings, and an operation spanning them fails as a whole
 * (ENOENT, nothing filled). */
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
	close(fd);
}
T_MAIN("adjacent-registrations", scenario)
