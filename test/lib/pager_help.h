/* SPDX-License-Identifier: MIT */
/*
 * Helpers for the pager tests (pager-*.c):
 *   tp_pager()       a pager on this half's backend (skips when it cannot open)
 *   tp_file()        a temporary file of n pages, page i filled with t_fill seed
 *                    TP_SEED(i), already unlinked; returns its /proc/self/fd path
 *   tp_count()       lines of /proc/self/maps (but malloc's heap and, under
 *                    ASan, its allocator's), entries of /proc/self/fd and
 *                    /proc/self/task: what a clean teardown must give back
 *   tp_unmapped()    no page of a range is mapped
 *   tp_touch()       read (or write) one byte, catching SIGBUS: 1 if it raised
 *   tp_threads()     run fn(i) on n threads at once and join them
 *   tp_sweep()       a tp_threads() function reading every page, in order
 *                    or at random, counting SIGBUS and wrong pages
 */
#ifndef LIBUFFD_TEST_PAGER_HELP_H
#define LIBUFFD_TEST_PAGER_HELP_H

#include "harness.h"
#include "uffd/pager.h"

#define TP_SEED(i) (7000u + (unsigned)(i))

struct uffd_pager *tp_pager(unsigned threads, unsigned readahead, unsigned flags);
/* Writes the file; path receives "/proc/self/fd/N" (the fd stays open). */
int tp_file(size_t npages, char *path, size_t pathlen);
struct tp_counts { int maps, fds, tasks; };
struct tp_counts tp_count(void);
/* 1 if no page of [addr, addr+len) is mapped. */
int tp_unmapped(const void *addr, size_t len);
/* Access *p (write: store val); returns 1 if SIGBUS was raised (its si_code
 * in *code), 0 otherwise (a read's byte in *val). */
int tp_touch(volatile char *p, int write, char *val, int *code);
void tp_threads(unsigned n, void (*fn)(unsigned i, void *arg), void *arg);

/* tp_sweep(), run by tp_threads() with a struct tp_sweep: thread i reads a
 * byte (at a varying offset below 64) of npages pages from base, thread 0
 * in order, the others in a pseudo-random order (from seed and i); it
 * counts the reads that raised SIGBUS, and with check the pages read that
 * do not hold TP_SEED(page). */
struct tp_sweep {
	char *base;
	size_t npages;
	unsigned seed;
	int check;
	_Atomic int sigbus, wrong;
};
void tp_sweep(unsigned i, void *sweep);

/* Failures inside these report the caller's line (T_AT, harness.h). */
#define tp_pager(...) T_AT(tp_pager(__VA_ARGS__))
#define tp_file(...) T_AT(tp_file(__VA_ARGS__))
#define tp_count(...) T_AT(tp_count(__VA_ARGS__))
#define tp_unmapped(...) T_AT(tp_unmapped(__VA_ARGS__))
#define tp_touch(...) T_AT(tp_touch(__VA_ARGS__))
#define tp_threads(...) T_AT(tp_threads(__VA_ARGS__))

#endif
