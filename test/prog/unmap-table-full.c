/* SPDX-License-Identifier: MIT */
/*
 * munmap, mremap and mmap(MAP_FIXED) of a page in the middle of a
 * registered range, once the process holds many registered ranges: a range
 * of 8 pages, then one-page ranges on every other page (no two merge) until
 * REGISTER fails or 4,200 are registered.  Each call's result and errno is
 * printed, then whether the page is still mapped (msync) and still
 * registered (a read of it raises a fault: a message, answered with
 * ZEROPAGE).  Then one small range is unregistered and the munmap made
 * again.  (The kernel splits its mappings up to vm.max_map_count, and fails
 * such a call with ENOMEM there, changing nothing.)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define TRY 4200

static long page;
static int uffd;

static int reg(void *at, size_t len)
{
	struct uffdio_register r = { .range = { (unsigned long)at, len },
				     .mode = UFFDIO_REGISTER_MODE_MISSING };
	return ioctl(uffd, UFFDIO_REGISTER, &r) ? -errno : 0;
}

static void *reader(void *p)
{
	return (void *)(long)*(volatile char *)p;
}

/* Is p mapped, and registered (a read faults)? */
static void check(const char *what, char *p, char *base)
{
	int mapped = msync(p, page, MS_ASYNC) == 0;

	printf("%s: page %ld mapped %d", what, (long)((p - base) / page), mapped);
	if (!mapped) {
		printf("\n");
		return;
	}
	pthread_t th;
	pthread_create(&th, NULL, reader, p);
	struct pollfd pf = { .fd = uffd, .events = POLLIN };
	struct uffd_msg m;
	int fault = poll(&pf, 1, 5000) == 1 && read(uffd, &m, sizeof(m)) == sizeof(m);
	printf(" fault %d", fault);
	if (fault) {
		printf(" at page %ld", (long)(((char *)(unsigned long)m.arg.pagefault.address - base) / page));
		struct uffdio_zeropage z = { .range = { m.arg.pagefault.address, page } };
		if (ioctl(uffd, UFFDIO_ZEROPAGE, &z))
			printf(" ZEROPAGE %s", strerror(errno));
	}
	pthread_join(th, NULL);
	printf("\n");
}

static void said(const char *what, long ret, int err)
{
	printf("%s: %s\n", what, ret < 0 ? strerrorname_np(err) : "ok");
}

int main(void)
{
	page = sysconf(_SC_PAGESIZE);
	uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	struct uffdio_api api = { .api = UFFD_API };
	if (uffd < 0 || ioctl(uffd, UFFDIO_API, &api)) {
		perror("userfaultfd");
		return 1;
	}
	char *big = mmap(NULL, 8 * page, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *small = mmap(NULL, 2 * TRY * page, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *away = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (big == MAP_FAILED || small == MAP_FAILED || away == MAP_FAILED || reg(big, 8 * page)) {
		perror("setup");
		return 1;
	}
	int n = 0, err = 0;
	while (n < TRY && !(err = reg(small + 2 * n * page, page)))
		n++;
	printf("one-page ranges: %s\n", n == TRY ? "all" : strerrorname_np(-err));

	long ret = munmap(big + 2 * page, page);
	said("munmap of page 2", ret, errno);
	check("after munmap", big + 2 * page, big);
	void *to = mremap(big + 4 * page, page, page, MREMAP_MAYMOVE | MREMAP_FIXED, away);
	said("mremap of page 4", to == MAP_FAILED ? -1 : 0, errno);
	check("after mremap", big + 4 * page, big);
	void *at = mmap(big + 6 * page, page, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	said("mmap(MAP_FIXED) over page 6", at == MAP_FAILED ? -1 : 0, errno);
	check("after mmap", big + 6 * page, big);

	/* A slot freed: the munmap goes. */
	struct uffdio_range one = { (unsigned long)small, page };
	if (ioctl(uffd, UFFDIO_UNREGISTER, &one))
		perror("UFFDIO_UNREGISTER");
	ret = munmap(big + 3 * page, page);
	said("munmap of page 3, one range unregistered", ret, errno);
	check("after it", big + 3 * page, big);
	check("the range's last page", big + 7 * page, big);
	return 0;
}
