/* SPDX-License-Identifier: MIT */
/*
 * A program that never uses userfaultfd (run-unchanged): copies stdin to
 * stdout, prints its arguments and the disposition of SIGINT and SIGSEGV it
 * inherited, writes to stderr, then exits with status 3, or with "segv"
 * as its first argument dies of a null pointer access.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	char buf[4096];
	size_t n;

	while ((n = fread(buf, 1, sizeof(buf), stdin)) > 0)
		fwrite(buf, 1, n, stdout);
	for (int i = 1; i < argc; i++)
		printf("arg %d: %s\n", i, argv[i]);
	for (int sig = SIGINT; sig <= SIGSEGV; sig += SIGSEGV - SIGINT) {
		struct sigaction sa;
		sigaction(sig, NULL, &sa);
		printf("%s: %s\n", sig == SIGINT ? "SIGINT" : "SIGSEGV",
		       sa.sa_handler == SIG_IGN ? "ignored" :
		       sa.sa_handler == SIG_DFL ? "default" : "handled");
	}
	fprintf(stderr, "to stderr\n");
	fflush(stdout);
	if (argc > 1 && !strcmp(argv[1], "segv")) {
		/* Unmapped; not NULL, which UBSan would report first. */
		volatile int *volatile bad = (volatile int *)64;
		*bad = 1;
	}
	return 3;
}
