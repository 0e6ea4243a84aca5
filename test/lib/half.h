/* SPDX-License-Identifier: MIT */
/*
 * The process a half of a test runs in (for harness.c): a child of the test
 * in a process group of its own, which holds whatever the half starts
 * (programs under `uffd run`, servers, children) unless they leave it.
 * Nothing in the group outlives the half:
 *  - once the half ended (its time limit included), the test kills the
 *    group (before it reaps the half, so that the group's id cannot be
 *    anybody else's);
 *  - the test told to end (SIGTERM from run.sh's `timeout`, ^C, SIGHUP)
 *    kills the group first, then ends of the same signal;
 *  - the test killed (SIGKILL): the half dies with it (PR_SET_PDEATHSIG),
 *    and a warden, a child of the test in the half's group that waits for
 *    the half's end (a pidfd), kills the group, itself included.
 * The warden is not the half's child: a half's wait(2) never sees it.
 */
#ifndef LIBUFFD_TEST_HALF_H
#define LIBUFFD_TEST_HALF_H

#include <sys/types.h>

/* Once, before the first half: the test's handlers of the ending signals
 * (a signal ignored when the test started stays ignored). */
void t_half_signals(void);
/* Fork the half: 0 in it, its pid in the test. */
pid_t t_half_start(void);
/* Wait for the half to end, kill its group, reap it: its wait status. */
int t_half_end(pid_t half);

#endif
