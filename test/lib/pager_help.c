/* SPDX-License-Identifier: MIT */
/* Helpers for the pager tests: see pager_help.h. */
#include <dirent.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>

#include "pager_help.h"

struct uffd_pager *(tp_pager)(unsigned threads, unsigned readahead, unsigned flags)
{
	struct uffd_pager_config cfg = { .backend = t_backend, .threads = threads,
					 .readahead = readahead, .flags = flags };
	struct uffd_pager *p = uffd_pager_create(&cfg);

	int fd = p ? -1 : uffd_open(O_CLOEXEC, t_backend);
	if (fd >= 0)
		close(fd);
	if (!p && fd < 0)
		t_skip("%s backend unavailable: %s", uffd_backend_name(t_backend),
		       uffd_strerror());
	if (!p)
		T_FATAL("uffd_pager_create: %s", t_errname(errno));
	if (uffd_pager_backend(p) != t_backend)
		T_FATAL("pager on backend %d, asked %d", (int)uffd_pager_backend(p), (int)t_backend);
	return p;
}

int (tp_file)(size_t npages, char *path, size_t pathlen)
{
	char tmpl[] = "/tmp/uffd-pager-XXXXXX";
	int fd = mkstemp(tmpl);

	if (fd < 0)
		T_FATAL("mkstemp: %s", t_errname(errno));
	unlink(tmpl);
	char *page = malloc((size_t)t_page);
	T_ASSERT(page);
	for (size_t i = 0; i < npages; i++) {
		t_fill(page, (size_t)t_page, TP_SEED(i));
		if (pwrite(fd, page, (size_t)t_page, (off_t)(i * (size_t)t_page)) != t_page)
			T_FATAL("pwrite: %s", t_errname(errno));
	}
	free(page);
	snprintf(path, pathlen, "/proc/self/fd/%d", fd);
	return fd;
}

static int entries(const char *dir)
{
	DIR *d = opendir(dir);
	int n = 0;

	if (!d)
		T_FATAL("opendir %s: %s", dir, t_errname(errno));
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

struct tp_counts (tp_count)(void)
{
	struct tp_counts c = { 0, 0, 0 };
	FILE *f = fopen("/proc/self/maps", "re");
	char line[512];

	T_ASSERT(f);
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo = strtoul(line, NULL, 16);
		/* malloc's brk heap grows (and may show as two lines) */
		if (strstr(line, "[heap]"))
			continue;
#ifdef __SANITIZE_ADDRESS__
		/* AddressSanitizer's allocator maps its regions here as it goes */
		if (lo >= 0x600000000000ul && lo < 0x640000000000ul)
			continue;
#endif
#if LIBUFFD_TSAN
		/* ThreadSanitizer maps shadow and trace memory for whatever is
		 * touched, all over: its maps are not the program's to count
		 * (the fds, the threads and the regions' ranges still are) */
		continue;
#endif
		(void)lo;
		c.maps++;
	}
	fclose(f);
	c.fds = entries("/proc/self/fd");
	c.tasks = entries("/proc/self/task");
	return c;
}

/* On failure, say what is mapped there (stderr: the runner shows it). */
static void show_maps(uintptr_t lo, uintptr_t hi)
{
	FILE *f = fopen("/proc/self/maps", "re");
	char line[512];

	while (f && fgets(line, sizeof(line), f)) {
		char *end;
		uintptr_t a = strtoul(line, &end, 16), b = strtoul(end + 1, NULL, 16);
		if (a < hi && b > lo)
			fprintf(stderr, "still mapped in %#lx-%#lx: %s", (unsigned long)lo,
				(unsigned long)hi, line);
	}
	if (f)
		fclose(f);
}

int (tp_unmapped)(const void *addr, size_t len)
{
	for (size_t off = 0; off < len; off += (size_t)t_page)
		if (msync((char *)addr + off, (size_t)t_page, MS_ASYNC) == 0 || errno != ENOMEM) {
			show_maps((uintptr_t)addr, (uintptr_t)addr + len);
			return 0;
		}
	return 1;
}

static __thread sigjmp_buf touch_jump;
static __thread volatile int touch_armed;
static __thread volatile int touch_code;

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (!touch_armed) {
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
	touch_code = si->si_code;
	siglongjmp(touch_jump, 1);
}

static void install_sigbus(void)
{
	struct sigaction sa = { .sa_sigaction = on_sigbus, .sa_flags = SA_SIGINFO };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, NULL);
}

int (tp_touch)(volatile char *p, int write, char *val, int *code)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, install_sigbus);
	if (sigsetjmp(touch_jump, 1)) {
		touch_armed = 0;
		if (code)
			*code = touch_code;
		return 1;
	}
	touch_armed = 1;
	if (write)
		*p = *val;
	else
		*val = *p;
	touch_armed = 0;
	return 0;
}

struct tp_thread { pthread_t th; unsigned i; void (*fn)(unsigned, void *); void *arg; };

static void *tp_thread_main(void *a)
{
	struct tp_thread *t = a;

	t->fn(t->i, t->arg);
	return NULL;
}

void (tp_threads)(unsigned n, void (*fn)(unsigned i, void *arg), void *arg)
{
	struct tp_thread th[n];

	for (unsigned i = 0; i < n; i++) {
		th[i] = (struct tp_thread){ .i = i, .fn = fn, .arg = arg };
		if (pthread_create(&th[i].th, NULL, tp_thread_main, &th[i]))
			T_FATAL("pthread_create");
	}
	for (unsigned i = 0; i < n; i++)
		pthread_join(th[i].th, NULL);
}

void tp_sweep(unsigned id, void *arg)
{
	struct tp_sweep *sw = arg;
	unsigned x = sw->seed + id * 31;
	char v;

	for (size_t k = 0; k < sw->npages; k++) {
		x = x * 1103515245u + 12345;
		const size_t pg = id == 0 ? k : (x >> 8) % sw->npages;
		char *p = sw->base + pg * (size_t)t_page;
		if (tp_touch(p + (x & 63), 0, &v, NULL))
			sw->sigbus++;
		else if (sw->check && !t_check(p, (size_t)t_page, TP_SEED(pg)))
			sw->wrong++;
	}
}
