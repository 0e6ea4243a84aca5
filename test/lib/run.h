/* SPDX-License-Identifier: MIT */
/*
 * Running an unmodified program under `uffd run --backend <this half's
 * backend>` and recording what it did (the shim tests): the kernel half runs
 * it on the kernel's userfaultfd, the user half on the user backend, and the
 * harness compares the two.  Names are prefixed tr_.
 */
#ifndef LIBUFFD_TEST_RUN_H
#define LIBUFFD_TEST_RUN_H

#include <stddef.h>
#include "harness.h"

/* The build directory (the parent of the test's own directory) + "/" + rel,
 * in memory of its own. */
const char *tr_build_path(const char *rel);

/* Run argv (argv[0] a path) under `uffd run --backend B`, B this half's
 * backend (or "auto" etc. when backend is not NULL), stdin from /dev/null,
 * stdout into *out (malloc'ed, NUL-terminated).  Returns the wait status.
 * Skips the half when this half's backend cannot be opened here. */
int tr_run(const char *backend, char *const argv[], char **out);

/* The common case: run BUILD/prog/NAME (with arg, when not NULL) under
 * backend (NULL: this half's) and record its exit status and every line it
 * printed. */
void tr_prog(const char *backend, const char *name, const char *arg);
#define tr_prog(...) T_AT(tr_prog(__VA_ARGS__))

/* Record an exit status as an observable ("exit 0", "signal SIGSEGV"). */
void tr_obs_status(int status);
/* Record each line of out as an observable. */
void tr_obs_lines(const char *out);

/* Compile test/prog-style source at src (a path) to bin with the system's
 * compiler and extra flags; fatal on failure. */
void tr_compile(const char *src, const char *bin, const char *flags);

#endif
