/*
 * A write into a missing private huge page while REGISTER runs over it: the
 * kernel's REGISTER excludes faults, so the write either lands before (the
 * page is there, no fault) or faults after (a COPY, then the write).  Either
 * way the written value is what the page holds afterwards; it must never be
 * lost to a COPY over a page that was already there.  The user backend read
 * which pages hold data before arming its traps, and a write in between was
 * overwritten by the next fault's COPY (seen in stress-hugetlb).  Many rounds,
 * the write at varying moments of the REGISTER.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include "acc.h"
#include "harness.h"
#include "oracle.h"
#include "stress.h"

#define ROUNDS 150

static struct {
	int fd, stop_fd;
	char *mem, *src;
	size_t hp;
	_Atomic unsigned go, done;
	_Atomic long copy_errors;
} S;

/* Answers every fault with a COPY of zeros (EEXIST: a WAKE). */
static void resolve(const struct uffd_msg *m, int err, void *arg)
{
	(void)arg;
	(void)err;
	if (!m)
		return;
	struct uffdio_copy c = { (uintptr_t)S.mem, (uintptr_t)S.src, S.hp, 0, 0 };
	if (uffd_ioctl(S.fd, UFFDIO_COPY, &c) == 0)
		return;
	struct uffdio_range r = { (uintptr_t)S.mem, S.hp };
	if (errno != EEXIST || uffd_ioctl(S.fd, UFFDIO_WAKE, &r))
		atomic_fetch_add(&S.copy_errors, 1);
}

static void *resolver(void *arg)
{
	(void)arg;
	stress_serve(S.fd, S.stop_fd, resolve, NULL);
	return NULL;
}

/* Round k: wait for the go, a varying pause, one write of k. */
static void *writer(void *arg)
{
	uint64_t seed = 5;

	(void)arg;
	for (unsigned k = 1; k <= ROUNDS; k++) {
		while (atomic_load(&S.go) != k)
			;
		for (volatile uint32_t spin = acc_rand(&seed) % 200000; spin; spin--)
			;
		*(volatile uint64_t *)S.mem = k;
		atomic_store(&S.done, k);
	}
	return NULL;
}

static void scenario(void)
{
	long old;
	pthread_t res, wr;

	S.hp = (size_t)orc_hugepages_reserve(2, &old);
	S.fd = t_uffd_api(O_CLOEXEC | O_NONBLOCK, UFFD_FEATURE_MISSING_HUGETLBFS);
	S.stop_fd = eventfd(0, EFD_CLOEXEC);
	T_ASSERT(S.stop_fd >= 0);
	S.mem = orc_mmap(S.hp, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1);
	S.src = orc_mmap(S.hp, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1);
	memset(S.src, 0, S.hp);
	atomic_store(&S.go, 0);
	atomic_store(&S.done, 0);
	T_ASSERT(pthread_create(&res, NULL, resolver, NULL) == 0);
	T_ASSERT(pthread_create(&wr, NULL, writer, NULL) == 0);

	long lost = 0;
	struct uffdio_range all = { (uintptr_t)S.mem, S.hp };
	for (unsigned k = 1; k <= ROUNDS; k++) {
		T_ASSERT(madvise(S.mem, S.hp, MADV_DONTNEED) == 0);
		atomic_store(&S.go, k);
		struct uffdio_register reg = { all, UFFDIO_REGISTER_MODE_MISSING, 0 };
		T_ASSERT(uffd_ioctl(S.fd, UFFDIO_REGISTER, &reg) == 0);
		while (atomic_load(&S.done) != k)
			;
		/* Faults here if the page is missing (it is not). */
		if (*(volatile uint64_t *)S.mem != k && lost++ < 3)
			fprintf(stderr, "round %u: page holds 0x%llx\n", k, (unsigned long long)*(volatile uint64_t *)S.mem);
		T_ASSERT(uffd_ioctl(S.fd, UFFDIO_UNREGISTER, &all) == 0);
	}
	uint64_t one = 1;
	T_ASSERT(write(S.stop_fd, &one, sizeof(one)) == sizeof(one));
	pthread_join(wr, NULL);
	pthread_join(res, NULL);
	T_OBS("writes lost to a COPY over a page already there: %ld of %d", lost, ROUNDS);
	T_OBS("resolver errors %ld", atomic_load(&S.copy_errors));
	T_EXPECT_EQ(lost, 0);
	close(S.fd);
	close(S.stop_fd);
	munmap(S.mem, S.hp);
	munmap(S.src, S.hp);
	orc_hugepages_release(old);
}
T_MAIN("hugetlb-register-race", scenario)
