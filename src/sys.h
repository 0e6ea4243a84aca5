/* SPDX-License-Identifier: MIT */
/*
 * libuffd's own system calls (liburing's syscall.h is the model).
 *
 * Why inline assembly and not the C library: the LD_PRELOAD shim
 * (src/preload/) interposes mmap, munmap, mremap, madvise, sigaction, read,
 * ioctl, close, open and even syscall(), and it is linked with this library.
 * A libuffd call that went through one of those symbols would land in the
 * shim's interposer (inside the preload library the symbol binds to the shim
 * itself), which would take libuffd's own munmap for the program's and send
 * UFFD_EVENT_UNMAP, or recurse.  The C library's syscall(2) is no way out:
 * the shim interposes it for SYS_userfaultfd.  So every call that the shim
 * (or a sanitizer's interceptor) may catch goes straight to the kernel here.
 * Calls nobody interposes (sched_yield, sysconf, pthread_*) stay in libc.
 * src/pager/ is a client of the API and uses the C library as any program
 * does (under the shim its munmap of a registered region is an UNMAP event,
 * as with the kernel's userfaultfd).
 *
 * Each sys_X() has the C library's calling convention (-1 and errno, or
 * MAP_FAILED), so the code written against libc reads the same; sys_call*()
 * return -errno as the kernel does.  All are async-signal-safe.
 */
#ifndef LIBUFFD_SYS_H
#define LIBUFFD_SYS_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>

#include "tsan.h"

#if defined(__x86_64__)
static inline long sys_call6(long n, long a1, long a2, long a3, long a4, long a5, long a6)
{
	register long r10 __asm__("r10") = a4;
	register long r8 __asm__("r8") = a5;
	register long r9 __asm__("r9") = a6;
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(n), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}
#elif defined(__aarch64__)
static inline long sys_call6(long n, long a1, long a2, long a3, long a4, long a5, long a6)
{
	register long x8 __asm__("x8") = n;
	register long x0 __asm__("x0") = a1;
	register long x1 __asm__("x1") = a2;
	register long x2 __asm__("x2") = a3;
	register long x3 __asm__("x3") = a4;
	register long x4 __asm__("x4") = a5;
	register long x5 __asm__("x5") = a6;

	__asm__ volatile("svc 0"
			 : "+r"(x0)
			 : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
			 : "memory", "cc");
	return x0;
}
#else
#error "libuffd: add the raw system call for this architecture to src/sys.h"
#endif

#define sys_call0(n) sys_call6((n), 0, 0, 0, 0, 0, 0)
#define sys_call1(n, a) sys_call6((n), (long)(a), 0, 0, 0, 0, 0)
#define sys_call2(n, a, b) sys_call6((n), (long)(a), (long)(b), 0, 0, 0, 0)
#define sys_call3(n, a, b, c) sys_call6((n), (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define sys_call4(n, a, b, c, d) \
	sys_call6((n), (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)
#define sys_call5(n, a, b, c, d, e) \
	sys_call6((n), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), 0)

/* The kernel's -errno as the C library's -1 and errno. */
static inline long sys_ret(long r)
{
	if ((unsigned long)r > -4096UL) {
		errno = (int)-r;
		return -1;
	}
	return r;
}

static inline void *sys_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	long r = sys_call6(SYS_mmap, (long)addr, (long)len, prot, flags, fd, (long)off);
	return sys_ret(r) == -1 ? MAP_FAILED : (void *)r;
}
static inline int sys_munmap(void *addr, size_t len)
{
	return (int)sys_ret(sys_call2(SYS_munmap, addr, len));
}
static inline int sys_mprotect(void *addr, size_t len, int prot)
{
	return (int)sys_ret(sys_call3(SYS_mprotect, addr, len, prot));
}
static inline int sys_madvise(void *addr, size_t len, int advice)
{
	return (int)sys_ret(sys_call3(SYS_madvise, addr, len, advice));
}
static inline void *sys_mremap(void *old, size_t old_len, size_t new_len, int flags, void *new_addr)
{
	long r = sys_call5(SYS_mremap, old, old_len, new_len, flags, new_addr);
	return sys_ret(r) == -1 ? MAP_FAILED : (void *)r;
}
static inline int sys_mincore(void *addr, size_t len, unsigned char *vec)
{
	return (int)sys_ret(sys_call3(SYS_mincore, addr, len, vec));
}

static inline int sys_openat(int dirfd, const char *path, int flags, mode_t mode)
{
	return (int)sys_ret(sys_call4(SYS_openat, dirfd, path, flags, mode));
}
static inline int sys_open(const char *path, int flags)
{
	return sys_openat(AT_FDCWD, path, flags, 0);
}
static inline int sys_close(int fd)
{
#if LIBUFFD_TSAN
	__sanitizer_syscall_pre_impl_close(fd);   /* the fd's state ends (tsan.h) */
#endif
	return (int)sys_ret(sys_call1(SYS_close, fd));
}
static inline ssize_t sys_read(int fd, void *buf, size_t n)
{
	return sys_ret(sys_call3(SYS_read, fd, buf, n));
}
static inline ssize_t sys_write(int fd, const void *buf, size_t n)
{
	return sys_ret(sys_call3(SYS_write, fd, buf, n));
}
static inline ssize_t sys_pread(int fd, void *buf, size_t n, off_t off)
{
	return sys_ret(sys_call4(SYS_pread64, fd, buf, n, off));
}
static inline ssize_t sys_pwrite(int fd, const void *buf, size_t n, off_t off)
{
	return sys_ret(sys_call4(SYS_pwrite64, fd, buf, n, off));
}
static inline off_t sys_lseek(int fd, off_t off, int whence)
{
	return sys_ret(sys_call3(SYS_lseek, fd, off, whence));
}
static inline int sys_ioctl(int fd, unsigned long request, void *arg)
{
	return (int)sys_ret(sys_call3(SYS_ioctl, fd, request, arg));
}
static inline int sys_fcntl(int fd, int cmd, long arg)
{
	return (int)sys_ret(sys_call3(SYS_fcntl, fd, cmd, arg));
}
static inline int sys_fstat(int fd, struct stat *st)
{
	/* struct stat is the kernel's on x86_64 and on the generic ABI. */
	return (int)sys_ret(sys_call4(SYS_newfstatat, fd, "", st, AT_EMPTY_PATH));
}
static inline int sys_pipe2(int fds[2], int flags)
{
	return (int)sys_ret(sys_call2(SYS_pipe2, fds, flags));
}
static inline int sys_dup3(int old, int new, int flags)
{
	return (int)sys_ret(sys_call3(SYS_dup3, old, new, flags));
}
static inline int sys_fallocate(int fd, int mode, off_t off, off_t len)
{
	return (int)sys_ret(sys_call4(SYS_fallocate, fd, mode, off, len));
}
static inline int sys_poll(struct pollfd *fds, nfds_t n, int timeout_ms)
{
	struct timespec ts = { timeout_ms / 1000, (timeout_ms % 1000) * 1000000L };
	return (int)sys_ret(sys_call5(SYS_ppoll, fds, n, timeout_ms < 0 ? NULL : &ts, NULL, 8));
}
static inline long sys_futex(void *word, int op, int val, const struct timespec *timeout)
{
	return sys_ret(sys_call6(SYS_futex, (long)word, op, val, (long)timeout, 0, 0));
}
static inline pid_t sys_getpid(void)
{
	return (pid_t)sys_call0(SYS_getpid);
}
static inline pid_t sys_gettid(void)
{
	return (pid_t)sys_call0(SYS_gettid);
}
static inline int sys_userfaultfd(int flags)
{
	return (int)sys_ret(sys_call1(SYS_userfaultfd, flags));
}

/* Signals.  The kernel's sigset is 64 bits; glibc keeps two of them
 * (SIGCANCEL 32, SIGSETXID 33) for itself and never lets them be blocked,
 * or setuid() and pthread_cancel() would hang on our threads. */
#define SYS_SIGSET_BYTES 8
#define SYS_LIBC_SIGNALS ((1ULL << 31) | (1ULL << 32))

static inline uint64_t sys_sigset_bits(const sigset_t *set)
{
	uint64_t bits;
	memcpy(&bits, set, sizeof(bits));
	return bits;
}
static inline int sys_sigprocmask(int how, const sigset_t *set, sigset_t *old)
{
	uint64_t bits = 0, obits = 0;

	if (set)
		bits = sys_sigset_bits(set) & ~SYS_LIBC_SIGNALS;
	long r = sys_call4(SYS_rt_sigprocmask, how, set ? &bits : NULL,
			   old ? &obits : NULL, SYS_SIGSET_BYTES);
	if (r == 0 && old) {
		memset(old, 0, sizeof(*old));
		memcpy(old, &obits, sizeof(obits));
	}
	return (int)sys_ret(r);
}

/* The kernel's struct sigaction (x86_64 and the generic ABI). */
struct sys_ksigaction {
	void *handler;
	unsigned long flags;
	void (*restorer)(void);
	uint64_t mask;
};
#define SYS_SA_RESTORER 0x04000000
/* x86_64 returns from a handler through a restorer the caller supplies
 * (src/sys.c); the generic ABI uses the vDSO's. */
void uffd_sys_restore_rt(void) __attribute__((visibility("hidden")));

static inline int sys_rt_sigaction(int sig, const struct sys_ksigaction *act,
				   struct sys_ksigaction *old)
{
	return (int)sys_ret(sys_call4(SYS_rt_sigaction, sig, act, old, SYS_SIGSET_BYTES));
}

/* sigaction(2) with the C library's struct, straight to the kernel. */
static inline int sys_sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	struct sys_ksigaction k, ko;

	if (act) {
		memset(&k, 0, sizeof(k));
		k.handler = (void *)act->sa_sigaction;
		k.flags = (unsigned long)(unsigned)act->sa_flags;
		k.mask = sys_sigset_bits(&act->sa_mask);
#if defined(__x86_64__)
		if (act->sa_flags & SYS_SA_RESTORER) {
			k.restorer = act->sa_restorer;
		} else {
			k.flags |= SYS_SA_RESTORER;
			k.restorer = uffd_sys_restore_rt;
		}
#endif
	}
	int r = sys_rt_sigaction(sig, act ? &k : NULL, old ? &ko : NULL);
	if (r == 0 && old) {
		memset(old, 0, sizeof(*old));
		old->sa_sigaction = (void (*)(int, siginfo_t *, void *))ko.handler;
		old->sa_flags = (int)ko.flags;
		memcpy(&old->sa_mask, &ko.mask, sizeof(ko.mask));
#if defined(__x86_64__)
		old->sa_restorer = ko.restorer;
#endif
	}
	return r;
}

static inline int sys_tgsigqueueinfo(pid_t pid, pid_t tid, int sig, siginfo_t *si)
{
	return (int)sys_ret(sys_call4(SYS_rt_tgsigqueueinfo, pid, tid, sig, si));
}
static inline int sys_sigtimedwait(const sigset_t *set, siginfo_t *si, const struct timespec *ts)
{
	uint64_t bits = sys_sigset_bits(set);
	return (int)sys_ret(sys_call4(SYS_rt_sigtimedwait, &bits, si, ts, SYS_SIGSET_BYTES));
}

#endif
