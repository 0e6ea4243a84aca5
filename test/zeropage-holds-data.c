/*
 * A page filled by UFFDIO_ZEROPAGE holds data (the kernel maps the zero
 * page), as a copied one does, even if nobody touched it since:
 *  - UNREGISTER and REGISTER again keep it: ZEROPAGE and COPY there are
 *    EEXIST, and reading it raises no fault;
 *  - WRITEPROTECT protects it: a write raises a WP fault.
 * Found by stress-anon (a page zero-filled, then cycled through
 * UNREGISTER/REGISTER, was taken for missing and filled a second time).
 */
#include "oracle.h"

static void scenario(void)
{
	const uint64_t mode = UFFDIO_REGISTER_MODE_MISSING | UFFDIO_REGISTER_MODE_WP;
	int fd = t_uffd_api(O_CLOEXEC | O_NONBLOCK, 0);
	char *mem = t_map(4 * t_page);
	char *src = t_map(t_page);
	const uint64_t m = (uintptr_t)mem;

	memset(src, 0x5a, t_page);
	t_register(fd, mem, 4 * t_page, mode);
	struct uffdio_zeropage z = { { m, 2 * t_page }, 0, 0 };
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_ZEROPAGE, &z));

	/* Cycled through UNREGISTER/REGISTER, untouched. */
	struct uffdio_range all = { m, 4 * t_page };
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_UNREGISTER, &all));
	t_register(fd, mem, 4 * t_page, mode);
	struct uffdio_zeropage z0 = { { m, t_page }, 0, 0 };
	orc_ioctl_case("ZEROPAGE of page 0 again", fd, UFFDIO_ZEROPAGE, &z0, "zeropage",
		       &z0.zeropage, EEXIST);
	struct uffdio_copy c = { m, (uintptr_t)src, t_page, 0, 0 };
	orc_ioctl_case("COPY onto page 0", fd, UFFDIO_COPY, &c, "copy", &c.copy, EEXIST);
	struct uffdio_copy c3 = { m + 3 * t_page, (uintptr_t)src, t_page, 0, 0 };
	orc_ioctl_case("COPY onto page 3 (never filled)", fd, UFFDIO_COPY, &c3, "copy",
		       &c3.copy, 0);

	/* Read from another thread: a fault would be a message. */
	struct orc_toucher t;
	orc_touch_start(&t, mem, 0, 0);
	T_OBS("page 0 reads %d", orc_touch_join(&t));
	T_OBS("no fault reading it: %d", orc_nothing_queued(fd));

	/* Write-protected: a write to page 1 is a WP fault. */
	struct uffdio_writeprotect wp = { { m + t_page, t_page }, UFFDIO_WRITEPROTECT_MODE_WP };
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_WRITEPROTECT, &wp));
	orc_touch_start(&t, mem + t_page, 1, 9);
	struct uffd_msg msg;
	if (t_read_msg(fd, &msg, 2000)) {
		T_OBS("write to page 1: fault at page %ld flags 0x%llx",
		      ORC_PG((char *)(uintptr_t)msg.arg.pagefault.address, mem),
		      (unsigned long long)msg.arg.pagefault.flags);
		wp.mode = 0;
		T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_WRITEPROTECT, &wp));
	} else {
		T_OBS("write to page 1: no fault");
	}
	orc_touch_join(&t);
	T_OBS("page 1 after the write: %d", mem[t_page]);
	close(fd);
	munmap(mem, 4 * t_page);
	munmap(src, t_page);
}
T_MAIN("zeropage-holds-data", scenario)
