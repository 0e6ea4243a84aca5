/* SPDX-License-Identifier: MIT */
/* `uffd probe [--json]`: which backends work here, their features and ioctls. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "probe.h"

static int usage(FILE *out)
{
	fprintf(out,
		"usage: uffd probe [--json]\n"
		"\n"
		"For each backend (kernel, user): whether it opens and how, or why not;\n"
		"the UFFDIO_API version, feature bits and ioctls; and the ioctls that\n"
		"UFFDIO_REGISTER grants on anonymous, shmem (memfd) and hugetlb memory in\n"
		"MISSING, WP, MINOR and MISSING|WP modes, or the errno when it refuses.\n"
		"Huge pages are used only when some are reserved (vm.nr_hugepages).\n"
		"\n"
		"  --json     print one JSON object instead of tables\n"
		"  -h, --help this help\n"
		"\n"
		"Exit status: 0 when at least one backend works, 1 when none does.\n");
	return out == stdout ? 0 : 2;
}

int cmd_probe(int argc, char **argv)
{
	int json = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = 1;
		else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return usage(stdout);
		else {
			fprintf(stderr, "uffd probe: unknown argument '%s'\n", argv[i]);
			return usage(stderr);
		}
	}

	struct probe_report r;
	probe_collect(&r);
	if (json)
		probe_print_json(stdout, &r);
	else
		probe_print_table(stdout, &r);
	if (fflush(stdout) != 0)
		return 1;
	for (int i = 0; i < PROBE_NBACKEND; i++)
		if (probe_works(&r.b[i]))
			return 0;
	return 1;
}
