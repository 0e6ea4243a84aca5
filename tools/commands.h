/* SPDX-License-Identifier: MIT */
/* The subcommands of `uffd`, one file each. */
#ifndef UFFD_TOOLS_COMMANDS_H
#define UFFD_TOOLS_COMMANDS_H
int cmd_probe(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_run(int argc, char **argv);
#ifdef UFFD_HAVE_STORE
int cmd_image(int argc, char **argv);
#endif
#endif
