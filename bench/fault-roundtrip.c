/* SPDX-License-Identifier: MIT */
/*
 * fault-roundtrip: the first-touch round trip of a userfaultfd MISSING fault,
 * on both backends in one run, so that the ratios mean something on a noisy VM.
 *
 * For each backend (uffd_open(O_CLOEXEC, UFFD_BACKEND_KERNEL / _USER), plus
 * O_NONBLOCK in the handler-thread modes since the kernel's poll(2) reports
 * POLLERR on a blocking userfaultfd; every ioctl through uffd_ioctl(), plain
 * poll(2)/read(2) on the fd) and each mode,
 * N pages of private anonymous memory (THP off) are registered with
 * UFFDIO_REGISTER_MODE_MISSING and touched sequentially, one volatile byte
 * write per page; time per fault = time of the touching loop / N.
 *
 *   baseline  plain anonymous first touch, no uffd
 *   thread    a handler thread polls the fd, reads uffd_msgs (several per
 *             read when available), resolves each with UFFDIO_COPY
 *   sigbus    UFFD_FEATURE_SIGBUS; the program's SIGBUS handler does the
 *             UFFDIO_COPY for si_addr rounded down, and returns
 *   pinned    as thread, with the handler and the toucher pinned to one CPU
 *   split     as thread, with the handler and the toucher pinned to two
 *             different CPUs (unpinned, the scheduler sometimes puts both on
 *             one CPU and sometimes not, even within one run: "thread" is a
 *             mix of the two; the table's footnote gives the share per round)
 *
 * Each (mode, backend) gets one unmeasured warm-up round, then R measured
 * rounds; the backends alternate within each repetition.  Every round uses a
 * fresh uffd and a fresh mapping, and is checked: every 1000th page (and the
 * last) must hold the source page with the toucher's byte on top, and exactly
 * N UFFDIO_COPYs must have succeeded; otherwise the bench aborts.
 *
 * Usage: fault-roundtrip [-n pages] [-r reps] [-m all|thread|sigbus|pinned|split]
 *                        [-t watchdog-seconds] [--json]
 * Exit: 0 when at least one backend was measured and nothing failed, 1 otherwise.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <uffd.h>

#define TOUCH_BYTE   0x5a	/* what the toucher writes at offset 0 of each page */
#define CHECK_STRIDE 1000	/* check every 1000th page (and the last) */
#define MSG_BATCH    16		/* uffd_msgs per read(2) at most */

enum mode { M_BASELINE, M_THREAD, M_SIGBUS, M_PINNED, M_SPLIT, M_COUNT };
static const char *const mode_name[M_COUNT] = { "baseline", "thread", "sigbus", "pinned", "split" };
static const char *const mode_label[M_COUNT] = {
	"baseline (no uffd)", "thread (unpinned)", "sigbus", "pinned (1 CPU)", "split (2 CPUs)",
};
#define HANDLER_MODE(m) ((m) == M_THREAD || (m) == M_PINNED || (m) == M_SPLIT)

enum { B_KERNEL, B_USER, B_COUNT };
static const enum uffd_backend backend_id[B_COUNT] = { UFFD_BACKEND_KERNEL, UFFD_BACKEND_USER };
static const char *const backend_name[B_COUNT] = { "kernel", "user" };

static size_t page_size;
static size_t npages = 20000;
static int reps = 5;
static unsigned watchdog_s = 120;
static int json;
static unsigned char *src_page;	/* the prepared source of every UFFDIO_COPY */
/* Handler-thread modes: the CPU each page was touched on, and resolved on. */
static short *toucher_cpu, *handler_cpu;

/* ---- the watchdog ---------------------------------------------------- */

static const char *volatile wd_mode = "startup";
static const char *volatile wd_backend = "-";
static const char *volatile wd_phase = "-";
static volatile int wd_rep = -1;

static void wd_puts(const char *s)
{
	ssize_t r = write(2, s, strlen(s));
	(void)r;
}

static void on_alarm(int sig)
{
	(void)sig;
	char num[16];
	int i = sizeof(num) - 1, rep = wd_rep;

	num[i] = 0;
	do
		num[--i] = (char)('0' + (rep < 0 ? 0 : rep) % 10);
	while ((rep /= 10) > 0 && i > 0);
	wd_puts("fault-roundtrip: WATCHDOG: the run did not finish within the -t limit; hung in mode ");
	wd_puts(wd_mode);
	wd_puts(", backend ");
	wd_puts(wd_backend);
	if (wd_rep < 0) {
		wd_puts(", warm-up round");
	} else {
		wd_puts(", repetition ");
		wd_puts(num + i);
	}
	wd_puts(", while ");
	wd_puts(wd_phase);
	wd_puts("\n");
	_exit(1);
}

/* ---- helpers ---------------------------------------------------------- */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	if (wd_rep < 0)
		fprintf(stderr, "fault-roundtrip: FATAL (mode %s, backend %s, warm-up round): ",
			wd_mode, wd_backend);
	else
		fprintf(stderr, "fault-roundtrip: FATAL (mode %s, backend %s, repetition %d): ",
			wd_mode, wd_backend, wd_rep);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	_exit(1);
}

static unsigned char *map_region(void)
{
	size_t len = npages * page_size;
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		die("mmap of %zu bytes: %s", len, strerror(errno));
	/* One fault per 4 KiB page: keep transparent huge pages out of it. */
	if (madvise(p, len, MADV_NOHUGEPAGE) < 0)
		die("madvise(MADV_NOHUGEPAGE): %s", strerror(errno));
	return p;
}

/* The loop under measurement: one write per page, each a first touch.  With
 * cpus, it also notes the CPU of each touch (sched_getcpu() reads rseq: ~4 ns
 * against a fault of microseconds). */
static __attribute__((noinline)) uint64_t touch_pages(unsigned char *base, short *cpus)
{
	volatile unsigned char *p = base;
	uint64_t t0 = now_ns();

	if (cpus) {
		for (size_t i = 0; i < npages; i++) {
			cpus[i] = (short)sched_getcpu();
			p[i * page_size] = TOUCH_BYTE;
		}
	} else {
		for (size_t i = 0; i < npages; i++)
			p[i * page_size] = TOUCH_BYTE;
	}
	return now_ns() - t0;
}

/* Every CHECK_STRIDE-th page and the last: byte 0 is the toucher's, the rest
 * the source page's (or zero for the baseline). */
static void check_pages(const unsigned char *base, int from_source)
{
	static unsigned char zero[65536];

	for (size_t i = 0; i < npages;
	     i = i == npages - 1 ? npages : i + CHECK_STRIDE < npages ? i + CHECK_STRIDE : npages - 1) {
		const unsigned char *pg = base + i * page_size;
		const unsigned char *want = from_source ? src_page : zero;

		if (pg[0] != TOUCH_BYTE)
			die("page %zu at %p: byte 0 is 0x%02x, the toucher wrote 0x%02x "
			    "(the write was lost or the page replaced after it)",
			    i, (const void *)pg, pg[0], TOUCH_BYTE);
		for (size_t j = 1; j < page_size; j++)
			if (pg[j] != want[j])
				die("page %zu at %p: byte %zu is 0x%02x, expected 0x%02x (%s)",
				    i, (const void *)pg, j, pg[j], want[j],
				    from_source ? "the source page's" : "zero");
	}
}

/* ---- one uffd round --------------------------------------------------- */

struct round {
	int backend;
	int fd;
	unsigned char *base;
	size_t len;
	/* counters, written by the resolver (thread or signal handler) */
	long copies, eexist, msgs, reads;
};

/* Open, handshake and register; on failure fill err and return -1. */
static int uffd_setup(struct round *r, int flags, uint64_t features, char *err, size_t errlen)
{
	r->fd = uffd_open(flags, backend_id[r->backend]);
	if (r->fd < 0) {
		snprintf(err, errlen, "uffd_open: %s", uffd_strerror());
		return -1;
	}
	struct uffdio_api api = { .api = UFFD_API, .features = features };
	if (uffd_ioctl(r->fd, UFFDIO_API, &api) < 0) {
		snprintf(err, errlen, "UFFDIO_API(features 0x%llx): %s",
			 (unsigned long long)features, strerror(errno));
		close(r->fd);
		return -1;
	}
	r->len = npages * page_size;
	r->base = map_region();
	struct uffdio_register reg = {
		.range = { .start = (uintptr_t)r->base, .len = r->len },
		.mode = UFFDIO_REGISTER_MODE_MISSING,
	};
	if (uffd_ioctl(r->fd, UFFDIO_REGISTER, &reg) < 0) {
		snprintf(err, errlen, "UFFDIO_REGISTER(MISSING): %s", strerror(errno));
		munmap(r->base, r->len);
		close(r->fd);
		return -1;
	}
	if (!(reg.ioctls & (1ULL << _UFFDIO_COPY))) {
		snprintf(err, errlen, "UFFDIO_REGISTER: the range does not offer UFFDIO_COPY "
			 "(ioctls 0x%llx)", (unsigned long long)reg.ioctls);
		munmap(r->base, r->len);
		close(r->fd);
		return -1;
	}
	return 0;
}

static void uffd_teardown(struct round *r)
{
	struct uffdio_range range = { .start = (uintptr_t)r->base, .len = r->len };

	if (uffd_ioctl(r->fd, UFFDIO_UNREGISTER, &range) < 0)
		die("UFFDIO_UNREGISTER: %s", strerror(errno));
	if (close(r->fd) < 0)
		die("close(uffd): %s", strerror(errno));
	if (munmap(r->base, r->len) < 0)
		die("munmap: %s", strerror(errno));
}

/* ---- handler-thread modes -------------------------------------------- */

struct handler {
	struct round *r;
	int stopfd;
	int cpu;		/* pin here, or -1 */
	int ran_on;		/* the CPU the handler found itself on */
	pthread_barrier_t ready;
};

static void *handler_main(void *arg)
{
	struct handler *h = arg;
	struct round *r = h->r;
	struct uffd_msg msgs[MSG_BATCH];

	if (h->cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(h->cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set) < 0)
			die("handler: sched_setaffinity(CPU %d): %s", h->cpu, strerror(errno));
	}
	h->ran_on = sched_getcpu();
	pthread_barrier_wait(&h->ready);

	for (;;) {
		struct pollfd pfd[2] = {
			{ .fd = r->fd, .events = POLLIN },
			{ .fd = h->stopfd, .events = POLLIN },
		};
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			die("handler: poll: %s", strerror(errno));
		}
		if (pfd[0].revents & (POLLERR | POLLHUP | POLLNVAL))
			die("handler: poll on the uffd returned revents 0x%x", pfd[0].revents);
		if (pfd[0].revents & POLLIN) {
			ssize_t n = read(r->fd, msgs, sizeof(msgs));

			if (n < 0) {
				if (errno == EINTR || errno == EAGAIN)
					continue;
				die("handler: read(uffd): %s", strerror(errno));
			}
			if (n == 0 || n % (ssize_t)sizeof(msgs[0]))
				die("handler: read(uffd) returned %zd bytes, not a multiple of %zu",
				    n, sizeof(msgs[0]));
			r->reads++;
			for (ssize_t k = 0; k < n / (ssize_t)sizeof(msgs[0]); k++) {
				const struct uffd_msg *m = &msgs[k];

				if (m->event != UFFD_EVENT_PAGEFAULT)
					die("handler: unexpected uffd_msg event 0x%x", m->event);
				uint64_t addr = m->arg.pagefault.address & ~(uint64_t)(page_size - 1);
				if (addr < (uintptr_t)r->base || addr >= (uintptr_t)r->base + r->len)
					die("handler: fault address 0x%llx outside the range",
					    (unsigned long long)m->arg.pagefault.address);
				r->msgs++;
				handler_cpu[(addr - (uintptr_t)r->base) / page_size] = (short)sched_getcpu();
				struct uffdio_copy c = {
					.dst = addr, .src = (uintptr_t)src_page, .len = page_size,
				};
				if (uffd_ioctl(r->fd, UFFDIO_COPY, &c) < 0) {
					if (errno != EEXIST)
						die("handler: UFFDIO_COPY to 0x%llx: %s (copy=%lld)",
						    (unsigned long long)addr, strerror(errno),
						    (long long)c.copy);
					r->eexist++;
				} else {
					if (c.copy != (int64_t)page_size)
						die("handler: UFFDIO_COPY copied %lld, not %zu",
						    (long long)c.copy, page_size);
					r->copies++;
				}
			}
		}
		if (pfd[1].revents & POLLIN)
			return NULL;
	}
}

/* ---- SIGBUS mode ------------------------------------------------------ */

static struct round *volatile sb_round;	/* non-NULL while a sigbus round runs */

static void sb_fail(const char *what, int err)
{
	wd_puts("fault-roundtrip: FATAL (mode sigbus, backend ");
	wd_puts(wd_backend);
	wd_puts("): ");
	wd_puts(what);
	wd_puts(": ");
	wd_puts(strerrorname_np(err) ? strerrorname_np(err) : "?");
	wd_puts("\n");
	_exit(1);
}

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	int saved = errno;
	struct round *r = sb_round;
	uintptr_t a = (uintptr_t)si->si_addr;

	if (!r || a < (uintptr_t)r->base || a >= (uintptr_t)r->base + r->len) {
		/* Not ours: take the default action when the access is retried. */
		struct sigaction dfl = { .sa_handler = SIG_DFL };

		sigaction(sig, &dfl, NULL);
		wd_puts("fault-roundtrip: SIGBUS outside the registered range\n");
		errno = saved;
		return;
	}
	struct uffdio_copy c = {
		.dst = a & ~(uintptr_t)(page_size - 1), .src = (uintptr_t)src_page,
		.len = page_size,
	};
	if (uffd_ioctl(r->fd, UFFDIO_COPY, &c) < 0) {
		if (errno != EEXIST)
			sb_fail("UFFDIO_COPY in the SIGBUS handler", errno);
		r->eexist++;
	} else {
		if (c.copy != (int64_t)page_size)
			sb_fail("UFFDIO_COPY in the SIGBUS handler copied a short count", 0);
		r->copies++;
	}
	r->msgs++;
	errno = saved;
}

/* ---- one round of any mode ------------------------------------------- */

/* Returns ns per fault (>0), or -1 with err filled when setup failed, or -2
 * with err filled when the mode cannot run here.  In the
 * handler-thread modes *same_cpu is the share of faults resolved on the CPU
 * the page was touched on. */
static double run_round(enum mode mode, int backend, double *same_cpu, char *err, size_t errlen)
{
	uint64_t ns;

	wd_phase = "setting up";
	if (mode == M_BASELINE) {
		unsigned char *base = map_region();

		wd_phase = "touching the pages";
		ns = touch_pages(base, NULL);
		wd_phase = "checking the contents";
		check_pages(base, 0);
		if (munmap(base, npages * page_size) < 0)
			die("munmap: %s", strerror(errno));
		return (double)ns / (double)npages;
	}

	struct round r = { .backend = backend };
	/* poll(2) on a kernel userfaultfd without O_NONBLOCK reports POLLERR
	 * (fs/userfaultfd.c): the handler-thread modes need a non-blocking fd. */
	int flags = mode == M_SIGBUS ? O_CLOEXEC : O_CLOEXEC | O_NONBLOCK;
	if (uffd_setup(&r, flags, mode == M_SIGBUS ? UFFD_FEATURE_SIGBUS : 0, err, errlen) < 0)
		return -1;

	if (mode == M_SIGBUS) {
		sb_round = &r;
		wd_phase = "touching the pages (faults resolved in the SIGBUS handler)";
		ns = touch_pages(r.base, NULL);
		wd_phase = "checking the contents";
		check_pages(r.base, 1);
		sb_round = NULL;
	} else {
		struct handler h = { .r = &r, .cpu = -1, .ran_on = -1 };
		cpu_set_t saved;
		pthread_t tid;
		int e;

		int tcpu = -1;	/* the toucher's CPU when pinned */

		if (mode == M_PINNED || mode == M_SPLIT) {
			if (sched_getaffinity(0, sizeof(saved), &saved) < 0)
				die("sched_getaffinity: %s", strerror(errno));
			tcpu = sched_getcpu();
			if (tcpu < 0 || !CPU_ISSET(tcpu, &saved))
				die("sched_getcpu gave CPU %d, not in the affinity mask", tcpu);
			h.cpu = tcpu;
			if (mode == M_SPLIT) {
				for (h.cpu = 0; h.cpu < CPU_SETSIZE; h.cpu++)
					if (h.cpu != tcpu && CPU_ISSET(h.cpu, &saved))
						break;
				if (h.cpu == CPU_SETSIZE) {
					snprintf(err, errlen, "one CPU only");
					uffd_teardown(&r);
					return -2;
				}
			}
			cpu_set_t one;
			CPU_ZERO(&one);
			CPU_SET(tcpu, &one);
			if (sched_setaffinity(0, sizeof(one), &one) < 0)
				die("sched_setaffinity(CPU %d): %s", tcpu, strerror(errno));
		}
		h.stopfd = eventfd(0, EFD_CLOEXEC);
		if (h.stopfd < 0)
			die("eventfd: %s", strerror(errno));
		pthread_barrier_init(&h.ready, NULL, 2);
		if ((e = pthread_create(&tid, NULL, handler_main, &h)))
			die("pthread_create: %s", strerror(e));
		pthread_barrier_wait(&h.ready);

		wd_phase = "touching the pages (faults resolved by the handler thread)";
		ns = touch_pages(r.base, toucher_cpu);
		if (tcpu >= 0 && sched_getcpu() != tcpu)
			die("the toucher ran on CPU %d, not the pinned CPU %d", sched_getcpu(), tcpu);
		wd_phase = "checking the contents";
		check_pages(r.base, 1);

		wd_phase = "stopping the handler thread";
		uint64_t one = 1;
		if (write(h.stopfd, &one, sizeof(one)) != sizeof(one))
			die("write(eventfd): %s", strerror(errno));
		if ((e = pthread_join(tid, NULL)))
			die("pthread_join: %s", strerror(e));
		close(h.stopfd);
		pthread_barrier_destroy(&h.ready);
		if (tcpu >= 0) {
			if (h.ran_on != h.cpu)
				die("the handler ran on CPU %d, not the pinned CPU %d", h.ran_on, h.cpu);
			if (sched_setaffinity(0, sizeof(saved), &saved) < 0)
				die("restoring the affinity: %s", strerror(errno));
		}
		size_t same = 0;
		for (size_t i = 0; i < npages; i++)
			same += toucher_cpu[i] == handler_cpu[i];
		*same_cpu = (double)same / (double)npages;
	}
	if (r.copies != (long)npages)
		die("%ld UFFDIO_COPYs succeeded (%ld EEXIST, %ld faults seen), expected one per "
		    "page: %zu", r.copies, r.eexist, r.msgs, npages);
	wd_phase = "tearing down";
	uffd_teardown(&r);
	return (double)ns / (double)npages;
}

/* ---- results ---------------------------------------------------------- */

enum cell_status { C_NOT_RUN, C_OK, C_UNAVAILABLE, C_UNSUPPORTED, C_FAILED };

struct cell {
	enum cell_status status;
	char why[224];
	int n;
	double *ns;		/* per repetition, ns per fault */
	double *same_cpu;	/* per repetition, share of faults resolved on the toucher's CPU */
	double best, med, max;	/* µs per fault */
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void summarize(struct cell *c)
{
	double *s = malloc(sizeof(double) * (size_t)c->n);

	if (!s)
		die("out of memory");
	memcpy(s, c->ns, sizeof(double) * (size_t)c->n);
	qsort(s, (size_t)c->n, sizeof(double), cmp_double);
	c->best = s[0] / 1000;
	c->max = s[c->n - 1] / 1000;
	c->med = (c->n % 2 ? s[c->n / 2] : (s[c->n / 2 - 1] + s[c->n / 2]) / 2) / 1000;
	free(s);
}

static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

static const char *status_name(enum cell_status s)
{
	switch (s) {
	case C_OK: return "ok";
	case C_UNAVAILABLE: return "unavailable";
	case C_UNSUPPORTED: return "unsupported";
	case C_FAILED: return "failed";
	case C_NOT_RUN: break;
	}
	return "not-run";
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: fault-roundtrip [-n pages] [-r reps] [-m all|thread|sigbus|pinned|split]\n"
		"                       [-t watchdog-seconds] [--json]\n"
		"  -n  pages touched per round (default 20000)\n"
		"  -r  measured repetitions per mode and backend (default 5), after one warm-up\n"
		"  -m  which uffd modes to run (default all); the baseline always runs\n"
		"      thread: handler thread, unpinned; sigbus: UFFDIO_COPY in the SIGBUS handler;\n"
		"      pinned: handler and toucher on one CPU; split: on two different CPUs\n"
		"  -t  whole-run watchdog in seconds (default 120; 0 disables)\n"
		"  --json  print the results as JSON instead of the table\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int want[M_COUNT] = { 1, 1, 1, 1, 1 };
	int opt;
	char *end;

	while ((opt = getopt_long(argc, argv, "n:r:m:t:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'n':
			npages = strtoul(optarg, &end, 10);
			if (*end || npages < 1 || npages > (1u << 24)) {
				fprintf(stderr, "fault-roundtrip: -n wants 1..16777216 pages\n");
				return 2;
			}
			break;
		case 'r':
			reps = (int)strtol(optarg, &end, 10);
			if (*end || reps < 1 || reps > 1000) {
				fprintf(stderr, "fault-roundtrip: -r wants 1..1000\n");
				return 2;
			}
			break;
		case 'm':
			if (!strcmp(optarg, "all"))
				break;
			memset(want, 0, sizeof(want));
			want[M_BASELINE] = 1;
			if (!strcmp(optarg, "thread"))
				want[M_THREAD] = 1;
			else if (!strcmp(optarg, "sigbus"))
				want[M_SIGBUS] = 1;
			else if (!strcmp(optarg, "pinned"))
				want[M_PINNED] = 1;
			else if (!strcmp(optarg, "split"))
				want[M_SPLIT] = 1;
			else {
				fprintf(stderr, "fault-roundtrip: unknown mode '%s'\n", optarg);
				usage(stderr);
				return 2;
			}
			break;
		case 't':
			watchdog_s = (unsigned)strtoul(optarg, &end, 10);
			if (*end) {
				fprintf(stderr, "fault-roundtrip: -t wants seconds\n");
				return 2;
			}
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}

	page_size = (size_t)sysconf(_SC_PAGESIZE);
	if (page_size > 65536)
		die("page size %zu too large", page_size);

	signal(SIGALRM, on_alarm);
	alarm(watchdog_s);

	struct sigaction sa = { .sa_sigaction = on_sigbus, .sa_flags = SA_SIGINFO };
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGBUS, &sa, NULL) < 0)
		die("sigaction(SIGBUS): %s", strerror(errno));

	/* The source page: a pattern whose byte 0 differs from TOUCH_BYTE. */
	src_page = mmap(NULL, page_size, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (src_page == MAP_FAILED)
		die("mmap: %s", strerror(errno));
	for (size_t j = 0; j < page_size; j++)
		src_page[j] = (unsigned char)(j * 31 + 7 + (j >> 8));
	if (src_page[0] == TOUCH_BYTE)
		src_page[0] ^= 0xff;

	/* Which backends open here, and what they offer. */
	struct cell cells[M_COUNT][B_COUNT];
	int avail[B_COUNT];
	char how[B_COUNT][64];
	uint64_t features[B_COUNT];

	memset(cells, 0, sizeof(cells));
	for (int b = 0; b < B_COUNT; b++) {
		struct uffd_backend_info info;
		char why[224] = "";

		wd_mode = "probe";
		wd_backend = backend_name[b];
		avail[b] = 0;
		features[b] = 0;
		snprintf(how[b], sizeof(how[b]), "-");
		int fd = uffd_open(O_CLOEXEC, backend_id[b]);
		if (fd < 0) {
			snprintf(why, sizeof(why), "unavailable: %s", uffd_strerror());
		} else {
			struct uffdio_api api = { .api = UFFD_API };

			if (uffd_ioctl(fd, UFFDIO_API, &api) < 0)
				snprintf(why, sizeof(why), "failed: UFFDIO_API: %s", strerror(errno));
			else {
				avail[b] = 1;
				features[b] = api.features;
			}
			close(fd);
			if (uffd_backend_probe(backend_id[b], O_CLOEXEC, &info) == 0 && info.available)
				snprintf(how[b], sizeof(how[b]), "%s", info.how);
		}
		for (int m = M_THREAD; m < M_COUNT; m++) {
			struct cell *c = &cells[m][b];

			if (!want[m])
				continue;
			c->ns = calloc((size_t)reps, sizeof(double));
			c->same_cpu = calloc((size_t)reps, sizeof(double));
			if (!c->ns || !c->same_cpu)
				die("out of memory");
			if (!avail[b]) {
				c->status = fd < 0 ? C_UNAVAILABLE : C_FAILED;
				snprintf(c->why, sizeof(c->why), "%s", why);
			} else if (m == M_SIGBUS && !(features[b] & UFFD_FEATURE_SIGBUS)) {
				c->status = C_UNSUPPORTED;
				snprintf(c->why, sizeof(c->why), "unsupported: no UFFD_FEATURE_SIGBUS");
			} else {
				c->status = C_OK;
			}
		}
	}
	toucher_cpu = calloc(npages, sizeof(short));
	handler_cpu = calloc(npages, sizeof(short));
	if (!toucher_cpu || !handler_cpu)
		die("out of memory");
	cells[M_BASELINE][B_KERNEL].ns = calloc((size_t)reps, sizeof(double));
	cells[M_BASELINE][B_KERNEL].same_cpu = calloc((size_t)reps, sizeof(double));
	cells[M_BASELINE][B_KERNEL].status = C_OK;
	if (!cells[M_BASELINE][B_KERNEL].ns || !cells[M_BASELINE][B_KERNEL].same_cpu)
		die("out of memory");

	/* Warm up, then measure; the backends alternate within a repetition. */
	for (int m = 0; m < M_COUNT; m++) {
		if (!want[m])
			continue;
		int nb = m == M_BASELINE ? 1 : B_COUNT;

		wd_mode = mode_name[m];
		for (int rep = -1; rep < reps; rep++) {
			for (int k = 0; k < nb; k++) {
				int b = (rep & 1) && nb == 2 ? nb - 1 - k : k;
				struct cell *c = &cells[m][b];
				char err[192];

				if (c->status != C_OK)
					continue;
				wd_backend = m == M_BASELINE ? "none" : backend_name[b];
				wd_rep = rep;
				double same = 0;
				double ns = run_round((enum mode)m, b, &same, err, sizeof(err));
				if (ns == -2) {
					c->status = C_UNSUPPORTED;
					snprintf(c->why, sizeof(c->why), "unsupported: %s", err);
					continue;
				}
				if (ns < 0) {
					c->status = C_FAILED;
					snprintf(c->why, sizeof(c->why), "failed: %s", err);
					fprintf(stderr, "fault-roundtrip: mode %s, backend %s: %s\n",
						mode_name[m], backend_name[b], err);
					continue;
				}
				if (rep >= 0) {
					c->same_cpu[c->n] = same;
					c->ns[c->n++] = ns;
				}
			}
		}
	}
	wd_mode = "reporting";
	alarm(0);

	int measured[B_COUNT] = { 0, 0 }, failed = 0;
	for (int m = 0; m < M_COUNT; m++)
		for (int b = 0; b < B_COUNT; b++) {
			struct cell *c = &cells[m][b];

			if (c->status == C_OK && c->n == reps) {
				summarize(c);
				if (m != M_BASELINE)
					measured[b] = 1;
			}
			if (c->status == C_FAILED)
				failed = 1;
		}

	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	if (json) {
		printf("{\"bench\":\"fault-roundtrip\",\"pages\":%zu,\"reps\":%d,\"warmup\":1,"
		       "\"page_size\":%zu,\"cpus\":%ld,\"unit\":\"us_per_fault\",\"backends\":{",
		       npages, reps, page_size, ncpu);
		for (int b = 0; b < B_COUNT; b++) {
			printf("%s\"%s\":{\"available\":%s,\"how\":", b ? "," : "", backend_name[b],
			       avail[b] ? "true" : "false");
			json_str(how[b]);
			printf(",\"features\":%llu}", (unsigned long long)features[b]);
		}
		printf("},\"results\":[");
		int first = 1;
		for (int m = 0; m < M_COUNT; m++)
			for (int b = 0; b < B_COUNT; b++) {
				struct cell *c = &cells[m][b];

				if (!want[m] || (m == M_BASELINE && b != B_KERNEL))
					continue;
				printf("%s{\"mode\":\"%s\",\"backend\":\"%s\",\"status\":\"%s\"",
				       first ? "" : ",", mode_name[m],
				       m == M_BASELINE ? "none" : backend_name[b], status_name(c->status));
				first = 0;
				if (c->status == C_OK && c->n == reps) {
					printf(",\"best\":%.3f,\"median\":%.3f,\"max\":%.3f,\"samples\":[",
					       c->best, c->med, c->max);
					for (int i = 0; i < c->n; i++)
						printf("%s%.3f", i ? "," : "", c->ns[i] / 1000);
					printf("]");
					if (HANDLER_MODE(m)) {
						printf(",\"same_cpu_share\":[");
						for (int i = 0; i < c->n; i++)
							printf("%s%.4f", i ? "," : "", c->same_cpu[i]);
						printf("]");
					}
				} else {
					printf(",\"why\":");
					json_str(c->why);
				}
				printf("}");
			}
		printf("],\"user_over_kernel\":{");
		first = 1;
		for (int m = M_THREAD; m < M_COUNT; m++) {
			if (!want[m])
				continue;
			struct cell *k = &cells[m][B_KERNEL], *u = &cells[m][B_USER];
			printf("%s\"%s\":", first ? "" : ",", mode_name[m]);
			first = 0;
			if (k->status == C_OK && u->status == C_OK && k->n == reps && u->n == reps)
				printf("%.3f", u->med / k->med);
			else
				printf("null");
		}
		printf("}}\n");
	} else {
		printf("fault-roundtrip: first touch of %zu pages of %zu bytes, %d repetitions "
		       "after 1 warm-up, %ld CPUs, THP off; kernel uffd via %s\n",
		       npages, page_size, reps, ncpu, how[B_KERNEL]);
		printf("%-20s %-32s %-32s %s\n", "mode", "kernel us/fault (best med max)",
		       "user us/fault (best med max)", "user/kernel");
		for (int m = 0; m < M_COUNT; m++) {
			if (!want[m])
				continue;
			char col[B_COUNT][256];

			for (int b = 0; b < B_COUNT; b++) {
				struct cell *c = &cells[m][b];

				if (m == M_BASELINE && b == B_USER)
					snprintf(col[b], sizeof(col[b]), "(no uffd: same for both)");
				else if (c->status == C_OK && c->n == reps)
					snprintf(col[b], sizeof(col[b]), "%8.2f %8.2f %8.2f",
						 c->best, c->med, c->max);
				else
					snprintf(col[b], sizeof(col[b]), "%s", c->why);
			}
			char ratio[32] = "-";
			struct cell *k = &cells[m][B_KERNEL], *u = &cells[m][B_USER];
			if (m != M_BASELINE && k->status == C_OK && u->status == C_OK &&
			    k->n == reps && u->n == reps)
				snprintf(ratio, sizeof(ratio), "%.2f", u->med / k->med);
			printf("%-20s %-32s %-32s %s\n", mode_label[m], col[B_KERNEL], col[B_USER], ratio);
		}
		int lines = 0;
		for (int m = M_THREAD; m < M_COUNT; m++)
			for (int b = 0; b < B_COUNT; b++) {
				struct cell *c = &cells[m][b];

				if (!HANDLER_MODE(m) || !want[m] || c->status != C_OK || c->n != reps)
					continue;
				if (!lines++)
					printf("faults resolved on the toucher's CPU, per repetition:\n");
				printf("  %-7s %-7s", mode_name[m], backend_name[b]);
				for (int i = 0; i < c->n; i++)
					printf(" %3.0f%%", c->same_cpu[i] * 100);
				printf("\n");
			}
	}
	fflush(stdout);
	for (int m = 0; m < M_COUNT; m++)
		for (int b = 0; b < B_COUNT; b++) {
			free(cells[m][b].ns);
			free(cells[m][b].same_cpu);
		}
	free(toucher_cpu);
	free(handler_cpu);
	munmap(src_page, page_size);
	if (failed)
		fprintf(stderr, "fault-roundtrip: a backend that opens failed to set up a mode "
			"(see the table); exiting 1\n");
	return (measured[B_KERNEL] || measured[B_USER]) && !failed ? 0 : 1;
}
