/* SPDX-License-Identifier: MIT */
/* Helpers for the oracle tests: see oracle.h. */
#include <setjmp.h>
#include <signal.h>
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "oracle.h"

int (orc_memfd)(size_t len)
{
	int fd = memfd_create("orc", MFD_CLOEXEC);

	if (fd < 0 || ftruncate(fd, len) < 0)
		T_FATAL("memfd of %zu bytes: %s", len, t_errname(errno));
	return fd;
}

void (orc_each_memory)(unsigned kinds, size_t len,
		       void (*fn)(const char *kind, char *mem, void *arg), void *arg)
{
	static const struct { unsigned kind; const char *name; int flags; } all[] = {
		{ ORC_ANON, "anonymous", MAP_PRIVATE },
		{ ORC_SHMEM_SHARED, "shmem shared", MAP_SHARED },
		{ ORC_SHMEM_PRIVATE, "shmem private", MAP_PRIVATE },
	};

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		if (!(kinds & all[i].kind))
			continue;
		const int mfd = all[i].kind == ORC_ANON ? -1 : orc_memfd(len);
		char *mem = orc_mmap(len, PROT_READ | PROT_WRITE, all[i].flags, mfd);
		fn(all[i].name, mem, arg);
		munmap(mem, len);
		if (mfd >= 0)
			close(mfd);
	}
}

void *(orc_mmap)(size_t len, int prot, int flags, int fd)
{
	void *p = mmap(NULL, len, prot, flags | (fd < 0 ? MAP_ANONYMOUS : 0), fd, 0);

	if (p == MAP_FAILED)
		T_FATAL("mmap %zu prot %d flags 0x%x: %s", len, prot, flags,
			t_errname(errno));
	return p;
}

static void *toucher(void *arg)
{
	struct orc_toucher *t = arg;

	if (t->write) {
		*t->addr = t->wval;
		t->rval = t->wval;
	} else {
		t->rval = *t->addr;
	}
	uint64_t one = 1;
	if (t->done_fd >= 0 && write(t->done_fd, &one, sizeof(one)) != sizeof(one))
		abort();
	return NULL;
}

void (orc_touch_start)(struct orc_toucher *t, void *addr, int write, char wval)
{
	t->addr = addr;
	t->write = write;
	t->wval = wval;
	t->rval = 0;
	/* -1 when out of descriptors (fd-exhaustion): only
	 * orc_touch_or_msg() needs it. */
	t->done_fd = eventfd(0, EFD_CLOEXEC);
	errno = pthread_create(&t->th, NULL, toucher, t);
	if (errno)
		T_FATAL("pthread_create: %s", t_errname(errno));
}

char orc_touch_join(struct orc_toucher *t)
{
	pthread_join(t->th, NULL);
	if (t->done_fd >= 0)
		close(t->done_fd);
	return t->rval;
}

int (orc_touch_or_msg)(struct orc_toucher *t, int fd, struct uffd_msg *msg)
{
	if (t->done_fd < 0)
		T_FATAL("the toucher has no eventfd (out of descriptors)");
	int first = t_msg_or(fd, t->done_fd, msg, 5000);
	if (first < 0)
		T_FATAL("neither a message nor the access within 5 s");
	return first;
}

void (orc_wait_msg)(int fd, struct uffd_msg *msg)
{
	if (!t_read_msg(fd, msg, 5000))
		T_FATAL("no uffd message within 5 s");
}

static int child_pipe = -1;
static char *child_base;

static void child_handler(int sig, siginfo_t *si, void *uc)
{
	struct orc_child c = {
		.signo = sig, .code = si->si_code,
		.page = ((char *)si->si_addr - child_base) / t_page,
	};

	(void)uc;
	if (write(child_pipe, &c, sizeof(c)) != sizeof(c))
		_exit(2);
	_exit(0);
}

/* Fork; the child runs fn with the write end of a pipe and stops within
 * alarm_s seconds; the parent reads up to len bytes of its report and
 * reaps it.  Returns the bytes read, with the wait status in *status. */
static size_t fork_and_collect(void (*fn)(void *arg, int report_fd), void *arg,
			       unsigned alarm_s, void *out, size_t len, int *status)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC) < 0)
		T_FATAL("pipe: %s", t_errname(errno));
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		T_FATAL("fork: %s", t_errname(errno));
	if (pid == 0) {
		close(p[0]);
		alarm(alarm_s);
		fn(arg, p[1]);
		_exit(0);
	}
	close(p[1]);
	size_t got = 0;
	while (got < len) {
		ssize_t n = read(p[0], (char *)out + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += n;
	}
	close(p[0]);
	while (waitpid(pid, status, 0) < 0)
		if (errno != EINTR)
			T_FATAL("waitpid: %s", t_errname(errno));
	return got;
}

struct touch {
	void *base, *addr;
	int wr;
};

static void touch_child(void *arg, int report)
{
	const struct touch *t = arg;
	struct sigaction sa = { .sa_sigaction = child_handler, .sa_flags = SA_SIGINFO };
	struct orc_child c = {0};

	child_pipe = report;
	child_base = t->base;
	/* SIGSEGV keeps its handler (libuffd's, on the user backend): a child
	 * that dies of it is reported from its wait status. */
	sigaction(SIGBUS, &sa, NULL);
	if (t->wr) {
		*(volatile char *)t->addr = 1;
		c.value = 1;
	} else {
		c.value = *(volatile char *)t->addr;
	}
	if (write(report, &c, sizeof(c)) != sizeof(c))
		_exit(2);
}

void (orc_child_touch)(void *base, void *addr, int wr, struct orc_child *out)
{
	struct touch t = { base, addr, wr };
	int status;

	memset(out, 0, sizeof(*out));
	size_t n = fork_and_collect(touch_child, &t, 5, out, sizeof(*out), &status);
	out->status = status;
	if (n != sizeof(*out) && WIFSIGNALED(status)) {
		out->signo = WTERMSIG(status);
		out->page = -1;
		return;
	}
	if (n != sizeof(*out))
		T_FATAL("the touching child reported nothing (wait status 0x%x)", status);
}

int (orc_in_child_status)(void (*fn)(void *arg, int report_fd), void *arg,
			  void *out, size_t len, int *status)
{
	return (int)fork_and_collect(fn, arg, 10, out, len, status);
}

int (orc_in_child)(void (*fn)(void *arg, int report_fd), void *arg,
		 void *out, size_t len)
{
	int status;
	size_t got = fork_and_collect(fn, arg, 10, out, len, &status);

	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return -1;
	return (int)got;
}

void (orc_ioctl_case)(const char *what, int fd, unsigned long request, void *arg,
		    const char *field, const __s64 *out, int want)
{
	errno = 0;
	int r = uffd_ioctl(fd, request, arg);
	int e = errno;

	T_OBS("%s: %d %s %s %lld", what, r, r ? t_errname(e) : "ok", field, (long long)*out);
	if (want == 0 && r != 0)
		t_fail_at(__FILE__, __LINE__, "%s: %s", what, t_errname(e));
	if (want != 0 && (r != -1 || e != want))
		t_fail_at(__FILE__, __LINE__, "%s: %d %s, expected %s", what, r,
			  t_errname(e), t_errname(want));
}

int orc_nothing_queued(int fd)
{
	struct uffd_msg m;
	return read(fd, &m, sizeof(m)) < 0 && errno == EAGAIN;
}

int orc_file_is(int mfd, long pg, const char *want)
{
	char *buf = t_map(t_page);
	int same = pread(mfd, buf, t_page, pg * t_page) == t_page &&
		   !memcmp(buf, want, t_page);
	munmap(buf, t_page);
	return same;
}

void (orc_fault_msg)(int fd, struct uffd_msg *msg, const char *what, char *base)
{
	if (!t_read_msg(fd, msg, 5000))
		T_FATAL("%s: no message", what);
	T_OBS("%s: event 0x%x flags 0x%llx page %ld offset %ld", what, msg->event,
	      (unsigned long long)msg->arg.pagefault.flags,
	      ORC_PG((char *)(uintptr_t)msg->arg.pagefault.address, base),
	      (long)(msg->arg.pagefault.address % t_page));
	T_EXPECT_EQ(msg->event, UFFD_EVENT_PAGEFAULT);
	T_EXPECT_EQ(msg->arg.pagefault.address % t_page, 0);
}

static long read_long(const char *path, const char *key)
{
	char line[256];
	long v = -1;
	FILE *f = fopen(path, "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!key) {
			v = strtol(line, NULL, 10);
			break;
		}
		if (!strncmp(line, key, strlen(key))) {
			v = strtol(line + strlen(key), NULL, 10);
			break;
		}
	}
	fclose(f);
	return v;
}

static int write_long(const char *path, long v)
{
	FILE *f = fopen(path, "we");

	if (!f)
		return -1;
	int ok = fprintf(f, "%ld\n", v) > 0;
	return fclose(f) == 0 && ok ? 0 : -1;
}

#define NR_HUGEPAGES "/proc/sys/vm/nr_hugepages"

/* Test programs that run at the same time (several suites on one machine,
 * make stress beside make test) each add their own huge pages and take
 * back as many, never an absolute count that would give back another's:
 * a fault in its hugetlb mapping would then get SIGBUS.  The lock covers
 * only the read-modify-write of the count (flock: it goes with a holder
 * that dies). */
static int hugepages_lock(void)
{
	int fd = open("/tmp/libuffd-test-nr-hugepages.lock",
		      O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

	while (fd >= 0 && flock(fd, LOCK_EX) < 0 && errno == EINTR)
		;
	return fd;
}

static void hugepages_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}

long (orc_hugepages_reserve)(long n, long *reserved)
{
	long hp = read_long("/proc/meminfo", "Hugepagesize:") * 1024;
	int lock = hugepages_lock();
	long old = read_long(NR_HUGEPAGES, NULL);

	*reserved = 0;
	if (hp <= 0 || old < 0) {
		hugepages_unlock(lock);
		t_skip("no hugetlb support (Hugepagesize %ld, nr_hugepages %ld)", hp, old);
	}
	if (write_long(NR_HUGEPAGES, old + n) < 0) {
		int err = errno;
		hugepages_unlock(lock);
		t_skip("cannot raise " NR_HUGEPAGES ": %s", t_errname(err));
	}
	/* The kernel may find fewer free huge pages than asked (fragmented
	 * memory): the count read back says how many it made. */
	long now = read_long(NR_HUGEPAGES, NULL);
	if (now < old + n) {
		write_long(NR_HUGEPAGES, old);
		hugepages_unlock(lock);
		t_skip("could reserve only %ld huge pages", now - old);
	}
	hugepages_unlock(lock);
	*reserved = n;
	return hp;
}

void (orc_hugepages_release)(long reserved)
{
	int lock = hugepages_lock();
	long now = read_long(NR_HUGEPAGES, NULL);

	if (now < reserved || write_long(NR_HUGEPAGES, now - reserved) < 0) {
		hugepages_unlock(lock);
		t_fail_at(__FILE__, __LINE__, "could not give the huge pages back");
		return;
	}
	hugepages_unlock(lock);
}

long orc_max_map_count(void)
{
	FILE *f = fopen("/proc/sys/vm/max_map_count", "r");
	long n = -1;

	if (f && fscanf(f, "%ld", &n) != 1)
		n = -1;
	if (f)
		fclose(f);
	return n;
}

int orc_fds_open(void)
{
	int n = 0;

	for (int fd = 0; fd < 1024; fd++)
		n += fcntl(fd, F_GETFD) >= 0;
	return n;
}

/* orc_bus_touch(): the access jumps back here on SIGBUS. */
static sigjmp_buf bus_jump;
static volatile sig_atomic_t bus_armed;

static void bus_back(int sig, siginfo_t *si, void *uc)
{
	(void)si, (void)uc;
	if (bus_armed)
		siglongjmp(bus_jump, 1);
	signal(sig, SIG_DFL);   /* not ours: the half dies of it */
}

const char *orc_bus_touch(void *addr, int write, char out[8])
{
	struct sigaction sa = { .sa_sigaction = bus_back, .sa_flags = SA_SIGINFO | SA_NODEFER };
	volatile char *p = addr;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, NULL);
	strcpy(out, "BUS");
	if (sigsetjmp(bus_jump, 1)) {
		bus_armed = 0;
		return out;
	}
	bus_armed = 1;
	if (write)
		*p = 0x5a;
	snprintf(out, 8, "0x%02x", (unsigned char)*p);
	bus_armed = 0;
	return out;
}

void orc_bus_probe(const char *what, char *mem, int n)
{
	char line[512], r[8], w[8];
	size_t used = 0;

	for (int i = 0; i < n; i++) {
		orc_bus_touch(mem + i * t_page, 0, r);
		orc_bus_touch(mem + i * t_page, 1, w);
		used += (size_t)snprintf(line + used, sizeof(line) - used, " %s/%s", r, w);
	}
	T_OBS("%s:%s", what, line);
}

/* orc_as_exhaust(): the address space reserved, a block a slot. */
#define MAXBALLAST 64
static void *ballast[MAXBALLAST];
static size_t ballast_len[MAXBALLAST];
static int nballast;

static long vm_size(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "re");

	T_ASSERT(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmSize: %ld kB", &kb) == 1)
			break;
	fclose(f);
	T_ASSERT(kb > 0);
	return kb * 1024;
}

static void set_soft_limit(rlim_t lim)
{
	struct rlimit rl;
	T_ASSERT(getrlimit(RLIMIT_AS, &rl) == 0);
	rl.rlim_cur = lim < rl.rlim_max ? lim : rl.rlim_max;
	T_ASSERT(setrlimit(RLIMIT_AS, &rl) == 0);
}

void (orc_as_exhaust)(void)
{
	set_soft_limit((rlim_t)vm_size() + (64 << 20));
	for (size_t sz = (size_t)1 << 30; sz >= (size_t)t_page; sz /= 2)
		for (void *p; nballast < MAXBALLAST &&
		     (p = mmap(NULL, sz, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
			       -1, 0)) != MAP_FAILED;) {
			ballast[nballast] = p;
			ballast_len[nballast++] = sz;
		}
	void *p = mmap(NULL, t_page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	T_ASSERT(p == MAP_FAILED && errno == ENOMEM);
}

void orc_as_give_back(void)
{
	while (nballast > 0) {
		nballast--;
		munmap(ballast[nballast], ballast_len[nballast]);
	}
}

void (orc_as_restore)(void)
{
	orc_as_give_back();
	set_soft_limit(RLIM_INFINITY);
}
