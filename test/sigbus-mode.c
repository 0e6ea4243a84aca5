/* SPDX-License-Identifier: MIT */
/*
 * UFFD_FEATURE_SIGBUS: a missing-page fault raises SIGBUS instead of queuing
 * a message.  The signal has si_code BUS_ADRERR and si_addr the exact
 * faulting address; read(2) then says EAGAIN.  A SIGBUS handler that
 * resolves the page with UFFDIO_COPY (uffd_ioctl) and returns lets the access
 * (read or write) complete.  A process with no SIGBUS handler dies of SIGBUS
 * (a forked child that opens its own userfaultfd: a child of fork() without
 * UFFD_FEATURE_EVENT_FORK does not inherit the registration).
 */
#include <setjmp.h>
#include <signal.h>
#include <sys/wait.h>

#include "acc.h"
#include "oracle.h"

static sigjmp_buf jump;
static volatile int got_sig, got_code, calls;
static void *volatile got_addr;
static int the_fd;
static char *src_page;

static void jump_handler(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	got_sig = sig;
	got_code = si->si_code;
	got_addr = si->si_addr;
	siglongjmp(jump, 1);
}

static void resolve_handler(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	calls++;
	got_sig = sig;
	got_code = si->si_code;
	got_addr = si->si_addr;
	uintptr_t page = (uintptr_t)si->si_addr & ~(uintptr_t)(t_page - 1);
	struct uffdio_copy c = { .dst = page, .src = (uintptr_t)src_page, .len = t_page };
	if (uffd_ioctl(the_fd, UFFDIO_COPY, &c) < 0)
		_exit(3);
}

static void on_sigbus(void (*fn)(int, siginfo_t *, void *))
{
	struct sigaction sa = { .sa_sigaction = fn, .sa_flags = SA_SIGINFO };
	sigemptyset(&sa.sa_mask);
	T_ASSERT(sigaction(SIGBUS, &sa, NULL) == 0);
}

static void child_no_handler(void *arg, int report)
{
	(void)arg;
	acc_no_core();
	signal(SIGBUS, SIG_DFL);
	int fd = uffd_open(O_CLOEXEC | O_NONBLOCK, t_backend);
	struct uffdio_api api = { .api = UFFD_API, .features = UFFD_FEATURE_SIGBUS };
	if (fd < 0 || uffd_ioctl(fd, UFFDIO_API, &api) < 0)
		_exit(4);
	char *m = mmap(NULL, t_page, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct uffdio_register reg = { .range = { (uintptr_t)m, t_page },
				       .mode = UFFDIO_REGISTER_MODE_MISSING };
	if (m == MAP_FAILED || uffd_ioctl(fd, UFFDIO_REGISTER, &reg) < 0)
		_exit(5);
	if (write(report, "x", 1) != 1)
		_exit(6);
	(void)*(volatile char *)(m + 9);
	_exit(0);   /* survived: wrong */
}

static void scenario(void)
{
	int fd = t_uffd_api(O_CLOEXEC | O_NONBLOCK, UFFD_FEATURE_SIGBUS);
	char *mem = t_map(4 * t_page);
	src_page = t_map(t_page);
	t_fill(src_page, t_page, 3);
	the_fd = fd;
	t_register(fd, mem, 4 * t_page, UFFDIO_REGISTER_MODE_MISSING);

	/* A read and a write of missing pages: SIGBUS, no message. */
	on_sigbus(jump_handler);
	for (int wr = 0; wr <= 1; wr++) {
		char *a = mem + (1 + wr) * t_page + 321 + wr;
		got_sig = 0;
		if (!sigsetjmp(jump, 1)) {
			if (wr)
				*(volatile char *)a = 1;
			else
				(void)*(volatile char *)a;
		}
		T_OBS("%s: signal %d code %d page %ld offset %ld", wr ? "write" : "read",
		      got_sig, got_code, ACC_PG(got_addr, mem),
		      (long)((uintptr_t)got_addr % t_page));
		T_EXPECT_EQ(got_sig, SIGBUS);
		T_EXPECT_EQ(got_code, BUS_ADRERR);
		T_EXPECT(got_addr == a);
		struct uffd_msg msg;
		T_EXPECT_ERR(read(fd, &msg, sizeof(msg)), EAGAIN);
	}

	/* A handler that resolves and returns: the access completes. */
	on_sigbus(resolve_handler);
	got_sig = 0, calls = 0;
	char v = *(volatile char *)(mem + 100);
	T_OBS("read after the handler's COPY: calls %d code %d offset %ld value ok %d",
	      calls, got_code, (long)((uintptr_t)got_addr - (uintptr_t)mem),
	      v == src_page[100]);
	T_EXPECT_EQ(calls, 1);
	T_EXPECT_EQ(v, src_page[100]);
	calls = 0;
	*(volatile char *)(mem + 3 * t_page + 7) = 0x7e;
	T_OBS("write after the handler's COPY: calls %d page %ld; landed 0x%x; rest %s",
	      calls, ACC_PG(got_addr, mem), (unsigned char)mem[3 * t_page + 7],
	      !memcmp(mem + 3 * t_page, src_page, 7) &&
	      !memcmp(mem + 3 * t_page + 8, src_page + 8, t_page - 8) ? "the copy" : "wrong");
	T_EXPECT_EQ(calls, 1);
	/* Pages 1 and 2 (which raised SIGBUS above) are still missing. */
	calls = 0;
	int again = t_check(mem + 2 * t_page, t_page, 3);
	T_OBS("page 2 again: the copy %d, handler calls %d", again, calls);
	T_EXPECT_EQ(calls, 1);
	struct uffd_msg msg;
	T_EXPECT_ERR(read(fd, &msg, sizeof(msg)), EAGAIN);

	/* No SIGBUS handler: the process dies of SIGBUS. */
	signal(SIGBUS, SIG_DFL);
	char x;
	int status;
	T_OBS("child registered: %d", orc_in_child_status(child_no_handler, NULL, &x, 1, &status));
	T_OBS("child without a handler: signaled %d signal %d", WIFSIGNALED(status),
	      WIFSIGNALED(status) ? WTERMSIG(status) : -WEXITSTATUS(status));
	T_EXPECT(WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS);
	close(fd);
}
T_MAIN("sigbus-mode", scenario)
