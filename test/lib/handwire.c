/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "handwire.h"

/* The owner's marker memfd whose name starts with prefix: the rest of its
 * name to rest[], its fd number returned (or -1). */
static int marker(pid_t owner, const char *prefix, char *rest, size_t len)
{
	char path[64], link[256], want[128];
	int found = -1;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)owner);
	snprintf(want, sizeof(want), "/memfd:%s", prefix);
	DIR *d = opendir(path);
	for (struct dirent *e; d && found < 0 && (e = readdir(d));) {
		char p[320];
		snprintf(p, sizeof(p), "%s/%s", path, e->d_name);
		ssize_t n = readlink(p, link, sizeof(link) - 1);
		if (n > 0 && (link[n] = 0, !strncmp(link, want, strlen(want)))) {
			snprintf(rest, len, "%s", link + strlen(want));
			found = atoi(e->d_name);
		}
	}
	if (d)
		closedir(d);
	return found;
}

static int open_at(pid_t owner, int n, int flags)
{
	char p[64];

	snprintf(p, sizeof(p), "/proc/%d/fd/%d", (int)owner, n);
	return open(p, flags | O_CLOEXEC);
}

static void *map_at(pid_t owner, int n, size_t len, int prot, int *f)
{
	*f = open_at(owner, n, O_RDWR);   /* as far as the owner allows */
	if (*f < 0)
		*f = open_at(owner, n, O_RDONLY);
	void *p = *f < 0 ? MAP_FAILED : mmap(NULL, len, prot, MAP_SHARED, *f, 0);
	return p == MAP_FAILED ? NULL : p;
}

int hw_connect(pid_t owner, uint64_t salt, struct hw *h)
{
	char rest[128], prefix[64];

	memset(h, 0, sizeof(*h));
	h->req = h->rep = h->ring_fd = h->pub_fd = -1;
	h->owner_fd = (int)syscall(SYS_pidfd_open, owner, 0);
	if (h->owner_fd < 0)
		return -1;
	int pub_n = marker(owner, W_SRV_NAME, rest, sizeof(rest));
	if (pub_n < 0)
		return -1;
	int q = open_at(owner, atoi(rest), O_WRONLY);
	struct w_hello hello = { W_MAGIC, (uint32_t)getpid(), 0x1234567890abcdefull + salt };
	if (q < 0 || write(q, &hello, sizeof(hello)) != sizeof(hello))
		return -1;
	close(q);
	snprintf(prefix, sizeof(prefix), W_CLI_NAME "%016llx:", (unsigned long long)hello.nonce);
	for (int i = 0; i < 5000 && marker(owner, prefix, rest, sizeof(rest)) < 0; i++)
		usleep(1000);   /* the owner's monitor answers at once */
	int r, p, ring_n;
	if (sscanf(rest, "%d:%d:%d", &r, &p, &ring_n) != 3)
		return -1;
	h->req = open_at(owner, r, O_WRONLY);
	h->rep = open_at(owner, p, O_RDONLY);
	h->ring = map_at(owner, ring_n, W_RING_SIZE, PROT_READ | PROT_WRITE, &h->ring_fd);
	h->pub = map_at(owner, pub_n, W_PUBLIC_SIZE, PROT_READ, &h->pub_fd);
	if (h->req < 0 || h->rep < 0 || !h->ring || !h->pub)
		return -1;
	h->data = (char *)h->ring + W_RING_DATA;
	char bell = 1;
	if (write(h->req, &bell, 1) != 1)
		return -1;
	/* Connected: the owner closed its copies (and the marker) at the bell. */
	for (int i = 0; i < 5000 && marker(owner, prefix, rest, sizeof(rest)) >= 0; i++)
		usleep(1000);
	return marker(owner, prefix, rest, sizeof(rest)) >= 0 ? -1 : 0;
}

void hw_post(struct hw *h, const struct w_req *rq, const void *data)
{
	memcpy(&h->ring->req, rq, sizeof(*rq));
	if (data)
		memcpy(h->data, data, rq->datalen <= W_DATA_MAX ? rq->datalen : W_DATA_MAX);
	atomic_store(&h->ring->state, W_POSTED);
	atomic_fetch_add(&h->ring->bell, 1);
}

int hw_ring(struct hw *h, const struct w_req *rq, const void *data)
{
	char bell = 1;

	hw_post(h, rq, data);
	return write(h->req, &bell, 1) == 1 ? 0 : -1;
}

/* The reply in the ring to *out, the ring idle again. */
static int take_reply(struct hw *h, struct w_rep *out)
{
	if (atomic_load(&h->ring->state) != W_DONE)
		return -1;
	memcpy(out, &h->ring->rep, sizeof(*out));
	atomic_store(&h->ring->state, W_IDLE);
	return 0;
}

int hw_ask(struct hw *h, const struct w_req *rq, const void *data, struct w_rep *out)
{
	char done;

	if (hw_ring(h, rq, data) || read(h->rep, &done, 1) != 1)
		return -1;
	return take_reply(h, out);
}

int hw_wait_ring(struct hw *h, struct w_rep *out)
{
	struct pollfd p = { h->owner_fd, POLLIN, 0 };

	while (atomic_load(&h->ring->state) != W_DONE)
		if (poll(&p, 1, 0) != 0)
			return -1;
		else
			sched_yield();
	return take_reply(h, out);
}

void hw_close(struct hw *h)
{
	int *fds[] = { &h->req, &h->rep, &h->ring_fd, &h->pub_fd, &h->owner_fd };
	for (int i = 0; i < 5; i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
	if (h->ring)
		munmap(h->ring, W_RING_SIZE);
	if (h->pub)
		munmap((void *)h->pub, W_PUBLIC_SIZE);
	h->ring = NULL;
	h->pub = NULL;
}
