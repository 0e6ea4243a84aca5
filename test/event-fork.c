/* SPDX-License-Identifier: MIT */
/*
 * UFFD_FEATURE_EVENT_FORK, CRIU-style: the parent registers its memory
 * (MISSING|WP), fills page 0 write-protected and page 2 not, and forks while
 * a reader thread handles its userfaultfd.  The reader gets UFFD_EVENT_FORK
 * with a new fd for the child's memory and serves the child's faults through
 * it: the child's read of missing page 1 (UFFDIO_COPY), and its write to
 * page 0, still write-protected in the child (UFFDIO_WRITEPROTECT off); its
 * write to page 2 raises no fault.  The child sees the copied page and its
 * own writes.  The parent's memory is its own: page 1 is still missing (the
 * child's fill went to the child's memory only) and page 0 still
 * write-protected (the child's un-protect was the child's) and unchanged.
 */
#include "oracle.h"

#define NP 4

static int fd;
static char *mem, *src;

struct seen {
	int fork_events, ufd_differs;
	uint64_t flags[2];
	long page[2];
	int nfaults, copy_ret, wp_ret;
};

static void *reader(void *arg)
{
	struct seen *s = arg;
	struct uffd_msg m;
	int ufd = -1;

	if (!t_read_msg(fd, &m, 10000) || m.event != UFFD_EVENT_FORK)
		return NULL;
	s->fork_events = 1;
	ufd = (int)m.arg.fork.ufd;
	s->ufd_differs = ufd != fd && ufd >= 0;
	while (s->nfaults < 2 && t_read_msg(ufd, &m, 10000)) {
		if (m.event != UFFD_EVENT_PAGEFAULT)
			continue;
		uintptr_t page = m.arg.pagefault.address & ~(uintptr_t)(t_page - 1);
		s->flags[s->nfaults] = m.arg.pagefault.flags;
		s->page[s->nfaults] = ORC_PG(page, mem);
		s->nfaults++;
		if (m.arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WP) {
			struct uffdio_writeprotect wp = { { page, (uint64_t)t_page }, 0 };
			s->wp_ret = uffd_ioctl(ufd, UFFDIO_WRITEPROTECT, &wp);
		} else {
			struct uffdio_copy c = { page, (uintptr_t)src, (uint64_t)t_page, 0, 0 };
			s->copy_ret = uffd_ioctl(ufd, UFFDIO_COPY, &c);
		}
	}
	close(ufd);
	return NULL;
}

/* The forked child's accesses, and what each saw. */
static void child(void *arg, int report)
{
	int got[3];

	(void)arg;
	got[0] = t_check(mem + t_page, t_page, 31);   /* missing: a fault */
	mem[5] = 0x55;                                /* write-protected: a fault */
	got[1] = mem[5] == 0x55 && !memcmp(mem + 6, src + 6, t_page - 6);
	mem[2 * t_page + 5] = 0x56;                   /* not protected: no fault */
	got[2] = mem[2 * t_page + 5] == 0x56;
	if (write(report, got, sizeof(got)) != sizeof(got))
		_exit(2);
}

static void scenario(void)
{
	if (geteuid() != 0)
		t_skip("UFFD_FEATURE_EVENT_FORK needs CAP_SYS_PTRACE");
	fd = t_uffd_api(O_CLOEXEC | O_NONBLOCK, UFFD_FEATURE_EVENT_FORK);
	mem = t_map(NP * t_page);
	src = t_map(t_page);
	t_fill(src, t_page, 31);
	t_register(fd, mem, NP * t_page, UFFDIO_REGISTER_MODE_MISSING | UFFDIO_REGISTER_MODE_WP);
	struct uffdio_copy c = { (uintptr_t)mem, (uintptr_t)src, (uint64_t)t_page,
				 UFFDIO_COPY_MODE_WP, 0 };
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_COPY, &c));
	c = (struct uffdio_copy){ (uintptr_t)mem + 2 * t_page, (uintptr_t)src, (uint64_t)t_page, 0, 0 };
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_COPY, &c));

	struct seen s = {0};
	pthread_t th;
	T_ASSERT(pthread_create(&th, NULL, reader, &s) == 0);
	int got[3] = { -1, -1, -1 };
	T_EXPECT_EQ(orc_in_child(child, NULL, got, sizeof(got)), sizeof(got));
	pthread_join(th, NULL);
	T_OBS("fork events %d, a new fd %d", s.fork_events, s.ufd_differs);
	T_OBS("child faults %d: page %ld flags 0x%llx, page %ld flags 0x%llx", s.nfaults,
	      s.page[0], (unsigned long long)s.flags[0], s.page[1], (unsigned long long)s.flags[1]);
	T_OBS("COPY %d, WRITEPROTECT %d; the child saw the copy %d and its writes %d %d",
	      s.copy_ret, s.wp_ret, got[0], got[1], got[2]);
	T_EXPECT_EQ(s.nfaults, 2);
	T_EXPECT(got[0] == 1 && got[1] == 1 && got[2] == 1);
	T_OBS("parent: nothing queued %d, page 0 intact %d", orc_nothing_queued(fd),
	      t_check(mem, t_page, 31));
	/* The parent's page 1 is still missing: its own fault, its own fd. */
	struct orc_toucher t;
	struct uffd_msg m;
	orc_touch_start(&t, mem + t_page, 0, 0);
	orc_fault_msg(fd, &m, "parent: page 1", mem);
	c = (struct uffdio_copy){ (uintptr_t)mem + t_page, (uintptr_t)src, (uint64_t)t_page, 0, 0 };
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_COPY, &c));
	orc_touch_join(&t);
	/* Its page 0 is still protected: a write faults on its own fd. */
	orc_touch_start(&t, mem + 5, 1, 0x66);
	orc_fault_msg(fd, &m, "parent: page 0", mem);
	struct uffdio_writeprotect wp = { { (uintptr_t)mem, (uint64_t)t_page }, 0 };
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_WRITEPROTECT, &wp));
	orc_touch_join(&t);
	T_OBS("parent: page 0 byte 5 0x%x, page 2 byte 5 0x%x (the child's writes were its own)",
	      (unsigned char)mem[5], (unsigned char)mem[2 * t_page + 5]);
	close(fd);
}
T_MAIN("event-fork", scenario)
