/* SPDX-License-Identifier: MIT */
/*
 * The differential test harness.  A test is one scenario, written once:
 *
 *     #include "harness.h"
 *     static void scenario(void) { int fd = t_uffd(O_CLOEXEC); ... }
 *     T_MAIN("copy-basic", scenario)
 *
 * main() runs the scenario in a child process per backend (kernel first,
 * then user), each with a time limit.  Inside, t_backend says which one runs.
 * T_OBS() records an observable (a return value, errno, output field, message,
 * memory contents, signal); T_EXPECT() asserts what the man pages promise.
 * A half passes when every expectation held; the user half must also have
 * recorded exactly the kernel half's observables.  A backend that cannot be
 * opened is a SKIP with its reason.  Each half prints one line:
 *     PASS name/kernel    FAIL name/user: why    SKIP name/kernel: why
 */
#ifndef LIBUFFD_TEST_HARNESS_H
#define LIBUFFD_TEST_HARNESS_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "uffd.h"
#include "../../src/tsan.h"   /* LIBUFFD_TSAN: a ThreadSanitizer build */

extern enum uffd_backend t_backend;  /* the backend this half runs on */
extern long t_page;                  /* the page size */

/* Record an observable line; compared between backends. */
void t_obs(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#define T_OBS(...) t_obs(__VA_ARGS__)

/* An expectation: on failure the half fails (the scenario goes on). */
void t_fail_at(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
#define T_EXPECT(cond) \
	do { if (!(cond)) t_fail_at(__FILE__, __LINE__, "expected %s", #cond); } while (0)
#define T_EXPECT_EQ(a, b) \
	do { long long _a = (long long)(a), _b = (long long)(b); \
	     if (_a != _b) t_fail_at(__FILE__, __LINE__, "%s == %lld, expected %s == %lld", \
				     #a, _a, #b, _b); } while (0)
/* The call returned -1 with errno e; records the outcome as an observable. */
#define T_EXPECT_ERR(call, e) \
	do { errno = 0; long _r = (long)(call); int _e = errno; \
	     if (_r != -1 || _e != (e)) t_fail_at(__FILE__, __LINE__, \
		"%s returned %ld errno %s, expected -1 %s", #call, _r, t_errname(_e), #e); \
	     T_OBS("%s = %ld %s", #call, _r, _r < 0 ? t_errname(_e) : ""); } while (0)
/* The call succeeded (returned >= 0); records that; yields the result. */
#define T_EXPECT_OK(call) \
	({ errno = 0; long _r = (long)(call); int _e = errno; \
	   if (_r < 0) t_fail_at(__FILE__, __LINE__, "%s failed: %s", #call, t_errname(_e)); \
	   T_OBS("%s = %s", #call, _r < 0 ? t_errname(_e) : "ok"); _r; })

/* Helpers under test/lib/ report a failure at the line of the scenario
 * that called them: each helper that can fail is wrapped by a macro of its
 * own name, T_AT(call), which records the caller's place first (a helper's
 * definition names itself in parentheses so that the macro leaves it be).
 * A failure inside test/lib/ then reads "test/x.c:12: ... (in test/lib/
 * oracle.c:63)".  Thread-local: helpers run on the scenario's threads. */
void t_at(const char *file, int line);
#define T_AT(call) (t_at(__FILE__, __LINE__), (call))

/* Stop this half: skip with a reason (exit 77), or fail now. */
void t_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void t_fatal_at(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4), noreturn));
#define T_FATAL(...) t_fatal_at(__FILE__, __LINE__, __VA_ARGS__)
#define T_ASSERT(cond) \
	do { if (!(cond)) t_fatal_at(__FILE__, __LINE__, "assertion %s failed (errno %s)", \
				     #cond, t_errname(errno)); } while (0)

/* Behaviour where the user backend differs by a documented limit (named in
 * the README's limits table).  t_limit(): the rest of the scenario is beyond
 * it; the user half stops here, skipped with the limit's name (or failed, if
 * an expectation already failed).  A block within a scenario:
 *     if (t_limit_begin("read(2) shorter than a message")) {
 *             ...checks...
 *             t_limit_end();
 *     }
 * runs on the kernel only (its expectations count there, its observables are
 * not compared); the user half names the limit in its PASS line. */
void t_limit(const char *name);
int t_limit_begin(const char *name);
void t_limit_end(void);

/* "EINVAL" for EINVAL, ... */
const char *t_errname(int err);

/* Open a userfaultfd on this half's backend; skips the half if it cannot. */
int t_uffd(int flags);
/* t_uffd() and the UFFDIO_API handshake with these features; skips the half
 * when the backend lacks one of them. */
int t_uffd_api(int flags, uint64_t features);
/* The features and ioctls UFFDIO_API reported on the last t_uffd_api(). */
extern uint64_t t_api_features, t_api_ioctls;

/* Anonymous private memory, fatal on failure. */
void *t_map(size_t len);
/* Register [addr, addr+len) with mode; fatal on failure; returns ioctls mask. */
uint64_t t_register(int fd, void *addr, size_t len, uint64_t mode);

/* Fill memory with a pattern derived from seed; check it (1 = intact). */
void t_fill(void *page, size_t len, unsigned seed);
int t_check(const void *page, size_t len, unsigned seed);

/* Wait at most timeout_ms for the first of: a message on the userfaultfd fd
 * (read into *msg: returns 1) or the fd done readable (an eventfd, say, that
 * a thread writes once its access is over: returns 0; -1 for none).  -1 when
 * neither came.  A message wins when both are ready. */
int t_msg_or(int fd, int done, struct uffd_msg *msg, int timeout_ms);
/* Read one message, waiting at most timeout_ms; 1 = got one, 0 = timeout. */
#define t_read_msg(fd, msg, timeout_ms) (t_msg_or(fd, -1, msg, timeout_ms) > 0)

#define t_uffd_api(...) T_AT(t_uffd_api(__VA_ARGS__))
#define t_map(...) T_AT(t_map(__VA_ARGS__))
#define t_register(...) T_AT(t_register(__VA_ARGS__))
#define t_msg_or(...) T_AT(t_msg_or(__VA_ARGS__))

/* Run the scenario on each backend; returns main()'s exit status.  A user
 * half may skip where the kernel half ran only by naming a limit that the
 * README's limits table names (in backquotes); so may a PASS line name only
 * such limits.  Anything else fails the user half. */
int t_main(const char *name, void (*scenario)(void));
#define T_MAIN(name, fn) \
	int main(void) { return t_main(name, fn); }

#endif
