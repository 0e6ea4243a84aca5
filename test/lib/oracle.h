/* SPDX-License-Identifier: MIT */
/*
 * Small helpers shared by the oracle tests (test/<ioctl>-*.c): memfd mappings,
 * a thread that touches a page (to raise a userfault and wait for it), and a
 * forked child that touches a page and reports the signal it got.
 * Every name is prefixed orc_ to stay clear of other helpers in test/lib/.
 */
#ifndef LIBUFFD_TEST_ORACLE_H
#define LIBUFFD_TEST_ORACLE_H

#include <pthread.h>
#include "harness.h"

/* The offset of p from base, in pages (what tests print instead of addresses). */
#define ORC_PG(p, base) ((long)(((char *)(p) - (char *)(base)) / t_page))

/* A memfd of len bytes; fatal on failure. */
int orc_memfd(size_t len);
/* Run fn(kind, mem, arg) once over each kind of memory in kinds (ORC_ANON
 * | ...): len bytes of anonymous memory, a shared and a private mapping of
 * a fresh memfd ("anonymous", "shmem shared", "shmem private"); each is
 * unmapped (and its memfd closed) after. */
#define ORC_ANON          1
#define ORC_SHMEM_SHARED  2
#define ORC_SHMEM_PRIVATE 4
void orc_each_memory(unsigned kinds, size_t len,
		     void (*fn)(const char *kind, char *mem, void *arg), void *arg);
/* mmap(len, prot, flags) of fd (or anonymous when fd < 0); fatal on failure. */
void *orc_mmap(size_t len, int prot, int flags, int fd);

/* A thread that reads (write = 0) or writes wval to *addr. */
struct orc_toucher {
	pthread_t th;
	volatile char *addr;
	int write;
	char wval;
	char rval;
	int done_fd;    /* an eventfd, readable once the access completed */
};
void orc_touch_start(struct orc_toucher *t, void *addr, int write, char wval);
/* Join it; returns the byte read (or written). */
char orc_touch_join(struct orc_toucher *t);
/* Wait (at most 5 s) for whichever comes first: the toucher's access
 * completing (0), or a message on fd (1, the message in *msg).  Tells an
 * access that faults from one that does not, with no time bound deciding. */
int orc_touch_or_msg(struct orc_toucher *t, int fd, struct uffd_msg *msg);

/* Wait (at most 5 s) for one message; fatal when none comes. */
void orc_wait_msg(int fd, struct uffd_msg *msg);

/* 1 when no message is pending on a non-blocking uffd (read: EAGAIN). */
int orc_nothing_queued(int fd);
/* 1 when page pg of the file mfd holds want (t_page bytes). */
int orc_file_is(int mfd, long pg, const char *want);
/* Wait for a page-fault message and record it (page offset from base). */
void orc_fault_msg(int fd, struct uffd_msg *msg, const char *what, char *base);

/* Reserve n more huge pages (/proc/sys/vm/nr_hugepages), skipping the half
 * with the reason when that cannot be done; returns the huge page size and
 * what was reserved in *reserved, for orc_hugepages_release(), which gives
 * as many back (and fails the half if it cannot).  Programs running at the
 * same time each keep their own. */
long orc_hugepages_reserve(long n, long *reserved);
void orc_hugepages_release(long reserved);
/* vm.max_map_count, or -1 where it cannot be read. */
long orc_max_map_count(void);
/* How many of the descriptors 0..1023 are open. */
int orc_fds_open(void);

/* One row of an ioctl's error table: run request on fd with arg, record the
 * outcome and the output field (named field, at *out) as an observable, and
 * expect success (want 0) or -1 with errno want. */
void orc_ioctl_case(const char *what, int fd, unsigned long request, void *arg,
		    const char *field, const __s64 *out, int want);

/* What a forked child saw when it touched a page. */
struct orc_child {
	int signo;      /* signal caught (0: the access completed) */
	int code;       /* its si_code */
	long page;      /* si_addr - base, in pages */
	int value;      /* the byte read, when no signal */
	int status;     /* "exit N" / killed: raw wait status */
};
/* Fork; the child reads (write = 0) or writes 1 to addr, catching SIGBUS (a
 * child killed by another signal is reported from its wait status, page -1);
 * the parent collects what happened.  Fatal on a stuck child (5 s). */
void orc_child_touch(void *base, void *addr, int wr, struct orc_child *out);

/* Read (write: write 0x5a, then read) the byte at addr on this thread, with
 * UFFD_FEATURE_SIGBUS: out = "0x.." (the byte), or "BUS" when the access
 * raised SIGBUS.  Installs its own SIGBUS handler; returns out. */
const char *orc_bus_touch(void *addr, int write, char out[8]);
/* Record "what: r/w r/w ...": orc_bus_touch() reads, then writes, the first
 * byte of each of the n pages at mem. */
void orc_bus_probe(const char *what, char *mem, int n);

/* Run fn(arg, report_fd) in a forked child (10 s limit); the child writes
 * its findings to report_fd; up to len bytes of them land in out.  Returns
 * the byte count, or -1 if the child did not exit with status 0. */
int orc_in_child(void (*fn)(void *arg, int report_fd), void *arg,
		 void *out, size_t len);
/* The same for a child that may die (of a signal, say): the bytes it
 * reported whatever its end, its wait status in *status. */
int orc_in_child_status(void (*fn)(void *arg, int report_fd), void *arg,
			void *out, size_t len, int *status);

/* RLIMIT_AS reached: the soft limit set to what the process maps and
 * 64 MiB more, and every page of that reserved (PROT_NONE, never touched),
 * so that an mmap of one page fails.  orc_as_give_back() gives the
 * reserved address space back, orc_as_restore() that and the limit. */
void orc_as_exhaust(void);
void orc_as_give_back(void);
void orc_as_restore(void);

/* Failures inside these report the caller's line (T_AT, harness.h). */
#define orc_memfd(...) T_AT(orc_memfd(__VA_ARGS__))
#define orc_each_memory(...) T_AT(orc_each_memory(__VA_ARGS__))
#define orc_mmap(...) T_AT(orc_mmap(__VA_ARGS__))
#define orc_touch_start(...) T_AT(orc_touch_start(__VA_ARGS__))
#define orc_wait_msg(...) T_AT(orc_wait_msg(__VA_ARGS__))
#define orc_touch_or_msg(...) T_AT(orc_touch_or_msg(__VA_ARGS__))
#define orc_fault_msg(...) T_AT(orc_fault_msg(__VA_ARGS__))
#define orc_hugepages_reserve(...) T_AT(orc_hugepages_reserve(__VA_ARGS__))
#define orc_hugepages_release(...) T_AT(orc_hugepages_release(__VA_ARGS__))
#define orc_ioctl_case(...) T_AT(orc_ioctl_case(__VA_ARGS__))
#define orc_child_touch(...) T_AT(orc_child_touch(__VA_ARGS__))
#define orc_as_exhaust() T_AT(orc_as_exhaust())
#define orc_as_restore() T_AT(orc_as_restore())
#define orc_in_child(...) T_AT(orc_in_child(__VA_ARGS__))
#define orc_in_child_status(...) T_AT(orc_in_child_status(__VA_ARGS__))

#endif
