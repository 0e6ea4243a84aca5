/* SPDX-License-Identifier: MIT */
/* `uffd probe`: which backends work here (to be completed). */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "commands.h"
#include "uffd.h"

int cmd_probe(int argc, char **argv)
{
	(void)argc, (void)argv;
	int ok = 0;
	for (int b = UFFD_BACKEND_KERNEL; b <= UFFD_BACKEND_USER; b++) {
		struct uffd_backend_info info;
		uffd_backend_probe(b, 0, &info);
		printf("%-7s %s\n", uffd_backend_name(b), info.available ? info.how : info.why);
		ok |= info.available;
	}
	return ok ? 0 : 1;
}
