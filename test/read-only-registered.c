/* SPDX-License-Identifier: MIT */
/*
 * A registered mapping that is read-only (PROT_READ; registering needs only
 * VM_MAYWRITE), registered MISSING, WP or MISSING|WP, each over anonymous
 * memory and a shared and a private mapping of a memfd.  The kernel checks
 * the mapping's permission before it looks at the page (the architecture's
 * access_error()), so a write there is SIGSEGV SEGV_ACCERR at the exact
 * address whatever the page holds: a poisoned page, a missing page (no
 * userfault message), a write-protected page (no message).  A read of a
 * poisoned page is SIGBUS BUS_ADRERR at the exact address; a read of a
 * missing page in a MISSING range raises a userfault (message, ZEROPAGE
 * resolves it).  The accesses run on the scenario's thread, whose SIGSEGV and
 * SIGBUS handler (installed before the userfaultfd, so libuffd chains to
 * it) leaves with siglongjmp.
 */
#include <setjmp.h>
#include <signal.h>

#include "oracle.h"

static sigjmp_buf jump;
static volatile int got_sig, got_code, calls;
static void *volatile got_addr;

static void handler(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	calls++;
	got_sig = sig;
	got_code = si->si_code;
	got_addr = si->si_addr;
	siglongjmp(jump, 1);
}

static int fd;

/* Read or write the byte at a (base: the mapping) and record the signal. */
static void touch(const char *kind, const char *what, char *base, volatile char *a, int wr)
{
	got_sig = got_code = calls = 0;
	got_addr = NULL;
	if (!sigsetjmp(jump, 1)) {
		if (wr)
			*a = 1;
		else
			(void)*a;
	}
	T_OBS("%s, %s: calls %d signal %s code %d page %ld offset %ld, nothing queued %d",
	      kind, what, calls,
	      got_sig == SIGBUS ? "SIGBUS" : got_sig == SIGSEGV ? "SIGSEGV" : "none",
	      got_code, got_addr ? ORC_PG(got_addr, base) : -1,
	      got_addr ? (long)((uintptr_t)got_addr % t_page) : -1, orc_nothing_queued(fd));
	T_EXPECT(got_addr == (void *)a);
}

static void one_mode(const char *kind, char *mem, uint64_t mode)
{
	const uint64_t m = (uintptr_t)mem;
	char name[96];

	snprintf(name, sizeof(name), "%s, mode %s%s", kind,
		 mode & UFFDIO_REGISTER_MODE_MISSING ? "MISSING" : "",
		 mode == (UFFDIO_REGISTER_MODE_MISSING | UFFDIO_REGISTER_MODE_WP) ? "|WP" :
		 mode == UFFDIO_REGISTER_MODE_WP ? "WP" : "");
	T_ASSERT(mprotect(mem, 4 * t_page, PROT_READ) == 0);
	t_register(fd, mem, 4 * t_page, mode);
	struct uffdio_poison p = { { m, t_page }, 0, 0 };
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_POISON, &p));

	touch(name, "write of poisoned page 0", mem, mem + 100, 1);
	T_EXPECT_EQ(got_sig, SIGSEGV);
	T_EXPECT_EQ(got_code, SEGV_ACCERR);
	touch(name, "read of poisoned page 0", mem, mem + 200, 0);
	T_EXPECT_EQ(got_sig, SIGBUS);
	T_EXPECT_EQ(got_code, BUS_ADRERR);
	touch(name, "write of poisoned page 0 again", mem, mem + 4095, 1);
	T_EXPECT_EQ(got_sig, SIGSEGV);

	/* A missing page (page 1): a write is SIGSEGV, no message (with
	 * UFFD_FEATURE_WP_ASYNC too, which no write here reaches). */
	touch(name, "write of missing page 1", mem, mem + t_page + 7, 1);
	T_EXPECT_EQ(got_sig, SIGSEGV);
	T_EXPECT_EQ(got_code, SEGV_ACCERR);

	/* Page 2 read in (a userfault in MISSING mode), then protected. */
	struct orc_toucher a;
	struct uffd_msg msg;
	orc_touch_start(&a, mem + 2 * t_page + 1, 0, 0);
	const int first = orc_touch_or_msg(&a, fd, &msg);
	T_OBS("%s: read of page 2: %s", name, first ? "message" : "done");
	if (first) {
		T_OBS("message flags 0x%llx page %ld", (unsigned long long)msg.arg.pagefault.flags,
		      ORC_PG(msg.arg.pagefault.address, mem));
		struct uffdio_zeropage z = { { m + 2 * t_page, t_page }, 0, 0 };
		T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_ZEROPAGE, &z));
	}
	T_OBS("read gave %d", orc_touch_join(&a));
	if (mode & UFFDIO_REGISTER_MODE_WP) {
		struct uffdio_writeprotect wp = { { m + 2 * t_page, t_page },
						  UFFDIO_WRITEPROTECT_MODE_WP };
		T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_WRITEPROTECT, &wp));
	}
	touch(name, "write of page 2 (read in, protected in WP mode)", mem,
	      mem + 2 * t_page + 9, 1);
	T_EXPECT_EQ(got_sig, SIGSEGV);
	T_EXPECT_EQ(got_code, SEGV_ACCERR);

	struct uffdio_range all = { m, 4 * t_page };
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_UNREGISTER, &all));
}

static void each(const char *kind, char *mem, void *arg)
{
	(void)arg;
	static const uint64_t modes[] = {
		UFFDIO_REGISTER_MODE_MISSING,
		UFFDIO_REGISTER_MODE_WP,
		UFFDIO_REGISTER_MODE_MISSING | UFFDIO_REGISTER_MODE_WP,
	};
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		/* Fresh pages for each mode: poison outlives UNREGISTER. */
		char *m = mem + (long)i * 4 * t_page;
		one_mode(kind, m, modes[i]);
	}
}

static void scenario(void)
{
	struct sigaction sa = { .sa_sigaction = handler, .sa_flags = SA_SIGINFO };
	sigemptyset(&sa.sa_mask);
	T_ASSERT(sigaction(SIGSEGV, &sa, NULL) == 0);
	T_ASSERT(sigaction(SIGBUS, &sa, NULL) == 0);

	fd = t_uffd_api(O_CLOEXEC | O_NONBLOCK, UFFD_FEATURE_POISON |
			UFFD_FEATURE_WP_HUGETLBFS_SHMEM | UFFD_FEATURE_MISSING_SHMEM);
	orc_each_memory(ORC_ANON | ORC_SHMEM_SHARED | ORC_SHMEM_PRIVATE, 12 * t_page, each, NULL);
	close(fd);

	/* UFFD_FEATURE_WP_ASYNC: a write to a protected page of a read-only
	 * mapping is SIGSEGV too, and its protection stays. */
	fd = t_uffd_api(O_CLOEXEC | O_NONBLOCK, UFFD_FEATURE_WP_ASYNC);
	char *mem = t_map(2 * t_page);
	T_ASSERT(mprotect(mem, 2 * t_page, PROT_READ) == 0);
	T_OBS("read %d", mem[5]);
	t_register(fd, mem, 2 * t_page, UFFDIO_REGISTER_MODE_WP);
	struct uffdio_writeprotect wp = { { (uintptr_t)mem, 2 * t_page },
					  UFFDIO_WRITEPROTECT_MODE_WP };
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_WRITEPROTECT, &wp));
	touch("WP_ASYNC", "write of protected page 0", mem, mem + 5, 1);
	T_EXPECT_EQ(got_sig, SIGSEGV);
	T_EXPECT_EQ(got_code, SEGV_ACCERR);
	touch("WP_ASYNC", "write of page 1", mem, mem + t_page + 5, 1);
	T_EXPECT_EQ(got_sig, SIGSEGV);
	close(fd);
	munmap(mem, 2 * t_page);
}
T_MAIN("read-only-registered", scenario)
