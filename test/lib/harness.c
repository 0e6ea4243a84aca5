/* SPDX-License-Identifier: MIT */
/* The differential harness: see harness.h. */
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "harness.h"
#include "abi_names.h"
#include "half.h"

enum uffd_backend t_backend;
long t_page;
uint64_t t_api_features, t_api_ioctls;

static int obs_fd = -1;   /* memfd: the observables of this half */
static int note_fd = -1;  /* memfd: failures and the skip reason */
static int failed;
static int obs_paused;    /* inside a t_limit_begin() block */

#define TIME_LIMIT_S 30

static void vwrite(int fd, const char *fmt, va_list ap)
{
	char buf[1024];
	int n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);

	if (n < 0)
		return;
	if (n > (int)sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	if (write(fd, buf, n) != n)
		abort();
}

void t_obs(const char *fmt, ...)
{
	va_list ap;

	if (obs_paused)
		return;
	va_start(ap, fmt);
	vwrite(obs_fd, fmt, ap);
	va_end(ap);
}

static __thread const char *caller_file;
static __thread int caller_line;

static int in_lib(const char *file)
{
	return !strncmp(file, "test/lib/", 9);
}

void t_at(const char *file, int line)
{
	if (!in_lib(file))
		caller_file = file, caller_line = line;
}

/* One failure line: where the scenario stands, and which helper failed. */
static void note_failure(const char *file, int line, const char *msg)
{
	if (in_lib(file) && caller_file)
		dprintf(note_fd, "%s:%d: %s (in %s:%d)\n", caller_file, caller_line,
			msg, file, line);
	else
		dprintf(note_fd, "%s:%d: %s\n", file, line, msg);
}

void t_fail_at(const char *file, int line, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	note_failure(file, line, msg);
	failed = 1;
}

void t_fatal_at(const char *file, int line, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	note_failure(file, line, msg);
	_exit(1);
}

void t_skip(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwrite(note_fd, fmt, ap);
	va_end(ap);
	_exit(77);
}

int t_limit_begin(const char *name)
{
	if (t_backend == UFFD_BACKEND_USER) {
		static const char *named[16];
		size_t i = 0;
		while (i < 16 && named[i] && strcmp(named[i], name))
			i++;
		if (i < 16 && !named[i]) {
			named[i] = name;
			dprintf(note_fd, "documented limit: %s\n", name);
		}
		return 0;
	}
	obs_paused = 1;
	return 1;
}

void t_limit_end(void)
{
	obs_paused = 0;
}

void t_limit(const char *name)
{
	if (t_backend != UFFD_BACKEND_USER)
		return;
	if (failed)
		_exit(1);
	t_skip("documented limit: %s", name);
}

const char *t_errname(int err)
{
	static const struct { int e; const char *n; } names[] = {
		{0, "0"}, {EPERM, "EPERM"}, {ENOENT, "ENOENT"}, {ESRCH, "ESRCH"},
		{EINTR, "EINTR"}, {EIO, "EIO"}, {EBADF, "EBADF"}, {EAGAIN, "EAGAIN"},
		{ENOMEM, "ENOMEM"}, {EACCES, "EACCES"}, {EFAULT, "EFAULT"},
		{EBUSY, "EBUSY"}, {EEXIST, "EEXIST"}, {EXDEV, "EXDEV"},
		{ENODEV, "ENODEV"}, {EINVAL, "EINVAL"}, {ENOSPC, "ENOSPC"},
		{ERANGE, "ERANGE"}, {ENOSYS, "ENOSYS"}, {ENOTTY, "ENOTTY"},
		{EOPNOTSUPP, "EOPNOTSUPP"}, {EHWPOISON, "EHWPOISON"},
		{ESPIPE, "ESPIPE"}, {EPIPE, "EPIPE"},
	};
	static __thread char other[24];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].e == err)
			return names[i].n;
	snprintf(other, sizeof(other), "errno%d", err);
	return other;
}

int t_uffd(int flags)
{
	int fd = uffd_open(flags, t_backend);

	if (fd < 0)
		t_skip("%s backend unavailable: %s", uffd_backend_name(t_backend),
		       uffd_strerror());
	return fd;
}

/* "UFFD_FEATURE_EVENT_FORK, UFFD_FEATURE_MOVE" for a mask (static buffer). */
static const char *t_feature_names(uint64_t mask)
{
	static const struct orc_abi_value names[] = {
#define X(n) { #n, (unsigned long long)(n) },
		ORC_NAMES(X)
#undef X
	};
	static char out[512];
	size_t len = 0;

	out[0] = 0;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strncmp(names[i].name, "UFFD_FEATURE_", 13) || !(names[i].value & mask) ||
		    len >= sizeof(out))
			continue;
		mask &= ~names[i].value;
		len += (size_t)snprintf(out + len, sizeof(out) - len, "%s%s", len ? ", " : "",
					names[i].name);
	}
	if (mask && len < sizeof(out))
		snprintf(out + len, sizeof(out) - len, "%sfeatures 0x%llx", len ? ", " : "",
			 (unsigned long long)mask);
	return out;
}

int (t_uffd_api)(int flags, uint64_t features)
{
	int fd = t_uffd(flags);
	struct uffdio_api api = { .api = UFFD_API, .features = features };

	if (uffd_ioctl(fd, UFFDIO_API, &api) < 0) {
		int err = errno;
		if (err == EINVAL) {
			/* Which features does this backend lack? */
			int probe = t_uffd(flags);
			struct uffdio_api all = { .api = UFFD_API };
			if (uffd_ioctl(probe, UFFDIO_API, &all) == 0 &&
			    (all.features & features) != features &&
			    t_backend == UFFD_BACKEND_USER)
				/* The README lists them; the api-features test
				 * pins which they are. */
				t_limit("features not offered");
			if (uffd_ioctl(probe, UFFDIO_API, &all) == 0 &&
			    (all.features & features) != features)
				t_skip("%s backend lacks %s", uffd_backend_name(t_backend),
				       t_feature_names(features & ~all.features));
		}
		T_FATAL("UFFDIO_API(features 0x%llx): %s",
			(unsigned long long)features, t_errname(err));
	}
	t_api_features = api.features;
	t_api_ioctls = api.ioctls;
	return fd;
}

void *(t_map)(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		T_FATAL("mmap %zu: %s", len, t_errname(errno));
	return p;
}

uint64_t (t_register)(int fd, void *addr, size_t len, uint64_t mode)
{
	struct uffdio_register reg = {
		.range = { .start = (uintptr_t)addr, .len = len }, .mode = mode,
	};

	if (uffd_ioctl(fd, UFFDIO_REGISTER, &reg) < 0)
		T_FATAL("UFFDIO_REGISTER mode 0x%llx: %s",
			(unsigned long long)mode, t_errname(errno));
	return reg.ioctls;
}

void t_fill(void *page, size_t len, unsigned seed)
{
	uint32_t *w = page;
	uint32_t x = seed * 2654435761u + 1;

	for (size_t i = 0; i < len / 4; i++) {
		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		w[i] = x;
	}
}

int t_check(const void *page, size_t len, unsigned seed)
{
	const uint32_t *w = page;
	uint32_t x = seed * 2654435761u + 1;

	for (size_t i = 0; i < len / 4; i++) {
		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		if (w[i] != x)
			return 0;
	}
	return 1;
}

int (t_msg_or)(int fd, int done, struct uffd_msg *msg, int timeout_ms)
{
	struct pollfd p[2] = { { .fd = fd, .events = POLLIN },
			       { .fd = done, .events = POLLIN } };

	for (;;) {
		int n = poll(p, 2, timeout_ms);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			T_FATAL("poll: %s", t_errname(errno));
		if (n == 0)
			return -1;
		/* A message first: an access waiting on it cannot complete. */
		if (!p[0].revents)
			return 0;
		ssize_t r = read(fd, msg, sizeof(*msg));
		if (r == sizeof(*msg))
			return 1;
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		T_FATAL("read uffd: %zd %s", r, t_errname(errno));
	}
}

/* Read a whole memfd back as a string. */
static char *slurp(int fd)
{
	off_t len = lseek(fd, 0, SEEK_END);
	char *s = calloc(1, len + 1);

	if (!s || pread(fd, s, len, 0) != len)
		abort();
	return s;
}

static void one_line(char *s)
{
	size_t n = strlen(s);

	while (n && s[n - 1] == '\n')
		s[--n] = 0;
	for (char *p = s; *p; p++)
		if (*p == '\n')
			*p = ';';
}

/* The first line where two transcripts differ, for the failure message. */
static void first_difference(const char *k, const char *u, char *out, size_t len)
{
	const char *k0 = k;
	int line = 1;

	while (*k && *k == *u) {
		if (*k == '\n')
			line++;
		k++, u++;
	}
	while (k > k0 && k[-1] != '\n')
		k--, u--;
	snprintf(out, len, "observable %d differs: kernel \"%.*s\", user \"%.*s\"",
		 line, (int)strcspn(k, "\n"), k, (int)strcspn(u, "\n"), u);
}

struct half {
	int status;      /* 0 pass, 1 fail, 77 skip */
	char *obs;
	char *note;
};

static void prefix_note(struct half *h, const char *what)
{
	char *n = NULL;

	if (asprintf(&n, "%s%s%s", what, *h->note ? "; " : "", h->note) < 0)
		abort();
	free(h->note);
	h->note = n;
}

static struct half run_half(void (*scenario)(void), enum uffd_backend backend)
{
	struct half h = {0};

	obs_fd = memfd_create("t-obs", MFD_CLOEXEC);
	note_fd = memfd_create("t-note", MFD_CLOEXEC);
	if (obs_fd < 0 || note_fd < 0)
		abort();
	pid_t pid = t_half_start();
	if (pid == 0) {
		t_backend = backend;
		/* T_TIME_LIMIT (seconds) for long runs such as make stress. */
		const char *tl = getenv("T_TIME_LIMIT");
		alarm(tl && atoi(tl) > 0 ? (unsigned)atoi(tl) : TIME_LIMIT_S);
		scenario();
		_exit(failed ? 1 : 0);
	}
	int status = t_half_end(pid);
	h.obs = slurp(obs_fd);
	h.note = slurp(note_fd);
	one_line(h.note);
	if (WIFEXITED(status)) {
		int code = WEXITSTATUS(status);
		h.status = code == 77 ? 77 : code ? 1 : 0;
		if (code != 0 && code != 1 && code != 77) {
			char what[32];
			snprintf(what, sizeof(what), "exit status %d", code);
			prefix_note(&h, what);
		}
	} else {
		int sig = WTERMSIG(status);
		prefix_note(&h, sig == SIGALRM ? "time limit reached" : strsignal(sig));
		h.status = 1;
	}
	close(obs_fd);
	close(note_fd);
	return h;
}

static void report(const char *name, const char *backend, int status, const char *why)
{
	const char *word = status == 0 ? "PASS" : status == 77 ? "SKIP" : "FAIL";

	if (why && *why)
		printf("%s %s/%s: %s\n", word, name, backend, why);
	else
		printf("%s %s/%s\n", word, name, backend);
}

/* The README, for the limits a user half names: next to the build folder
 * the test runs from (<src>/build/test/x), else in the current folder. */
static char *read_readme(void)
{
	char path[4096 + 16];
	ssize_t n = readlink("/proc/self/exe", path, 4096);
	int fd = -1;

	if (n > 0) {
		path[n] = 0;
		for (int up = 0; up < 3; up++) {
			char *slash = strrchr(path, '/');
			if (!slash)
				break;
			*slash = 0;
		}
		strcat(path, "/README.md");
		fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	if (fd < 0)
		fd = open("README.md", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	char *text = slurp(fd);
	close(fd);
	return text;
}

/* The first limit the note names ("documented limit: NAME") that the
 * README does not name in backquotes, or NULL. */
static const char *unknown_limit(const char *note)
{
	static char name[256];
	static const char tag[] = "documented limit: ";
	char *readme = NULL;
	const char *bad = NULL;

	for (const char *p = strstr(note, tag); p && !bad; p = strstr(p + 1, tag)) {
		p += sizeof(tag) - 1;
		snprintf(name, sizeof(name), "`%.*s`", (int)strcspn(p, ";"), p);
		if (!readme)
			readme = read_readme();
		if (!readme || !strstr(readme, name))
			bad = name;
	}
	free(readme);
	return bad;
}

/* The user half may not skip where the kernel half ran, but for a limit;
 * the limits it names must be the README's. */
static void check_user_skip(const struct half *k, struct half *u)
{
	const char *bad = unknown_limit(u->note);
	const char *last = strrchr(u->note, ';');

	last = last ? last + 1 : u->note;
	while (*last == ' ')
		last++;
	if (bad) {
		char what[300];
		snprintf(what, sizeof(what), "names a limit the README's table does not: %s", bad);
		prefix_note(u, what);
		u->status = 1;
	} else if (k->status == 0 && u->status == 77 &&
		   strncmp(last, "documented limit: ", 18)) {
		prefix_note(u, "skipped where the kernel half ran, naming no limit");
		u->status = 1;
	}
}

/* The half T_ONLY leaves out. */
static struct half not_run(void)
{
	struct half h = { 77, strdup(""), strdup("not run (T_ONLY)") };

	if (!h.obs || !h.note)
		abort();
	return h;
}

int t_main(const char *name, void (*scenario)(void))
{
	t_page = sysconf(_SC_PAGESIZE);
	setvbuf(stdout, NULL, _IOLBF, 0);
	t_half_signals();

	/* T_ONLY=kernel|user runs one half (for a debugger). */
	const char *only = getenv("T_ONLY");
	struct half k = only && !strcmp(only, "user") ? not_run()
			: run_half(scenario, UFFD_BACKEND_KERNEL);
	report(name, "kernel", k.status, k.note);

	struct half u = only && !strcmp(only, "kernel") ? not_run()
			: run_half(scenario, UFFD_BACKEND_USER);
	if (!(only && !strcmp(only, "kernel")))
		check_user_skip(&k, &u);
	if (u.status == 0 && k.status == 0 && strcmp(k.obs, u.obs)) {
		char diff[1024];
		first_difference(k.obs, u.obs, diff, sizeof(diff));
		report(name, "user", 1, diff);
		u.status = 1;
	} else {
		report(name, "user", u.status, u.note);
	}
	if (getenv("T_VERBOSE"))
		fprintf(stderr, "--- kernel observables\n%s--- user observables\n%s",
			k.obs, u.obs);
	int rc = k.status == 1 || u.status == 1 ? 1 : 0;
	free(k.obs), free(k.note), free(u.obs), free(u.note);
	return rc;
}
