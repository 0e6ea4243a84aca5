/* SPDX-License-Identifier: MIT */
/* The differential fuzzer's core: see fuzz.h. */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"

#define PAGES   16
#define MAXOPS  64
#define PAD     (PAGES + 1)   /* pages of PROT_NONE around the regions */

struct region {
	char *base;
	size_t len;
	int mfd;
};

static struct {
	const uint8_t *data;
	size_t len, pos;
	char *out;
	size_t cap, used;
	long page;
	int fd, dupfd;
	struct region r[2];
	char *src;        /* 4 pages of a pattern */
	char *hole;       /* an address with nothing mapped */
	char *span;       /* the reservation holding them all */
	size_t span_len;
} F;

static uint8_t get8(void)
{
	return F.pos < F.len ? F.data[F.pos++] : 0;
}

static void emit(const char *fmt, ...)
{
	va_list ap;

	if (F.used + 1 >= F.cap)
		return;
	va_start(ap, fmt);
	int n = vsnprintf(F.out + F.used, F.cap - F.used, fmt, ap);
	va_end(ap);
	if (n > 0)
		F.used += (size_t)n < F.cap - F.used ? (size_t)n : F.cap - F.used - 1;
}

/* An address as the transcript names it: region and offset, or a name. */
static void name_addr(uint64_t a, char *buf, size_t len)
{
	for (int i = 0; i < 2; i++)
		if (a >= (uintptr_t)F.r[i].base && a <= (uintptr_t)F.r[i].base + F.r[i].len) {
			snprintf(buf, len, "r%d+0x%llx", i,
				 (unsigned long long)(a - (uintptr_t)F.r[i].base));
			return;
		}
	if (a >= (uintptr_t)F.src && a <= (uintptr_t)F.src + 4 * F.page)
		snprintf(buf, len, "src+0x%llx", (unsigned long long)(a - (uintptr_t)F.src));
	else if (a == (uintptr_t)F.hole)
		snprintf(buf, len, "hole");
	else
		snprintf(buf, len, "0x%llx", (unsigned long long)a);
}

/* An address argument: mostly in a region, sometimes a boundary value. */
static uint64_t addr_arg(void)
{
	uint8_t k = get8();
	switch (k >> 5) {
	case 0:
		return 0;
	case 1:
		return (uintptr_t)F.hole;
	case 2:
		return ((uint64_t)1 << 47) - (uint64_t)F.page * (k & 3);
	default: {
		struct region *r = &F.r[k & 1];
		uint64_t a = (uintptr_t)r->base + (uint64_t)(get8() % (PAGES + 1)) * F.page;
		if ((k & 0x1e) == 0x1e)
			a += 8;   /* misaligned */
		return a;
	}
	}
}

static uint64_t len_arg(void)
{
	uint8_t k = get8();
	switch (k >> 5) {
	case 0:
		return 0;
	case 1:
		return (k & 1) ? 1 : (uint64_t)F.page + 1;
	case 2:
		return (k & 1) ? ~(uint64_t)0 - (uint64_t)F.page + 1 : (uint64_t)1 << 40;
	default:
		return (uint64_t)(1 + k % PAGES) * F.page;
	}
}

static uint64_t src_arg(void)
{
	uint8_t k = get8();
	switch (k & 7) {
	case 0:
		return 0;
	case 1:
		return (uintptr_t)F.hole;
	case 2:
		return (uintptr_t)F.r[(k >> 3) & 1].base + (uint64_t)((k >> 4) % PAGES) * F.page;
	default:
		return (uintptr_t)F.src + (uint64_t)((k >> 3) & 3) * F.page;
	}
}

static void result(const char *what, int ret)
{
	emit("%s = %d %s", what, ret, ret < 0 ? strerrorname_np(errno) : "");
}

/* "what(addr, len)" with the addresses named. */
static void emit_call(const char *what, uint64_t a, uint64_t len, uint64_t mode)
{
	char at[64];

	name_addr(a, at, sizeof(at));
	emit("%s(%s, 0x%llx, mode 0x%llx) ", what, at, (unsigned long long)len,
	     (unsigned long long)mode);
}

static void ioctl_op(const char *what, unsigned long req, void *arg)
{
	errno = 0;
	int ret = uffd_ioctl(F.fd, req, arg);
	result(what, ret);
}

/* ---- touching memory: a SIGBUS (UFFD_FEATURE_SIGBUS) ends the access ---- */
static sigjmp_buf touch_jb;
static volatile int bus_code;
static volatile uintptr_t bus_addr;

static void on_bus(int sig, siginfo_t *si, void *uc)
{
	(void)sig, (void)uc;
	bus_code = si->si_code;
	bus_addr = (uintptr_t)si->si_addr;
	siglongjmp(touch_jb, 1);
}

/* Read (or write val to) *p; emits what happened. */
static void touch(volatile char *p, int write, char val)
{
	char name[64];

	name_addr((uintptr_t)p, name, sizeof(name));
	if (sigsetjmp(touch_jb, 1)) {
		char at[64];
		name_addr(bus_addr, at, sizeof(at));
		emit("%s %s: SIGBUS code %d at %s\n", write ? "write" : "read", name, bus_code, at);
		return;
	}
	if (write) {
		*p = val;
		emit("write %s: ok\n", name);
	} else {
		emit("read %s: 0x%02x\n", name, (unsigned char)*p);
	}
}

/* ---- the operations ---- */
static void op_register(void)
{
	struct uffdio_register r = { { addr_arg(), len_arg() }, get8() & 0xf, 0 };
	emit_call("", r.range.start, r.range.len, r.mode);
	ioctl_op("REGISTER", UFFDIO_REGISTER, &r);
	emit(" ioctls 0x%llx\n", (unsigned long long)r.ioctls);
}

static void op_range(const char *what, unsigned long req)
{
	struct uffdio_range r = { addr_arg(), len_arg() };
	emit_call("", r.start, r.len, 0);
	ioctl_op(what, req, &r);
	emit("\n");
}

static void op_copy(void)
{
	struct uffdio_copy c = { addr_arg(), src_arg(), len_arg(), get8() & 7, 0 };
	char from[64];
	name_addr(c.src, from, sizeof(from));
	emit("from %s ", from);
	emit_call("", c.dst, c.len, c.mode);
	ioctl_op("COPY", UFFDIO_COPY, &c);
	emit(" copy %lld\n", (long long)c.copy);
}

static void op_zeropage(void)
{
	struct uffdio_zeropage z = { { addr_arg(), len_arg() }, get8() & 3, 0 };
	emit_call("", z.range.start, z.range.len, z.mode);
	ioctl_op("ZEROPAGE", UFFDIO_ZEROPAGE, &z);
	emit(" zeropage %lld\n", (long long)z.zeropage);
}

static void op_writeprotect(void)
{
	struct uffdio_writeprotect w = { { addr_arg(), len_arg() }, get8() & 7 };
	emit_call("", w.range.start, w.range.len, w.mode);
	ioctl_op("WRITEPROTECT", UFFDIO_WRITEPROTECT, &w);
	emit("\n");
}

static void op_continue(void)
{
	struct uffdio_continue c = { { addr_arg(), len_arg() }, get8() & 7, 0 };
	emit_call("", c.range.start, c.range.len, c.mode);
	ioctl_op("CONTINUE", UFFDIO_CONTINUE, &c);
	emit(" mapped %lld\n", (long long)c.mapped);
}

static void op_poison(void)
{
	struct uffdio_poison p = { { addr_arg(), len_arg() }, get8() & 3, 0 };
	emit_call("", p.range.start, p.range.len, p.mode);
	ioctl_op("POISON", UFFDIO_POISON, &p);
	emit(" updated %lld\n", (long long)p.updated);
}

static void op_move(void)
{
	struct uffdio_move m = { addr_arg(), addr_arg(), len_arg(), get8() & 7, 0 };
	char from[64];
	name_addr(m.src, from, sizeof(from));
	emit("from %s ", from);
	emit_call("", m.dst, m.len, m.mode);
	ioctl_op("MOVE", UFFDIO_MOVE, &m);
	emit(" move %lld\n", (long long)m.move);
}

static void op_touch(int write)
{
	struct region *r = &F.r[get8() & 1];
	long off = (long)(get8() % PAGES) * F.page + (get8() & 0x3f);
	touch(r->base + off, write, (char)(get8() | 1));
}

static void op_generic(void)
{
	static const unsigned long reqs[] = {
		FIONBIO, FIOCLEX, FIONCLEX, FIOASYNC, FIONREAD, FIOQSIZE, TCGETS,
		_IOWR(UFFDIO, 0x3f, struct uffdio_range), _IO(UFFDIO, 0), 0,
	};
	uint8_t k = get8();
	unsigned long req = reqs[k % (sizeof(reqs) / sizeof(reqs[0]))];
	/* FIONBIO always sets O_NONBLOCK again: a read must never block. */
	long long arg = req == FIONBIO ? 1 : (k >> 4) & 1;
	errno = 0;
	int ret = uffd_ioctl(F.fd, req, (k & 0x80) ? NULL : &arg);
	emit("ioctl 0x%lx%s = %d %s\n", req, (k & 0x80) ? " NULL" : "", ret,
	     ret < 0 ? strerrorname_np(errno) : "");
}

static void op_null_arg(void)
{
	static const unsigned long reqs[] = {
		UFFDIO_API, UFFDIO_REGISTER, UFFDIO_UNREGISTER, UFFDIO_WAKE, UFFDIO_COPY,
		UFFDIO_ZEROPAGE, UFFDIO_WRITEPROTECT, UFFDIO_CONTINUE, UFFDIO_POISON,
		UFFDIO_MOVE,
	};
	uint8_t k = get8();
	unsigned long req = reqs[k % (sizeof(reqs) / sizeof(reqs[0]))];
	errno = 0;
	int ret = uffd_ioctl(F.fd, req, (k & 0x80) ? (void *)F.hole : NULL);
	emit("ioctl 0x%lx on a bad pointer = %d %s\n", req, ret,
	     ret < 0 ? strerrorname_np(errno) : "");
}

static void op_read(void)
{
	struct uffd_msg m[4];
	size_t n = (size_t)(1 + get8() % 4) * sizeof(m[0]);
	/* A read must never block the program. */
	if (!(fcntl(F.fd, F_GETFL) & O_NONBLOCK)) {
		emit("read skipped: the fd is blocking\n");
		return;
	}
	errno = 0;
	ssize_t got = read(F.fd, m, n);
	emit("read %zu = %zd %s\n", n, got, got < 0 ? strerrorname_np(errno) : "");
	for (ssize_t i = 0; i < got / (ssize_t)sizeof(m[0]); i++) {
		char at[64];
		name_addr(m[i].arg.pagefault.address, at, sizeof(at));
		emit("  msg event 0x%x flags 0x%llx at %s\n", m[i].event,
		     (unsigned long long)m[i].arg.pagefault.flags, at);
	}
}

static void op_poll(void)
{
	struct pollfd p = { .fd = F.fd, .events = POLLIN | POLLOUT };
	int n = poll(&p, 1, 0);
	emit("poll = %d revents 0x%x\n", n, p.revents);
}

static void op_dup(void)
{
	if (F.dupfd >= 0) {
		emit("close dup = %d\n", close(F.dupfd));
		F.dupfd = -1;
		return;
	}
	F.dupfd = dup(F.fd);
	emit("dup: %d\n", F.dupfd >= 0);
	/* The dup answers as the original does. */
	struct uffdio_range r = { (uintptr_t)F.r[0].base, (uint64_t)F.page };
	errno = 0;
	int ret = uffd_ioctl(F.dupfd, UFFDIO_WAKE, &r);
	emit("WAKE through the dup = %d %s\n", ret, ret < 0 ? strerrorname_np(errno) : "");
}

static void op_api_again(void)
{
	struct uffdio_api a = { UFFD_API, (uint64_t)get8() << (get8() % 56), 0 };
	ioctl_op("API again", UFFDIO_API, &a);
	emit(" api 0x%llx features 0x%llx ioctls 0x%llx\n", (unsigned long long)a.api,
	     (unsigned long long)a.features, (unsigned long long)a.ioctls);
}

/* The features a program may ask for; SIGBUS always (touches never block). */
static const uint64_t optional[] = {
	UFFD_FEATURE_PAGEFAULT_FLAG_WP, UFFD_FEATURE_MISSING_SHMEM, UFFD_FEATURE_THREAD_ID,
	UFFD_FEATURE_MINOR_SHMEM, UFFD_FEATURE_EXACT_ADDRESS,
	UFFD_FEATURE_WP_HUGETLBFS_SHMEM, UFFD_FEATURE_WP_UNPOPULATED, UFFD_FEATURE_POISON,
	UFFD_FEATURE_MOVE, UFFD_FEATURE_WP_ASYNC,
};

static int setup(enum uffd_backend backend)
{
	F.page = sysconf(_SC_PAGESIZE);
	F.dupfd = -1;
	F.fd = uffd_open(O_CLOEXEC | O_NONBLOCK, backend);
	if (F.fd < 0)
		return -1;
	uint16_t pick = (uint16_t)(get8() | get8() << 8);
	uint64_t features = UFFD_FEATURE_SIGBUS;
	for (size_t i = 0; i < sizeof(optional) / sizeof(optional[0]); i++)
		if (pick & (1u << i))
			features |= optional[i];
	struct uffdio_api api = { UFFD_API, features, 0 };
	ioctl_op("API", UFFDIO_API, &api);
	emit(" features asked 0x%llx\n", (unsigned long long)features);

	/* One reservation holds everything, at fixed offsets, so that an
	 * address past a region (up to PAGES pages past its end) names the
	 * same memory on both backends: [pad][r1][r0][src][pad with the hole].
	 * Placed by the kernel, the user backend's monitor thread stack (made
	 * at its first open) moved the neighbours (found-1-83: REGISTER past
	 * r0 reached libc's file mapping on one backend, that stack on the
	 * other).  The pads are PROT_NONE anonymous memory; the last one
	 * reaches PAGES pages past the hole. */
	F.span_len = (size_t)(PAD + 2 * PAGES + 4 + 2 * PAD) * F.page;
	F.span = mmap(NULL, F.span_len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		      -1, 0);
	if (F.span == MAP_FAILED)
		abort();
	F.r[0].len = F.r[1].len = PAGES * F.page;
	F.r[1].base = F.span + PAD * F.page;
	F.r[0].base = F.r[1].base + F.r[1].len;
	F.src = F.r[0].base + F.r[0].len;
	F.hole = F.src + (4 + PAD / 2) * F.page;
	F.r[1].mfd = memfd_create("fuzz", MFD_CLOEXEC);
	if (F.r[1].mfd < 0 || ftruncate(F.r[1].mfd, (off_t)F.r[1].len))
		abort();
	F.r[0].mfd = -1;
	if (mmap(F.src, 4 * F.page, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED ||
	    mmap(F.r[0].base, F.r[0].len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED ||
	    mmap(F.r[1].base, F.r[1].len, PROT_READ | PROT_WRITE,
		 ((pick & 0x8000) ? MAP_PRIVATE : MAP_SHARED) | MAP_FIXED, F.r[1].mfd, 0) == MAP_FAILED ||
	    munmap(F.hole, F.page))
		abort();
	for (long i = 0; i < 4 * F.page; i++)
		F.src[i] = (char)(i / F.page * 16 + i % 13 + 1);
	/* Some pages hold data before anything is registered. */
	uint16_t present = (uint16_t)(get8() | get8() << 8);
	for (int i = 0; i < PAGES; i++)
		if (present & (1u << i)) {
			F.r[0].base[i * F.page] = (char)(0x40 + i);
			F.r[1].base[i * F.page] = (char)(0x60 + i);
		}
	return 0;
}

/* The end: every page as a reader sees it, then everything released. */
static void page_sum(int i, int p)
{
	volatile char *at = F.r[i].base + p * F.page;

	if (sigsetjmp(touch_jb, 1)) {
		emit("r%d page %d: SIGBUS code %d\n", i, p, bus_code);
		return;
	}
	unsigned sum = 0;
	for (long k = 0; k < F.page; k += 64)
		sum = sum * 31 + (unsigned char)at[k];
	emit("r%d page %d: sum 0x%x\n", i, p, sum);
}

static void teardown(void)
{
	for (int i = 0; i < 2; i++)
		for (int p = 0; p < PAGES; p++)
			page_sum(i, p);
	if (F.dupfd >= 0)
		close(F.dupfd);
	close(F.fd);
	munmap(F.span, F.span_len);
	close(F.r[1].mfd);
}

int fuzz_run(const uint8_t *data, size_t len, enum uffd_backend backend, char *out, size_t cap)
{
	struct sigaction sa = { .sa_sigaction = on_bus, .sa_flags = SA_SIGINFO | SA_NODEFER }, old;

	memset(&F, 0, sizeof(F));
	F.data = data;
	F.len = len;
	F.out = out;
	F.cap = cap;
	out[0] = 0;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, &old);
	if (setup(backend) < 0) {
		sigaction(SIGBUS, &old, NULL);
		return -1;
	}
	for (int n = 0; n < MAXOPS && F.pos < F.len; n++) {
		switch (get8() % 18) {
		case 0: op_register(); break;
		case 1: op_range("UNREGISTER", UFFDIO_UNREGISTER); break;
		case 2: op_copy(); break;
		case 3: op_zeropage(); break;
		case 4: op_writeprotect(); break;
		case 5: op_range("WAKE", UFFDIO_WAKE); break;
		case 6: op_continue(); break;
		case 7: op_poison(); break;
		case 8: op_move(); break;
		case 9: op_touch(0); break;
		case 10: op_touch(1); break;
		case 11: op_generic(); break;
		case 12: op_null_arg(); break;
		case 13: op_read(); break;
		case 14: op_poll(); break;
		case 15: op_dup(); break;
		case 16: op_api_again(); break;
		default: op_register(); break;
		}
	}
	teardown();
	sigaction(SIGBUS, &old, NULL);
	return 0;
}

int fuzz_compare(const uint8_t *data, size_t len)
{
	static char k[1 << 16], u[1 << 16];

	if (fuzz_run(data, len, UFFD_BACKEND_KERNEL, k, sizeof(k)) < 0 ||
	    fuzz_run(data, len, UFFD_BACKEND_USER, u, sizeof(u)) < 0)
		return 77;
	if (!strcmp(k, u))
		return 0;
	size_t i = 0, line = 0;
	while (k[i] && k[i] == u[i])
		i++;
	for (size_t j = 0; j < i; j++)
		if (k[j] == '\n')
			line = j + 1;
	fprintf(stderr, "transcripts differ at:\n  kernel: %.*s\n  user:   %.*s\n",
		(int)strcspn(k + line, "\n"), k + line, (int)strcspn(u + line, "\n"), u + line);
	if (getenv("FUZZ_VERBOSE"))
		fprintf(stderr, "--- kernel\n%s--- user\n%s", k, u);
	return 1;
}
