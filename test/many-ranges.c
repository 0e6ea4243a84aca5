/* SPDX-License-Identifier: MIT */
/*
 * Many ranges: 600 one-page ranges registered (MISSING, SIGBUS mode) in a
 * shuffled order, every third one unregistered again, then every page of the
 * mapping read in address order: exactly the pages still registered raise
 * SIGBUS at their own address (each resolved by a UFFDIO_COPY of its index),
 * the others read zero.
 */
#include <signal.h>

#include "harness.h"

#define N 600

static int fd;
static char *mem, *src;
static int signals, wrong_addr, copy_errors;

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	uintptr_t page = (uintptr_t)si->si_addr & ~(uintptr_t)(t_page - 1);
	long idx = (long)(page - (uintptr_t)mem) / t_page;

	signals++;
	if (idx < 0 || idx >= 2 * N || idx % 2)
		wrong_addr++;
	src[0] = (char)(idx / 2 % 127 + 1);
	struct uffdio_copy c = { .dst = page, .src = (uintptr_t)src, .len = t_page };
	if (uffd_ioctl(fd, UFFDIO_COPY, &c) < 0)
		copy_errors++;
}

static void scenario(void)
{
	int order[N];

	fd = t_uffd_api(O_CLOEXEC, UFFD_FEATURE_SIGBUS);
	mem = t_map(2 * N * t_page);
	src = t_map(t_page);
	struct sigaction sa = { .sa_sigaction = on_sigbus, .sa_flags = SA_SIGINFO };
	sigemptyset(&sa.sa_mask);
	T_ASSERT(sigaction(SIGBUS, &sa, NULL) == 0);

	/* Range k is page 2k; registered in a shuffled order. */
	for (int k = 0; k < N; k++)
		order[k] = k;
	unsigned seed = 12345;
	for (int k = N - 1; k > 0; k--) {
		seed = seed * 1103515245 + 12345;
		int j = (int)(seed >> 8) % (k + 1), t = order[k];
		order[k] = order[j];
		order[j] = t;
	}
	int reg_failed = 0, unreg_failed = 0;
	for (int k = 0; k < N; k++) {
		struct uffdio_register r = {
			.range = { (uintptr_t)(mem + 2 * (size_t)order[k] * t_page), t_page },
			.mode = UFFDIO_REGISTER_MODE_MISSING,
		};
		reg_failed += uffd_ioctl(fd, UFFDIO_REGISTER, &r) < 0;
	}
	for (int k = 0; k < N; k += 3) {
		struct uffdio_range r = { (uintptr_t)(mem + 2 * (size_t)k * t_page), t_page };
		unreg_failed += uffd_ioctl(fd, UFFDIO_UNREGISTER, &r) < 0;
	}
	T_OBS("register failures %d, unregister failures %d", reg_failed, unreg_failed);
	T_EXPECT_EQ(reg_failed, 0);
	T_EXPECT_EQ(unreg_failed, 0);

	long sum = 0, bad = 0;
	for (int i = 0; i < 2 * N; i++) {
		char v = ((volatile char *)mem)[(size_t)i * t_page];
		int k = i / 2;
		char want = i % 2 == 0 && k % 3 != 0 ? (char)(k % 127 + 1) : 0;
		bad += v != want;
		sum += v;
	}
	T_OBS("SIGBUS %d (wrong address %d, COPY errors %d), wrong values %ld, sum %ld",
	      signals, wrong_addr, copy_errors, bad, sum);
	T_EXPECT_EQ(signals, N - (N + 2) / 3);
	T_EXPECT_EQ(wrong_addr + copy_errors + bad, 0);
	close(fd);
}

T_MAIN("many-ranges", scenario)
