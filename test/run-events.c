/* SPDX-License-Identifier: MIT */
/*
 * UFFD_FEATURE_EVENT_REMOVE, EVENT_REMAP and EVENT_UNMAP under the shim:
 * MADV_DONTNEED, mremap and munmap of registered memory give the kernel's
 * message stream, in program order (each causing thread waits until its
 * event is read), and the registration moves with a remapped mapping.
 * test/prog/events.c
 * Run under `uffd run` on both backends; the output must be the same.
 */
#include "run.h"

static void scenario(void)
{
	tr_prog(NULL, "events", NULL);
}

T_MAIN("run-events", scenario)
