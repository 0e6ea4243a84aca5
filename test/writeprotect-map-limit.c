/*
 * Fragmented write protection and vm.max_map_count (issue 11, bug (b)).
 * The user backend's write protection is mprotect, so each run of
 * protected pages between unprotected ones is a mapping: a range can hold
 * about (vm.max_map_count - mappings in use) / 2 alternating runs.  Past
 * that bound, WRITEPROTECT fails with ENOMEM and changes nothing: the page
 * stays protected (asking again fails again, never "succeeds" silently),
 * a writer blocked on it stays blocked, with its WP message, until the
 * handler makes room and un-protects it; then its write lands.  Nothing
 * hangs.  (It once cleared the page's state before mprotect failed: the
 * writer then blocked forever, or died of SIGSEGV once woken.)
 *
 * To reach the bound quickly, the test first uses up most of the mapping
 * budget with a filler mapping of alternating protections, leaving room for
 * about ROOM runs; the kernel half does the same (its write protection
 * splits nothing, so it never fails).
 */
#include <sys/mman.h>
#include "acc.h"
#include "oracle.h"

#define ROOM 1000              /* runs left for the registered range */
#define PAGES (4 * ROOM)       /* every other one un-protected: 2 maps each */

static int unprotect(int fd, char *mem, long pg)
{
	struct uffdio_writeprotect w = { { (uintptr_t)mem + pg * t_page, t_page }, 0 };
	return uffd_ioctl(fd, UFFDIO_WRITEPROTECT, &w);
}

/* The writer is started before the mapping budget is used up (a thread
 * needs mappings of its own); a pipe tells it which page to write. */
struct writer {
	pthread_t th;
	int go[2];
	char *mem;
};

static void *write_page(void *arg)
{
	struct writer *w = arg;
	long pg;

	if (read(w->go[0], &pg, sizeof(pg)) != sizeof(pg))
		return NULL;
	w->mem[pg * t_page + 5] = 0x5e;
	return NULL;
}

static void scenario(void)
{
	if (LIBUFFD_TSAN)
		t_skip("ThreadSanitizer's runtime needs mappings this test uses up (vm.max_map_count)");
	const long limit = orc_max_map_count();
	if (limit <= 4 * ROOM || limit > 1000000)
		t_skip("vm.max_map_count is %ld", limit);
	int fd = t_uffd_api(O_CLOEXEC | O_NONBLOCK, 0);
	char *mem = t_map(PAGES * t_page);
	for (long i = 0; i < PAGES; i++)
		t_fill(mem + i * t_page, t_page, (unsigned)i);
	t_register(fd, mem, PAGES * t_page, UFFDIO_REGISTER_MODE_WP);
	struct uffdio_writeprotect all = { { (uintptr_t)mem, PAGES * t_page },
					   UFFDIO_WRITEPROTECT_MODE_WP };
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_WRITEPROTECT, &all));
	struct writer w = { .mem = mem };
	T_ASSERT(pipe(w.go) == 0);
	T_ASSERT(pthread_create(&w.th, NULL, write_page, &w) == 0);

	/* The filler: each page made read-only in the middle of writable
	 * ones adds two mappings. */
	const long fill = limit - acc_maps_lines() - 2 * ROOM;
	const size_t filler_len = (size_t)(fill + 2) * t_page;
	char *filler = mmap(NULL, filler_len, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	T_ASSERT(filler != MAP_FAILED);
	for (long i = 1; i < fill; i += 2)
		T_ASSERT(mprotect(filler + i * t_page, t_page, PROT_READ) == 0);

	/* Un-protect every other page until the bound (user) or the end. */
	long done = 0, failed_at = -1;
	int err = 0;
	for (long pg = 1; pg < PAGES; pg += 2) {
		if (unprotect(fd, mem, pg)) {
			err = errno;
			failed_at = pg;
			break;
		}
		done++;
	}
	long f;   /* a page that is still protected */
	if (t_limit_begin("fragmented write protection: vm.max_map_count")) {
		T_EXPECT_EQ(failed_at, -1);
		f = PAGES - 2;
		t_limit_end();
	} else {
		/* The bound: about ROOM runs, as the README states it. */
		T_EXPECT_EQ(err, ENOMEM);
		T_EXPECT(done >= ROOM / 2 && done <= ROOM + 64);
		f = failed_at;
		/* Nothing changed: asking again fails again. */
		errno = 0;
		T_EXPECT(unprotect(fd, mem, f) == -1 && errno == ENOMEM);
	}

	/* A writer on the still-protected page blocks with a WP fault. */
	struct uffd_msg msg;
	T_ASSERT(write(w.go[1], &f, sizeof(f)) == sizeof(f));
	orc_wait_msg(fd, &msg);
	T_OBS("fault on the protected page: %d, flags 0x%llx",
	      ORC_PG((char *)(uintptr_t)msg.arg.pagefault.address, mem) == f,
	      (unsigned long long)msg.arg.pagefault.flags);
	/* The handler makes room where it must, then un-protects. */
	int tries = 0;
	while (unprotect(fd, mem, f)) {
		T_EXPECT(errno == ENOMEM && t_backend == UFFD_BACKEND_USER && tries == 0);
		if (tries++)
			T_FATAL("WRITEPROTECT still fails with room made: %s", t_errname(errno));
		munmap(filler, filler_len);
		filler = NULL;
	}
	pthread_join(w.th, NULL);
	T_OBS("the writer's byte landed: %d", mem[f * t_page + 5] == 0x5e);
	long intact = 0;
	for (long i = 0; i < PAGES; i++)
		intact += i != f && t_check(mem + i * t_page, t_page, (unsigned)i);
	T_OBS("other pages intact: %ld of %d", intact, PAGES - 1);
	T_EXPECT_EQ(intact, PAGES - 1);
	T_EXPECT(orc_nothing_queued(fd));
	close(fd);
	if (filler)
		munmap(filler, filler_len);
}
T_MAIN("writeprotect-map-limit", scenario)
