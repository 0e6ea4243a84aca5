/*
 * <uffd.h> (and <uffd/pager.h>) compile as C++, with their layout checks,
 * and the API works from a C++ program: the handshake, a registration, a
 * fault resolved by UFFDIO_COPY, the message stream.  Built with $(CXX)
 * (issue 11: g++ failed at the _Static_asserts of <uffd/abi.h>).
 */
#include <uffd.h>
#include <uffd/pager.h>
#include <thread>
extern "C" {
#include "harness.h"
}

static_assert(sizeof(uffd_msg) == 32, "uffd_msg as C++ sees it");
static_assert(UFFDIO_COPY == _IOWR(UFFDIO, _UFFDIO_COPY, struct uffdio_copy), "UFFDIO_COPY");

static void scenario()
{
	int fd = t_uffd_api(O_CLOEXEC, 0);
	char *mem = static_cast<char *>(t_map(t_page));
	char *src = static_cast<char *>(t_map(t_page));
	t_fill(src, t_page, 7);
	uint64_t ioctls = t_register(fd, mem, t_page, UFFDIO_REGISTER_MODE_MISSING);
	T_OBS("COPY offered: %d", !!(ioctls & (1ULL << _UFFDIO_COPY)));

	int seen = 0;
	std::thread reader([&] { seen = t_check(mem, t_page, 7); });
	uffd_msg msg;
	T_ASSERT(t_read_msg(fd, &msg, 5000) == 1);
	T_OBS("event 0x%x at page offset %ld", msg.event,
	      (long)((char *)(uintptr_t)msg.arg.pagefault.address - mem));
	uffdio_copy c = {};
	c.dst = (uintptr_t)mem;
	c.src = (uintptr_t)src;
	c.len = (uint64_t)t_page;
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_COPY, &c));
	reader.join();
	T_OBS("copied %lld, the reader saw the copy: %d", (long long)c.copy, seen);
	T_EXPECT(seen);
	close(fd);
}
T_MAIN("cxx-header", scenario)
