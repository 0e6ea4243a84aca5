/* SPDX-License-Identifier: MIT */
/*
 * Every ioctl made by another process on a userfaultfd it inherited by fork
 * acts on the memory of the process that registered it, as the kernel's act
 * on the registering mm: the forked child's UFFDIO_API is EINVAL (the fd is
 * initialized) with the argument zeroed; COPY over a present page stops
 * with partial progress (EAGAIN, bytes done) and then EEXIST; ZEROPAGE,
 * WRITEPROTECT (a parent thread's write blocks until the child lifts it, the
 * message read by the child), POISON, CONTINUE on shmem (EFAULT on a hole),
 * MOVE (EINVAL: the kernel moves pages only for the owner), WAKE, an
 * unknown ioctl, a bad argument pointer
 * (EFAULT), and UNREGISTER, after which the parent's range is ordinary
 * memory.  The parent checks the memory after each step.
 */
#include <sys/wait.h>
#include "oracle.h"

#define NP 8

static int fd, mfd;
static char *mem, *sh, *alias, *msrc;

/* One ioctl in the child, reported as a line. */
static void say(int report, const char *what, long r, int e, long long field)
{
	dprintf(report, "%s: %ld %s %lld\n", what, r, r ? t_errname(e) : "ok", field);
}
#define DO(what, req, argp, field) \
	do { errno = 0; long _r = uffd_ioctl(fd, req, argp); int _e = errno; \
	     say(report, what, _r, _e, (long long)(field)); } while (0)

static void child_fills(void *arg, int report)
{
	char *src = t_map(4 * t_page);
	(void)arg;
	t_fill(src, 4 * t_page, 7);

	struct uffdio_api api = { UFFD_API, 0, 0 };
	DO("API in the child", UFFDIO_API, &api, api.features);
	/* Page 2 first, then COPY over pages 0-3: two pages, then EAGAIN. */
	struct uffdio_zeropage z = { { (uintptr_t)mem + 2 * t_page, t_page }, 0, 0 };
	DO("ZEROPAGE page 2", UFFDIO_ZEROPAGE, &z, z.zeropage);
	struct uffdio_copy c = { (uintptr_t)mem, (uintptr_t)src, 4 * t_page, 0, 0 };
	DO("COPY pages 0-3", UFFDIO_COPY, &c, c.copy);
	c = (struct uffdio_copy){ (uintptr_t)mem + 2 * t_page, (uintptr_t)src, t_page, 0, 0 };
	DO("COPY over page 2", UFFDIO_COPY, &c, c.copy);
	c = (struct uffdio_copy){ (uintptr_t)mem + 4 * t_page, (uintptr_t)src, 2 * t_page,
				  UFFDIO_COPY_MODE_WP, 0 };
	DO("COPY pages 4-5 write-protected", UFFDIO_COPY, &c, c.copy);
	c = (struct uffdio_copy){ (uintptr_t)mem + 7 * t_page, 4096, t_page, 0, 0 };
	DO("COPY from an unmapped source", UFFDIO_COPY, &c, c.copy);
	DO("COPY with a bad argument pointer", UFFDIO_COPY, (void *)16, 0);
	struct uffdio_poison p = { { (uintptr_t)mem + 6 * t_page, t_page }, 0, 0 };
	DO("POISON page 6", UFFDIO_POISON, &p, p.updated);
	struct uffdio_move mv = { (uintptr_t)mem + 7 * t_page, (uintptr_t)msrc, t_page, 0, 0 };
	DO("MOVE into page 7", UFFDIO_MOVE, &mv, mv.move);
	struct uffdio_continue ct = { { (uintptr_t)sh, t_page }, 0, 0 };
	DO("CONTINUE shmem page 0", UFFDIO_CONTINUE, &ct, ct.mapped);
	ct = (struct uffdio_continue){ { (uintptr_t)sh + t_page, t_page }, 0, 0 };
	DO("CONTINUE shmem hole", UFFDIO_CONTINUE, &ct, ct.mapped);
	struct uffdio_range w = { (uintptr_t)mem, NP * t_page };
	DO("WAKE", UFFDIO_WAKE, &w, 0);
	DO("unknown ioctl", _IOR(0xAA, 0x3f, __u64), &w, 0);
}

/* The child lifts the write protection of page 4 once the parent's write
 * blocks on it (it reads the message), then unregisters everything. */
static void child_wp(void *arg, int report)
{
	struct uffd_msg m;
	(void)arg;

	if (!t_read_msg(fd, &m, 5000))
		_exit(3);
	dprintf(report, "message flags 0x%llx page %ld\n",
		(unsigned long long)m.arg.pagefault.flags,
		ORC_PG((char *)(uintptr_t)m.arg.pagefault.address, mem));
	struct uffdio_writeprotect wp = { { (uintptr_t)mem + 4 * t_page, 2 * t_page }, 0 };
	DO("WRITEPROTECT off pages 4-5", UFFDIO_WRITEPROTECT, &wp, 0);
	struct uffdio_range u = { (uintptr_t)mem, NP * t_page };
	DO("UNREGISTER", UFFDIO_UNREGISTER, &u, 0);
	u = (struct uffdio_range){ (uintptr_t)sh, 2 * t_page };
	DO("UNREGISTER shmem", UFFDIO_UNREGISTER, &u, 0);
	DO("UNREGISTER again", UFFDIO_UNREGISTER, &u, 0);
}

static void run(void (*fn)(void *, int))
{
	char out[4096];
	int n = orc_in_child(fn, NULL, out, sizeof(out) - 1);

	T_EXPECT(n >= 0);
	out[n < 0 ? 0 : n] = 0;
	for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n"))
		T_OBS("child: %s", line);
}

static void scenario(void)
{
	fd = t_uffd_api(O_CLOEXEC | O_NONBLOCK,
			UFFD_FEATURE_MINOR_SHMEM | UFFD_FEATURE_MOVE | UFFD_FEATURE_POISON);
	mem = t_map(NP * t_page);
	msrc = t_map(t_page);
	t_fill(msrc, t_page, 70);
	mfd = orc_memfd(2 * t_page);
	alias = orc_mmap(2 * t_page, PROT_READ | PROT_WRITE, MAP_SHARED, mfd);
	sh = orc_mmap(2 * t_page, PROT_READ | PROT_WRITE, MAP_SHARED, mfd);
	t_fill(alias, t_page, 60);
	/* Pages 0-5 write-protectable; 6-7 not (MOVE wants the protection of
	 * its source). */
	t_register(fd, mem, 6 * t_page, UFFDIO_REGISTER_MODE_MISSING | UFFDIO_REGISTER_MODE_WP);
	t_register(fd, mem + 6 * t_page, 2 * t_page, UFFDIO_REGISTER_MODE_MISSING);
	t_register(fd, sh, 2 * t_page, UFFDIO_REGISTER_MODE_MINOR);

	run(child_fills);
	char *pat = t_map(4 * t_page);
	t_fill(pat, 4 * t_page, 7);
	T_OBS("parent: pages 0-1 copied %d, page 2 zero %d, page 3 not read",
	      !memcmp(mem, pat, 2 * t_page), mem[2 * t_page + 9] == 0);
	T_OBS("parent: pages 4-5 copied %d, the MOVE source kept %d, shmem page 0 %d",
	      !memcmp(mem + 4 * t_page, pat, 2 * t_page), t_check(msrc, t_page, 70),
	      t_check(sh, t_page, 60));

	/* A write to write-protected page 4 blocks until the child lifts it. */
	struct orc_toucher t;
	orc_touch_start(&t, mem + 4 * t_page + 3, 1, 0x44);
	run(child_wp);
	orc_touch_join(&t);
	T_OBS("parent: the write landed %d", mem[4 * t_page + 3] == 0x44);
	/* Unregistered by the child: page 3 is ordinary memory now. */
	T_OBS("parent: page 3 reads %d, nothing queued %d", mem[3 * t_page], orc_nothing_queued(fd));
	close(fd);
}
T_MAIN("remote-ioctls", scenario)
