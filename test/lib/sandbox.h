/* SPDX-License-Identifier: MIT */
/*
 * A container's view of userfaultfd, for the tests that need one: the
 * system call refused by a seccomp filter (as Docker's default profile
 * does), /dev/userfaultfd unusable.  Both last for the calling process and
 * its children: call them in a forked child.  Names are prefixed sb_.
 */
#ifndef LIBUFFD_TEST_SANDBOX_H
#define LIBUFFD_TEST_SANDBOX_H

/* Refuse userfaultfd(2) with errno err.  NULL, or why it could not. */
const char *sb_refuse_userfaultfd(int err);

/* In a private mount namespace, /dev/null bound over /dev/userfaultfd
 * (absent = 0) or an empty /dev (absent = 1).  NULL, or why it could not. */
const char *sb_hide_device(int absent);

#endif
