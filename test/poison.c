/*
 * UFFDIO_POISON: EINVAL for unaligned/empty/wrapping ranges and unknown mode
 * bits (updated untouched); ENOENT outside a registered mapping; EEXIST on a
 * present page; partial progress -> EAGAIN.  A poisoned page raises SIGBUS
 * (si_code BUS_ADRERR on Linux 6.18, si_addr the page) on read and on write,
 * here in a forked child.  COPY may replace the poison (it overwrites PTE
 * markers) while ZEROPAGE and POISON refuse it (EEXIST); MADV_DONTNEED
 * clears the poison (the page is missing again).
 */
#include <signal.h>
#include <sys/wait.h>
#include "oracle.h"

static int fd;

static void po_case(const char *what, uint64_t start, uint64_t len, uint64_t mode,
		    int want)
{
	struct uffdio_poison p = { { start, len }, mode, 55 };
	orc_ioctl_case(what, fd, UFFDIO_POISON, &p, "updated", &p.updated, want);
}

static void child_report(const char *what, struct orc_child *c)
{
	T_OBS("%s: signal %s code %d page %ld", what,
	      c->signo == SIGBUS ? "SIGBUS" : c->signo == SIGSEGV ? "SIGSEGV" :
	      c->signo ? "other" : "none", c->code, c->signo ? c->page : -1);
}

static void scenario(void)
{
	fd = t_uffd_api(O_CLOEXEC | O_NONBLOCK, UFFD_FEATURE_POISON);
	char *mem = t_map(8 * t_page);
	uint64_t m = (uintptr_t)mem;
	mem[3 * t_page] = 1;
	uint64_t io = t_register(fd, mem, 6 * t_page, UFFDIO_REGISTER_MODE_MISSING);
	T_EXPECT(io & (1ULL << _UFFDIO_POISON));

	po_case("start + 1", m + 1, t_page, 0, EINVAL);
	po_case("len + 1", m, t_page + 1, 0, EINVAL);
	po_case("len 0", m, 0, 0, EINVAL);
	po_case("wraps", m, -(uint64_t)t_page, 0, EINVAL);
	po_case("mode 1<<1", m, t_page, 1 << 1, EINVAL);
	po_case("mode 1<<63", m, t_page, 1ULL << 63, EINVAL);
	po_case("not registered", m + 6 * t_page, t_page, 0, ENOENT);
	po_case("runs past the registered mapping", m + 5 * t_page, 2 * t_page, 0, ENOENT);

	po_case("page 0", m, t_page, 0, 0);
	po_case("page 0 again", m, t_page, 0, EEXIST);
	po_case("page 3 present", m + 3 * t_page, t_page, 0, EEXIST);
	po_case("pages 1-3", m + t_page, 3 * t_page, UFFDIO_POISON_MODE_DONTWAKE, EAGAIN);

	struct orc_child c;
	orc_child_touch(mem, mem + 100, 0, &c);
	child_report("child reads page 0", &c);
	T_EXPECT_EQ(c.signo, SIGBUS);
	T_EXPECT_EQ(c.code, BUS_ADRERR);
	T_EXPECT_EQ(c.page, 0);
	orc_child_touch(mem, mem + 2 * t_page, 1, &c);
	child_report("child writes page 2", &c);
	T_EXPECT_EQ(c.signo, SIGBUS);
	orc_child_touch(mem, mem + 3 * t_page, 0, &c);
	child_report("child reads page 3", &c);
	T_OBS("value %d", c.value);

	char *src = t_map(t_page);
	memset(src, 7, t_page);
	struct uffdio_copy cp = { m, (uintptr_t)src, t_page, 0, 0 };
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_COPY, &cp));
	T_OBS("copy onto poison: %lld, byte %d", (long long)cp.copy, mem[0]);
	struct uffdio_zeropage z = { { m + t_page, t_page }, 0, 0 };
	T_EXPECT_ERR(uffd_ioctl(fd, UFFDIO_ZEROPAGE, &z), EEXIST);
	T_OBS("zeropage onto poison: %lld", (long long)z.zeropage);
	/* MADV_DONTNEED removes the marker: the page is missing again. */
	if (t_limit_begin("madvise(MADV_DONTNEED) on a registered range")) {
		T_ASSERT(madvise(mem + t_page, t_page, MADV_DONTNEED) == 0);
		T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_ZEROPAGE, &z));
		T_OBS("after MADV_DONTNEED: zeropage %lld byte %d", (long long)z.zeropage,
		      mem[t_page]);
		t_limit_end();
	}

	/* The poison outlives the registration: page 2 still raises SIGBUS
	 * after UNREGISTER, COPY there is ENOENT; registered again, COPY
	 * replaces the poison. */
	struct uffdio_range all = { m, 6 * t_page };
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_UNREGISTER, &all));
	orc_child_touch(mem, mem + 2 * t_page + 5, 0, &c);
	child_report("after UNREGISTER, child reads page 2", &c);
	T_EXPECT_EQ(c.signo, SIGBUS);
	cp = (struct uffdio_copy){ m + 2 * t_page, (uintptr_t)src, t_page, 0, 0 };
	T_EXPECT_ERR(uffd_ioctl(fd, UFFDIO_COPY, &cp), ENOENT);
	t_register(fd, mem, 6 * t_page, UFFDIO_REGISTER_MODE_MISSING);
	orc_child_touch(mem, mem + 2 * t_page + 5, 0, &c);
	child_report("registered again, child reads page 2", &c);
	T_EXPECT_EQ(c.signo, SIGBUS);
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_COPY, &cp));
	T_OBS("COPY replaced the poison: %d", mem[2 * t_page + 8] == 7);
	munmap(src, t_page);
	close(fd);
	/* And it outlives the userfaultfd. */
	orc_child_touch(mem, mem + 3 * t_page + 5, 0, &c);
	child_report("after close, child reads page 3 (poisoned before)", &c);
	munmap(mem, 8 * t_page);
}
T_MAIN("poison", scenario)
