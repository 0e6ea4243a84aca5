/* SPDX-License-Identifier: MIT */
/*
 * The channel between a process that holds a user-backend userfaultfd of
 * another process (the client: it received the fd over SCM_RIGHTS, or
 * inherited it by fork) and the process that owns it (the server: it opened
 * the fd and registered its memory, and only it can change its page tables).
 *
 * Finding the owner, without a name anyone else can reach:
 *  - at uffd_open() the owner binds its pid to the fd's open file description
 *    (F_SETOWN_EX; a dup, a fork and SCM_RIGHTS all share it), so a holder
 *    reads the owner's pid with F_GETOWN_EX;
 *  - the owner keeps a service pipe, and an empty memfd named
 *    "libuffd-srv:<fd of the pipe's write end>" that marks it in its fd table;
 *  - the client finds the marker by reading the links in /proc/<owner>/fd
 *    and opens the write end through /proc/<owner>/fd/<n>.  The kernel lets
 *    only a process that may ptrace-read the owner do that (the same user,
 *    the owner dumpable; or root): that is the access check, made by the
 *    kernel, and no socket name or file exists that another user could reach;
 *  - the client writes a struct w_hello (16 bytes: one atomic pipe write) to
 *    the service pipe; the owner makes two pipes (requests, replies) and a
 *    ring (below) for it and marks them with a memfd
 *    "libuffd-cli:<nonce>:<req>:<rep>:<ring>"; the client opens all three
 *    through /proc/<owner>/fd, maps the ring, closes nothing of the owner's,
 *    and writes one byte on the request pipe (it is connected).  The owner
 *    then closes its copies of the client's ends but keeps a read end of
 *    the reply pipe (its reply bytes never raise SIGPIPE), so the client's
 *    death is EOF on the request pipe and the owner's is EOF on the reply
 *    pipe.
 *
 * The ring (struct w_ring, a memfd per client, mapped by both): one request
 * at a time.  The client writes the request and its source bytes there, sets
 * state W_POSTED and adds one to bell; any thread of the owner may take it
 * (W_POSTED -> W_TAKEN), run it and leave the reply with W_DONE, then write
 * one byte on the reply pipe, which the client waits for.  Who takes it: a
 * thread of the owner blocked in a fault watches the rings while it waits
 * (futex_waitv on every ring's bell), and counts itself in the watchers of
 * the owner's public page (the service marker memfd, which clients map
 * read-only: sealed F_SEAL_FUTURE_WRITE).  For a request that resolves
 * faults (COPY, ZEROPAGE, CONTINUE, POISON, WAKE, WRITEPROTECT) the client
 * wakes a watcher (FUTEX_WAKE on bell) when the page counts one and the
 * owner says watchers watch its ring (the first few rings); otherwise, and
 * for every other request, it writes a byte on the request pipe, and the
 * owner's server thread for that client takes it.  A watcher counts itself
 * before its fault's message goes, and looks at the rings after reading
 * their bells, before it sleeps on them, and once more when it stops
 * counting itself: no post to a watched ring goes unseen.  So a handler's COPY is
 * run by the very thread that waits for the page, as the kernel's fills and
 * wakes it: on one CPU the round trip is two process switches, not four.
 *
 * Every fd of the channel is close-on-exec; the ring and the public page
 * are sealed against shrinking (the owner's accesses to them never fault).
 * The owner trusts nothing in a ring: the request is copied out before it
 * is checked, a malformed one is an error for that request, the ioctl runs
 * through the same code as a local one (which only writes inside registered
 * ranges), and only the source bytes are read in place.
 */
#ifndef LIBUFFD_USER_WIRE_H
#define LIBUFFD_USER_WIRE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <uffd/abi.h>        /* the UFFDIO_* requests */

#define W_MAGIC     0x64666675u        /* "uffd" */
#define W_ARG_MAX   64                 /* the largest uffdio_* argument */
#define W_DATA_MAX  (256 * 1024)       /* UFFDIO_COPY source bytes per request */
#define W_PROBE     0ul                /* request: is (dev, ino) one of yours? */
#define W_EVENTS    1ul                /* request: I read arg (uint32_t) events of it */
#define W_FORKFD    2ul                /* request: I opened your fork event's fd arg
					  (uint32_t); close yours.  Reply arg: the
					  child's pid (uint32_t) */
#define W_SRV_NAME  "libuffd-srv:"
#define W_CLI_NAME  "libuffd-cli:"
#define W_RING_DATA 4096               /* the ring's source bytes start here */
#define W_RING_SIZE (W_RING_DATA + W_DATA_MAX)

enum { W_IDLE, W_POSTED, W_TAKEN, W_DONE };   /* struct w_ring's state */

struct w_hello {
	uint32_t magic;
	uint32_t pid;          /* the client, for a pidfd: its death ends the wait */
	uint64_t nonce;        /* names the client's marker */
};

struct w_req {
	uint32_t magic;
	uint32_t argsize;      /* _IOC_SIZE(request) bytes of arg are used */
	uint64_t request;
	uint64_t dev, ino;     /* the fd's pipe: which context */
	uint32_t datalen;      /* UFFDIO_COPY: the source bytes, in the ring */
	uint32_t pad;
	unsigned char arg[W_ARG_MAX];
};

struct w_rep {
	int32_t ret;           /* 0/positive, or -errno */
	uint32_t argsize;
	unsigned char arg[W_ARG_MAX];   /* the argument after the ioctl */
};

/* W_RING_SIZE bytes, shared by the owner and one client. */
struct w_ring {
	_Atomic uint32_t state;
	_Atomic uint32_t bell;          /* the client adds one per request */
	uint32_t watched;               /* the owner's watchers watch this ring */
	struct w_req req;               /* the client's, before W_POSTED */
	struct w_rep rep;               /* the owner's, before W_DONE */
};

/* The requests a thread of the owner blocked in a fault may run: those of
 * the resolving path, which is async-signal-safe (user.h). */
static inline bool w_resolving(uint64_t request)
{
	switch (request) {
	case UFFDIO_COPY: case UFFDIO_ZEROPAGE: case UFFDIO_CONTINUE:
	case UFFDIO_POISON: case UFFDIO_WAKE: case UFFDIO_WRITEPROTECT:
		return true;
	}
	return false;
}

/* The owner's public page (clients map it read-only). */
#define W_PUBLIC_SIZE 4096
struct w_public {
	_Atomic int32_t watchers;       /* threads of the owner watching the rings */
};

#endif
