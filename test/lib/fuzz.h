/* SPDX-License-Identifier: MIT */
/*
 * The differential fuzzer's core (test/fuzz-replay.c, fuzz/uffd-fuzz.c).
 * An input is a program: its bytes are decoded into a sequence of operations
 * (mmap of anonymous or shmem memory, REGISTER/UNREGISTER with any mode and
 * range, every ioctl with random and boundary arguments, the generic ioctls,
 * unknown requests, read and poll, dup and close, touches of memory), run
 * once on each backend.  Every observable goes into a transcript: return
 * values, errno, output fields, the message stream, what a touch saw (a
 * byte, or SIGBUS with its code and page), and at the end the contents of
 * every page.  The backends must write the same transcript.
 * Touches use UFFD_FEATURE_SIGBUS, so a fault never blocks: the sequence
 * stays deterministic.  Addresses appear as offsets into the mappings.
 */
#ifndef LIBUFFD_TEST_FUZZ_H
#define LIBUFFD_TEST_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include "uffd.h"

/* Run the program data[0..len) on backend; the transcript goes to out
 * (NUL-terminated, truncated to cap).  Returns 0, or -1 when the backend
 * could not be opened. */
int fuzz_run(const uint8_t *data, size_t len, enum uffd_backend backend,
	     char *out, size_t cap);

/* Run it on both backends in turn; 0 when the transcripts agree, else 1
 * (the first difference and both transcripts on stderr); 77 when a backend
 * is unavailable. */
int fuzz_compare(const uint8_t *data, size_t len);

#endif
