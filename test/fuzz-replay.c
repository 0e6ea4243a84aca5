/*
 * The differential fuzzer's saved corpus (test/fuzz-corpus/), replayed on
 * both backends: every program must write the same transcript on each (see
 * test/lib/fuzz.h).  Every input that ever found a difference stays in the
 * corpus.  FUZZ_RANDOM=N also runs N random programs (FUZZ_SEED picks
 * them) and saves each that differs into the corpus as found-<seed>-<i>:
 * a fuzzer without libFuzzer (make fuzz builds the libFuzzer one);
 * FUZZ_LAST=path keeps the program running now there (one that crashes
 * the process is found there).
 * Not a T_MAIN scenario: it runs both backends itself and prints one line.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"

/* test/fuzz-corpus of the source tree: next to the build folder this runs
 * from (<src>/build/test/fuzz-replay), else under the current folder. */
static void corpus_dir(char *out, size_t len)
{
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n > 0) {
		self[n] = 0;
		for (int up = 0; up < 3; up++)
			*strrchr(self, '/') = 0;
		snprintf(out, len, "%s/test/fuzz-corpus", self);
		if (access(out, R_OK) == 0)
			return;
	}
	snprintf(out, len, "test/fuzz-corpus");
}

static int replay_file(const char *dir, const char *name)
{
	char path[4200 + 256 + 2];
	unsigned char buf[4096];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "rb");
	if (!f) {
		printf("FAIL fuzz-replay: %s: %s\n", path, strerror(errno));
		return 1;
	}
	size_t n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	int r = fuzz_compare(buf, n);
	if (r == 1)
		fprintf(stderr, "  (input %s)\n", name);
	return r;
}

static int random_runs(const char *dir, long runs, unsigned long long seed)
{
	int bad = 0;
	unsigned long long s = seed;
	const char *last = getenv("FUZZ_LAST");

	for (long i = 0; i < runs; i++) {
		unsigned char buf[256];
		s = s * 6364136223846793005ULL + 1442695040888963407ULL;
		size_t len = 16 + (s >> 33) % 240;
		for (size_t j = 0; j < len; j++) {
			s = s * 6364136223846793005ULL + 1442695040888963407ULL;
			buf[j] = (unsigned char)(s >> 56);
		}
		/* A program that crashes the process is left behind there. */
		if (last) {
			FILE *f = fopen(last, "wb");
			if (f) {
				fwrite(buf, 1, len, f);
				fclose(f);
			}
		}
		if (fuzz_compare(buf, len) != 1)
			continue;
		char path[4200 + 64];
		snprintf(path, sizeof(path), "%s/found-%llu-%ld", dir, seed, i);
		FILE *f = fopen(path, "wb");
		if (f) {
			fwrite(buf, 1, len, f);
			fclose(f);
		}
		fprintf(stderr, "  saved %s\n", path);
		bad++;
	}
	return bad;
}

int main(void)
{
	char dir[4200];
	int files = 0, bad = 0, skipped = 0;

	corpus_dir(dir, sizeof(dir));
	DIR *d = opendir(dir);
	if (!d) {
		printf("FAIL fuzz-replay: %s: %s\n", dir, strerror(errno));
		return 1;
	}
	for (struct dirent *e; (e = readdir(d));) {
		if (e->d_name[0] == '.')
			continue;
		int r = replay_file(dir, e->d_name);
		files++;
		bad += r == 1;
		skipped += r == 77;
	}
	closedir(d);
	const char *runs = getenv("FUZZ_RANDOM");
	if (runs) {
		const char *seed = getenv("FUZZ_SEED");
		bad += random_runs(dir, atol(runs), seed ? strtoull(seed, NULL, 0) : 1);
	}
	if (files == 0) {
		printf("FAIL fuzz-replay: no input in %s\n", dir);
		return 1;
	}
	if (skipped == files) {
		printf("SKIP fuzz-replay: a backend is unavailable\n");
		return 77;
	}
	if (bad) {
		printf("FAIL fuzz-replay: %d of %d programs differ between the backends\n", bad, files);
		return 1;
	}
	printf("PASS fuzz-replay: %d programs, the same transcript on both backends\n", files);
	return 0;
}
