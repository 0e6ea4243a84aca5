/* SPDX-License-Identifier: MIT */
/*
 * The program's own SIGSEGV handler, installed before the userfaultfd is
 * opened, still gets the SIGSEGVs that are not userfaults: a write to a
 * PROT_READ page and a read of a PROT_NONE page (SEGV_ACCERR), a read of an
 * unmapped page (SEGV_MAPERR), each with its exact si_addr; the handler
 * leaves with siglongjmp.  A registered range still works afterwards (a
 * fault, a message, UFFDIO_COPY).  A process with no SIGSEGV handler that
 * uses a userfaultfd dies of SIGSEGV on such a fault (a forked child that
 * opens its own userfaultfd).
 */
#include <setjmp.h>
#include <signal.h>
#include <sys/wait.h>

#include "acc.h"
#include "oracle.h"

static sigjmp_buf jump;
static volatile int got_sig, got_code, handler_calls;
static void *volatile got_addr;

static void segv_handler(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	handler_calls++;
	got_sig = sig;
	got_code = si->si_code;
	got_addr = si->si_addr;
	siglongjmp(jump, 1);
}

/* In a forked child that never had a SIGSEGV handler (forked before the
 * scenario installs its own, and before any userfaultfd was opened): open a
 * userfaultfd, register a range, resolve one fault in it, then write to a
 * read-only page.  Reports 'r' once the fault was resolved. */
static void child_default(void *arg, int report)
{
	(void)arg;
	acc_no_core();
	int fd = uffd_open(O_CLOEXEC | O_NONBLOCK, t_backend);
	struct uffdio_api api = { .api = UFFD_API };
	if (fd < 0 || uffd_ioctl(fd, UFFDIO_API, &api) < 0)
		_exit(4);
	char *m = mmap(NULL, 2 * t_page, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		_exit(5);
	struct uffdio_register reg = { .range = { (uintptr_t)m, t_page },
				       .mode = UFFDIO_REGISTER_MODE_MISSING };
	if (uffd_ioctl(fd, UFFDIO_REGISTER, &reg) < 0)
		_exit(6);
	struct acc_thread t;
	struct uffd_msg msg;
	acc_start(&t, m, 0, 0);
	if (!t_read_msg(fd, &msg, 5000))
		_exit(7);
	struct uffdio_zeropage z = { .range = { (uintptr_t)m, t_page } };
	if (uffd_ioctl(fd, UFFDIO_ZEROPAGE, &z) < 0)
		_exit(8);
	acc_join(&t);
	if (mprotect(m + t_page, t_page, PROT_READ) < 0)
		_exit(9);
	if (write(report, "r", 1) != 1)
		_exit(10);
	*(volatile char *)(m + t_page + 5) = 1;
	_exit(0);   /* survived: wrong */
}

static void no_handler(void)
{
	char x = 0;
	int status;
	const int n = orc_in_child_status(child_default, NULL, &x, 1, &status);
	T_OBS("child resolved its fault: %d", n == 1 && x == 'r');
	T_OBS("child without a handler: signaled %d signal %d", WIFSIGNALED(status),
	      WIFSIGNALED(status) ? WTERMSIG(status) : -WEXITSTATUS(status));
	T_EXPECT(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV);
}

static void scenario(void)
{
	no_handler();

	struct sigaction sa = { .sa_sigaction = segv_handler, .sa_flags = SA_SIGINFO };
	sigemptyset(&sa.sa_mask);
	T_ASSERT(sigaction(SIGSEGV, &sa, NULL) == 0);

	int fd = t_uffd_api(O_CLOEXEC | O_NONBLOCK, 0);
	char *mem = t_map(4 * t_page);
	t_register(fd, mem, 4 * t_page, UFFDIO_REGISTER_MODE_MISSING);
	char *ro = t_map(3 * t_page);
	T_ASSERT(mprotect(ro, t_page, PROT_READ) == 0);
	T_ASSERT(mprotect(ro + t_page, t_page, PROT_NONE) == 0);

	/* Also fault the registered range once before, so that the user
	 * backend's fault path is armed. */
	char *src = t_map(t_page);
	t_fill(src, t_page, 9);
	struct acc_thread t;
	struct uffd_msg msg;
	acc_start(&t, mem, 0, 0);
	T_ASSERT(t_read_msg(fd, &msg, 5000));
	struct uffdio_copy c = { .dst = (uintptr_t)mem, .src = (uintptr_t)src, .len = t_page };
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_COPY, &c));
	acc_join(&t);

	/* A hole, made last: no later mapping of ours is one page. */
	T_ASSERT(munmap(ro + 2 * t_page, t_page) == 0);
	static const struct { const char *what; long pg, off; int wr; } cases[] = {
		{ "write to PROT_READ", 0, 17, 1 },
		{ "read of PROT_NONE", 1, 33, 0 },
		{ "write to PROT_NONE", 1, 34, 1 },
		{ "read of unmapped", 2, 65, 0 },
		{ "write to PROT_READ again", 0, 4095, 1 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		volatile char *a = ro + cases[i].pg * t_page + cases[i].off;
		got_sig = 0, got_code = 0, got_addr = NULL, handler_calls = 0;
		if (!sigsetjmp(jump, 1)) {
			if (cases[i].wr)
				*a = 1;
			else
				(void)*a;
		}
		T_OBS("%s: calls %d signal %d code %d page %ld offset %ld", cases[i].what,
		      handler_calls, got_sig, got_code, ACC_PG(got_addr, ro),
		      (long)((uintptr_t)got_addr % t_page));
		T_EXPECT_EQ(handler_calls, 1);
		T_EXPECT_EQ(got_sig, SIGSEGV);
		T_EXPECT_EQ(got_code, cases[i].pg == 2 ? SEGV_MAPERR : SEGV_ACCERR);
		T_EXPECT(got_addr == (void *)a);
	}

	/* The registered range still works. */
	for (int pg = 1; pg <= 2; pg++) {
		acc_start(&t, mem + pg * t_page + 3, pg == 2, 0x2d);
		T_ASSERT(t_read_msg(fd, &msg, 5000));
		T_OBS("registered page faults: page %ld flags 0x%llx",
		      ACC_PG(msg.arg.pagefault.address, mem),
		      (unsigned long long)msg.arg.pagefault.flags);
		c = (struct uffdio_copy){ .dst = (uintptr_t)mem + pg * t_page,
					  .src = (uintptr_t)src, .len = t_page };
		T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_COPY, &c));
		char v = acc_join(&t);
		T_OBS("access completed: 0x%x (read of the copy %d)", (unsigned char)v,
		      pg == 2 || v == src[3]);
	}
	T_OBS("program handler not called meanwhile: %d", handler_calls == 1);
	close(fd);
}
T_MAIN("segv-chaining", scenario)
