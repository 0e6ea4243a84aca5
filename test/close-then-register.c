/* SPDX-License-Identifier: MIT */
/*
 * Closing a userfaultfd releases its registrations at once: a new
 * userfaultfd registers the same memory right after the close, every time
 * (never EBUSY because the old context is still being torn down), and the
 * new one stays open (its release is never taken for the old one's).
 */
#include <poll.h>

#include "harness.h"

#define ROUNDS 2000

static void scenario(void)
{
	char *mem = t_map(16 * t_page);
	int busy = 0, other = 0, hangup = 0;

	for (int i = 0; i < ROUNDS; i++) {
		int fd = t_uffd_api(O_CLOEXEC | O_NONBLOCK, 0);
		struct uffdio_register reg = {
			.range = { .start = (uintptr_t)mem, .len = 16 * t_page },
			.mode = UFFDIO_REGISTER_MODE_MISSING,
		};
		if (uffd_ioctl(fd, UFFDIO_REGISTER, &reg) < 0) {
			if (errno == EBUSY)
				busy++;
			else
				other++;
		}
		struct pollfd p = { .fd = fd, .events = POLLIN };
		hangup += poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR));
		close(fd);
	}
	T_OBS("REGISTER right after a close: %d EBUSY, %d other errors; %d hung up",
	      busy, other, hangup);
	T_EXPECT_EQ(hangup, 0);
	T_EXPECT_EQ(busy, 0);
	T_EXPECT_EQ(other, 0);
	munmap(mem, 16 * t_page);
}

T_MAIN("close-then-register", scenario)
