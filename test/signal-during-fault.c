/* SPDX-License-Identifier: MIT */
/*
 * A signal arrives at a thread blocked in a userfault.  Its handler runs
 * while the fault is unresolved (the kernel's wait is interruptible), and
 * the access then goes on waiting: it completes only once the page is
 * resolved, with the page's content, and nothing is lost or crashes.
 * Three cases: the fault's message already read when the signal comes; not
 * read yet; and a handler that itself touches a missing page (its own fault
 * is resolved first, then the interrupted one).  What the handler saw and
 * how many messages the fault produced are the observables.  The kernel
 * retries an interrupted fault: one whose message was read sends it again;
 * the user backend's fault goes on waiting without a second message (a
 * limit: it cannot see the program's signal handlers run).  Not under
 * ThreadSanitizer, which defers the handler of an asynchronous signal to
 * the thread's next call into its runtime: a thread blocked in a fault
 * makes none.
 */
#include <poll.h>
#include <signal.h>

#include "acc.h"
#include "oracle.h"

#define LIMIT "a signal during a fault does not repeat its message"

static _Atomic int handled;
static volatile char *handler_touch;   /* a page the handler reads, or NULL */
static _Atomic int handler_read;

static void on_usr1(int sig)
{
	(void)sig;
	if (handler_touch)
		atomic_store(&handler_read, *handler_touch);
	atomic_fetch_add(&handled, 1);
}

/* Wait (at most 5 s) until the handler has run n times. */
static void wait_handled(int n)
{
	for (int i = 0; atomic_load(&handled) < n; i++) {
		if (i > 5000)
			T_FATAL("the signal handler did not run");
		poll(NULL, 0, 1);
	}
}

/* Messages queued now, each recorded (page offset from base). */
static int drain(int fd, char *base, const char *when)
{
	struct uffd_msg m;
	int n = 0;

	while (read(fd, &m, sizeof(m)) == sizeof(m)) {
		T_OBS("%s: message page %ld flags 0x%llx", when,
		      ACC_PG(m.arg.pagefault.address, base),
		      (unsigned long long)m.arg.pagefault.flags);
		n++;
	}
	return n;
}

static void copy_page(int fd, char *dst, const char *src)
{
	struct uffdio_copy c = { (uintptr_t)dst, (uintptr_t)src, t_page, 0, 0 };
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_COPY, &c));
}

/* One fault, one signal: read the message first or not. */
static void one(int fd, char *mem, const char *src, int read_first, int pg)
{
	struct acc_thread t;
	struct uffd_msg m;
	char *page = mem + pg * t_page;

	atomic_store(&handled, 0);
	acc_start(&t, page + 3, 0, 0);
	if (read_first) {
		orc_wait_msg(fd, &m);
		T_OBS("fault message: page %ld", ACC_PG(m.arg.pagefault.address, mem));
	}
	acc_wait_blocked(&t);
	T_EXPECT_EQ(pthread_kill(t.th, SIGUSR1), 0);
	wait_handled(1);
	/* Back in its fault: the access has not completed. */
	acc_wait_blocked(&t);
	T_OBS("handler ran %d time(s) during the fault; thread still blocked",
	      atomic_load(&handled));
	if (!read_first) {
		orc_wait_msg(fd, &m);
		T_OBS("fault message: page %ld", ACC_PG(m.arg.pagefault.address, mem));
	}
	/* The kernel's fault, interrupted, is retried once the handler
	 * returns: a message that was read comes again. */
	if (t_limit_begin(LIMIT)) {
		T_OBS("messages before the COPY: %d", drain(fd, mem, "before the COPY"));
		t_limit_end();
	}
	copy_page(fd, page, src);
	char got = acc_join(&t);
	T_OBS("the access completed and read 0x%02x", (unsigned char)got);
	T_EXPECT_EQ(got, src[3]);
	T_OBS("messages left: %d", drain(fd, mem, read_first ? "read first" : "unread"));
}

/* The handler faults too: its page is resolved, then the thread's. */
static void nested(int fd, char *mem, const char *src)
{
	struct acc_thread t;
	struct uffd_msg m;

	atomic_store(&handled, 0);
	handler_touch = mem + 5 * t_page + 7;
	acc_start(&t, mem + 4 * t_page + 3, 0, 0);
	orc_wait_msg(fd, &m);
	T_OBS("nested: thread's fault at page %ld", ACC_PG(m.arg.pagefault.address, mem));
	acc_wait_blocked(&t);
	T_EXPECT_EQ(pthread_kill(t.th, SIGUSR1), 0);
	/* The handler's own fault. */
	orc_wait_msg(fd, &m);
	T_OBS("nested: handler's fault at page %ld", ACC_PG(m.arg.pagefault.address, mem));
	T_EXPECT_EQ(atomic_load(&handled), 0);
	copy_page(fd, mem + 5 * t_page, src);
	wait_handled(1);
	T_OBS("nested: handler read 0x%02x", (unsigned char)atomic_load(&handler_read));
	T_EXPECT_EQ(atomic_load(&handler_read), src[7]);
	acc_wait_blocked(&t);
	copy_page(fd, mem + 4 * t_page, src);
	char got = acc_join(&t);
	T_EXPECT_EQ(got, src[3]);
	T_OBS("nested: messages left: %d", drain(fd, mem, "nested"));
	handler_touch = NULL;
}

static void scenario(void)
{
	/* Measured: a thread blocked in a kernel fault never ran the handler;
	 * the user half's nested handler faulted with SIGSEGV blocked. */
	if (LIBUFFD_TSAN)
		t_skip("ThreadSanitizer runs the handler of a signal that comes during a "
		       "fault only at the thread's next call into its runtime, with every "
		       "signal blocked");
	struct sigaction sa = { .sa_handler = on_usr1 };
	sigemptyset(&sa.sa_mask);
	T_ASSERT(sigaction(SIGUSR1, &sa, NULL) == 0);

	int fd = t_uffd_api(O_CLOEXEC | O_NONBLOCK, 0);
	char *mem = t_map(8 * t_page);
	char *src = t_map(t_page);
	t_fill(src, t_page, 9);
	t_register(fd, mem, 8 * t_page, UFFDIO_REGISTER_MODE_MISSING);

	one(fd, mem, src, 1, 0);
	one(fd, mem, src, 0, 1);
	nested(fd, mem, src);
	close(fd);
}

T_MAIN("signal-during-fault", scenario)
