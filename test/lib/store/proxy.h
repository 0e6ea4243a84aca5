/* SPDX-License-Identifier: MIT */
/* A slow server for the store tests: a TCP proxy on a free loopback port in
 * front of a real server, which passes every reply on delay_ms after it came
 * (the latency of a distant or loaded store; no bandwidth limit).
 * Threads of the test process; stopped (and every connection closed) by
 * t_proxy_stop. */
#ifndef LIBUFFD_TEST_PROXY_H
#define LIBUFFD_TEST_PROXY_H

#include <pthread.h>
#include <stdatomic.h>

struct t_proxy {
	int port;                 /* where clients connect */
	int to_port;              /* the real server */
	int delay_ms;
	int lfd, stop[2];         /* listening socket; a pipe whose close stops all */
	pthread_t acceptor;
	_Atomic int nconn;
	pthread_t conn[64];
};

void t_proxy_start(struct t_proxy *p, int to_port, int delay_ms);
void t_proxy_stop(struct t_proxy *p);

#endif
