/* SPDX-License-Identifier: MIT */
/*
 * The fault path.  A SIGSEGV at an address of a registered range, caused by
 * an armed trap, is a userfault: the thread sends a UFFD_EVENT_PAGEFAULT
 * message and blocks until the range is resolved and woken, then returns to
 * retry the access; with UFFD_FEATURE_SIGBUS it gets the SIGBUS the kernel
 * would raise instead.  Every other SIGSEGV goes to the handler the program
 * had before libuffd (or to the default action: a crash stays a crash).
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "user.h"

/* The program's own SIGSEGV action, which libuffd chains to: the one in
 * place when libuffd installed its handler, or the one the program set
 * since through the shim's sigaction().  Two slots, so that a fault never
 * reads one half written: a writer fills the other and flips. */
static struct sigaction prev_segv[2];
static _Atomic int prev_cur;
static pthread_mutex_t prev_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic int installed;

TLS sigjmp_buf *u_fixup;
TLS int u_filling;

/* How long an access may keep faulting, while trap changes go on around it,
 * before the fault is taken for the program's own anyway.  A change of the
 * page itself (a span, trap.c) is waited for without a bound, however slow
 * its thread: this bounds only retries that no change of the page explains,
 * so that a real crash amid other threads' changes still ends as one. */
#define STREAK_NS 2000000000LL
/* Faults at one address further apart than this are separate accesses. */
#define GAP_NS 1000000LL

static bool fault_is_write(const ucontext_t *uc)
{
#if defined(__x86_64__)
	return uc->uc_mcontext.gregs[REG_ERR] & 2;
#elif defined(__aarch64__)
	const struct _aarch64_ctx *h = (const void *)uc->uc_mcontext.__reserved;
	while (h->magic) {
		if (h->magic == ESR_MAGIC)
			return ((const struct esr_context *)h)->esr & (1u << 6);  /* WnR */
		h = (const void *)((const char *)h + h->size);
	}
	return false;
#else
	(void)uc;
	return false;
#endif
}

/* Run a program handler the way the kernel would have run it for sig. */
static void run_handler(const struct sigaction *act, int sig, siginfo_t *si, void *uc)
{
	const ucontext_t *u = uc;
	sigset_t mask = u->uc_sigmask, now = u->uc_sigmask;

	sigaddset(&now, SIGBUS);   /* what our own sa_mask added */
	sigaddset(&now, SIGPIPE);
	for (int s = 1; s < NSIG; s++)
		if (sigismember(&act->sa_mask, s) == 1)
			sigaddset(&mask, s);
	if (!(act->sa_flags & SA_NODEFER))
		sigaddset(&mask, sig);
	if (act->sa_flags & SA_RESETHAND) {
		/* Only the handler goes back to SIG_DFL, as in the kernel; for
		 * SIGSEGV that is the program's action, behind libuffd's. */
		struct sigaction dfl = *act;
		dfl.sa_handler = SIG_DFL;
		if (sig == SIGSEGV) {
			const int next = !atomic_load(&prev_cur);
			prev_segv[next] = dfl;
			atomic_store(&prev_cur, next);
		} else {
			sys_sigaction(sig, &dfl, NULL);
		}
	}
	if (memcmp(&mask, &now, sizeof(mask)))
		sys_sigprocmask(SIG_SETMASK, &mask, NULL);
	if (act->sa_flags & SA_SIGINFO)
		act->sa_sigaction(sig, si, uc);
	else
		act->sa_handler(sig);
}

/* The default action for a synchronous signal: the process dies of it.
 * Straight to the kernel, past any interposed sigaction (sanitizers). */
static void die_of(int sig, siginfo_t *si)
{
	const struct sys_ksigaction dfl = { .handler = SIG_DFL };
	sigset_t unblock;

	sigemptyset(&unblock);
	sigaddset(&unblock, sig);
	sys_rt_sigaction(sig, &dfl, NULL);
	sys_sigprocmask(SIG_UNBLOCK, &unblock, NULL);
	si->si_signo = sig;
	sys_tgsigqueueinfo(sys_getpid(), sys_gettid(), sig, si);
}

void u_raise_sigbus(void *addr, int code, void *uc)
{
	struct sigaction act;
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	si.si_signo = SIGBUS;
	si.si_code = code;
	si.si_addr = addr;
	sys_sigaction(SIGBUS, NULL, &act);
	if (act.sa_handler == SIG_DFL || act.sa_handler == SIG_IGN ||
	    sigismember(&((ucontext_t *)uc)->uc_sigmask, SIGBUS) == 1) {
		/* Like force_sig_fault(): a blocked or ignored SIGBUS kills. */
		die_of(SIGBUS, &si);
		return;
	}
	run_handler(&act, SIGBUS, &si, uc);
}

static void chain(int sig, siginfo_t *si, void *uc)
{
	const struct sigaction copy = prev_segv[atomic_load(&prev_cur)], *act = &copy;

	if (act->sa_handler == SIG_IGN && si->si_code <= 0)
		return;
	if (act->sa_handler == SIG_DFL || act->sa_handler == SIG_IGN) {
		die_of(sig, si);
		return;
	}
	run_handler(act, sig, si, uc);
}

bool u_fault_pending(uintptr_t page, int ctx, uint64_t flags)
{
	struct u_range r;
	bool pending = false;

	u_range_enter();
	if (u_range_find(page, &r) && r.ctx == ctx) {
		uint8_t st = atomic_load(&r.pages[(page - r.start) / r.psize]);
		if (flags & UFFD_PAGEFAULT_FLAG_WP)
			pending = st & U_PG_WP;
		else if (flags & UFFD_PAGEFAULT_FLAG_MINOR)
			pending = (st & U_PG_STATE) == U_PG_CACHED;
		else
			pending = (st & U_PG_STATE) == U_PG_MISSING ||
				  (st & U_PG_STATE) == U_PG_BUSY;
	}
	u_range_leave();
	return pending;
}

static long long now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* A fault that found nothing to do: no range holds addr, or its page looks
 * resolved.  The access raced with a change of the traps (a fill, an
 * unregistration, a release) if one of this page is in flight (then it
 * waits for it), or if one (anywhere) is in flight or completed since this
 * thread's last fault here: then it is retried.  The same access
 * faulting again with nothing changed in between is the program's own
 * fault (a crash stays a crash). */
static TLS uintptr_t last_addr;
static TLS unsigned last_done, last_gen;
static TLS long long last_ns, streak_ns;

static bool raced(uintptr_t addr)
{
	/* A change of this page in flight: wait for it, however long. */
	if (u_trap_span_wait(addr)) {
		last_addr = 0;
		return true;
	}
	unsigned done;
	const bool busy = u_trap_changing(&done);
	const unsigned gen = u_range_generation();
	const long long now = now_ns();

	if (addr != last_addr || now - last_ns > GAP_NS) {
		/* A new access: it faulted on a trap that was armed. */
		last_addr = addr;
		streak_ns = now;
	} else if (now - streak_ns > STREAK_NS) {
		return false;
	} else if (busy) {
		sched_yield();   /* let the change complete */
	} else if (done == last_done && gen == last_gen) {
		return false;
	}
	last_ns = now;
	last_done = done;
	last_gen = gen;
	return true;
}

/* What kind of userfault is this?  0 = none (the page looks resolved).
 * F_DORMANT: a write to a page whose write protection outlived its
 * registration's WP mode (the kernel's uffd-wp bit stays in the page table
 * entry when the modes change or the range is unregistered, and counts again
 * under a later WP registration): no userfault, the write goes on. */
enum { F_NONE, F_MISSING, F_MINOR, F_WP, F_POISON, F_DORMANT };

static int classify(const struct u_range *r, uint8_t st, bool write)
{
	switch (st & U_PG_STATE) {
	case U_PG_POISON:
		return F_POISON;
	case U_PG_MISSING:
	case U_PG_BUSY:
		if (r->mode & UFFDIO_REGISTER_MODE_MISSING)
			return F_MISSING;
		break;
	case U_PG_CACHED:
		if (r->mode & UFFDIO_REGISTER_MODE_MINOR)
			return F_MINOR;
		break;
	}
	if (write && (st & U_PG_WP))
		return r->mode & UFFDIO_REGISTER_MODE_WP ? F_WP : F_DORMANT;
	return F_NONE;
}

/* Is addr in the range REGISTER arms, or in memory made anonymous again
 * (pcache.c)?  Then wait until that is done: true, retry the access. */
static bool waited_frozen(uintptr_t addr)
{
	if (addr < atomic_load(&u_freezing_start) || addr >= atomic_load(&u_freezing_end))
		return false;
	while (addr >= atomic_load(&u_freezing_start) && addr < atomic_load(&u_freezing_end))
		sched_yield();
	return true;
}

/* libuffd's own access (an ioctl's argument, COPY's source) failed: back
 * to u_guarded_copy(), EFAULT, with the signal mask of the copy (a wrapper
 * around this handler may have blocked more). */
static void fixup(int saved_errno, void *uc)
{
	errno = saved_errno;
	sys_sigprocmask(SIG_SETMASK, &((ucontext_t *)uc)->uc_sigmask, NULL);
	siglongjmp(*u_fixup, 1);
}

/* Faults of libuffd's own access on a page that looks resolved, in a row. */
static TLS unsigned fixup_tries;

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	const int saved_errno = errno;
	const uintptr_t addr = (uintptr_t)si->si_addr;
	struct u_range r;

	if (si->si_code <= 0)   /* sent by kill(2) or the like: not a fault */
		goto not_ours;
	const unsigned gen = u_range_generation();
	u_range_enter();
	if (!u_range_find(addr, &r)) {
		u_range_leave();
		/* Written while REGISTER arms its range: wait, retry. */
		if (waited_frozen(addr))
			goto retry;
		if (u_fixup)
			fixup(saved_errno, uc);   /* libuffd copying an argument: EFAULT */
		/* Unregistered (or released) since the trap fired? */
		if (raced(addr))
			goto retry;
		goto not_ours;
	}
	/* A huge page faults as a whole (the kernel reports its start). */
	const uintptr_t page = addr & ~(uintptr_t)(r.psize - 1);
	_Atomic uint8_t *state = &r.pages[(page - r.start) / r.psize];
	const bool write = fault_is_write(uc);
	if (write && !(r.prot & PROT_WRITE)) {
		/* The kernel checks the mapping's permission before it looks
		 * at the page (access_error()): a write to a read-only
		 * mapping is SIGSEGV (SEGV_ACCERR, which the kernel gave us
		 * too) whatever the page holds, a trap, poison or write
		 * protection, and raises no userfault. */
		u_range_leave();
		if (u_fixup)
			fixup(saved_errno, uc);
		goto not_ours;
	}
	const bool shmem = r.mem == U_MEM_SHMEM || r.mem == U_MEM_SHMEM_PRIVATE;
	const bool huge_minor = u_hugetlb(&r) && (r.mode & UFFDIO_REGISTER_MODE_MINOR);
	if ((shmem || huge_minor) && (atomic_load(state) & U_PG_STATE) == U_PG_MISSING) {
		u_trap_change_begin();
		const int span = u_trap_span_begin(page, page + r.psize);
		/* Shared memory may have been filled through another mapping. */
		if (r.mem != U_MEM_HUGETLB)
			u_refresh_state(&r, page, 1);
		if (!(r.mode & UFFDIO_REGISTER_MODE_MISSING) &&
		    (atomic_load(state) & U_PG_STATE) == U_PG_MISSING) {
			/* A hole in a MINOR-only range is no userfault: the
			 * access allocates it, as without userfaultfd.  Still
			 * write-protected if it was (WP_UNPOPULATED): without
			 * the bit kept, the CAS failed at every try and the
			 * access faulted forever (found by the fuzzer). */
			uint8_t old = atomic_load(state);
			if ((old & U_PG_STATE) == U_PG_MISSING &&
			    atomic_compare_exchange_strong(state, &old,
					(uint8_t)((old & ~U_PG_STATE) | U_PG_PRESENT))) {
				u_trap_disarm(&r, page, r.psize);
				if (old & U_PG_WP)
					u_trap_protect(&r, page, r.psize, true);
			}
		}
		u_trap_span_end(span);
		u_trap_change_end();
	}
	int kind = classify(&r, atomic_load(state), write);
	if (!u_filling && (atomic_load(state) & U_PG_STATE) == U_PG_BUSY) {
		/* Another thread is filling the page: its content is a moment
		 * away, so wait for it rather than raise a fault it would
		 * answer with EEXIST (or, where no fault is raised, take an
		 * access to a page that is opening for a crash).  (Pinned:
		 * the range cannot go meanwhile.) */
		for (int i = 0; (atomic_load(state) & U_PG_STATE) == U_PG_BUSY; i++)
			if (i > 64)
				sched_yield();
		kind = classify(&r, atomic_load(state), write);
	}
	const uint64_t features = r.ctx >= 0 ? u_ctxs[r.ctx].features : 0;

	if (kind == F_NONE) {
		u_range_leave();
		if (waited_frozen(addr))
			goto retry;
		/* libuffd's own access inside its ioctl, whose trap change
		 * raced() would wait for: no userfault here (PROT_NONE in a
		 * range registered WP alone, say), EFAULT as the kernel's
		 * copy_from_user(); a page opened meanwhile gets a few more
		 * tries.  (It waited forever: the fuzzer's input
		 * copy-source-prot-none-in-wp-range, random run seed 6.) */
		if (u_fixup) {
			if (++fixup_tries <= 16) {
				sched_yield();
				goto retry;
			}
			fixup_tries = 0;
			fixup(saved_errno, uc);
		}
		/* Resolved meanwhile: retry, unless it keeps faulting. */
		if (raced(addr))
			goto retry;
		goto not_ours;
	}
	fixup_tries = 0;
	last_addr = 0;
	if ((kind == F_WP && (features & UFFD_FEATURE_WP_ASYNC)) || kind == F_DORMANT) {
		/* Asynchronous write protection (or a dormant one, whose
		 * write the kernel lets through): lift it and go on.  Where
		 * it cannot be lifted (ENOMEM: vm.max_map_count) the write
		 * cannot go on either: SIGBUS, as for a fault the kernel
		 * cannot serve, rather than faulting forever. */
		u_trap_change_begin();
		const int span = u_trap_span_begin(page, page + r.psize);
		const uint8_t old = atomic_fetch_and(state, (uint8_t)~U_PG_WP);
		const int err = u_trap_protect(&r, page, r.psize, false);
		if (err && (old & U_PG_WP))
			atomic_fetch_or(state, U_PG_WP);
		else if (!err)
			u_wp_settle(&r, page, 1, false);
		u_trap_span_end(span);
		u_trap_change_end();
		u_range_leave();
		if (err)
			u_raise_sigbus((void *)addr, BUS_ADRERR, uc);
		goto retry;
	}
	u_range_leave();
	/* libuffd reading for an ioctl (COPY's source, an argument): where
	 * the kernel's copy_from_user() would get SIGBUS, its access is EFAULT
	 * (found-4-6540: the program got the SIGBUS of a COPY's source read). */
	if (u_fixup && (kind == F_POISON || (features & UFFD_FEATURE_SIGBUS)))
		fixup(saved_errno, uc);
	if (kind == F_POISON) {
		/* Poison goes with its mapping: with its marker gone the page
		 * was unmapped (unseen: a linked program's munmap, glibc's
		 * own) and this fault is the new memory's (PROT_NONE). */
		if (u_trap_gone(&r, page))
			goto not_ours;
		/* The kernel reports a UFFDIO_POISON page as BUS_ADRERR too. */
		u_raise_sigbus((void *)addr, BUS_ADRERR, uc);
		goto retry;
	}
	if (features & UFFD_FEATURE_SIGBUS) {
		/* Its userfaultfd closed a moment ago: the kernel's
		 * registration ended with the close, ours ends once the
		 * monitor releases it (a message would find no reader, and
		 * wait for that, but a SIGBUS is at once). */
		if (u_ctx_closed(r.ctx)) {
			sched_yield();
			goto retry;
		}
		u_raise_sigbus((void *)addr, BUS_ADRERR, uc);
		goto retry;
	}

	struct uffd_msg msg;
	memset(&msg, 0, sizeof(msg));
	msg.event = UFFD_EVENT_PAGEFAULT;
	msg.arg.pagefault.flags = write ? UFFD_PAGEFAULT_FLAG_WRITE : 0;
	if (kind == F_WP)
		msg.arg.pagefault.flags |= UFFD_PAGEFAULT_FLAG_WP;
	if (kind == F_MINOR)
		msg.arg.pagefault.flags |= UFFD_PAGEFAULT_FLAG_MINOR;
	msg.arg.pagefault.address = features & UFFD_FEATURE_EXACT_ADDRESS ? addr : page;
	if (features & UFFD_FEATURE_THREAD_ID)
		msg.arg.pagefault.feat.ptid = (uint32_t)sys_gettid();
	u_wait_fault(r.ctx, page, gen, &msg);
retry:
	errno = saved_errno;
	return;
not_ours:
	errno = saved_errno;
	chain(sig, si, uc);
}

int u_fault_install(void)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	int ret = 0;

	if (atomic_load(&installed))
		return 0;
	pthread_mutex_lock(&lock);
	if (!atomic_load(&installed)) {
		struct sigaction sa;
		memset(&sa, 0, sizeof(sa));
		sa.sa_sigaction = on_segv;
		/* NODEFER: a program's SIGBUS handler run from here may fault
		 * on another registered page. */
		sa.sa_flags = SA_SIGINFO | SA_NODEFER | SA_ONSTACK | SA_RESTART;
		/* SIGBUS blocked, as it will be for the program's SIGBUS
		 * handler that we run in UFFD_FEATURE_SIGBUS mode. */
		sigemptyset(&sa.sa_mask);
		sigaddset(&sa.sa_mask, SIGBUS);
		/* A message written after the reader went: EPIPE, not death. */
		sigaddset(&sa.sa_mask, SIGPIPE);
		ret = sys_sigaction(SIGSEGV, &sa, &prev_segv[atomic_load(&prev_cur)]);
		if (!ret)
			atomic_store(&installed, 1);
	}
	pthread_mutex_unlock(&lock);
	return ret;
}

bool u_fault_installed(void)
{
	return atomic_load(&installed);
}

int u_fault_program_action(const struct sigaction *act, struct sigaction *old)
{
	if (!atomic_load(&installed))
		return 0;
	pthread_mutex_lock(&prev_lock);
	const int cur = atomic_load(&prev_cur);
	const struct sigaction was = prev_segv[cur];
	if (act) {
		prev_segv[!cur] = *act;
		atomic_store(&prev_cur, !cur);
	}
	pthread_mutex_unlock(&prev_lock);
	if (old)
		*old = was;
	return 1;
}
