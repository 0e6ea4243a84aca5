/* SPDX-License-Identifier: MIT */
/*
 * The user backend: the userfaultfd ABI implemented in user space.
 *
 *   arena.c    libuffd's own memory, out of the program's address ranges
 *   ctx.c      the fd (a pipe's read end; libuffd keeps the write end),
 *              the context table, and the monitor that notices the last close
 *   range.c    the registry of registered ranges, readable from a signal handler
 *   trap.c     how a page is made to fault: page-table guard markers, or
 *              PROT_NONE where the kernel lacks them; /proc/self/mem, pagemap
 *   fault.c    the SIGSEGV handler: a fault in a registered range becomes a
 *              message and a wait, or a SIGBUS; anything else goes to the
 *              program's own handler
 *   wait.c     the threads blocked in a fault, and waking them
 *   ioctl.c    argument copying, UFFDIO_API and the dispatch
 *   register.c REGISTER and UNREGISTER;  maps.c  reading /proc/self/maps
 *   stale.c    is a registration still the mapping it was made on?
 *   fill.c     COPY, ZEROPAGE, POISON, CONTINUE;  move.c  MOVE
 *   pcache.c   anonymous ranges filled through a page cache (under the shim)
 *   protect.c  WRITEPROTECT and WAKE
 *
 * Everything reachable from the fault handler or from uffd_ioctl() on the
 * resolving path is async-signal-safe: no malloc, no locks, only atomics and
 * system calls (a program may resolve faults from its SIGBUS handler).
 */
#ifndef LIBUFFD_USER_H
#define LIBUFFD_USER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <signal.h>
#include <sys/types.h>

#include "../internal.h"

#define U_MAX_CTX     256
#define U_MAX_RANGES  4096
#define U_MAX_WAITERS 1024

/* The features the user backend implements (advertised by UFFDIO_API). */
#define U_FEATURES (UFFD_FEATURE_PAGEFAULT_FLAG_WP | UFFD_FEATURE_MISSING_SHMEM | \
		    UFFD_FEATURE_MISSING_HUGETLBFS | \
		    UFFD_FEATURE_SIGBUS | UFFD_FEATURE_THREAD_ID | \
		    UFFD_FEATURE_MINOR_SHMEM | UFFD_FEATURE_MINOR_HUGETLBFS | UFFD_FEATURE_EXACT_ADDRESS | \
		    UFFD_FEATURE_WP_HUGETLBFS_SHMEM | UFFD_FEATURE_WP_UNPOPULATED | \
		    UFFD_FEATURE_POISON | UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_MOVE | \
		    UFFD_FEATURE_EVENT_FORK)

/* The non-cooperative events, offered only where something sees the
 * program's munmap, mremap and madvise (the LD_PRELOAD shim sets
 * u_events_seen when it loads). */
#define U_EVENT_FEATURES (UFFD_FEATURE_EVENT_REMAP | UFFD_FEATURE_EVENT_REMOVE | \
			  UFFD_FEATURE_EVENT_UNMAP)
extern _Atomic int u_events_seen;

/* ---- contexts (ctx.c) ---- */
enum u_ctx_state { U_CTX_FREE = 0, U_CTX_OPEN, U_CTX_READY, U_CTX_DEAD };

struct u_ctx {
	_Atomic int state;        /* enum u_ctx_state */
	int out;                  /* libuffd's end, the pipe's write end: messages go here */
	dev_t dev;                /* identity of the program's end */
	ino_t ino;
	uint64_t features;        /* enabled by UFFDIO_API */
	int flags;                /* uffd_open()'s O_CLOEXEC, O_NONBLOCK */
	_Atomic int api_busy;     /* UFFDIO_API in progress (it may run once) */
	_Atomic int senders;      /* threads inside u_ctx_send(): out stays open */
	/* Non-cooperative events (memory.c): tickets handed out in pipe order,
	 * and how many the program has read (counted by the shim's read). */
	_Atomic int ev_lock;
	_Atomic uint32_t ev_sent, ev_read;
};

extern struct u_ctx u_ctxs[U_MAX_CTX];

/* The live context whose program-side fd is fd, or NULL. Async-signal-safe. */
struct u_ctx *u_ctx_of_fd(int fd);
/* The live context whose pipe is (dev, ino), or NULL. */
struct u_ctx *u_ctx_of_id(dev_t dev, ino_t ino);

/* ---- UFFD_FEATURE_EVENT_FORK (forkev.c), from the pthread_atfork handlers ---- */
void u_fork_prepare(void);
/* In the child: take ctx over as the child's own context (1), or not (0:
 * the child forgets it). */
bool u_fork_child_adopt(struct u_ctx *ctx);
/* In the child, at the end: tell the parent whether the adopted contexts
 * are served (else it sends no event). */
void u_fork_child_done(bool served);
/* A reader in another process took the fork event's fd fd of context ctx
 * (wire.h W_FORKFD): close ours.  0 and the child's pid, or -EBADF when fd
 * is no such fd. */
int u_fork_fd_taken(int ctx, int fd, pid_t *child);
/* In the child: run fn as a bare task on the spare thread's storage and
 * stack (once per fork).  0 or -1. */
int u_fork_start_task(void (*fn)(void));
/* In the parent: send the UFFD_EVENT_FORK messages. */
void u_fork_parent(void);

/* ---- serving our contexts to other processes (serve.c; wire.h) ---- */
#define U_SERVE_TAG 0xfffffffu   /* the service pipe's tag in the monitor's epoll */
/* Open the service pipe and watch it from epoll_fd: 0 or -errno. */
int u_serve_start(int epoll_fd, uint32_t tag);
/* The service pipe is readable: start a thread per new client. */
void u_serve_accept(void);
void u_serve_after_fork(void);
/* The monitor serves its clients itself (a forked child's, forkev.c): their
 * fds are in its epoll under tags with the bit U_CLIENT_TAG (above every
 * context's and U_SERVE_TAG); u_serve_client() handles such an event. */
extern bool u_serve_inline;
#define U_CLIENT_TAG 0x10000000u
void u_serve_client(uint32_t tag);
/* ---- requests in the rings clients share with us (ring.c; wire.h) ---- */
#define U_RING_MAX 64            /* clients at once (a power of two: serve.c) */
struct w_ring;
struct w_public;
/* Our public page (serve.c maps it): where watchers count themselves. */
void u_ring_set_public(struct w_public *page);
/* Client slot's ring is ring (mapped here), its reply pipe rep_w. */
void u_ring_attach(int slot, struct w_ring *ring, int rep_w);
/* Forget slot's ring, once no thread uses it (then it may be unmapped). */
void u_ring_detach(int slot);
void u_ring_after_fork(void);
/* The server: run the request posted in slot's ring, if any (1 ran). */
int u_ring_serve(int slot);
/* A thread blocked in a fault watches the rings: begin (false: there are
 * none to watch), run what is posted there that resolves faults (true if
 * it ran something), sleep until word != val or something is posted
 * (spurious returns happen), end (which runs what was posted meanwhile). */
bool u_ring_watch_begin(void);
bool u_ring_run_posted(void);
void u_ring_sleep(_Atomic int *word, int val);
void u_ring_watch_end(void);
/* read(2) (wr false) or write(2) all of len bytes: 0, or -1 (errno; EOF). */
int u_io_full(int fd, void *buf, size_t len, bool wr);
/* A reader here read n event messages from fd, another process's context
 * (the shim's read counts them): tell the owner, whose senders wait for
 * that (remote.c). */
void u_remote_events_read(int fd, unsigned n);
/* A reader here read UFFD_EVENT_FORK from fd, another process's context:
 * the event's fd number, ufd, is the owner's.  Open it here (through /proc,
 * bound to the child that owns it) and have the owner close its copy.  The
 * new fd, or -errno. */
int u_remote_fork_fd(int fd, int ufd);
/* Run a userfaultfd ioctl on ctx (arg in this process): 0/positive or
 * -errno.  Async-signal-safe. */
int u_ctx_ioctl(struct u_ctx *ctx, unsigned long request, void *arg);
/* Queue a message; 0, or -1 when the reader is gone. Async-signal-safe. */
int u_ctx_send(struct u_ctx *ctx, const struct uffd_msg *msg);
static inline int u_ctx_index(const struct u_ctx *ctx) { return (int)(ctx - u_ctxs); }

/* ---- libuffd's own memory (arena.c): zeroed, page-granular, never a
 * mapping of its own ---- */
void *u_arena_alloc(size_t bytes);
void u_arena_free(void *p, size_t bytes);
void u_arena_after_fork(void);
int u_arena_owns(uintptr_t addr);
/* The reservation's bounds: 1, or 0 when there is none yet. */
int u_arena_span(uintptr_t *lo, uintptr_t *hi);

/* ---- registered ranges (range.c) ---- */
/* Anonymous private memory; a shared mapping of shmem (filled through the
 * file); a private mapping of shmem (page cache below, private pages above);
 * hugetlb memory, private or shared (its pages are psize bytes). */
enum u_mem { U_MEM_ANON, U_MEM_SHMEM, U_MEM_SHMEM_PRIVATE, U_MEM_HUGETLB,
	     U_MEM_HUGETLB_SHARED };

/* Per-page state, one byte per page. */
#define U_PG_MISSING  0   /* no page: a trap is armed (MISSING mode) */
#define U_PG_BUSY     1   /* being filled by COPY/ZEROPAGE/MOVE */
#define U_PG_PRESENT  2   /* holds data */
#define U_PG_POISON   3   /* UFFDIO_POISON: access raises SIGBUS */
#define U_PG_CACHED   4   /* MINOR mode: in the page cache, trap armed */
#define U_PG_STATE    0x0f
#define U_PG_WP       0x10 /* write-protected (UFFDIO_WRITEPROTECT) */

struct u_range {
	uintptr_t start, end;     /* page aligned, within one mapping */
	int ctx;                  /* index in u_ctxs; -1: poisoned pages left
				   * behind by an unregistration */
	uint64_t mode;            /* UFFDIO_REGISTER_MODE_* */
	int prot;                 /* the mapping's protection at registration */
	size_t psize;             /* its page size: u_page, or the huge page size */
	enum u_mem mem;
	int memfd;                /* shmem: an fd on the file */
	off_t file_off;           /* shmem: file offset of start */
	_Atomic uint8_t *pages;   /* state of each page, index (addr-start)/psize */
	void *pages_base;         /* the shared state array pages points into */
	bool guard;               /* its traps are guard markers (else PROT_NONE) */
};

/* Look up the range holding addr: copies it to *out; 1 found, 0 not.
 * Async-signal-safe; pin with u_range_enter()/u_range_leave() around use of
 * out->pages. */
int u_range_find(uintptr_t addr, struct u_range *out);
/* The start of the first range that starts above addr (UINTPTR_MAX: none).
 * Async-signal-safe. */
uintptr_t u_range_next_start(uintptr_t addr);
/* The registration holding addr as an ioctl of context self sees it: a
 * range of a context (not poison left behind) that is self or still open.
 * 1 found, 0 not.  Async-signal-safe. */
int u_range_find_reg(uintptr_t addr, struct u_range *out, int self);
void u_range_enter(void);
void u_range_leave(void);
/* Changes whenever a range is added or removed. */
unsigned u_range_generation(void);
/* Writer side: the registry lock (not signal-safe), add and remove. */
void u_range_lock(void);
void u_range_unlock(void);
int u_range_add(const struct u_range *r);           /* 0 or -1 ENOMEM */
/* Forget ctx's registration of [start, end), disarming its traps (poisoned
 * pages stay poisoned, in ranges of ctx -1), splitting ranges that reach
 * outside; returns how many pieces were removed, or -1 ENOMEM when a hole
 * in the middle of a range finds no slot for its tail (nothing changed).
 * ctx -1: take poisoned pages over for a new registration (their traps
 * stay armed). */
int u_range_remove_span(int ctx, uintptr_t start, uintptr_t end);
/* Is there room in the table to take [start, end) out of every range that
 * holds it (a range holding it in its middle needs a slot for its tail),
 * and to add extra ranges?  The registry lock held. */
bool u_range_room(uintptr_t start, uintptr_t end, int extra);
/* The same for a registration whose memory is gone (mapped again since,
 * stale.c): forgotten, the memory at its place left as it is (no orphan
 * poison either). */
int u_range_forget_span(int ctx, uintptr_t start, uintptr_t end);
/* Iterate ranges under the lock: the i-th live range, or NULL. */
struct u_range *u_range_at(int i);
/* All ranges of a context (ctx < 0: of every context): disarm, forget. */
void u_range_drop_ctx(int ctx);
void u_range_after_fork(void);
/* In a fork child: poison left on shared memory goes (fork copies no page
 * table entry of a shared mapping, so no poison marker either), and so does
 * write protection left behind (its uffd-wp bits are cleared). */
void u_range_drop_shared_poison(void);
/* A fresh state array for npages pages (all U_PG_MISSING), owned by the
 * range added next with it; NULL on ENOMEM. */
_Atomic uint8_t *u_pages_alloc(size_t npages);
/* Free a state array that no range took. */
void u_pages_free(_Atomic uint8_t *pages);

static inline bool u_hugetlb(const struct u_range *r)
{
	return r->mem == U_MEM_HUGETLB || r->mem == U_MEM_HUGETLB_SHARED;
}

/* Is the trap of a page in state st armed, so that every access faults (a
 * guard marker, or PROT_NONE)?  Absent pages in a range with MISSING or
 * MINOR traps, pages in the page cache of a MINOR range, poisoned pages.
 * Such a page's write protection is its U_PG_WP bit alone, applied when
 * its trap opens: changing its protection would lift a PROT_NONE trap, or
 * open a page a fill is writing. */
static inline bool u_pg_trapped(const struct u_range *r, uint8_t st)
{
	switch (st & U_PG_STATE) {
	case U_PG_MISSING:
		return r->mode & (UFFDIO_REGISTER_MODE_MISSING | UFFDIO_REGISTER_MODE_MINOR);
	case U_PG_CACHED:
	case U_PG_POISON:
		return true;
	default:
		return false;
	}
}

/* ---- traps (trap.c) ---- */
extern long u_page;
/* Probe the trap mechanism (once it could: a probe that finds no address
 * space for its page is made again at the next call). */
void u_trap_init(void);
/* The mechanism a range registered now gets: guard markers where the probe
 * found them (not for hugetlb), else PROT_NONE.  A range keeps its own. */
bool u_trap_pick_guard(const struct u_range *r);
void u_trap_after_fork(void);
/* Open now the descriptors fills and lookups use (/proc/self/mem and
 * pagemap, kept open), so that no ioctl fails later for want of one
 * (RLIMIT_NOFILE): 0, or -EMFILE/-ENFILE. */
int u_trap_open_fds(void);
/* Are r's traps guard markers (else PROT_NONE)? */
bool u_trap_guarded(const struct u_range *r);
/* Arm the trap on [addr, addr+len) (pages known absent). 0 or -errno. */
int u_trap_arm(const struct u_range *r, uintptr_t addr, size_t len);
/* Open the trap: the pages become ordinary (absent pages read as zero). */
int u_trap_disarm(const struct u_range *r, uintptr_t addr, size_t len);
/* Fill [addr, addr+len) with src atomically and open the trap; src ==
 * u_zero_page fills zeros (at most U_ZERO_LEN bytes for shared memory).
 * Returns the pages filled, or -errno when none was. */
#define U_ZERO_LEN 65536
extern const char u_zero_page[U_ZERO_LEN];
int u_trap_fill(const struct u_range *r, uintptr_t addr, const void *src,
		size_t len, bool wp);
/* Which pages of [addr, addr+len) are present: vec[i] = 1/0. 0 or -errno. */
int u_pages_present(const struct u_range *r, uintptr_t addr, size_t len,
		    unsigned char *vec);
/* Trap changes in flight.  Everything that arms, opens, fills or protects
 * pages or changes their state (the ioctls, a release, the fault path's own
 * lifts) runs between u_trap_change_begin() and u_trap_change_end(), so that
 * a fault that finds nothing to do can tell a race with such a change (and
 * retry) from the program's own crash.  Async-signal-safe. */
void u_trap_change_begin(void);
void u_trap_change_end(void);
/* Is a change in flight?  *done: how many completed so far. */
bool u_trap_changing(unsigned *done);
/* A change whose pages may fault meanwhile though their state (or the
 * registry) says they should not: a state changed before the protection or
 * trap that follows it (un-protection, a lift, a refresh), a range taken out
 * of the registry before its traps open, traps armed before the range is in
 * it.  u_trap_span_begin() before such a change over [start, end), with its
 * token u_trap_span_end() after; a fault on such a page waits for the change
 * to end, however long it takes (u_trap_span_wait(): true when it waited).
 * 64 at a time; past that a change runs without a span (the fault falls
 * back on u_trap_changing()).  Async-signal-safe. */
int u_trap_span_begin(uintptr_t start, uintptr_t end);
void u_trap_span_end(int token);
bool u_trap_span_wait(uintptr_t addr);
/* Which pages of [addr, addr+len) this process maps (a page table entry,
 * present or swapped): vec[i] = 1/0.  0 or -errno. */
int u_pages_mapped(const struct u_range *r, uintptr_t addr, size_t len,
		   unsigned char *vec);
/* Does the trap armed on page addr of r still stand?  A poisoned page's
 * trap outlives its registration, not its mapping: once the program
 * unmapped it (unseen without the shim) the page at addr is new memory.
 * 1 yes (or cannot tell), 0 no.  Not signal-safe (may read the maps). */
int u_trap_standing(const struct u_range *r, uintptr_t addr);
/* Can it be told that the guard marker of page addr of r is gone (the
 * program unmapped the page unseen: what faults there now is new memory)?
 * false when it stands, or cannot be told.  Async-signal-safe. */
bool u_trap_gone(const struct u_range *r, uintptr_t addr);
/* Which of the n small pages at addr hold a guard marker: vec[i] = 1/0
 * (all 1 where pagemap does not show markers, Linux 6.13-6.14).  0 or
 * -errno. */
int u_pages_guarded(uintptr_t addr, size_t n, unsigned char *vec);
/* Apply write protection (or lift it) on [addr, addr+len). 0 or -errno. */
int u_trap_protect(const struct u_range *r, uintptr_t addr, size_t len, bool wp);
/* A page's write protection follows its U_PG_WP bit, and threads may
 * change both at once (a handler un-protecting a page while another thread
 * protects it, a fill storing its page's state).  So each changes the bit
 * first, then the protection, then calls this: for the n present pages at
 * addr, to which it applied protection wp (applied), it protects again any
 * page whose bit now says otherwise, until they agree.  Whoever changes a
 * page's protection last has then seen the bit it leaves behind.  (The
 * protection first and the bit after let two calls cross: a page left
 * read-only with its bit clear, whose next write was taken for the
 * program's own crash.) */
void u_wp_settle(const struct u_range *r, uintptr_t addr, size_t n, bool applied);

/* ---- stale registrations (stale.c) ---- */
struct u_vma;
/* Does r still describe the memory at [s, e), a part of r in mapping v (as
 * /proc/self/maps shows it now)?  Without the shim a munmap is not seen:
 * false where the memory disagrees with r (mapped again since). */
bool u_range_current(const struct u_range *r, const struct u_vma *v, uintptr_t s, uintptr_t e);

/* ---- waiting (wait.c) ---- */
/* Send msg and block the calling thread until woken for page, or until ctx
 * or the range (registry generation gen) disappears.  Returns when the fault
 * should be retried.  Signal-safe. */
void u_wait_fault(int ctx, uintptr_t page, unsigned gen, const struct uffd_msg *msg);
/* Wake the threads of ctx blocked on pages in [start, end). ctx < 0: every ctx. */
void u_wake(int ctx, uintptr_t start, uintptr_t end);
/* Wakes a thread holds back while it serves another process's request
 * (serve.c): the reply goes out first, because a woken thread may end the
 * process before it is written, and the request would look failed.  While
 * u_wake_held is set, u_wake() records its calls there (past U_WAKE_HOLD of
 * them it wakes at once); u_wake_release() makes them. */
#define U_WAKE_HOLD 16
struct u_wake_hold {
	int n;
	struct { int ctx; uintptr_t start, end; } w[U_WAKE_HOLD];
};
extern __thread struct u_wake_hold *u_wake_held __attribute__((tls_model("initial-exec")));
void u_wake_release(struct u_wake_hold *hold);

/* ---- faults (fault.c) ---- */
#define TLS __thread __attribute__((tls_model("initial-exec")))
/* Set while libuffd copies an ioctl argument: a fault outside any range
 * jumps here instead of reaching the program's handler. */
#include <setjmp.h>
extern TLS sigjmp_buf *u_fixup;
/* Set while this thread holds pages BUSY (filling them): a fault it takes
 * meanwhile (in a signal handler) must not wait for its own fill. */
extern TLS int u_filling;
int u_fault_install(void);
bool u_fault_installed(void);
/* sigaction(SIGSEGV) as the program sees it once libuffd's handler is in
 * place (the LD_PRELOAD shim): act (when not NULL) becomes the program's
 * action, the one libuffd chains to for faults that are not userfaults;
 * *old gets the previous one.  1 done; 0 when libuffd has no handler yet
 * (the caller passes the call through). */
int u_fault_program_action(const struct sigaction *act, struct sigaction *old);
/* Does a fault of this kind (UFFD_PAGEFAULT_FLAG_*) on page still wait? */
bool u_fault_pending(uintptr_t page, int ctx, uint64_t flags);
/* Deliver the SIGBUS a kernel would raise for a fault at addr. */
void u_raise_sigbus(void *addr, int code, void *ucontext);

/* The anonymous range REGISTER is arming, or the area pcache.c makes
 * anonymous again (0, 0 when none): accesses there wait. */
extern _Atomic uintptr_t u_freezing_start, u_freezing_end;

/* ---- ioctls: 0 or -errno.  Those with an output field store it in *result
 * (bytes done, or -errno) once they get as far as the kernel writes it;
 * before that (argument validation) *result stays U_NO_RESULT. ---- */
#define U_NO_RESULT INT64_MIN
int u_register(struct u_ctx *ctx, struct uffdio_register *arg);
int u_unregister(struct u_ctx *ctx, struct uffdio_range *arg);
int u_copy(struct u_ctx *ctx, struct uffdio_copy *arg, int64_t *result);
int u_zeropage(struct u_ctx *ctx, struct uffdio_zeropage *arg, int64_t *result);
int u_poison(struct u_ctx *ctx, struct uffdio_poison *arg, int64_t *result);
int u_continue(struct u_ctx *ctx, struct uffdio_continue *arg, int64_t *result);
int u_move(struct u_ctx *ctx, struct uffdio_move *arg, int64_t *result);
int u_writeprotect(struct u_ctx *ctx, struct uffdio_writeprotect *arg);
/* Write-protect every page of [s, e) of r, present or not (REGISTER keeps
 * a page's protection over a change of modes).  0 or -errno (ENOMEM). */
int u_protect_span(const struct u_range *r, uintptr_t s, uintptr_t e);
int u_wake_ioctl(struct u_ctx *ctx, struct uffdio_range *arg);
/* The tail of the filling ioctls: store ret (bytes done or -errno) in
 * *result, wake [dst, dst+ret) if asked, and return 0, -EAGAIN after partial
 * progress, or the error. */
int u_fill_finish(int ctx, uintptr_t dst, size_t len, int64_t ret, bool wake,
		  int64_t *result);
/* UFFDIO_COPY's argument checks, before any page is touched: 0 or -EINVAL. */
int u_copy_check(const struct uffdio_copy *a);
/* Copy len bytes from or to the caller's memory: 0, or -EFAULT where the
 * kernel's copy_from_user()/copy_to_user() would fail.  Async-signal-safe. */
int u_guarded_copy(void *to, const void *from, size_t len);
/* Can the kernel's copy_from_user() read len bytes at src?  Read from here,
 * a byte a page: a fault goes through libuffd's handler, which opens a trap
 * where no userfault is due (a hole of a MINOR range), and is EFAULT where
 * the kernel's read would fail. */
bool u_src_readable(const char *src, size_t len);
/* The kernel's validate_range(): 0 or -EINVAL. */
int u_validate_range(uint64_t start, uint64_t len, bool aligned_start);

/* Pages that came into being outside libuffd (written through another
 * mapping of a shmem file, or touched in a range without MISSING traps):
 * record them as present (or, in MINOR ranges, as in the page cache), and
 * open their traps.  Async-signal-safe. */
void u_refresh_state(const struct u_range *r, uintptr_t addr, size_t n);

/* ---- page-cache backing of anonymous ranges (pcache.c) ---- */
/* REGISTER: map [r->start, r->end) (anonymous, every page MISSING, frozen)
 * onto a shared memfd when that may be done (path: the mapping's name):
 * 0 done, else -errno and the range stays as it was. */
int u_pcache_adopt(const struct u_range *r, const char *path);
/* Fill [addr, addr+len) of an area with src (u_zero_page: zeros) and open
 * its trap: pages filled, -errno, or U_PCACHE_NONE where addr is not in an
 * area (the caller fills it as anonymous memory).  Async-signal-safe. */
#define U_PCACHE_NONE INT32_MIN
int u_pcache_fill(uintptr_t addr, const void *src, size_t len);
/* Drop the content of [addr, addr+len) in an area (MOVE's source): 1, or 0
 * where addr is not in one.  Async-signal-safe. */
int u_pcache_discard(uintptr_t addr, size_t len);
/* Make the areas overlapping [start, end) anonymous memory again, content,
 * traps and protection kept; the registry lock held. */
void u_pcache_release(uintptr_t start, uintptr_t end);
bool u_pcache_overlaps(uintptr_t start, uintptr_t end);
/* Forget the areas inside [start, end) that overlap [touching_start,
 * touching_end), leaving their memory as it is (munmap: it goes). */
void u_pcache_forget(uintptr_t start, uintptr_t end, uintptr_t touching_start,
		     uintptr_t touching_end);
/* Is (dev, ino) an area's file?  (maps.c: such a mapping is anonymous.) */
bool u_pcache_file(dev_t dev, ino_t ino);
void u_pcache_after_fork(void);
/* fork(): areas are made anonymous before, and none is made until the
 * fork is done, so that the child shares no page cache. */
void u_pcache_before_fork(void);
void u_pcache_fork_done(void);

/* Is context i closed by the program (its last fd gone), released or not
 * yet?  Until the monitor releases it its ranges are still in the
 * registry; an ioctl of another context must not see them.  Signal-safe. */
bool u_ctx_closed(int i);
/* Release now the contexts whose last fd is closed (the monitor thread does
 * it too, a moment later): a close(2) is then visible at once to REGISTER. */
void u_ctx_reap(void);

/* ---- what the program did to its memory (memory.c) ----
 * The one place libuffd is told that a range was unmapped, moved or had
 * its pages dropped (the LD_PRELOAD shim calls these around the program's
 * munmap, mremap and madvise; fork and page-cache fills belong here too).
 * Each *_begin runs before the C library's call, each *_end after it. */
#define U_NOTE_MAX 16
struct u_mem_note {
	int n;
	int ctx[U_NOTE_MAX];     /* contexts that asked for the event */
	uint32_t gen[U_NOTE_MAX]; /* and were open then */
};
/* munmap(start, end): its registrations end now; UNMAP afterwards.  0, or
 * -ENOMEM when a registration would have to be cut in two and the ranges
 * table has no slot for its tail: the call must fail (the kernel's munmap
 * at vm.max_map_count), nothing was changed. */
int u_mem_unmap_begin(uintptr_t start, uintptr_t end, struct u_mem_note *note);
void u_mem_unmap_end(const struct u_mem_note *note, uintptr_t start, uintptr_t end);
/* madvise(start, end, advice) for MADV_DONTNEED, MADV_DONTNEED_LOCKED,
 * MADV_FREE, MADV_REMOVE: UFFD_EVENT_REMOVE (read before the pages go, as
 * the kernel's), the dropped pages' traps and protection; _end with the
 * call's result. */
void u_mem_drop_begin(uintptr_t start, uintptr_t end, int advice);
void u_mem_drop_end(uintptr_t start, uintptr_t end, int advice, int ret);
/* mremap(old, old_len) -> (new, new_len): registrations with
 * UFFD_FEATURE_EVENT_REMAP move along (and REMAP is sent), the others end;
 * a shrink in place unmaps the tail. */
int u_mem_remap_begin(uintptr_t old, size_t old_len, size_t new_len, struct u_mem_note *note);
void u_mem_remap_end(const struct u_mem_note *note, uintptr_t old, size_t old_len,
		     uintptr_t new_addr, size_t new_len);
/* Send a non-cooperative event to context c and wait until a reader has
 * read it (counted by the shim's read) or the context is gone.  0, or -1
 * when it could not be sent. */
int u_event_send(int c, const struct uffd_msg *msg);
/* The shim's read saw n event messages on ctx: their senders may go on. */
void u_events_read(struct u_ctx *ctx, unsigned n);

#endif
