/* SPDX-License-Identifier: MIT */
/* A slow server for the store tests: see proxy.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "proxy.h"

struct pair {
	struct t_proxy *p;
	int client, server;
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int write_all(int fd, const char *buf, size_t n)
{
	for (size_t done = 0; done < n;) {
		ssize_t w = write(fd, buf + done, n - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		done += (size_t)w;
	}
	return 0;
}

/* Replies read from the server, each due delay_ms after it arrived. */
struct held {
	struct held *next;
	double due;
	size_t len;
	char data[];
};

/* One connection: requests pass at once; replies are held delay_ms (latency,
 * not a bandwidth limit: every read is queued at once with its due time). */
static void *conn_main(void *arg)
{
	struct pair *c = arg;
	struct held *head = NULL, **tail = &head;
	char buf[65536];
	int done = 0;

	while (!done) {
		int timeout = -1;
		if (head) {
			double left = head->due - now_ms();
			timeout = left <= 0 ? 0 : (int)left + 1;
		}
		struct pollfd fds[3] = { { c->client, POLLIN, 0 }, { c->server, POLLIN, 0 },
					 { c->p->stop[0], POLLIN, 0 } };
		if (poll(fds, 3, timeout) < 0 && errno != EINTR)
			break;
		if (fds[2].revents)
			break;
		if (fds[0].revents) {
			ssize_t n = read(c->client, buf, sizeof(buf));
			done = n <= 0 || write_all(c->server, buf, (size_t)n);
		}
		if (fds[1].revents) {
			ssize_t n = read(c->server, buf, sizeof(buf));
			struct held *h = n > 0 ? malloc(sizeof(*h) + (size_t)n) : NULL;
			if (!h) {
				done = 1;
			} else {
				h->next = NULL;
				h->due = now_ms() + c->p->delay_ms;
				h->len = (size_t)n;
				memcpy(h->data, buf, (size_t)n);
				*tail = h;
				tail = &h->next;
			}
		}
		while (head && head->due <= now_ms()) {
			struct held *h = head;
			done |= write_all(c->client, h->data, h->len);
			if (!(head = h->next))
				tail = &head;
			free(h);
		}
	}
	while (head) {
		struct held *h = head;
		head = h->next;
		free(h);
	}
	close(c->client);
	close(c->server);
	free(c);
	return NULL;
}

static int dial(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		close(fd);
		fd = -1;
	}
	return fd;
}

static void *accept_main(void *arg)
{
	struct t_proxy *p = arg;

	for (;;) {
		struct pollfd fds[2] = { { p->lfd, POLLIN, 0 }, { p->stop[0], POLLIN, 0 } };
		if (poll(fds, 2, -1) < 0 && errno != EINTR)
			break;
		if (fds[1].revents)
			break;
		if (!fds[0].revents)
			continue;
		int cfd = accept4(p->lfd, NULL, NULL, SOCK_CLOEXEC), sfd = -1;
		struct pair *c = malloc(sizeof(*c));
		int k = atomic_load(&p->nconn);
		if (cfd < 0 || !c || k >= 64 || (sfd = dial(p->to_port)) < 0) {
			if (cfd >= 0)
				close(cfd);
			free(c);
			continue;
		}
		*c = (struct pair){ p, cfd, sfd };
		if (pthread_create(&p->conn[k], NULL, conn_main, c)) {
			close(cfd);
			close(sfd);
			free(c);
			continue;
		}
		atomic_store(&p->nconn, k + 1);
	}
	return NULL;
}

void t_proxy_start(struct t_proxy *p, int to_port, int delay_ms)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);

	memset(p, 0, sizeof(*p));
	p->to_port = to_port;
	p->delay_ms = delay_ms;
	/* Port 0: the kernel picks a free one, so parallel tests never collide. */
	T_ASSERT((p->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) >= 0);
	T_ASSERT(bind(p->lfd, (struct sockaddr *)&a, sizeof(a)) == 0);
	T_ASSERT(listen(p->lfd, 64) == 0);
	T_ASSERT(getsockname(p->lfd, (struct sockaddr *)&a, &len) == 0);
	p->port = ntohs(a.sin_port);
	T_ASSERT(pipe2(p->stop, O_CLOEXEC) == 0);
	T_ASSERT(pthread_create(&p->acceptor, NULL, accept_main, p) == 0);
}

void t_proxy_stop(struct t_proxy *p)
{
	close(p->stop[1]);        /* every poll sees the end */
	pthread_join(p->acceptor, NULL);
	for (int i = 0; i < atomic_load(&p->nconn); i++)
		pthread_join(p->conn[i], NULL);
	close(p->stop[0]);
	close(p->lfd);
}
