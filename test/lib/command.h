/* SPDX-License-Identifier: MIT */
/* Tests of the `uffd` command: find it beside the test binaries, run it. */
#ifndef LIBUFFD_TEST_COMMAND_H
#define LIBUFFD_TEST_COMMAND_H

#include <stddef.h>

/* BUILD/test/NAME -> BUILD/uffd (BUILD: build, build-asan, ...): 0, or -1. */
int cmd_find(char *out, size_t len);
/* Run argv (argv[0] the path); its stdout in a malloc'd string (NULL on
 * failure), its wait status in *status. */
char *cmd_run(char *const argv[], int *status);

#endif
