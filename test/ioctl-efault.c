/* Bad argument pointers: every ioctl fails with EFAULT, as copy_from_user()
 * and copy_to_user() make the kernel's; an output field that cannot be
 * written back fails the call after the work is done. */
#include <sys/mman.h>
#include "harness.h"

static void scenario(void)
{
	int fd = t_uffd(O_CLOEXEC | O_NONBLOCK);
	/* Inaccessible, and nothing else can be mapped there meanwhile. */
	char *unmapped = mmap(NULL, t_page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	T_ASSERT(unmapped != MAP_FAILED);

	T_EXPECT_ERR(uffd_ioctl(fd, UFFDIO_API, NULL), EFAULT);
	T_EXPECT_ERR(uffd_ioctl(fd, UFFDIO_API, unmapped), EFAULT);
	/* A failed copy-in leaves the fd uninitialized. */
	struct uffdio_api api = { .api = UFFD_API };
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_API, &api));

	T_EXPECT_ERR(uffd_ioctl(fd, UFFDIO_REGISTER, NULL), EFAULT);
	T_EXPECT_ERR(uffd_ioctl(fd, UFFDIO_UNREGISTER, unmapped), EFAULT);
	T_EXPECT_ERR(uffd_ioctl(fd, UFFDIO_WAKE, unmapped + 8), EFAULT);
	T_EXPECT_ERR(uffd_ioctl(fd, UFFDIO_COPY, unmapped), EFAULT);
	T_EXPECT_ERR(uffd_ioctl(fd, UFFDIO_ZEROPAGE, NULL), EFAULT);
	T_EXPECT_ERR(uffd_ioctl(fd, UFFDIO_WRITEPROTECT, NULL), EFAULT);

	/* The argument is readable but its output field is not writable:
	 * the copy happens, then the write-back fails. */
	char *mem = t_map(2 * t_page);
	char *src = t_map(t_page);
	memset(src, 0x5a, t_page);
	t_register(fd, mem, 2 * t_page, UFFDIO_REGISTER_MODE_MISSING);
	char *argpage = t_map(t_page);
	struct uffdio_copy *c = (struct uffdio_copy *)argpage;
	*c = (struct uffdio_copy){ (uintptr_t)mem, (uintptr_t)src, t_page, 0, 0 };
	T_ASSERT(mprotect(argpage, t_page, PROT_READ) == 0);
	T_EXPECT_ERR(uffd_ioctl(fd, UFFDIO_COPY, c), EFAULT);
	T_OBS("the page was copied anyway: %d", mem[100] == 0x5a);
	T_OBS("copy field untouched: %lld", (long long)c->copy);
	close(fd);
}
T_MAIN("ioctl-efault", scenario)
