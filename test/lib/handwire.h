/* SPDX-License-Identifier: MIT */
/*
 * A client of a user-backend userfaultfd's owner that speaks the channel
 * (src/user/wire.h) by hand, to send what libuffd never would: tests of
 * the owner's distrust.  Not for the kernel half (the channel is the user
 * backend's).
 */
#ifndef TEST_HANDWIRE_H
#define TEST_HANDWIRE_H

#include <stdint.h>
#include <sys/types.h>
#include "../../src/user/wire.h"

struct hw {
	int req, rep;                 /* the pipes: bells, reply bytes */
	int ring_fd, pub_fd;          /* ours, on the ring's and the public page's memfds */
	int owner_fd;                 /* a pidfd of the owner */
	struct w_ring *ring;
	const struct w_public *pub;
	char *data;                   /* the ring's source bytes */
};

/* Connect to owner by hand (salt: a different nonce per connection).
 * 0, or -1. */
int hw_connect(pid_t owner, uint64_t salt, struct hw *h);
/* Post rq (and its datalen bytes of data, unless NULL) in the ring, ring the owner's
 * server, wait for the reply byte: 0 and *out, or -1 (no reply: EOF). */
int hw_ask(struct hw *h, const struct w_req *rq, const void *data, struct w_rep *out);
/* Post rq without ringing anybody. */
void hw_post(struct hw *h, const struct w_req *rq, const void *data);
/* Post rq and ring the owner's server: 0, or -1. */
int hw_ring(struct hw *h, const struct w_req *rq, const void *data);
/* Wait until the reply is in the ring, not reading the reply byte (a client
 * that reads no replies): 0 and *out (the ring idle again), or -1 when the
 * owner exited first. */
int hw_wait_ring(struct hw *h, struct w_rep *out);
void hw_close(struct hw *h);

#endif
