/* SPDX-License-Identifier: MIT */
/*
 * ThreadSanitizer builds (`make tsan`): LIBUFFD_TSAN is 1 there, else 0.
 * GCC says so with __SANITIZE_THREAD__, clang (14) only through
 * __has_feature.  The tests use it too (test/lib/harness.h).
 *
 * And the runtime's entries libuffd tells what it cannot see (declared here:
 * GCC does not ship clang's <sanitizer/linux_syscall_hooks.h>):
 * - a close(2) made with the raw system call (sys.h): TSan keeps a state per
 *   fd number, which its close() interceptor clears; a number libuffd closed
 *   unseen and the program then got again would carry the old file's
 *   accesses, unordered with the new one's (a false report);
 * - a thread that TSan must not check (forkev.c).
 */
#ifndef LIBUFFD_TSAN_H
#define LIBUFFD_TSAN_H

#if defined(__SANITIZE_THREAD__)
#define LIBUFFD_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define LIBUFFD_TSAN 1
#endif
#endif
#ifndef LIBUFFD_TSAN
#define LIBUFFD_TSAN 0
#endif

#if LIBUFFD_TSAN && !defined(__cplusplus)
void __sanitizer_syscall_pre_impl_close(long fd);
void __tsan_ignore_thread_begin(void);
void AnnotateIgnoreSyncBegin(const char *file, int line);
#endif

#endif
