/* SPDX-License-Identifier: MIT */
/* The stress engine: see stress.h. */
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/eventfd.h>
#include <sys/mman.h>

#include "acc.h"
#include "oracle.h"
#include "stress.h"

#define FAULTERS  6
#define RESOLVERS 3
#define CHUNK     16          /* pages cycled through UNREGISTER/REGISTER at once */
#define MAXPAGES  1024

/* Page p holds: word 0 = 0 (a zero page) or p + 1 (a COPY); word 1 + t =
 * what faulter t wrote last (0 once the page was dropped).  Nothing else. */
struct page_track {
	_Atomic unsigned epoch;      /* bumped when the page is dropped */
	_Atomic unsigned has_data;   /* 1 + the epoch in which a COPY or ZEROPAGE
				      * succeeded; 0: none since the drop */
};

static struct {
	enum stress_mem mem;
	int fd, stop_fd, mfd;
	char *area;
	size_t psize;
	long npages;
	uint64_t mode;
	bool zeropage;
	_Atomic int stop, faulters_done;
	struct page_track pages[MAXPAGES];
	pthread_rwlock_t chunk_lock[MAXPAGES / CHUNK];
	/* counters */
	_Atomic long accesses, msgs, copies, zeropages, wakes, eexist, enoent,
		wp_set, wp_faults, cycles, drops, bad_content, twice, other_err;
} S;

static uint64_t *word(long p, int w)
{
	return (uint64_t *)(S.area + p * S.psize) + w;
}

static void bad(const char *what, long p, uint64_t got, uint64_t want)
{
	if (atomic_fetch_add(&S.bad_content, 1) < 5)
		fprintf(stderr, "stress: %s on page %ld: 0x%llx, expected 0x%llx\n", what, p,
			(unsigned long long)got, (unsigned long long)want);
}

/* ---- faulters ---- */
struct faulter {
	pthread_t th;
	int id;
	uint64_t seed;
	uint64_t last[MAXPAGES];       /* what it wrote to its word of each page */
	unsigned epoch[MAXPAGES];      /* the page's epoch at that write */
};

static void *faulter_fn(void *arg)
{
	struct faulter *f = arg;

	while (!atomic_load(&S.stop)) {
		uint32_t r = acc_rand(&f->seed);
		long p = (long)(r % (uint32_t)S.npages);
		pthread_rwlock_rdlock(&S.chunk_lock[p / CHUNK]);
		const unsigned e = atomic_load(&S.pages[p].epoch);
		if (e != f->epoch[p]) {          /* dropped since our last write */
			f->last[p] = 0;
			f->epoch[p] = e;
		}
		volatile uint64_t *mine = word(p, 1 + f->id);
		const uint64_t w0 = *(volatile uint64_t *)word(p, 0);
		if (w0 != 0 && w0 != (uint64_t)p + 1)
			bad("word 0", p, w0, (uint64_t)p + 1);
		if (*mine != f->last[p])
			bad("own word", p, *mine, f->last[p]);
		if (r & 0x100) {
			uint64_t v = ((uint64_t)f->id << 56) | (acc_rand(&f->seed) + 1u);
			*mine = v;
			f->last[p] = v;
		}
		pthread_rwlock_unlock(&S.chunk_lock[p / CHUNK]);
		atomic_fetch_add_explicit(&S.accesses, 1, memory_order_relaxed);
	}
	atomic_fetch_add(&S.faulters_done, 1);
	return NULL;
}

/* ---- resolvers ---- */
/* Record a fill of page p made in epoch e (read before the fill's ioctl).
 * The record comes after the ioctl, so the churner may have dropped the page
 * in between: tagging it with the epoch keeps such a late record from
 * counting the next epoch's first fill as a second one.  A fill whose epoch
 * changed while its ioctl ran may have landed in either (the churner can
 * drop and register the page again before the ioctl gets to it, where a
 * fill is legitimate once more): it is not counted. */
static void fill_resolved(long p, int64_t done, unsigned e)
{
	if (done != (int64_t)S.psize || atomic_load(&S.pages[p].epoch) != e)
		return;
	if (atomic_exchange(&S.pages[p].has_data, e + 1) == e + 1)
		atomic_fetch_add(&S.twice, 1);
}

static void wake(long p)
{
	struct uffdio_range r = { (uintptr_t)(S.area + p * S.psize), S.psize };

	if (uffd_ioctl(S.fd, UFFDIO_WAKE, &r) == 0)
		atomic_fetch_add(&S.wakes, 1);
	else
		atomic_fetch_add(&S.other_err, 1);
}

static void missing(long p, char *src, uint64_t *seed)
{
	const uint32_t r = acc_rand(seed);
	const bool dontwake = r & 1;
	int ret;
	int64_t done;
	const unsigned e = atomic_load(&S.pages[p].epoch);

	if (S.zeropage && (r & 2)) {
		struct uffdio_zeropage z = { { (uintptr_t)(S.area + p * S.psize), S.psize },
					     dontwake ? UFFDIO_ZEROPAGE_MODE_DONTWAKE : 0, 0 };
		ret = uffd_ioctl(S.fd, UFFDIO_ZEROPAGE, &z);
		done = z.zeropage;
		if (!ret)
			atomic_fetch_add(&S.zeropages, 1);
	} else {
		*(uint64_t *)src = (uint64_t)p + 1;
		struct uffdio_copy c = { (uintptr_t)(S.area + p * S.psize), (uintptr_t)src,
					 S.psize, dontwake ? UFFDIO_COPY_MODE_DONTWAKE : 0, 0 };
		ret = uffd_ioctl(S.fd, UFFDIO_COPY, &c);
		done = c.copy;
		if (!ret)
			atomic_fetch_add(&S.copies, 1);
	}
	if (!ret) {
		fill_resolved(p, done, e);
		if (dontwake)
			wake(p);
	} else if (errno == EEXIST) {
		atomic_fetch_add(&S.eexist, 1);
		wake(p);
	} else if (errno == ENOENT) {
		/* Unregistered meanwhile: UNREGISTER wakes the range's faults,
		 * but Linux 6.18 can miss one that is entering its wait under
		 * the per-VMA lock (seen here: a kernel half hung), so the
		 * fault whose message this is gets a WAKE too. */
		atomic_fetch_add(&S.enoent, 1);
		wake(p);
	} else {
		if (atomic_fetch_add(&S.other_err, 1) < 5)
			fprintf(stderr, "stress: fill of page %ld: %s\n", p, t_errname(errno));
	}
}

static void wp_fault(long p)
{
	struct uffdio_writeprotect w = { { (uintptr_t)(S.area + p * S.psize), S.psize }, 0 };

	atomic_fetch_add(&S.wp_faults, 1);
	if (!uffd_ioctl(S.fd, UFFDIO_WRITEPROTECT, &w))
		return;
	if (errno == ENOENT) {
		atomic_fetch_add(&S.enoent, 1);
		wake(p);   /* as in missing(): UNREGISTER's wake can be missed */
	} else if (atomic_fetch_add(&S.other_err, 1) < 5) {
		fprintf(stderr, "stress: un-protect of page %ld: %s\n", p, t_errname(errno));
	}
}

void stress_serve(int fd, int stop_fd,
		  void (*fn)(const struct uffd_msg *msg, int err, void *arg), void *arg)
{
	for (;;) {
		struct pollfd p[2] = { { .fd = fd, .events = POLLIN },
				       { .fd = stop_fd, .events = POLLIN } };
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[1].revents)
			break;
		struct uffd_msg m[8];
		ssize_t n = read(fd, m, sizeof(m));
		if (n < 0) {
			if (errno != EAGAIN)
				fn(NULL, errno, arg);
			continue;
		}
		for (ssize_t i = 0; i < n / (ssize_t)sizeof(m[0]); i++)
			fn(&m[i], 0, arg);
	}
}

struct resolver {
	char *src;
	uint64_t seed;
};

static void resolve(const struct uffd_msg *m, int err, void *arg)
{
	struct resolver *rs = arg;

	if (!m) {
		if (atomic_fetch_add(&S.other_err, 1) < 5)
			fprintf(stderr, "stress: read: %s\n", t_errname(err));
		return;
	}
	atomic_fetch_add(&S.msgs, 1);
	if (m->event != UFFD_EVENT_PAGEFAULT) {
		atomic_fetch_add(&S.other_err, 1);
		return;
	}
	long pg = (long)(((char *)(uintptr_t)m->arg.pagefault.address - S.area) / (long)S.psize);
	if (m->arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WP)
		wp_fault(pg);
	else
		missing(pg, rs->src, &rs->seed);
}

static void *resolver_fn(void *arg)
{
	struct resolver rs = {
		.src = orc_mmap(S.psize, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | (S.mem == STRESS_HUGETLB ? MAP_HUGETLB : 0), -1),
		.seed = (uintptr_t)arg,
	};

	memset(rs.src, 0, S.psize);
	stress_serve(S.fd, S.stop_fd, resolve, &rs);
	munmap(rs.src, S.psize);
	return NULL;
}

/* ---- the churner ---- */
static void drop_pages(long first, long n)
{
	char *at = S.area + first * S.psize;

	if (S.mem == STRESS_SHMEM)
		T_ASSERT(fallocate(S.mfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				   first * (off_t)S.psize, n * (off_t)S.psize) == 0);
	else
		T_ASSERT(madvise(at, n * S.psize, MADV_DONTNEED) == 0);
	for (long k = 0; k < n; k++) {
		atomic_fetch_add(&S.pages[first + k].epoch, 1);
		atomic_store(&S.pages[first + k].has_data, 0);
	}
	atomic_fetch_add(&S.drops, n);
}

static void cycle_chunk(long c, uint64_t *seed)
{
	const long first = c * CHUNK, n = first + CHUNK <= S.npages ? CHUNK : S.npages - first;
	struct uffdio_range r = { (uintptr_t)(S.area + first * S.psize), n * S.psize };

	if (uffd_ioctl(S.fd, UFFDIO_UNREGISTER, &r))
		t_fail_at(__FILE__, __LINE__, "UNREGISTER of chunk %ld: %s", c, t_errname(errno));
	pthread_rwlock_wrlock(&S.chunk_lock[c]);
	long from = acc_rand(seed) % n, len = 1 + acc_rand(seed) % (n - from);
	drop_pages(first + from, len);
	pthread_rwlock_unlock(&S.chunk_lock[c]);
	struct uffdio_register reg = { r, S.mode, 0 };
	if (uffd_ioctl(S.fd, UFFDIO_REGISTER, &reg))
		t_fail_at(__FILE__, __LINE__, "REGISTER of chunk %ld: %s", c, t_errname(errno));
	atomic_fetch_add(&S.cycles, 1);
}

static void protect_run(uint64_t *seed)
{
	long p = acc_rand(seed) % S.npages, n = 1 + acc_rand(seed) % 8;

	if (p + n > S.npages)
		n = S.npages - p;
	struct uffdio_writeprotect w = { { (uintptr_t)(S.area + p * S.psize), n * S.psize },
					 UFFDIO_WRITEPROTECT_MODE_WP };
	if (uffd_ioctl(S.fd, UFFDIO_WRITEPROTECT, &w) == 0)
		atomic_fetch_add(&S.wp_set, 1);
	else if (errno != ENOENT)
		atomic_fetch_add(&S.other_err, 1);
}

static void *churner_fn(void *arg)
{
	uint64_t seed = (uintptr_t)arg;

	while (!atomic_load(&S.stop)) {
		uint32_t r = acc_rand(&seed);
		if ((S.mode & UFFDIO_REGISTER_MODE_WP) && (r & 3))
			protect_run(&seed);
		else
			cycle_chunk((long)(acc_rand(&seed) % ((S.npages + CHUNK - 1) / CHUNK)), &seed);
		sched_yield();
	}
	return NULL;
}

/* ---- the run ---- */
static double seconds(double dflt)
{
	const char *s = getenv("STRESS_SECONDS");
	return s && atof(s) > 0 ? atof(s) : dflt;
}

static const char *mem_name(enum stress_mem m)
{
	return m == STRESS_ANON ? "anon" : m == STRESS_SHMEM ? "shmem" : "hugetlb";
}

static void setup(enum stress_mem mem, long npages)
{
	uint64_t features = 0;
	int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE;

	S.mem = mem;
	S.npages = npages;
	S.psize = t_page;
	S.mfd = -1;
	S.mode = UFFDIO_REGISTER_MODE_MISSING | UFFDIO_REGISTER_MODE_WP;
	S.zeropage = true;
	if (mem == STRESS_SHMEM) {
		features = UFFD_FEATURE_MISSING_SHMEM | UFFD_FEATURE_WP_HUGETLBFS_SHMEM;
		S.mfd = orc_memfd(npages * t_page);
	} else if (mem == STRESS_HUGETLB) {
		features = UFFD_FEATURE_MISSING_HUGETLBFS;
		S.mode = UFFDIO_REGISTER_MODE_MISSING;
		S.zeropage = false;
		flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB;
	}
	S.fd = t_uffd_api(O_CLOEXEC | O_NONBLOCK, features);
	if (mem == STRESS_HUGETLB) {
		long old;
		S.psize = orc_hugepages_reserve(npages + RESOLVERS, &old);
		S.area = orc_mmap(npages * S.psize, PROT_READ | PROT_WRITE, flags, -1);
		S.mfd = (int)-old - 2;   /* remembered for the release: -2 - old */
	} else if (mem == STRESS_SHMEM) {
		S.area = orc_mmap(npages * S.psize, PROT_READ | PROT_WRITE, MAP_SHARED, S.mfd);
	} else {
		S.area = orc_mmap(npages * S.psize, PROT_READ | PROT_WRITE, flags, -1);
	}
	t_register(S.fd, S.area, npages * S.psize, S.mode);
	S.stop_fd = eventfd(0, EFD_CLOEXEC);
	T_ASSERT(S.stop_fd >= 0);
	for (long c = 0; c < (npages + CHUNK - 1) / CHUNK; c++) {
		pthread_rwlockattr_t a;
		pthread_rwlockattr_init(&a);
		pthread_rwlockattr_setkind_np(&a, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
		pthread_rwlock_init(&S.chunk_lock[c], &a);
		pthread_rwlockattr_destroy(&a);
	}
}

/* Every page: word 0 is 0 or p + 1, each faulter's word what it wrote. */
static void verify(struct faulter *f)
{
	for (long p = 0; p < S.npages; p++) {
		const uint64_t w0 = *word(p, 0);
		if (w0 != 0 && w0 != (uint64_t)p + 1)
			bad("final word 0", p, w0, (uint64_t)p + 1);
		for (int t = 0; t < FAULTERS; t++) {
			uint64_t want = f[t].epoch[p] == atomic_load(&S.pages[p].epoch) ? f[t].last[p] : 0;
			if (*word(p, 1 + t) != want)
				bad("final own word", p, *word(p, 1 + t), want);
		}
		for (size_t w = 1 + FAULTERS; w < 64 && w < S.psize / 8; w++)
			if (*word(p, (int)w))
				bad("untouched word", p, *word(p, (int)w), 0);
	}
}

void stress_run(enum stress_mem mem, long npages, double default_seconds)
{
	static struct faulter f[FAULTERS];
	pthread_t res[RESOLVERS], churn;
	const double secs = seconds(default_seconds);

	T_ASSERT(npages > 0 && npages <= MAXPAGES);
	memset(&S, 0, sizeof(S));
	setup(mem, npages);
	for (int i = 0; i < RESOLVERS; i++)
		T_ASSERT(pthread_create(&res[i], NULL, resolver_fn, (void *)(uintptr_t)(i + 1)) == 0);
	for (int i = 0; i < FAULTERS; i++) {
		memset(&f[i], 0, sizeof(f[i]));
		f[i].id = i;
		f[i].seed = 1000 + i;
		T_ASSERT(pthread_create(&f[i].th, NULL, faulter_fn, &f[i]) == 0);
	}
	T_ASSERT(pthread_create(&churn, NULL, churner_fn, (void *)(uintptr_t)77) == 0);

	/* The run lasts secs: a wait on the stop eventfd that nobody signals. */
	struct pollfd p = { .fd = S.stop_fd, .events = POLLIN };
	poll(&p, 1, (int)(secs * 1000));
	atomic_store(&S.stop, 1);
	pthread_join(churn, NULL);
	for (int i = 0; i < FAULTERS; i++)
		pthread_join(f[i].th, NULL);   /* a lost wake-up hangs here */
	uint64_t one = 1;
	T_ASSERT(write(S.stop_fd, &one, sizeof(one)) == sizeof(one));
	for (int i = 0; i < RESOLVERS; i++)
		pthread_join(res[i], NULL);

	struct uffdio_range all = { (uintptr_t)S.area, npages * S.psize };
	T_EXPECT_OK(uffd_ioctl(S.fd, UFFDIO_UNREGISTER, &all));
	verify(f);
	fprintf(stderr, "stress %s/%s %.0fs: %ld accesses, %ld faults, %ld copies, "
		"%ld zeropages, %ld wakes, %ld EEXIST, %ld ENOENT, %ld WP runs, "
		"%ld WP faults, %ld unregister/register cycles, %ld pages dropped; "
		"%ld bad contents, %ld resolved twice, %ld other errors\n",
		mem_name(mem), uffd_backend_name(t_backend), secs, S.accesses, S.msgs,
		S.copies, S.zeropages, S.wakes, S.eexist, S.enoent, S.wp_set, S.wp_faults,
		S.cycles, S.drops, S.bad_content, S.twice, S.other_err);
	T_OBS("%s: every faulter finished: %d", mem_name(mem),
	      atomic_load(&S.faulters_done) == FAULTERS);
	T_OBS("%s: bad contents %ld, resolved twice %ld, other errors %ld", mem_name(mem),
	      S.bad_content, S.twice, S.other_err);
	T_EXPECT_EQ(S.bad_content, 0);
	T_EXPECT_EQ(S.twice, 0);
	T_EXPECT_EQ(S.other_err, 0);
	T_OBS("%s: it ran: faults %d, fills %d, cycles %d", mem_name(mem), S.msgs > 0,
	      S.copies + S.zeropages > 0, S.cycles > 0);
	close(S.fd);
	close(S.stop_fd);
	munmap(S.area, npages * S.psize);
	if (mem == STRESS_HUGETLB)
		orc_hugepages_release(-2 - S.mfd);
	else if (S.mfd >= 0)
		close(S.mfd);
}
