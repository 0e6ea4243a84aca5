/* A fault on a page whose registration is being removed, while the
 * removal is held up.  The user backend's UNREGISTER takes the range out of
 * its registry, waits until no COPY can still be writing into the memory
 * (here one COPY is blocked: its source is a missing page of a kernel
 * userfaultfd that nobody resolves yet), then opens the traps.  A thread
 * touching a page of the range meanwhile finds no range and a trap still
 * armed: it must wait for the removal, however long, and then read the
 * ordinary page, as with the kernel (whose UNREGISTER is not held up).  The
 * user backend used to give such an access 2 s and then take it for the
 * program's own crash (SIGSEGV): so the source is held missing for 3 s.
 * That delay makes the stall, it decides nothing: every wait below is on
 * the event itself. */
#include <pthread.h>
#include <sched.h>
#include <time.h>
#include "harness.h"
#include "oracle.h"

static int fd, kfd;
static char *r1, *r2, *ksrc;
static int copy_ret, copy_errno, unreg_ret, unreg_errno;

static void *copier(void *arg)
{
	struct uffdio_copy c = { (uintptr_t)r1, (uintptr_t)ksrc, t_page, 0, 0 };

	(void)arg;
	copy_ret = uffd_ioctl(fd, UFFDIO_COPY, &c);
	copy_errno = copy_ret ? errno : 0;
	return NULL;
}

static void *unregisterer(void *arg)
{
	struct uffdio_range r = { (uintptr_t)r2, t_page };

	(void)arg;
	unreg_ret = uffd_ioctl(fd, UFFDIO_UNREGISTER, &r);
	unreg_errno = unreg_ret ? errno : 0;
	return NULL;
}

static void scenario(void)
{
	kfd = uffd_open(O_CLOEXEC, UFFD_BACKEND_KERNEL);
	if (kfd < 0)
		t_skip("no kernel userfaultfd for the source: %s", uffd_strerror());
	struct uffdio_api api = { .api = UFFD_API };
	T_ASSERT(uffd_ioctl(kfd, UFFDIO_API, &api) == 0);
	ksrc = t_map(t_page);
	t_register(kfd, ksrc, t_page, UFFDIO_REGISTER_MODE_MISSING);

	fd = t_uffd_api(O_CLOEXEC | O_NONBLOCK, UFFD_FEATURE_PAGEFAULT_FLAG_WP);
	r1 = t_map(t_page);
	r2 = t_map(t_page);
	t_register(fd, r1, t_page, UFFDIO_REGISTER_MODE_MISSING);
	/* WP too: WRITEPROTECT tells when the registration is gone. */
	t_register(fd, r2, t_page, UFFDIO_REGISTER_MODE_MISSING | UFFDIO_REGISTER_MODE_WP);

	/* The COPY into r1 blocks reading its source. */
	pthread_t a, b;
	struct uffd_msg m;
	T_ASSERT(pthread_create(&a, NULL, copier, NULL) == 0);
	orc_wait_msg(kfd, &m);
	T_OBS("the copy's source faulted: event %d at the source %d", m.event,
	      m.arg.pagefault.address == (uintptr_t)ksrc);
	/* Unregister r2; once the registration is gone (WRITEPROTECT there
	 * says ENOENT), touch r2. */
	T_ASSERT(pthread_create(&b, NULL, unregisterer, NULL) == 0);
	struct uffdio_writeprotect w = { { (uintptr_t)r2, t_page }, UFFDIO_WRITEPROTECT_MODE_DONTWAKE };
	int polls = 0;
	while (uffd_ioctl(fd, UFFDIO_WRITEPROTECT, &w) == 0)
		if (++polls % 64 == 0)
			sched_yield();
	T_OBS("writeprotect once the registration is gone: %s", t_errname(errno));
	struct orc_toucher t;
	orc_touch_start(&t, r2, 0, 0);

	struct timespec hold = { 3, 0 };
	while (nanosleep(&hold, &hold) && errno == EINTR)
		;
	char *src = t_map(t_page);
	memset(src, 0x5a, t_page);
	struct uffdio_copy c = { (uintptr_t)ksrc, (uintptr_t)src, t_page, 0, 0 };
	T_ASSERT(uffd_ioctl(kfd, UFFDIO_COPY, &c) == 0);

	pthread_join(a, NULL);
	pthread_join(b, NULL);
	T_OBS("copy into r1: %d %s, byte 0x%x", copy_ret, t_errname(copy_errno),
	      (unsigned char)r1[0]);
	T_OBS("unregister r2: %d %s", unreg_ret, t_errname(unreg_errno));
	T_OBS("the access to r2 read %d", orc_touch_join(&t));
	close(fd);
	close(kfd);
}
T_MAIN("fault-during-stalled-unregister", scenario)
