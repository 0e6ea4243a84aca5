/* SPDX-License-Identifier: MIT */
/* uffd_pager_create() and uffd_pager_destroy(): the userfaultfd, the
 * features it is opened with, the handler threads. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "pager.h"

/* What the pager uses when the backend has it: POISON turns a source error
 * into SIGBUS; PAGEFAULT_FLAG_WP is needed for write-back. */
#define PAGER_FEATURES (UFFD_FEATURE_POISON | UFFD_FEATURE_PAGEFAULT_FLAG_WP)

/* The features the backend offers: asked on a throwaway fd, since UFFDIO_API
 * may be done once per fd. */
static int backend_features(enum uffd_backend backend, uint64_t *features)
{
	int fd = uffd_open(O_CLOEXEC | O_NONBLOCK, backend);
	if (fd < 0)
		return -1;
	struct uffdio_api api = { .api = UFFD_API };
	int r = uffd_ioctl(fd, UFFDIO_API, &api);
	int err = errno;
	int user = uffd_fd_backend(fd) == UFFD_BACKEND_USER;
	close(fd);
	if (user)
		uffd_user_reap();
	if (r < 0) {
		errno = err;
		return -1;
	}
	*features = api.features;
	return 0;
}

static int open_fd(struct uffd_pager *p, enum uffd_backend backend)
{
	uint64_t avail;

	if (backend_features(backend, &avail) < 0)
		return -1;
	if ((p->flags & UFFD_PAGER_WRITEBACK) && !(avail & UFFD_FEATURE_PAGEFAULT_FLAG_WP)) {
		errno = EOPNOTSUPP;
		return -1;
	}
	/* The same backend AUTO chose for the probe: a second AUTO open could
	 * only differ if the environment changed in between. */
	p->fd = uffd_open(O_CLOEXEC | O_NONBLOCK, backend);
	if (p->fd < 0)
		return -1;
	int b = uffd_fd_backend(p->fd);
	p->backend = b < 0 ? backend : (enum uffd_backend)b;
	struct uffdio_api api = { .api = UFFD_API, .features = avail & PAGER_FEATURES };
	if (uffd_ioctl(p->fd, UFFDIO_API, &api) < 0)
		return -1;
	p->features = api.features;
	return 0;
}

static void stop_threads(struct uffd_pager *p, unsigned started)
{
	uint64_t one = 1;

	if (p->stop_fd >= 0 && write(p->stop_fd, &one, sizeof(one)) != sizeof(one))
		abort();    /* an eventfd write of 1 cannot fail short of a bug */
	for (unsigned i = 0; i < started; i++)
		pthread_join(p->threads[i].tid, NULL);
}

static void free_pager(struct uffd_pager *p)
{
	if (p->threads) {
		for (unsigned i = 0; i < p->nthreads; i++)
			if (p->threads[i].buf)
				munmap(p->threads[i].buf, p->threads[i].buf_len);
		free(p->threads);
	}
	if (p->fd >= 0) {
		close(p->fd);
		/* the user backend's end of it goes now, not when its monitor
		 * thread gets to it */
		if (p->backend == UFFD_BACKEND_USER)
			uffd_user_reap();
	}
	if (p->stop_fd >= 0)
		close(p->stop_fd);
	pthread_rwlock_destroy(&p->lock);
	free(p);
}

/* Handler threads take only the signals their own faults raise: the
 * program's asynchronous signals go to its own threads. */
static int start_threads(struct uffd_pager *p)
{
	sigset_t all, old;
	unsigned i;
	int err = 0;

	sigfillset(&all);
	sigdelset(&all, SIGSEGV);
	sigdelset(&all, SIGBUS);
	sigdelset(&all, SIGILL);
	sigdelset(&all, SIGFPE);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (i = 0; i < p->nthreads; i++) {
		err = pthread_create(&p->threads[i].tid, NULL, pager_handler_main, &p->threads[i]);
		if (err)
			break;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		stop_threads(p, i);
		errno = err;
		return -1;
	}
	return 0;
}

struct uffd_pager *uffd_pager_create(const struct uffd_pager_config *cfg)
{
	if (!cfg || cfg->threads > UFFD_PAGER_MAX_THREADS || (cfg->flags & ~UFFD_PAGER_WRITEBACK) ||
	    cfg->readahead > 65536 ||
	    (cfg->backend != UFFD_BACKEND_AUTO && cfg->backend != UFFD_BACKEND_KERNEL &&
	     cfg->backend != UFFD_BACKEND_USER)) {
		errno = EINVAL;
		return NULL;
	}
	struct uffd_pager *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->fd = p->stop_fd = -1;
	p->psize = (size_t)sysconf(_SC_PAGESIZE);
	p->readahead = cfg->readahead;
	p->flags = cfg->flags;
	p->nthreads = cfg->threads ? cfg->threads : 1;
	pthread_rwlockattr_t attr;
	pthread_rwlockattr_init(&attr);
	/* unmap must not starve behind handler threads that always hold it */
	pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&p->lock, &attr);
	pthread_rwlockattr_destroy(&attr);
	int err;
	if (open_fd(p, cfg->backend) < 0)
		goto fail;
	p->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	p->threads = calloc(p->nthreads, sizeof(*p->threads));
	if (p->stop_fd < 0 || !p->threads)
		goto fail;
	for (unsigned i = 0; i < p->nthreads; i++) {
		struct pager_thread *t = &p->threads[i];
		t->pager = p;
		t->buf_len = PAGER_BATCH * (1 + (size_t)p->readahead) * p->psize;
		t->buf = mmap(NULL, t->buf_len, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (t->buf == MAP_FAILED) {
			t->buf = NULL;
			goto fail;
		}
	}
	if (start_threads(p) < 0)
		goto fail;
	return p;
fail:
	err = errno;
	free_pager(p);
	errno = err;
	return NULL;
}

void uffd_pager_destroy(struct uffd_pager *p)
{
	if (!p)
		return;
	stop_threads(p, p->nthreads);
	while (p->regions)
		uffd_region_unmap(p->regions);
	free_pager(p);
}

enum uffd_backend uffd_pager_backend(const struct uffd_pager *p)
{
	return p->backend;
}
