/*
 * Request numbers a userfaultfd does not know: the kernel's switch falls
 * through to EINVAL (not ENOTTY), before and after the handshake, for the
 * unused UFFDIO numbers, for UFFDIO numbers with the wrong size or direction,
 * for another driver's numbers, and for the /dev/userfaultfd request.
 */
#include <sys/ioctl.h>
#include <termios.h>
#include "harness.h"

struct big { char b[40]; };

static void try_all(int fd, const char *when)
{
	char buf[64] = {0};
	const struct { const char *name; unsigned long req; } reqs[] = {
		{ "_IOWR(UFFDIO, 0x09, uffdio_range)", _IOWR(UFFDIO, 0x09, struct uffdio_range) },
		{ "_IOWR(UFFDIO, 0x3E, uffdio_api)", _IOWR(UFFDIO, 0x3E, struct uffdio_api) },
		{ "_IO(UFFDIO, 0x3F)", _IO(UFFDIO, 0x3F) },
		{ "_IOR(UFFDIO, 0x3F, uffdio_api)", _IOR(UFFDIO, 0x3F, struct uffdio_api) },
		{ "_IOWR(UFFDIO, 0x3F, big)", _IOWR(UFFDIO, 0x3F, struct big) },
		{ "_IOWR(UFFDIO, 0x03, uffdio_range)", _IOWR(UFFDIO, 0x03, struct uffdio_range) },
		{ "USERFAULTFD_IOC_NEW", USERFAULTFD_IOC_NEW },
		{ "TCGETS", TCGETS },
		{ "0", 0 },
	};
	for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		errno = 0;
		int r = uffd_ioctl(fd, reqs[i].req, buf);
		int e = errno;
		T_OBS("%s %s: %d %s", when, reqs[i].name, r, r < 0 ? t_errname(e) : "");
		T_EXPECT_EQ(r, -1);
		T_EXPECT(e == EINVAL || e == ENOTTY);
		if (t_backend == UFFD_BACKEND_KERNEL)
			T_EXPECT_EQ(e, EINVAL);
	}
}

static void scenario(void)
{
	int fd = t_uffd(O_CLOEXEC | O_NONBLOCK);

	try_all(fd, "before API");
	struct uffdio_api api = { .api = UFFD_API };
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_API, &api));
	try_all(fd, "after API");
	close(fd);
}
T_MAIN("ioctl-unknown", scenario)
