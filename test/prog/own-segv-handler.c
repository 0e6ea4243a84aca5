/* SPDX-License-Identifier: MIT */
/*
 * A userfaultfd client that installs its own SIGSEGV handler after
 * registering (as garbage collectors and JITs do): its handler sees exactly
 * its own faults (on a PROT_NONE page of its own), sigaction() and signal()
 * report its own previous actions, and userfaults keep being resolved by
 * the handler thread, also for a worker thread that blocks every signal.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../lib/prog.h"

#define NPAGES 4
static long page;
static char *area, *guard;
static int uffd;
static sigjmp_buf back;
static volatile sig_atomic_t which;
static volatile void *fault_addr;
static volatile int fault_code;

static void handler1(int sig, siginfo_t *si, void *uc)
{
	(void)sig, (void)uc;
	which = 1;
	fault_addr = si->si_addr;
	fault_code = si->si_code;
	siglongjmp(back, 1);
}

static void handler2(int sig)
{
	(void)sig;
	which = 2;
	siglongjmp(back, 1);
}

static void *serve(void *arg)
{
	char *src = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	(void)arg;
	for (;;) {
		struct pollfd p = { .fd = uffd, .events = POLLIN };
		struct uffd_msg msg;
		if (poll(&p, 1, -1) < 0 || read(uffd, &msg, sizeof(msg)) != sizeof(msg))
			continue;
		if (msg.event != UFFD_EVENT_PAGEFAULT)
			continue;
		unsigned long at = msg.arg.pagefault.address & ~(page - 1);
		memset(src, 'A' + (int)((at - (unsigned long)area) / page), page);
		struct uffdio_copy c = { .dst = at, .src = (unsigned long)src, .len = page };
		if (ioctl(uffd, UFFDIO_COPY, &c))
			perror("UFFDIO_COPY");
	}
	return NULL;
}

static void touch_guard(const char *what)
{
	which = 0;
	if (!sigsetjmp(back, 1))
		*(volatile char *)(guard + 16) = 1;
	printf("%s: handler %d", what, (int)which);
	if (which == 1)
		printf(", si_addr guard+%ld, si_code %s", (long)((char *)fault_addr - guard),
		       fault_code == SEGV_ACCERR ? "SEGV_ACCERR" : "other");
	printf("\n");
}

static void *blocked_worker(void *arg)
{
	sigset_t all, now;
	(void)arg;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	char c = area[2 * page + 5];
	pthread_sigmask(SIG_SETMASK, NULL, &now);
	printf("worker with every signal blocked read '%c'; SIGSEGV blocked: %s\n", c,
	       sigismember(&now, SIGSEGV) ? "yes" : "no");
	return NULL;
}

int main(void)
{
	page = sysconf(_SC_PAGESIZE);
	area = mmap(NULL, NPAGES * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	guard = mmap(NULL, page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uffd = prog_uffd(0, "userfaultfd", area, NPAGES * page, UFFDIO_REGISTER_MODE_MISSING);
	if (uffd < 0)
		return 1;
	pthread_t t, w;
	pthread_create(&t, NULL, serve, NULL);

	struct sigaction sa, old;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = handler1;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGSEGV, &sa, &old);
	printf("previous SIGSEGV action: %s\n", old.sa_handler == SIG_DFL ? "default" : "other");
	touch_guard("own fault");
	printf("page 0 reads '%c'\n", area[0]);
	touch_guard("own fault again");
	printf("page 1 reads '%c'\n", area[page + 1]);
	sigaction(SIGSEGV, NULL, &old);
	printf("current SIGSEGV action is handler1: %s, SA_SIGINFO %s\n",
	       old.sa_sigaction == handler1 ? "yes" : "no",
	       old.sa_flags & SA_SIGINFO ? "yes" : "no");

	sighandler_t prev = signal(SIGSEGV, handler2);
	printf("signal() returned handler1: %s\n",
	       (void *)prev == (void *)handler1 ? "yes" : "no");
	touch_guard("after signal()");

	pthread_create(&w, NULL, blocked_worker, NULL);
	pthread_join(w, NULL);
	printf("page 3 reads '%c'\n", area[3 * page]);
	fflush(stdout);
	/* Back to the default action: a fault of its own now kills it. */
	signal(SIGSEGV, SIG_DFL);
	*(volatile char *)guard = 1;
	return 0;
}
