/* SPDX-License-Identifier: MIT */
/*
 * Threads that each open a userfaultfd, register their own memory and close
 * it, over and over: a new userfaultfd is never torn down by the release of
 * an old one closed a moment earlier (a new fd never reads as hung up, its
 * REGISTER never fails), however the releases and the opens interleave.
 */
#include <poll.h>
#include <pthread.h>

#include "harness.h"

#define THREADS 4
#define ROUNDS 1500

static _Atomic int hangups, reg_errors;

static void *opener(void *arg)
{
	char *mem = arg;

	for (int i = 0; i < ROUNDS; i++) {
		int fd = uffd_open(O_CLOEXEC | O_NONBLOCK, t_backend);
		struct uffdio_api api = { .api = UFFD_API };
		struct uffdio_register reg = {
			.range = { .start = (uintptr_t)mem, .len = t_page },
			.mode = UFFDIO_REGISTER_MODE_MISSING,
		};
		if (fd < 0 || uffd_ioctl(fd, UFFDIO_API, &api) < 0 ||
		    uffd_ioctl(fd, UFFDIO_REGISTER, &reg) < 0)
			reg_errors++;
		struct pollfd p = { .fd = fd, .events = POLLIN };
		hangups += poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR));
		close(fd);
	}
	return NULL;
}

static void scenario(void)
{
	char *mem = t_map(THREADS * t_page);
	pthread_t t[THREADS];

	for (int i = 0; i < THREADS; i++)
		T_ASSERT(pthread_create(&t[i], NULL, opener, mem + i * t_page) == 0);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	T_OBS("%d threads x %d rounds: %d failed to open or register, %d hung up",
	      THREADS, ROUNDS, reg_errors, hangups);
	T_EXPECT_EQ(reg_errors, 0);
	T_EXPECT_EQ(hangups, 0);
	munmap(mem, THREADS * t_page);
}

T_MAIN("close-reopen-threads", scenario)
