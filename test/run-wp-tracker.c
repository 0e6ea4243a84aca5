/* SPDX-License-Identifier: MIT */
/*
 * A write-protect tracker (UFFD_FEATURE_WP_ASYNC) reading the uffd-wp bit
 * (57) of /proc/self/pagemap through pread and read: under `uffd run` the
 * bits follow the user backend's protection as the kernel's do, and
 * PAGEMAP_SCAN (categories, max_pages, vec_len, PM_SCAN_WP_MATCHING)
 * answers from the user backend's state as the kernel from its page tables
 * (test/prog/wp-tracker.c prints the same on both backends).
 */
#include "run.h"

static void scenario(void)
{
	tr_prog(NULL, "wp-tracker", NULL);
}

T_MAIN("run-wp-tracker", scenario)
