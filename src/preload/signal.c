/* SPDX-License-Identifier: MIT */
/*
 * SIGSEGV is libuffd's as long as user-backend userfaults may happen: that
 * is how a fault on a trapped page reaches it.  A program that installs its
 * own SIGSEGV handler (sigaction, signal, sysv_signal, bsd_signal) after
 * that gets exactly its own faults: libuffd's handler stays in place and
 * chains to the program's, and sigaction() reports the program's own
 * actions, as if libuffd were not there.  A thread that blocks SIGSEGV
 * (worker threads often block every signal) would die of its first
 * userfault: sigprocmask and pthread_sigmask keep SIGSEGV deliverable and
 * report it blocked as the thread asked.  SIGBUS needs nothing: libuffd
 * reads the program's action when it raises one.  Kernel mode: untouched.
 */
#include <errno.h>
#include <string.h>

#include "preload.h"

/* Does libuffd own SIGSEGV here (now, or as soon as a uffd opens)? */
static int owns_segv(void)
{
	return shim_backend == UFFD_BACKEND_USER ||
	       (shim_backend == UFFD_BACKEND_AUTO && u_fault_installed());
}

static int real_sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	if (shim_real.sigaction)
		return shim_real.sigaction(sig, act, old);
	return sys_sigaction(sig, act, old);
}

static int do_sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	if (sig == SIGSEGV && shim_backend != UFFD_BACKEND_KERNEL &&
	    u_fault_program_action(act, old))
		return 0;
	return real_sigaction(sig, act, old);
}

SHIM_EXPORT int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	return do_sigaction(sig, act, old);
}
SHIM_EXPORT int __sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	return do_sigaction(sig, act, old);
}

static sighandler_t set_handler(int sig, sighandler_t handler, int flags, int mask_self)
{
	struct sigaction act, old;

	if (handler == SIG_ERR || sig < 1 || sig >= NSIG) {
		errno = EINVAL;
		return SIG_ERR;
	}
	memset(&act, 0, sizeof(act));
	act.sa_handler = handler;
	sigemptyset(&act.sa_mask);
	if (mask_self)
		sigaddset(&act.sa_mask, sig);
	act.sa_flags = flags;
	if (do_sigaction(sig, &act, &old) < 0)
		return SIG_ERR;
	return old.sa_handler;
}

/* glibc's signal() has BSD semantics: handler kept, signal masked while it
 * runs, system calls restarted. */
SHIM_EXPORT sighandler_t signal(int sig, sighandler_t handler)
{
	return set_handler(sig, handler, SA_RESTART, 1);
}
SHIM_EXPORT sighandler_t bsd_signal(int sig, sighandler_t handler)
{
	return set_handler(sig, handler, SA_RESTART, 1);
}

/* System V: reset to the default when delivered, not masked, no restart. */
SHIM_EXPORT sighandler_t sysv_signal(int sig, sighandler_t handler)
{
	return set_handler(sig, handler, SA_RESETHAND | SA_NODEFER, 0);
}
SHIM_EXPORT sighandler_t __sysv_signal(int sig, sighandler_t handler)
	__attribute__((alias("sysv_signal")));

/* ---- masks ---- */
static __thread int segv_blocked;   /* what the thread asked for */

static int do_mask(int how, const sigset_t *set, sigset_t *old,
		   int (*real)(int, const sigset_t *, sigset_t *))
{
	if (!owns_segv())
		return real(how, set, old);
	sigset_t copy;
	int asked = segv_blocked;
	if (set) {
		copy = *set;
		int in = sigismember(set, SIGSEGV) == 1;
		if (how == SIG_BLOCK && in)
			asked = 1;
		else if (how == SIG_UNBLOCK && in)
			asked = 0;
		else if (how == SIG_SETMASK)
			asked = in;
		if (how != SIG_UNBLOCK)
			sigdelset(&copy, SIGSEGV);
		set = &copy;
	}
	int ret = real(how, set, old);
	if (ret != 0)
		return ret;
	if (old && segv_blocked)
		sigaddset(old, SIGSEGV);
	segv_blocked = asked;
	return 0;
}

static int libc_sigprocmask(int how, const sigset_t *set, sigset_t *old)
{
	if (shim_real.sigprocmask)
		return shim_real.sigprocmask(how, set, old);
	return sys_sigprocmask(how, set, old);
}

static int libc_pthread_sigmask(int how, const sigset_t *set, sigset_t *old)
{
	if (shim_real.pthread_sigmask)
		return shim_real.pthread_sigmask(how, set, old);
	return sys_sigprocmask(how, set, old) ? errno : 0;
}

SHIM_EXPORT int sigprocmask(int how, const sigset_t *set, sigset_t *old)
{
	return do_mask(how, set, old, libc_sigprocmask);
}

SHIM_EXPORT int pthread_sigmask(int how, const sigset_t *set, sigset_t *old)
{
	return do_mask(how, set, old, libc_pthread_sigmask);
}
