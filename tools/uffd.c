/* SPDX-License-Identifier: MIT */
/* The `uffd` command: dispatches to its subcommands. */
#include <stdio.h>
#include <string.h>

#include "commands.h"

static const struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *help;
} commands[] = {
	{ "probe", cmd_probe, "which backends work here, their features and ioctls" },
	{ "bench", cmd_bench, "both backends side by side: fault round trips, throughput" },
	{ "run", cmd_run, "run a program with its userfaultfds on a chosen backend" },
#ifdef UFFD_HAVE_STORE
	{ "image", cmd_image, "memory images in Redis or memcached: push, pull, ls, rm" },
#endif
};

static int usage(FILE *out)
{
	fprintf(out, "usage: uffd COMMAND [ARGS]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].help);
	return out == stdout ? 0 : 2;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage(stderr);
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help"))
		return usage(stdout);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "uffd: unknown command '%s'\n", argv[1]);
	return usage(stderr);
}
