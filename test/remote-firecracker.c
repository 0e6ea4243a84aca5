/* SPDX-License-Identifier: MIT */
/*
 * A Firecracker-style pair.  The "VMM" maps memfd-backed guest memory
 * (MAP_PRIVATE, then MAP_SHARED), registers it MISSING and sends the
 * userfaultfd over a unix socket (SCM_RIGHTS) to a separate page-fault
 * handler process, then closes its own copy.  The handler serves every fault
 * with UFFDIO_COPY of the page from a snapshot file.  Four VMM threads
 * fault on all the pages, interleaved; every byte of every page is checked
 * against the snapshot, and the handler reports how many faults it served.
 */
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include "oracle.h"
#include "passfd.h"

#define NPAGES   256
#define NTHREADS 4

static char *guest;
static int snap;

/* The handler: serve NPAGES faults, report how many, exit. */
static int handler(int sock, void *arg)
{
	char *buf = t_map(t_page);
	uintptr_t base;
	(void)arg;
	int fd = pfd_recv(sock);

	if (fd < 0 || read(sock, &base, sizeof(base)) != sizeof(base))
		return 2;
	int served = 0, eexist = 0;
	while (served + eexist < NPAGES) {
		struct pollfd p = { fd, POLLIN, 0 };
		if (poll(&p, 1, 20000) != 1)   /* a safety net, not a measure */
			return 3;
		struct uffd_msg m[16];
		ssize_t n = read(fd, m, sizeof(m));
		if (n < 0 && errno == EAGAIN)
			continue;
		if (n <= 0 || n % sizeof(m[0]))
			return 4;
		for (size_t i = 0; i < n / sizeof(m[0]); i++) {
			if (m[i].event != UFFD_EVENT_PAGEFAULT)
				return 5;
			uintptr_t page = m[i].arg.pagefault.address & ~(uintptr_t)(t_page - 1);
			if (pread(snap, buf, t_page, (off_t)(page - base)) != t_page)
				return 6;
			struct uffdio_copy c = { page, (uintptr_t)buf, t_page, 0, 0 };
			if (uffd_ioctl(fd, UFFDIO_COPY, &c) == 0)
				served++;
			else if (errno == EEXIST)
				eexist++;
			else
				return 7;
		}
	}
	if (write(sock, &served, sizeof(served)) != sizeof(served))
		return 8;
	return 0;
}

static void *toucher(void *arg)
{
	long t = (long)arg;
	long bad = 0;
	char want;

	for (long i = t; i < NPAGES; i += NTHREADS) {
		long off = i * t_page + (i * 13) % t_page;
		if (pread(snap, &want, 1, off) != 1 || ((volatile char *)guest)[off] != want)
			bad++;
	}
	return (void *)bad;
}

static void one(const char *what, int flags)
{
	int mfd = orc_memfd(NPAGES * t_page);
	guest = orc_mmap(NPAGES * t_page, PROT_READ | PROT_WRITE, flags, mfd);

	int sock;
	pid_t pid = pfd_fork(handler, NULL, &sock);
	uintptr_t base = (uintptr_t)guest;
	pfd_hand_over(sock, guest, NPAGES * t_page);
	T_ASSERT(write(sock, &base, sizeof(base)) == sizeof(base));

	pthread_t th[NTHREADS];
	long bad = 0;
	for (long t = 0; t < NTHREADS; t++)
		T_ASSERT(pthread_create(&th[t], NULL, toucher, (void *)t) == 0);
	for (long t = 0; t < NTHREADS; t++) {
		void *r;
		pthread_join(th[t], &r);
		bad += (long)r;
	}
	int served = -1;
	T_EXPECT(read(sock, &served, sizeof(served)) == sizeof(served));
	int status;
	T_ASSERT(waitpid(pid, &status, 0) == pid);
	T_EXPECT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		T_OBS("%s: handler status 0x%x", what, status);

	char *want = t_map(t_page);
	long same = 0;
	for (long i = 0; i < NPAGES; i++)
		same += pread(snap, want, t_page, i * t_page) == t_page &&
			!memcmp(guest + i * t_page, want, t_page);
	T_OBS("%s: bad reads %ld, pages equal to the snapshot %ld of %d, faults served %d",
	      what, bad, same, NPAGES, served);
	T_EXPECT_EQ(same, NPAGES);
	T_EXPECT_EQ(served, NPAGES);
	munmap(want, t_page);
	munmap(guest, NPAGES * t_page);
	close(mfd);
	close(sock);
}

static void scenario(void)
{
	char *page = t_map(t_page);

	snap = orc_memfd(NPAGES * t_page);   /* the snapshot file */
	for (long i = 0; i < NPAGES; i++) {
		t_fill(page, t_page, 1000 + (unsigned)i);
		T_ASSERT(pwrite(snap, page, t_page, i * t_page) == t_page);
	}
	one("MAP_PRIVATE", MAP_PRIVATE);
	one("MAP_SHARED", MAP_SHARED);
	close(snap);
}
T_MAIN("remote-firecracker", scenario)
