/* SPDX-License-Identifier: MIT */
/*
 * The program's SIGBUS handler in UFFD_FEATURE_SIGBUS mode runs as the
 * kernel runs any handler: with sa_mask {SIGUSR1} and no SA_NODEFER, SIGBUS
 * and SIGUSR1 are blocked inside it, on top of what the thread had blocked
 * (SIGUSR2), and nothing else (SIGSEGV is not); the ucontext's uc_sigmask is
 * the thread's mask before; after the handler returns (having resolved the
 * page with UFFDIO_COPY) the mask is what it was.  With SA_NODEFER SIGBUS is
 * not blocked inside.  With SA_RESETHAND the disposition is SIG_DFL already
 * inside the handler and after it (only the handler is reset: sa_flags and
 * sa_mask stay as they were); a later fault in a process so reset kills
 * it with SIGBUS.  A thread that blocks SIGBUS dies of it at the fault.  The
 * siginfo: si_signo SIGBUS, si_code BUS_ADRERR, si_errno 0, si_addr exact.
 */
#include <signal.h>
#include <sys/wait.h>
#include <ucontext.h>

#include "acc.h"
#include "oracle.h"

static int the_fd;
static char *src_page;

static struct seen {
	int calls;
	int signo, code, err;
	void *addr;
	int blk_bus, blk_usr1, blk_usr2, blk_segv, blk_int;  /* blocked inside */
	int uc_bus, uc_usr1, uc_usr2;                         /* in uc_sigmask */
	int dfl_inside;                                       /* SIG_DFL inside */
	int copy_ok;
} seen;

static void handler(int sig, siginfo_t *si, void *uc)
{
	sigset_t cur;
	struct sigaction now;
	ucontext_t *u = uc;

	seen.calls++;
	seen.signo = sig == si->si_signo ? sig : -1;
	seen.code = si->si_code;
	seen.err = si->si_errno;
	seen.addr = si->si_addr;
	pthread_sigmask(SIG_BLOCK, NULL, &cur);
	seen.blk_bus = sigismember(&cur, SIGBUS);
	seen.blk_usr1 = sigismember(&cur, SIGUSR1);
	seen.blk_usr2 = sigismember(&cur, SIGUSR2);
	seen.blk_segv = sigismember(&cur, SIGSEGV);
	seen.blk_int = sigismember(&cur, SIGINT);
	seen.uc_bus = sigismember(&u->uc_sigmask, SIGBUS);
	seen.uc_usr1 = sigismember(&u->uc_sigmask, SIGUSR1);
	seen.uc_usr2 = sigismember(&u->uc_sigmask, SIGUSR2);
	sigaction(SIGBUS, NULL, &now);
	seen.dfl_inside = now.sa_handler == SIG_DFL;
	uintptr_t page = (uintptr_t)si->si_addr & ~(uintptr_t)(t_page - 1);
	struct uffdio_copy c = { .dst = page, .src = (uintptr_t)src_page, .len = t_page };
	seen.copy_ok = uffd_ioctl(the_fd, UFFDIO_COPY, &c) == 0;
}

static void install(int flags)
{
	struct sigaction sa = { .sa_sigaction = handler, .sa_flags = SA_SIGINFO | flags };
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGUSR1);
	T_ASSERT(sigaction(SIGBUS, &sa, NULL) == 0);
}

static void mask_now(const char *what)
{
	sigset_t cur;
	pthread_sigmask(SIG_BLOCK, NULL, &cur);
	T_OBS("%s: blocked SIGBUS %d SIGUSR1 %d SIGUSR2 %d SIGSEGV %d", what,
	      sigismember(&cur, SIGBUS), sigismember(&cur, SIGUSR1),
	      sigismember(&cur, SIGUSR2), sigismember(&cur, SIGSEGV));
}

/* Touch addr (a missing page) with the handler installed; report. */
static void one(const char *what, char *mem, char *addr, int wr)
{
	memset(&seen, 0, sizeof(seen));
	char v;
	if (wr) {
		*(volatile char *)addr = 0x4d;
		v = *addr;
	} else {
		v = *(volatile char *)addr;
	}
	__asm__ volatile("" ::: "memory");   /* the handler wrote seen */
	T_OBS("%s: calls %d signo %d code %d errno %d page %ld offset %ld copy %d", what,
	      seen.calls, seen.signo, seen.code, seen.err, ACC_PG(seen.addr, mem),
	      (long)((uintptr_t)seen.addr % t_page), seen.copy_ok);
	T_EXPECT_EQ(seen.calls, 1);
	T_EXPECT_EQ(seen.signo, SIGBUS);
	T_EXPECT_EQ(seen.code, BUS_ADRERR);
	T_EXPECT_EQ(seen.err, 0);
	T_EXPECT(seen.addr == addr);
	T_OBS("%s: inside, blocked SIGBUS %d SIGUSR1 %d SIGUSR2 %d SIGSEGV %d SIGINT %d", what,
	      seen.blk_bus, seen.blk_usr1, seen.blk_usr2, seen.blk_segv, seen.blk_int);
	T_OBS("%s: uc_sigmask SIGBUS %d SIGUSR1 %d SIGUSR2 %d; SIG_DFL inside %d", what,
	      seen.uc_bus, seen.uc_usr1, seen.uc_usr2, seen.dfl_inside);
	T_EXPECT_EQ(seen.blk_usr1, 1);
	T_EXPECT_EQ(seen.blk_usr2, 1);
	T_EXPECT_EQ(seen.blk_segv, 0);
	T_EXPECT_EQ(seen.uc_bus, 0);
	T_EXPECT_EQ(seen.uc_usr1, 0);
	T_EXPECT_EQ(seen.uc_usr2, 1);
	T_OBS("%s: access completed: %d", what,
	      wr ? v == 0x4d : v == src_page[(uintptr_t)addr % t_page]);
	mask_now(what);
}

/* A forked child with its own userfaultfd (a child of fork() does not
 * inherit the registration): touches page 0 then page 1 of a registered
 * area; reports via the pipe how many accesses completed. */
struct how {
	int flags, block;
};

static void child(void *arg, int report)
{
	const int flags = ((const struct how *)arg)->flags, block = ((const struct how *)arg)->block;

	acc_no_core();
	int fd = uffd_open(O_CLOEXEC | O_NONBLOCK, t_backend);
	struct uffdio_api api = { .api = UFFD_API, .features = UFFD_FEATURE_SIGBUS };
	if (fd < 0 || uffd_ioctl(fd, UFFDIO_API, &api) < 0)
		_exit(4);
	char *m = mmap(NULL, 2 * t_page, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct uffdio_register reg = { .range = { (uintptr_t)m, 2 * t_page },
				       .mode = UFFDIO_REGISTER_MODE_MISSING };
	if (m == MAP_FAILED || uffd_ioctl(fd, UFFDIO_REGISTER, &reg) < 0)
		_exit(5);
	the_fd = fd;
	install(flags);
	if (block) {
		sigset_t b;
		sigemptyset(&b);
		sigaddset(&b, SIGBUS);
		pthread_sigmask(SIG_BLOCK, &b, NULL);
	}
	for (int i = 0; i < 2; i++) {
		(void)*(volatile char *)(m + i * t_page + 1);
		char c = (char)('0' + i);
		if (write(report, &c, 1) != 1)
			_exit(6);
	}
	_exit(0);
}

static void in_child(const char *what, int flags, int block)
{
	struct how how = { flags, block };
	char buf[4];
	int status;
	const int n = orc_in_child_status(child, &how, buf, sizeof(buf), &status);
	T_OBS("%s: accesses completed %d; signaled %d signal %d", what, n,
	      WIFSIGNALED(status), WIFSIGNALED(status) ? WTERMSIG(status) : -WEXITSTATUS(status));
}

static void scenario(void)
{
	if (LIBUFFD_TSAN)
		t_skip("ThreadSanitizer runs signal handlers from its own: their masks differ");
	int fd = t_uffd_api(O_CLOEXEC | O_NONBLOCK, UFFD_FEATURE_SIGBUS);
	char *mem = t_map(8 * t_page);
	src_page = t_map(t_page);
	t_fill(src_page, t_page, 7);
	the_fd = fd;
	t_register(fd, mem, 8 * t_page, UFFDIO_REGISTER_MODE_MISSING);

	/* The thread blocks SIGUSR2 throughout. */
	sigset_t usr2;
	sigemptyset(&usr2);
	sigaddset(&usr2, SIGUSR2);
	T_ASSERT(pthread_sigmask(SIG_BLOCK, &usr2, NULL) == 0);
	mask_now("before");

	install(0);
	one("read", mem, mem + t_page + 123, 0);
	T_EXPECT_EQ(seen.blk_bus, 1);
	one("write", mem, mem + 2 * t_page + 4001, 1);
	T_EXPECT_EQ(seen.blk_bus, 1);

	install(SA_NODEFER);
	one("nodefer", mem, mem + 3 * t_page + 5, 0);
	T_EXPECT_EQ(seen.blk_bus, 0);

	install(SA_RESETHAND);
	one("resethand", mem, mem + 4 * t_page + 77, 0);
	T_EXPECT_EQ(seen.dfl_inside, 1);
	struct sigaction old;
	T_ASSERT(sigaction(SIGBUS, NULL, &old) == 0);
	T_OBS("resethand: afterwards SIG_DFL %d, SA_SIGINFO %d SA_RESETHAND %d, sa_mask SIGUSR1 %d",
	      old.sa_handler == SIG_DFL, (old.sa_flags & SA_SIGINFO) != 0,
	      (old.sa_flags & SA_RESETHAND) != 0,
	      sigismember(&old.sa_mask, SIGUSR1));
	T_EXPECT(old.sa_handler == SIG_DFL);
	/* Only the handler is reset (kernel: ka->sa.sa_handler = SIG_DFL). */
	T_EXPECT(old.sa_flags & SA_SIGINFO);
	T_EXPECT_EQ(sigismember(&old.sa_mask, SIGUSR1), 1);

	struct uffd_msg msg;
	T_EXPECT_ERR(read(fd, &msg, sizeof(msg)), EAGAIN);
	close(fd);

	/* A process whose handler was reset dies of the next fault. */
	in_child("resethand child", SA_RESETHAND, 0);
	/* The handler stays without SA_RESETHAND. */
	in_child("plain child", 0, 0);
	/* SIGBUS blocked at the fault: death, the handler notwithstanding. */
	in_child("blocked child", 0, 1);
}
T_MAIN("sigbus-handler-mask", scenario)
