/* SPDX-License-Identifier: MIT */
/*
 * Registered anonymous memory filled by UFFDIO_COPY stays anonymous memory
 * through fork, MADV_DONTNEED, MADV_FREE, MADV_WIPEONFORK, mremap, munmap
 * of a part, UNREGISTER and close, and in /proc/self/pagemap, although
 * under the shim the user backend fills it through a page cache
 * (src/user/pcache.c).  test/prog/anon-semantics.c
 * Run under `uffd run` on both backends; the output must be the same.
 */
#include "run.h"

static void scenario(void)
{
	tr_prog(NULL, "anon-semantics", NULL);
}

T_MAIN("run-anon-semantics", scenario)
