/* SPDX-License-Identifier: MIT */
/*
 * The C library's functions behind the interposers, and the backend asked
 * for.  Resolved when the shim is loaded, before the program runs: an
 * interposer may then be called from a signal handler (read, close) without
 * dlsym's locks.
 */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include "preload.h"

struct shim_real shim_real;
enum uffd_backend shim_backend = UFFD_BACKEND_AUTO;

#define RESOLVE(name) \
	do { if (!shim_real.name) shim_real.name = dlsym(RTLD_NEXT, #name); } while (0)

void shim_resolve(void)
{
	RESOLVE(syscall);
	RESOLVE(open);
	RESOLVE(openat);
	RESOLVE(ioctl);
	RESOLVE(read);
	RESOLVE(readv);
	RESOLVE(pread);
	RESOLVE(preadv);
	RESOLVE(recvfrom);
	RESOLVE(recvmsg);
	RESOLVE(poll);
	RESOLVE(ppoll);
	RESOLVE(close);
	RESOLVE(dup);
	RESOLVE(dup2);
	RESOLVE(fcntl);
	RESOLVE(mmap);
	RESOLVE(munmap);
	RESOLVE(mremap);
	RESOLVE(madvise);
	RESOLVE(sigaction);
	RESOLVE(sigprocmask);
	RESOLVE(pthread_sigmask);
	RESOLVE(dup3);
}

__attribute__((constructor)) static void shim_load(void)
{
	const char *b = getenv("UFFD_BACKEND");

	if (b && !strcmp(b, "kernel"))
		shim_backend = UFFD_BACKEND_KERNEL;
	else if (b && !strcmp(b, "user"))
		shim_backend = UFFD_BACKEND_USER;
	shim_resolve();
	/* munmap, mremap and madvise are seen: the events can be offered. */
	if (shim_backend != UFFD_BACKEND_KERNEL)
		atomic_store(&u_events_seen, 1);
}
