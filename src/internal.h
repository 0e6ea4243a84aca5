/* SPDX-License-Identifier: MIT */
/* What the backends share inside libuffd; nothing here is exported. */
#ifndef LIBUFFD_INTERNAL_H
#define LIBUFFD_INTERNAL_H

#include <stddef.h>
#include "uffd.h"
#include "sys.h"   /* libuffd's own system calls: never the C library's (see there) */

#define UFFD_HIDDEN __attribute__((visibility("hidden")))

/* Record why an open failed (thread-local; read back by uffd_strerror()). */
UFFD_HIDDEN void uffd_set_why(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

/* Kernel backend: open a kernel userfaultfd, saying in how[] which way. */
UFFD_HIDDEN int uffd_kernel_open(int flags, char *how, size_t howlen);

/* User backend. */
UFFD_HIDDEN int uffd_user_open(int flags);
/* How the user backend traps pages here: "guard markers" or "mprotect". */
UFFD_HIDDEN const char *uffd_user_mechanism(void);
/* 1 if fd's number was handed out by the user backend (it may have been
 * closed and reused since): only those numbers need checking at each ioctl. */
UFFD_HIDDEN int uffd_user_hinted(int fd);
/* fd may now be a user-backend fd too (the shim saw it dup'ed from one). */
UFFD_HIDDEN void uffd_user_hint(int fd);
/* Release now the user-backend contexts whose fd is closed (else the
 * monitor thread does it soon after the close): a caller that closed its
 * uffd and must leave no fd behind calls this. */
UFFD_HIDDEN void uffd_user_reap(void);

/*
 * The backends behind uffd_ioctl() and uffd_fd_backend(), one table of
 * operations each (libfuse's fuse_ll_ops is the model), tried in order:
 *   kernel       the kernel's userfaultfd, passed through;
 *   user         a user-backend fd whose context lives in this process;
 *   user remote  a user-backend fd whose context lives in another process
 *                (received over SCM_RIGHTS, or inherited by fork): the
 *                owning process executes the request (src/user/remote.c).
 * Both return -errno (never -1 and errno).
 */
struct uffd_ops {
	const char *name;
	enum uffd_backend backend;
	/* Is fd this backend's here?  1 or 0. */
	int (*owns)(int fd);
	/* ioctl(2) on fd: 0/positive, or -errno; -ENOTTY when fd is not this
	 * backend's (the next one is asked). */
	int (*ioctl)(int fd, unsigned long request, void *arg);
};
UFFD_HIDDEN extern const struct uffd_ops uffd_kernel_ops;
/* Async-signal-safe. */
UFFD_HIDDEN extern const struct uffd_ops uffd_user_ops;
/* Not async-signal-safe (it talks to the owning process under a lock). */
UFFD_HIDDEN extern const struct uffd_ops uffd_remote_ops;

#endif
