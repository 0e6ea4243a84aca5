/* SPDX-License-Identifier: MIT */
/*
 * Under `uffd run`, a program that installs its own SIGSEGV handler after
 * registering (sigaction, then signal) gets exactly its own faults and its
 * own previous actions back, userfaults keep working, and a worker thread
 * that blocks every signal still has its userfault resolved (and sees
 * SIGSEGV blocked as it asked): test/prog/own-segv-handler.c prints the same
 * on both backends and dies of its last, unhandled SIGSEGV on both.
 */
#include "run.h"

static void scenario(void)
{
	tr_prog(NULL, "own-segv-handler", NULL);
}

T_MAIN("run-own-segv-handler", scenario)
