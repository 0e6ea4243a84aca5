/* SPDX-License-Identifier: MIT */
/*
 * Making a page fault, and filling it atomically.
 *
 * Two mechanisms, chosen by probing once:
 *  - guard: page-table guard markers (MADV_GUARD_INSTALL, Linux 6.13+).  No
 *    VMA is split however many pages are trapped.  To fill a page, the page
 *    is made PROT_NONE for a moment, its marker removed, its content written
 *    through /proc/self/mem (which may write a PROT_NONE private page), and
 *    its protection restored: no thread ever sees it half written.
 *  - mprotect: PROT_NONE over the absent pages.  Each trapped run is a VMA,
 *    so vm.max_map_count bounds it: mprotect's ENOMEM is returned as is.
 * Shared memory (shmem, memfd) is filled through the file itself (pwrite at
 * the page's offset) before the trap opens.
 * UFFD_USER_TRAP=guard|mprotect in the environment forces a mechanism.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "maps.h"
#include "user.h"

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#define MADV_GUARD_REMOVE 103
#endif

long u_page;
const char u_zero_page[U_ZERO_LEN] __attribute__((aligned(65536)));
static _Atomic int use_guard;
static _Atomic int guard_in_pagemap;   /* pagemap shows guard markers (bit 58) */
static _Atomic int mem_fd = -1;      /* /proc/self/mem */
static _Atomic int pagemap_fd = -1;  /* /proc/self/pagemap */

static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;

void u_trap_init(void)
{
	static _Atomic int done;

	if (atomic_load(&done))
		return;
	pthread_mutex_lock(&init_lock);
	u_page = sysconf(_SC_PAGESIZE);
	const char *force = getenv("UFFD_USER_TRAP");
	void *p = MAP_FAILED;
	if (!atomic_load(&done) && !(force && !strcmp(force, "mprotect")))
		p = sys_mmap(NULL, u_page, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p != MAP_FAILED) {
		const bool guard = sys_madvise(p, u_page, MADV_GUARD_INSTALL) == 0;
		int fd = guard ? sys_open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC) : -1;
		uint64_t e = 0;
		atomic_store(&guard_in_pagemap, fd >= 0 && sys_pread(fd, &e, sizeof(e),
				(off_t)((uintptr_t)p / (uintptr_t)u_page * sizeof(e))) == sizeof(e) &&
				((e >> 58) & 1));
		if (fd >= 0)
			sys_close(fd);
		atomic_store(&use_guard, guard);
		sys_munmap(p, u_page);
	}
	/* No address space for the probe's page (RLIMIT_AS): PROT_NONE
	 * traps for now, and the next open or REGISTER probes again (ranges
	 * keep the mechanism they were armed with). */
	if (p != MAP_FAILED || (force && !strcmp(force, "mprotect")))
		atomic_store(&done, 1);
	pthread_mutex_unlock(&init_lock);
}

bool u_trap_pick_guard(const struct u_range *r)
{
	return atomic_load(&use_guard) && !u_hugetlb(r);
}

const char *uffd_user_mechanism(void)
{
	return use_guard ? "guard markers" : "mprotect";
}

/* A cached fd on a /proc/self file; reopened after fork (see below). */
static int proc_fd(_Atomic int *cache, const char *path, int flags)
{
	int fd = atomic_load(cache);

	if (fd >= 0)
		return fd;
	fd = sys_open(path, flags | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int expected = -1;
	if (!atomic_compare_exchange_strong(cache, &expected, fd)) {
		sys_close(fd);
		fd = expected;
	}
	return fd;
}

static _Atomic unsigned changes_busy, changes_done;

void u_trap_change_begin(void)
{
	atomic_fetch_add(&changes_busy, 1);
}

void u_trap_change_end(void)
{
	atomic_fetch_add(&changes_done, 1);
	atomic_fetch_sub(&changes_busy, 1);
}

bool u_trap_changing(unsigned *done)
{
	bool busy = atomic_load(&changes_busy) != 0;

	*done = atomic_load(&changes_done);
	return busy;
}

/* Spans of pages whose traps are changing.  A slot is claimed (used),
 * given its bounds, then made live (seq odd); ending makes seq even, wakes
 * the faults sleeping on it, and frees the slot.  A fault reads seq, the
 * bounds, and sleeps while seq is unchanged: bounds read after the slot was
 * reused come with a seq that has moved on, so at worst it does not sleep. */
#define SPANS 64
static struct span {
	_Atomic int used;
	_Atomic uintptr_t start, end, owner;
	_Atomic uint32_t seq;
	_Atomic int sleepers;
} spans[SPANS];
static TLS char span_me;   /* its address names this thread */

int u_trap_span_begin(uintptr_t start, uintptr_t end)
{
	for (int i = 0; i < SPANS; i++) {
		int free = 0;
		if (atomic_load(&spans[i].used) ||
		    !atomic_compare_exchange_strong(&spans[i].used, &free, 1))
			continue;
		atomic_store(&spans[i].start, start);
		atomic_store(&spans[i].end, end);
		atomic_store(&spans[i].owner, (uintptr_t)&span_me);
		atomic_fetch_add(&spans[i].seq, 1);
		return i;
	}
	return -1;
}

void u_trap_span_end(int i)
{
	if (i < 0)
		return;
	atomic_fetch_add(&spans[i].seq, 1);
	if (atomic_load(&spans[i].sleepers))
		sys_futex(&spans[i].seq, FUTEX_WAKE_PRIVATE, INT32_MAX, NULL);
	atomic_store(&spans[i].used, 0);
}

bool u_trap_span_wait(uintptr_t addr)
{
	bool waited = false;

	for (int i = 0; i < SPANS; i++) {
		const uint32_t seq = atomic_load(&spans[i].seq);
		if (!(seq & 1) || addr < atomic_load(&spans[i].start) ||
		    addr >= atomic_load(&spans[i].end) ||
		    atomic_load(&spans[i].owner) == (uintptr_t)&span_me)
			continue;   /* (a change this thread interrupted cannot end) */
		atomic_fetch_add(&spans[i].sleepers, 1);
		while (atomic_load(&spans[i].seq) == seq)
			sys_futex(&spans[i].seq, FUTEX_WAIT_PRIVATE, (int)seq, NULL);
		atomic_fetch_sub(&spans[i].sleepers, 1);
		waited = true;
	}
	return waited;
}

/* The files name the parent's memory: a child must open its own.  The
 * threads that were changing traps did not come along. */
int u_trap_open_fds(void)
{
	if (proc_fd(&mem_fd, "/proc/self/mem", O_RDWR) < 0 ||
	    proc_fd(&pagemap_fd, "/proc/self/pagemap", O_RDONLY) < 0) {
		/* Out of descriptors: say so now.  Anything else (EACCES in
		 * a process that changed its credentials) is met, as before,
		 * by the operation that needs the file. */
		if (errno == EMFILE || errno == ENFILE)
			return -errno;
	}
	return 0;
}

void u_trap_after_fork(void)
{
	pthread_mutex_init(&init_lock, NULL);
	atomic_store(&changes_busy, 0);
	for (int i = 0; i < SPANS; i++) {
		atomic_store(&spans[i].seq, 0);
		atomic_store(&spans[i].sleepers, 0);
		atomic_store(&spans[i].used, 0);
	}
	int fd = atomic_exchange(&mem_fd, -1);
	if (fd >= 0)
		sys_close(fd);
	fd = atomic_exchange(&pagemap_fd, -1);
	if (fd >= 0)
		sys_close(fd);
}

static int sys_err(void)
{
	return -errno;
}

bool u_trap_guarded(const struct u_range *r)
{
	return r->guard;
}

int u_trap_arm(const struct u_range *r, uintptr_t addr, size_t len)
{
	if (!len)
		return 0;
	if (u_trap_guarded(r))
		return sys_madvise((void *)addr, len, MADV_GUARD_INSTALL) ? sys_err() : 0;
	return sys_mprotect((void *)addr, len, PROT_NONE) ? sys_err() : 0;
}

int u_trap_disarm(const struct u_range *r, uintptr_t addr, size_t len)
{
	if (!len)
		return 0;
	if (u_trap_guarded(r) && sys_madvise((void *)addr, len, MADV_GUARD_REMOVE))
		return sys_err();
	if ((!u_trap_guarded(r) || (r->mode & UFFDIO_REGISTER_MODE_WP)) &&
	    sys_mprotect((void *)addr, len, r->prot))
		return sys_err();
	return 0;
}

/* Write len bytes at addr of the program's memory (any protection). */
static ssize_t poke(const struct u_range *r, uintptr_t addr, const void *src, size_t len)
{
	const off_t off = r->file_off + (off_t)(addr - r->start);

	if (r->mem == U_MEM_SHMEM)
		return sys_pwrite(r->memfd, src, len, off);
	int fd = proc_fd(&mem_fd, "/proc/self/mem", O_RDWR);
	if (fd < 0)
		return -1;
	if (r->mem != U_MEM_HUGETLB_SHARED)
		return sys_pwrite(fd, src, len, (off_t)addr);
	/* hugetlbfs has no write(2), and a shared PROT_NONE page cannot be
	 * written even by force: through a second mapping of the file. */
	void *alias = sys_mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, r->memfd, off);
	if (alias == MAP_FAILED)
		return -1;
	ssize_t n = sys_pwrite(fd, src, len, (off_t)(uintptr_t)alias);
	int err = errno;
	sys_munmap(alias, len);
	errno = err;
	return n;
}

/* Make [addr, addr+len) absent again after a fill that cannot stand. */
static void unfill(const struct u_range *r, uintptr_t addr, size_t len, bool shared)
{
	if (shared)
		sys_fallocate(r->memfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			      r->file_off + (off_t)(addr - r->start), (off_t)len);
	else
		sys_madvise((void *)addr, len, MADV_DONTNEED);
}

bool u_src_readable(const char *src, size_t len)
{
	char byte;

	for (uintptr_t a = (uintptr_t)src; a < (uintptr_t)src + len;
	     a = (a | (uintptr_t)(u_page - 1)) + 1)
		if (u_guarded_copy(&byte, (const void *)a, 1))
			return false;
	return true;
}

/* Write whole pages of src at addr: the bytes done, or -1 (errno) when not
 * one page was.  The kernel copies page by page (mfill_atomic()): a source
 * that is unreadable part way stops the fill at the page before, and the
 * pages before stay filled.  A page written in part (a file write, or a
 * huge page through /proc/self/mem) is made absent again. */
static ssize_t poke_pages(const struct u_range *r, uintptr_t addr, const char *src,
			  size_t len, bool shared)
{
	ssize_t done = poke(r, addr, src, len);

	if (done == (ssize_t)len || (done < 0 && errno != EFAULT))
		return done;
	for (done = 0; (size_t)done < len; done += (ssize_t)r->psize) {
		ssize_t w = poke(r, addr + (size_t)done, src + done, r->psize);
		/* A source page that our write cannot read (a trap of
		 * libuffd: a missing page, a hole of a MINOR range) stops
		 * the fill here; the caller faults it in with nothing held,
		 * as the kernel does (mfill_atomic()), and goes on. */
		if (w == (ssize_t)r->psize)
			continue;
		const int err = w < 0 ? errno : EFAULT;
		unfill(r, addr + (size_t)done, r->psize, shared);
		errno = err;
		return done ? done : -1;
	}
	return done;
}

/* Give the n pages at addr of a range without traps (WP alone) back the
 * protection their state says (they were closed for a fill). */
static void reopen(const struct u_range *r, uintptr_t addr, size_t n)
{
	const size_t first = (addr - r->start) / r->psize;

	for (size_t i = 0; i < n;) {
		const bool wp = atomic_load(&r->pages[first + i]) & U_PG_WP;
		size_t j = i + 1;
		while (j < n && (bool)(atomic_load(&r->pages[first + j]) & U_PG_WP) == wp)
			j++;
		sys_mprotect((void *)(addr + i * r->psize), (j - i) * r->psize,
			     wp ? r->prot & ~PROT_WRITE : r->prot);
		i = j;
	}
}

/* In a range without MISSING or MINOR traps (WP alone) an absent page is
 * open: the program may write it (allocating it) until it is closed.  Close
 * the n pages at addr and count those still absent from the first: the
 * first page there now stops the fill (EEXIST, the program's write kept),
 * as the kernel installs a page only where none is; the pages from it on
 * are opened again.  The count, or -errno. */
static int close_absent(const struct u_range *r, uintptr_t addr, size_t n)
{
	unsigned char vec[256];
	size_t k = 0;

	if (n > 256)
		n = 256;
	if (sys_mprotect((void *)addr, n * r->psize, PROT_NONE))
		return sys_err();
	if (!u_pages_present(r, addr, n * r->psize, vec))
		while (k < n && !vec[k])
			k++;
	reopen(r, addr + k * r->psize, n - k);
	return k ? (int)k : -EEXIST;
}

int u_trap_fill(const struct u_range *r, uintptr_t addr, const void *src,
		size_t len, bool wp)
{
	const int prot = wp ? r->prot & ~PROT_WRITE : r->prot;
	const bool shared = r->mem == U_MEM_SHMEM || r->mem == U_MEM_HUGETLB_SHARED;
	const bool open = !(r->mode & (UFFDIO_REGISTER_MODE_MISSING | UFFDIO_REGISTER_MODE_MINOR));
	const bool use_guard = u_trap_guarded(r) && !open;   /* markers to remove */
	ssize_t done;
	int err = 0;

	if (r->mem == U_MEM_ANON && !wp) {
		int got = u_pcache_fill(addr, src, len);
		if (got != U_PCACHE_NONE)
			return got;
	}
	if (open) {
		int k = close_absent(r, addr, len / r->psize);
		if (k < 0)
			return k;
		len = (size_t)k * r->psize;
	}
	if (src == u_zero_page && !shared) {
		/* A zero page: opening the trap is enough, and atomic. */
		if (use_guard && sys_madvise((void *)addr, len, MADV_GUARD_REMOVE))
			return sys_err();
		if ((!use_guard || wp) && sys_mprotect((void *)addr, len, prot)) {
			err = sys_err();
			if (open)
				reopen(r, addr, len / r->psize);
			return err;
		}
		/* Map the zero page, as the kernel's ZEROPAGE does: an empty
		 * page table entry would read as missing to a later REGISTER
		 * (filled twice) and to WRITEPROTECT (left unprotected). */
		if (r->mem == U_MEM_ANON || r->mem == U_MEM_SHMEM_PRIVATE)
			sys_madvise((void *)addr, len, MADV_POPULATE_READ);
		return (int)(len / r->psize);
	}
	if (use_guard && !shared) {
		/* Close the page to every access while its marker is gone. */
		if (sys_mprotect((void *)addr, len, PROT_NONE))
			return sys_err();
		sys_madvise((void *)addr, len, MADV_GUARD_REMOVE);
	}
	done = poke_pages(r, addr, src, len, shared);
	if (done < 0) {
		err = -errno;
		done = 0;
	}
	if (done && (!use_guard || !shared || wp) && sys_mprotect((void *)addr, done, prot)) {
		/* Cannot open it (ENOMEM: vm.max_map_count): the pages stay
		 * trapped and absent, and the caller gets the error. */
		err = sys_err();
		unfill(r, addr, (size_t)done, shared);
		done = 0;
	}
	if (use_guard) {
		/* Pages not written get their marker back. */
		if ((size_t)done < len)
			sys_madvise((void *)(addr + done), len - done, MADV_GUARD_INSTALL);
		if (shared && done)
			sys_madvise((void *)addr, done, MADV_GUARD_REMOVE);
		if (!shared && (size_t)done < len)
			sys_mprotect((void *)(addr + done), len - done, r->prot);
	}
	if (open && (size_t)done < len)
		reopen(r, addr + done, (len - (size_t)done) / r->psize);
	if (!done)
		return err ? err : -EFAULT;
	/* Mapped, as the kernel's fill maps its page: a later REGISTER
	 * MINOR would take a page only in the page cache for a minor fault's
	 * (found-4-2884). */
	if (shared)
		sys_madvise((void *)addr, (size_t)done, MADV_POPULATE_READ);
	return (int)(done / r->psize);
}

int u_trap_protect(const struct u_range *r, uintptr_t addr, size_t len, bool wp)
{
	if (sys_mprotect((void *)addr, len, wp ? r->prot & ~PROT_WRITE : r->prot))
		return sys_err();
	return 0;
}

void u_wp_settle(const struct u_range *r, uintptr_t addr, size_t n, bool applied)
{
	const size_t first = (addr - r->start) / r->psize;

	for (size_t i = 0; i < n; i++) {
		for (bool prot_wp = applied;;) {
			const uint8_t st = atomic_load(&r->pages[first + i]);
			const bool wp = st & U_PG_WP;
			if ((st & U_PG_STATE) != U_PG_PRESENT || wp == prot_wp ||
			    u_trap_protect(r, addr + i * r->psize, r->psize, wp))
				break;
			prot_wp = wp;
		}
	}
}

/* Pages of a shmem file in the page cache: SEEK_DATA finds them. */
static int cached_pages(const struct u_range *r, uintptr_t addr, size_t n,
			unsigned char *vec)
{
	const off_t off = r->file_off + (off_t)(addr - r->start);

	memset(vec, 0, n);
	for (size_t i = 0; i < n;) {
		off_t pos = off + (off_t)(i * u_page);
		off_t data = sys_lseek(r->memfd, pos, SEEK_DATA);
		if (data < 0)
			return errno == ENXIO ? 0 : sys_err();
		size_t at = (size_t)(data - off) / u_page;
		if (at >= n)
			return 0;
		off_t hole = sys_lseek(r->memfd, data, SEEK_HOLE);
		size_t to = hole < 0 ? n : (size_t)(hole - off + u_page - 1) / u_page;
		for (i = at; i < to && i < n; i++)
			vec[i] = 1;
	}
	return 0;
}

/* The pagemap entries of n pages at addr: vec[i] |= what says of entry i. */
static int pagemap_each(uintptr_t addr, size_t n, unsigned char *vec,
			unsigned char (*what)(uint64_t entry))
{
	int fd = proc_fd(&pagemap_fd, "/proc/self/pagemap", O_RDONLY);
	uint64_t buf[512];

	if (fd < 0)
		return sys_err();
	for (size_t i = 0; i < n;) {
		size_t chunk = n - i < 512 ? n - i : 512;
		off_t off = (off_t)((addr / u_page + i) * sizeof(uint64_t));
		ssize_t got = sys_pread(fd, buf, chunk * sizeof(uint64_t), off);
		if (got <= 0)
			return got < 0 ? sys_err() : -EIO;
		chunk = (size_t)got / sizeof(uint64_t);
		for (size_t j = 0; j < chunk; j++)
			vec[i + j] |= what(buf[j]);
		i += chunk;
	}
	return 0;
}

/* Present (bit 63), or swapped (62) but not a guard marker (58). */
static unsigned char entry_mapped(uint64_t e)
{
	return (e >> 63) || ((e >> 62) & 1 && !((e >> 58) & 1));
}

static unsigned char entry_guard(uint64_t e)
{
	return (e >> 58) & 1;
}

/* Pages mapped in this process (present or swapped), or-ed into vec. */
static int mapped_pages(uintptr_t addr, size_t n, unsigned char *vec)
{
	return pagemap_each(addr, n, vec, entry_mapped);
}

int u_pages_guarded(uintptr_t addr, size_t n, unsigned char *vec)
{
	if (!guard_in_pagemap) {
		memset(vec, 1, n);   /* cannot tell (Linux 6.13): as it was */
		return 0;
	}
	memset(vec, 0, n);
	return pagemap_each(addr, n, vec, entry_guard);
}

bool u_trap_gone(const struct u_range *r, uintptr_t addr)
{
	unsigned char one;

	return u_trap_guarded(r) && guard_in_pagemap && u_pages_guarded(addr, 1, &one) == 0 &&
	       !one;
}

int u_trap_standing(const struct u_range *r, uintptr_t addr)
{
	if (!u_trap_guarded(r)) {
		/* PROT_NONE, unless the mapping was replaced. */
		int prot = u_maps_prot(addr);
		return prot < 0 ? 0 : prot == PROT_NONE || r->prot == PROT_NONE;
	}
	unsigned char one;
	return u_pages_guarded(addr, 1, &one) ? 1 : one;
}

/* Huge pages mapped here: the first small page of each tells. */
static int mapped_huge_pages(const struct u_range *r, uintptr_t addr, size_t n,
			     unsigned char *vec)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char one = 0;
		int err = mapped_pages(addr + i * r->psize, 1, &one);
		if (err)
			return err;
		vec[i] = one;
	}
	return 0;
}

/* Huge pages of a hugetlbfs file in its page cache, or-ed into vec.
 * hugetlbfs offers no SEEK_DATA (all of it is "data") and no cachestat, but
 * read(2) of a hole returns zeros without allocating: a huge page that holds
 * a non-zero byte is in the page cache.  One that holds only zeros is taken
 * for a hole unless it is mapped here (a limit, in the README).  A small
 * buffer: this runs in the fault handler, maybe on a small signal stack. */
static int cached_huge_pages(const struct u_range *r, uintptr_t addr, size_t n,
			     unsigned char *vec)
{
	uint64_t buf[512];
	const off_t off = r->file_off + (off_t)(addr - r->start);

	for (size_t i = 0; i < n; i++) {
		for (size_t at = 0; !vec[i] && at < r->psize; at += sizeof(buf)) {
			ssize_t got = pread(r->memfd, buf, sizeof(buf),
					    off + (off_t)(i * r->psize + at));
			if (got < 0)
				return sys_err();
			if (got == 0)
				break;   /* beyond the end of the file */
			for (size_t j = 0; j < (size_t)got / sizeof(buf[0]); j++)
				if (buf[j]) {
					vec[i] = 1;
					break;
				}
		}
	}
	return 0;
}

int u_pages_mapped(const struct u_range *r, uintptr_t addr, size_t len,
		   unsigned char *vec)
{
	const size_t n = len / r->psize;

	memset(vec, 0, n);
	return u_hugetlb(r) ? mapped_huge_pages(r, addr, n, vec) : mapped_pages(addr, n, vec);
}

int u_pages_present(const struct u_range *r, uintptr_t addr, size_t len,
		    unsigned char *vec)
{
	const size_t n = len / r->psize;

	switch (r->mem) {
	case U_MEM_HUGETLB:
		return mapped_huge_pages(r, addr, n, vec);
	case U_MEM_HUGETLB_SHARED: {
		int err = mapped_huge_pages(r, addr, n, vec);
		return err ? err : cached_huge_pages(r, addr, n, vec);
	}
	case U_MEM_SHMEM:
		return cached_pages(r, addr, n, vec);
	case U_MEM_SHMEM_PRIVATE: {
		int err = cached_pages(r, addr, n, vec);
		return err ? err : mapped_pages(addr, n, vec);
	}
	default:
		memset(vec, 0, n);
		return mapped_pages(addr, n, vec);
	}
}
