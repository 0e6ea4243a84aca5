/*
 * The differential fuzzer under libFuzzer (make fuzz: clang, with ASan):
 * each input is a program of operations run on both backends (see
 * test/lib/fuzz.h); a difference between their transcripts is a crash, and
 * libFuzzer saves the input.  Put it in test/fuzz-corpus/ once the bug it
 * found is fixed: test/fuzz-replay.c replays the corpus in make test.
 *     build-fuzz/uffd-fuzz -max_total_time=60 test/fuzz-corpus
 */
#include <stdlib.h>
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 4096)
		return 0;
	if (fuzz_compare(data, size) == 1)
		abort();
	return 0;
}
