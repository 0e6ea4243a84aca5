/* SPDX-License-Identifier: MIT */
/*
 * `uffd probe`: open each backend, do the UFFDIO_API handshake, and register
 * each kind of memory in each mode.  Only the public API (uffd_open,
 * uffd_ioctl, uffd_backend_probe) is used, so that the user backend is probed
 * exactly as a program would use it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "probe.h"

/* Reserved huge pages (never changed here), or -1 when hugetlb is absent. */
static long nr_hugepages(void)
{
	long n = -1;
	FILE *f = fopen("/proc/sys/vm/nr_hugepages", "re");

	if (!f)
		return -1;
	if (fscanf(f, "%ld", &n) != 1)
		n = -1;
	fclose(f);
	return n;
}

static size_t hugepage_size(void)
{
	char line[128];
	size_t kb = 0;
	FILE *f = fopen("/proc/meminfo", "re");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Hugepagesize: %zu kB", &kb) == 1)
			break;
	fclose(f);
	return kb * 1024;
}

/* Map one unit of the given kind of memory; MAP_FAILED with why[] set. */
static void *map_mem(enum probe_mem mem, size_t *len, char *why, size_t whylen)
{
	void *p = MAP_FAILED;
	long nr;
	int fd;

	switch (mem) {
	case PROBE_ANON:
		*len = (size_t)sysconf(_SC_PAGESIZE);
		p = mmap(NULL, *len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		break;
	case PROBE_SHMEM:
		*len = (size_t)sysconf(_SC_PAGESIZE);
		fd = memfd_create("uffd-probe", MFD_CLOEXEC);
		if (fd < 0) {
			snprintf(why, whylen, "memfd_create: %s", probe_errname(errno));
			return MAP_FAILED;
		}
		if (ftruncate(fd, (off_t)*len) == 0)
			p = mmap(NULL, *len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		int err = errno;
		close(fd);
		errno = err;
		break;
	case PROBE_HUGETLB:
		nr = nr_hugepages();
		if (nr < 0) {
			snprintf(why, whylen, "no hugetlb support in this kernel");
			return MAP_FAILED;
		}
		if (nr == 0) {
			snprintf(why, whylen, "no huge pages reserved");
			return MAP_FAILED;
		}
		*len = hugepage_size();
		if (!*len) {
			snprintf(why, whylen, "huge page size unknown");
			return MAP_FAILED;
		}
		/* MAP_NORESERVE: registering faults nothing in, so take no page from others. */
		p = mmap(NULL, *len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_NORESERVE, -1, 0);
		break;
	case PROBE_NMEM:
		break;
	}
	if (p == MAP_FAILED)
		snprintf(why, whylen, "mmap: %s", probe_errname(errno));
	return p;
}

static void try_register(int fd, struct probe_backend *b, enum probe_mem mem)
{
	for (int m = 0; m < PROBE_NMODE; m++) {
		struct probe_reg *reg = &b->reg[mem][m];
		size_t len = 0;
		void *p = map_mem(mem, &len, b->mem_why[mem], sizeof(b->mem_why[mem]));

		if (p == MAP_FAILED) {
			for (int k = 0; k < PROBE_NMODE; k++)
				b->reg[mem][k].skipped = 1;
			return;
		}
		struct uffdio_register r = {
			.range = { .start = (uintptr_t)p, .len = len },
			.mode = probe_modes[m],
		};
		if (uffd_ioctl(fd, UFFDIO_REGISTER, &r) == 0) {
			reg->ok = 1;
			reg->ioctls = r.ioctls;
			uffd_ioctl(fd, UFFDIO_UNREGISTER, &r.range);
		} else {
			reg->err = errno;
		}
		munmap(p, len);
	}
}

static void probe_backend(struct probe_backend *b, enum uffd_backend backend)
{
	memset(b, 0, sizeof(*b));
	b->backend = backend;
	/*
	 * Where only user-mode faults are allowed (vm.unprivileged_userfaultfd=0),
	 * a UFFD_USER_MODE_ONLY descriptor is still worth reporting: how says so.
	 */
	const int flags = UFFD_OPEN_ALLOW_USER_MODE_ONLY;
	uffd_backend_probe(backend, flags, &b->info);
	if (!b->info.available) {
		b->api_err = b->info.error;
		return;
	}
	int fd = uffd_open(O_CLOEXEC | flags, backend);
	if (fd < 0) {
		b->api_err = errno;
		b->api_step = "uffd_open";
		return;
	}
	struct uffdio_api api = { .api = UFFD_API, .features = 0 };
	if (uffd_ioctl(fd, UFFDIO_API, &api) < 0) {
		b->api_err = errno;
		b->api_step = "UFFDIO_API";
		close(fd);
		return;
	}
	b->api_ok = 1;
	b->api = api.api;
	b->features = api.features;
	b->ioctls = api.ioctls;
	for (int mem = 0; mem < PROBE_NMEM; mem++)
		try_register(fd, b, mem);
	close(fd);
}

int probe_works(const struct probe_backend *b)
{
	return b->info.available && b->api_ok;
}

/* What AUTO picks: opened for real, as a program would, and why. */
static void probe_auto(struct probe_report *r)
{
	const char *env = getenv("UFFD_BACKEND");
	const struct probe_backend *k = &r->b[0];

	r->auto_env = env;
	errno = 0;
	int fd = uffd_open(O_CLOEXEC, UFFD_BACKEND_AUTO);
	r->auto_err = errno;
	r->auto_backend = fd >= 0 ? uffd_fd_backend(fd) : -1;
	if (fd < 0)
		snprintf(r->auto_reason, sizeof(r->auto_reason), "%s: %s",
			 probe_errname(r->auto_err), uffd_strerror());
	else if (env && *env && strcmp(env, "auto"))
		snprintf(r->auto_reason, sizeof(r->auto_reason),
			 "UFFD_BACKEND=%s in the environment chooses it", env);
	else if (r->auto_backend == UFFD_BACKEND_KERNEL)
		snprintf(r->auto_reason, sizeof(r->auto_reason), "the kernel's userfaultfd opens "
			 "here (UFFD_BACKEND=user forces the user backend)");
	else
		snprintf(r->auto_reason, sizeof(r->auto_reason), "the kernel's does not open here: %s",
			 k->info.why[0] ? k->info.why : probe_errname(k->info.error));
	if (fd >= 0)
		close(fd);
}

void probe_collect(struct probe_report *r)
{
	probe_backend(&r->b[0], UFFD_BACKEND_KERNEL);
	probe_backend(&r->b[1], UFFD_BACKEND_USER);
	probe_auto(r);
}
