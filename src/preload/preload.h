/* SPDX-License-Identifier: MIT */
/*
 * The LD_PRELOAD shim (build/libuffd-preload.so): unmodified userfaultfd
 * programs on libuffd's backends.  One file per concern:
 *
 *   real.c     the C library's own functions (dlsym RTLD_NEXT), the backend
 *              the shim was asked for (UFFD_BACKEND), resolved at load
 *   create.c   syscall(SYS_userfaultfd), userfaultfd(), open of
 *              /dev/userfaultfd and USERFAULTFD_IOC_NEW
 *   ioctl.c    ioctl(2) on a userfaultfd
 *   signal.c   sigaction, signal & co. for SIGSEGV (libuffd's handler stays,
 *              the program's is chained); SIGSEGV never blocked
 *   memory.c   munmap, mremap, madvise, mmap(MAP_FIXED): libuffd is told
 *              (src/user/memory.c: the UNMAP, REMAP, REMOVE events)
 *   touch.c    kernel-mode accesses: pages that read, pread, readv, preadv,
 *              recv, recvfrom, recvmsg will fill are touched from user mode
 *   pagemap.c  /proc/self/pagemap: the uffd-wp bit (57) from libuffd's state
 *   fdio.c     read, readv, poll, ppoll on a user-backend userfaultfd, with the
 *              kernel's rules; close, dup2, dup3 (a closed fd releases its
 *              context at once)
 *
 * In kernel mode every interposer passes straight through.  libuffd itself
 * never comes through here: its system calls are raw (src/sys.h).
 */
#ifndef LIBUFFD_PRELOAD_H
#define LIBUFFD_PRELOAD_H

#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "../user/user.h"

#define SHIM_EXPORT __attribute__((visibility("default")))

/* What `uffd run --backend` (UFFD_BACKEND in the environment) asked for;
 * unset means auto. */
extern enum uffd_backend shim_backend;

/* The C library's functions that the shim interposes. */
struct shim_real {
	long (*syscall)(long, ...);
	int (*open)(const char *, int, ...);
	int (*openat)(int, const char *, int, ...);
	int (*ioctl)(int, unsigned long, ...);
	ssize_t (*read)(int, void *, size_t);
	ssize_t (*readv)(int, const struct iovec *, int);
	ssize_t (*pread)(int, void *, size_t, off_t);
	ssize_t (*preadv)(int, const struct iovec *, int, off_t);
	ssize_t (*recvfrom)(int, void *, size_t, int, struct sockaddr *, socklen_t *);
	ssize_t (*recvmsg)(int, struct msghdr *, int);
	int (*poll)(struct pollfd *, nfds_t, int);
	int (*ppoll)(struct pollfd *, nfds_t, const struct timespec *, const sigset_t *);
	int (*close)(int);
	int (*dup)(int);
	int (*dup2)(int, int);
	int (*fcntl)(int, int, ...);
	void *(*mmap)(void *, size_t, int, int, int, off_t);
	int (*munmap)(void *, size_t);
	void *(*mremap)(void *, size_t, size_t, int, ...);
	int (*madvise)(void *, size_t, int);
	int (*sigaction)(int, const struct sigaction *, struct sigaction *);
	int (*sigprocmask)(int, const sigset_t *, sigset_t *);
	int (*pthread_sigmask)(int, const sigset_t *, sigset_t *);
	int (*dup3)(int, int, int);
};
extern struct shim_real shim_real;
/* Resolve shim_real (done at load; again is harmless). */
void shim_resolve(void);

/* A new userfaultfd for the program, on shim_backend: fd or -1 and errno,
 * with the kernel's flag rules (create.c). */
int shim_userfaultfd(int flags);

/* /dev/userfaultfd stand-ins handed out where the device cannot be used
 * (create.c): is fd one, and forget it once closed. */
int shim_is_device(int fd);
void shim_forget_fd(int fd);
int shim_device_ioctl(int fd, unsigned long request, void *arg);

/* /proc/self/pagemap descriptors (pagemap.c): is path one (the process's
 * own), remember fd as one (returns fd), forget it, and set the uffd-wp bit
 * in n bytes of entries read at offset off. */
int shim_is_pagemap_path(int dirfd, const char *path);
int shim_note_pagemap(int fd);
int shim_is_pagemap(int fd);
void shim_forget_pagemap(int fd);
void shim_pagemap_fix(void *buf, ssize_t n, off_t off);
/* The PAGEMAP_SCAN ioctl on such a descriptor, answered from the user
 * backend's state where its range holds user-backend memory (real: the C
 * library's ioctl). */
unsigned long shim_pagemap_scan_request(void);
int shim_pagemap_scan(int fd, void *arg, int (*real)(int, unsigned long, void *));

/* ioctl(2) on any fd, as the interposer does it (ioctl.c). */
int shim_ioctl(int fd, unsigned long request, void *arg);
/* read(2) and close(2) as the interposers do them (fdio.c). */
ssize_t shim_read(int fd, void *buf, size_t count);
ssize_t shim_readv(int fd, const struct iovec *iov, int iovcnt);
/* read(2)/readv(2) on an fd that is not a userfaultfd, registered pages of
 * the buffer touched first (touch.c). */
ssize_t shim_read_into(int fd, void *buf, size_t len);
ssize_t shim_readv_into(int fd, const struct iovec *iov, int n);
int shim_close(int fd);

#endif
