/* SPDX-License-Identifier: MIT */
/*
 * UFFD_FEATURE_EVENT_FORK, seen through pthread_atfork() (linked programs,
 * and programs under `uffd run`, whose preloaded library is this code).
 * Every fork hook of the user backend is here or called from here
 * (ctx.c's child_after_fork() is the child handler).
 *
 * As the kernel's dup_userfaultfd(): a context with the feature and with
 * registered ranges gets, in the child, a context of its own that keeps the
 * ranges (their traps, write protection and page states come with the
 * fork), and the parent's reader gets a UFFD_EVENT_FORK message whose
 * arg.fork.ufd is an fd on it.  Before the fork the parent makes the new
 * context's pipe; in the child libuffd adopts its write end, binds the
 * child's pid to it (the child owns the new context and serves it, serve.c)
 * and says it is ready; the parent then keeps the read end, the new fd, and
 * sends the message.  The reader resolves the child's faults through it, as
 * any holder of another process's fd (remote.c).
 *
 * The child of a multi-threaded process may only make async-signal-safe
 * calls in its fork handler: another thread of the parent may have held an
 * allocator lock (the C library's, a sanitizer's) at the fork, and it stays
 * held in the child.  Starting a thread there takes such locks (measured:
 * AddressSanitizer's thread start deadlocked in its allocator), so the
 * child's server is not a pthread: it is a bare clone() task.  Its thread
 * storage and stack are those of a spare thread the parent starts before the
 * fork (on a stack of libuffd's own memory) and parks: the memory comes with
 * the fork, already set up by the C library (and by a sanitizer) for a
 * thread, which the task then is in all but the C library's list of
 * threads.  The task runs the monitor (ctx.c) and serves clients itself
 * (serve.c, u_serve_inline): system calls, libuffd's own memory and locks
 * (which the fork handler re-initialised), no allocator, no new thread.
 * ThreadSanitizer does not support a new thread in such a child either (a
 * pthread there dies in its runtime, whose registry still holds the
 * parent's threads): it checks nothing there, and the task is unchecked too.
 */
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>

#include "../sys.h"
#include "user.h"

/* The fork events' fds this process made and still holds.  A reader in
 * another process cannot use the number (the kernel would have put the fd
 * in the reader's table): under the shim it opens the fd through /proc and
 * asks this process to close its copy (u_fork_fd_taken), which must then go
 * for the child's context to end when the reader closes its own. */
#define HANDED 64
static struct { int fd, ctx; dev_t dev; ino_t ino; pid_t child; } handed[HANDED];
static pthread_mutex_t handed_lock = PTHREAD_MUTEX_INITIALIZER;

static void hand_out(int fd, int ctx, pid_t child)
{
	struct stat st;

	if (sys_fstat(fd, &st) < 0)
		return;
	pthread_mutex_lock(&handed_lock);
	for (int i = 0; i < HANDED; i++) {
		struct stat now;
		/* A slot whose fd was closed (or is another file now) is free. */
		if (handed[i].child && (sys_fstat(handed[i].fd, &now) < 0 ||
					now.st_ino != handed[i].ino || now.st_dev != handed[i].dev))
			handed[i].child = 0;
		if (!handed[i].child) {
			handed[i].fd = fd;
			handed[i].ctx = ctx;
			handed[i].dev = st.st_dev;
			handed[i].ino = st.st_ino;
			handed[i].child = child;
			break;
		}
	}
	pthread_mutex_unlock(&handed_lock);
}

int u_fork_fd_taken(int ctx, int fd, pid_t *child)
{
	int ret = -EBADF;
	struct stat st;

	pthread_mutex_lock(&handed_lock);
	for (int i = 0; i < HANDED && ret; i++)
		if (handed[i].child && handed[i].fd == fd && handed[i].ctx == ctx &&
		    sys_fstat(fd, &st) == 0 && st.st_ino == handed[i].ino &&
		    st.st_dev == handed[i].dev) {
			*child = handed[i].child;
			handed[i].child = 0;
			sys_close(fd);
			ret = 0;
		}
	pthread_mutex_unlock(&handed_lock);
	return ret;
}

static int fork_pipe[U_MAX_CTX][2];   /* the new context's pipe: [0] the new fd */
static int sync_pipe[2] = { -1, -1 };   /* the child says it is ready */
static bool forking;

/* The spare thread whose storage and stack the child's server task takes. */
#define SPARE_STACK (4 << 20)       /* room for a sanitizer's thread storage too */
#define TASK_STACK  (1 << 20)        /* the task's part, from the bottom */
static struct {
	char *stack;
	pthread_t thread;
	uintptr_t tp;                   /* its thread pointer (TLS register) */
	_Atomic int state;              /* 0 starting, 1 parked, 2 released */
} spare;

static uintptr_t thread_pointer(void)
{
	uintptr_t tp;
#if defined(__x86_64__)
	__asm__("mov %%fs:0, %0" : "=r"(tp));
#elif defined(__aarch64__)
	__asm__("mrs %0, tpidr_el0" : "=r"(tp));
#else
#error "libuffd: read the thread pointer on this architecture"
#endif
	return tp;
}

static void *spare_main(void *arg)
{
	(void)arg;
	spare.tp = thread_pointer();
	atomic_store(&spare.state, 1);
	sys_futex(&spare.state, FUTEX_WAKE_PRIVATE, 1, NULL);
	while (atomic_load(&spare.state) == 1)
		sys_futex(&spare.state, FUTEX_WAIT_PRIVATE, 1, NULL);
	return NULL;
}

/* Start the spare thread and wait until it is parked: 0 or -1. */
static int spare_start(void)
{
	pthread_attr_t attr;
	sigset_t all, old;

	spare.stack = u_arena_alloc(SPARE_STACK);
	if (!spare.stack)
		return -1;
	atomic_store(&spare.state, 0);
	pthread_attr_init(&attr);
	pthread_attr_setstack(&attr, spare.stack, SPARE_STACK);
	sigfillset(&all);
	sys_sigprocmask(SIG_SETMASK, &all, &old);
	int err = pthread_create(&spare.thread, &attr, spare_main, NULL);
	sys_sigprocmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (err) {
		u_arena_free(spare.stack, SPARE_STACK);
		spare.stack = NULL;
		return -1;
	}
	while (atomic_load(&spare.state) == 0)
		sys_futex(&spare.state, FUTEX_WAIT_PRIVATE, 0, NULL);
	return 0;
}

/* In the parent, after the fork: the spare thread ends. */
static void spare_end(void)
{
	atomic_store(&spare.state, 2);
	sys_futex(&spare.state, FUTEX_WAKE_PRIVATE, 1, NULL);
	pthread_join(spare.thread, NULL);
	u_arena_free(spare.stack, SPARE_STACK);
	spare.stack = NULL;
}

/* The C library's clone(), under the name no sanitizer interposes:
 * ThreadSanitizer's clone() takes every clone for a fork (it "forks" its
 * runtime again in the new task, which shares it here) and hands the
 * function to the task in the caller's stack frame, gone once clone()
 * returned there (the task then called address 0). */
extern int __clone(int (*fn)(void *), void *stack, int flags, void *arg, ...);

static int task_main(void *arg)
{
#if LIBUFFD_TSAN
	/* TSan checks nothing in the child of a multi-threaded fork (the
	 * forking thread ignores memory, synchronisation and interceptors from
	 * there on); nor in the task, which it takes for the spare thread. */
	__tsan_ignore_thread_begin();
	AnnotateIgnoreSyncBegin(__FILE__, __LINE__);
#endif
	((void (*)(void))arg)();
	return 0;
}

int u_fork_start_task(void (*fn)(void))
{
	if (!spare.stack)
		return -1;
	const int flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD |
			  CLONE_SYSVSEM | CLONE_SETTLS;
	/* The task takes no signals but those its own faults raise. */
	sigset_t mask, old;
	sigfillset(&mask);
	sigdelset(&mask, SIGSEGV);
	sigdelset(&mask, SIGBUS);
	sys_sigprocmask(SIG_SETMASK, &mask, &old);
	int tid = __clone(task_main, spare.stack + TASK_STACK, flags, (void *)fn, NULL,
			(void *)spare.tp, NULL);
	sys_sigprocmask(SIG_SETMASK, &old, NULL);
	/* The spare's memory is the task's now, for the rest of the process. */
	spare.stack = NULL;
	return tid < 0 ? -1 : 0;
}

static bool has_ranges(int ctx)
{
	bool any = false;

	u_range_lock();
	for (int i = 0; i < U_MAX_RANGES && !any; i++) {
		struct u_range *r = u_range_at(i);
		if (!r)
			break;
		any = r->ctx == ctx;
	}
	u_range_unlock();
	return any;
}

static void close_pair(int p[2])
{
	for (int k = 0; k < 2; k++) {
		if (p[k] >= 0)
			sys_close(p[k]);
		p[k] = -1;
	}
}

void u_fork_prepare(void)
{
	forking = false;
	for (int i = 0; i < U_MAX_CTX; i++) {
		struct u_ctx *c = &u_ctxs[i];
		fork_pipe[i][0] = fork_pipe[i][1] = -1;
		if (atomic_load(&c->state) != U_CTX_READY ||
		    !(c->features & UFFD_FEATURE_EVENT_FORK) || !has_ranges(i))
			continue;
		int p[2];
		if (sys_pipe2(p, O_CLOEXEC) < 0)
			continue;   /* the child's memory is then ordinary */
		fork_pipe[i][0] = p[0];
		fork_pipe[i][1] = p[1];
		forking = true;
	}
	if (!forking)
		return;
	if (sys_pipe2(sync_pipe, O_CLOEXEC) < 0 || spare_start() < 0) {
		/* No event for this fork: the child's memory is ordinary. */
		close_pair(sync_pipe);
		for (int i = 0; i < U_MAX_CTX; i++)
			close_pair(fork_pipe[i]);
		forking = false;
	}
}

bool u_fork_child_adopt(struct u_ctx *c)
{
	const int i = u_ctx_index(c);
	struct stat st;

	if (!forking || fork_pipe[i][0] < 0 || sys_fstat(fork_pipe[i][0], &st) < 0)
		return false;
	/* The read end is the parent's (the new fd); its open file
	 * description names this process as the owner. */
	struct f_owner_ex owner = { F_OWNER_PID, sys_getpid() };
	sys_fcntl(fork_pipe[i][0], F_SETOWN_EX, (long)&owner);
	sys_close(fork_pipe[i][0]);
	sys_close(c->out);
	c->out = fork_pipe[i][1];
	sys_fcntl(c->out, F_SETFL, O_NONBLOCK);
	sys_fcntl(c->out, F_SETPIPE_SZ, 1 << 20);
	c->dev = st.st_dev;
	c->ino = st.st_ino;
	atomic_store(&c->ev_lock, 0);
	atomic_store(&c->ev_sent, 0);
	atomic_store(&c->ev_read, 0);
	fork_pipe[i][0] = fork_pipe[i][1] = -1;
	return true;
}

void u_fork_child_done(bool served)
{
	/* The parent's fork fds are not the child's to hand out. */
	pthread_mutex_init(&handed_lock, NULL);
	memset(handed, 0, sizeof(handed));
	if (!forking)
		return;
	for (int i = 0; i < U_MAX_CTX; i++)
		close_pair(fork_pipe[i]);
	/* Nothing on the pipe (EOF) tells the parent to send no event. */
	if (served) {
		pid_t me = sys_getpid();
		u_io_full(sync_pipe[1], &me, sizeof(me), true);
	}
	close_pair(sync_pipe);
	forking = false;
}

void u_fork_parent(void)
{
	pid_t child = 0;

	if (!forking)
		return;
	spare_end();
	sys_close(sync_pipe[1]);
	sync_pipe[1] = -1;
	/* The child is ready (or gone, or unable to serve: EOF, no event). */
	if (u_io_full(sync_pipe[0], &child, sizeof(child), false))
		child = 0;
	close_pair(sync_pipe);
	for (int i = 0; i < U_MAX_CTX; i++) {
		if (fork_pipe[i][0] < 0)
			continue;
		struct u_ctx *c = &u_ctxs[i];
		sys_close(fork_pipe[i][1]);
		int ufd = fork_pipe[i][0];
		fork_pipe[i][0] = fork_pipe[i][1] = -1;
		if (!child) {
			sys_close(ufd);
			continue;
		}
		/* The new fd has the flags the uffd was opened with. */
		if (c->flags & O_NONBLOCK)
			sys_fcntl(ufd, F_SETFL, O_NONBLOCK);
		if (!(c->flags & O_CLOEXEC))
			sys_fcntl(ufd, F_SETFD, 0);
		uffd_user_hint(ufd);
		hand_out(ufd, i, child);
		struct uffd_msg msg;
		memset(&msg, 0, sizeof(msg));
		msg.event = UFFD_EVENT_FORK;
		msg.arg.fork.ufd = (uint32_t)ufd;
		/* Under the shim, whose read counts the events read, fork()
		 * returns once the reader has read it, as the kernel's. */
		if ((atomic_load(&u_events_seen) ? u_event_send(i, &msg) : u_ctx_send(c, &msg)) < 0) {
			pid_t gone;
			u_fork_fd_taken(i, ufd, &gone);
		}
	}
	forking = false;
}
