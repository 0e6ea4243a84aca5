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
 *    the service pipe; the owner makes two pipes for it (requests, replies)
 *    and marks them with a memfd "libuffd-cli:<nonce>:<req>:<rep>"; the
 *    client opens both through /proc/<owner>/fd and closes nothing of the
 *    owner's.  After the first request the owner closes its copies of the
 *    client's ends, so either side's death is EOF / EPIPE on the other.
 * Every fd of the channel is close-on-exec.  The owner trusts nothing in a
 * request: sizes are checked, the ioctl runs through the same code as a
 * local one (which only writes inside registered ranges).
 */
#ifndef LIBUFFD_USER_WIRE_H
#define LIBUFFD_USER_WIRE_H

#include <stdint.h>

#define W_MAGIC     0x64666675u        /* "uffd" */
#define W_ARG_MAX   64                 /* the largest uffdio_* argument */
#define W_DATA_MAX  (256 * 1024)       /* UFFDIO_COPY source bytes per request */
#define W_PROBE     0ul                /* request: is (dev, ino) one of yours? */
#define W_EVENTS    1ul                /* request: I read arg (uint32_t) events of it */
#define W_SRV_NAME  "libuffd-srv:"
#define W_CLI_NAME  "libuffd-cli:"

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
	uint32_t datalen;      /* UFFDIO_COPY: the source bytes that follow */
	uint32_t pad;
	unsigned char arg[W_ARG_MAX];
};

struct w_rep {
	int32_t ret;           /* 0/positive, or -errno */
	uint32_t argsize;
	unsigned char arg[W_ARG_MAX];   /* the argument after the ioctl */
};

#endif
