/* SPDX-License-Identifier: MIT */
/*
 * The EXAMPLES program of userfaultfd(2), taken from the manual page
 * installed on this machine (Debian's manpages-dev) and compiled as it
 * stands, runs under `uffd run --backend user` with the same output and exit
 * status as on the kernel.  glibc lacks the BSD errc() it calls once (on a
 * pthread_create failure): a forced include supplies it, the source is
 * untouched.  Addresses are printed relative to the mapping, and the lines
 * of each fault's block are compared in sorted order: which of the two
 * threads prints first after UFFDIO_COPY is a race on the kernel too.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "run.h"

static const char *const pages[] = {
	"/usr/share/man/man2/userfaultfd.2.gz",
	"/usr/share/man/man2/userfaultfd.2",
};

/* addr as "base+0x..." when it lies in the demo's mapping. */
static void normalize_line(const char *in, unsigned long base, char *out, size_t len)
{
	size_t o = 0;

	while (*in && o + 32 < len) {
		size_t n = strspn(in, "0123456789abcdef");
		if (n >= 8) {
			unsigned long v = strtoul(in, NULL, 16);
			if (v >= base && v < base + (1UL << 20)) {
				o += (size_t)snprintf(out + o, len - o, "base+%lx", v - base);
				in += n;
				continue;
			}
		}
		if (n == 0)
			n = 1;
		while (n-- && o + 1 < len)
			out[o++] = *in++;
	}
	out[o] = 0;
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void obs_output(char *out)
{
	unsigned long base = 0;
	char *lines[512];
	int n = 0;

	const char *b = strstr(out, "Address returned by mmap() = 0x");
	T_ASSERT(b);
	base = strtoul(b + strlen("Address returned by mmap() = 0x"), NULL, 16);
	for (char *save, *l = strtok_r(out, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		/* strtok_r skips the empty lines: a block starts with its header. */
		if (!strcmp(l, "fault_handler_thread():") && n) {
			qsort(lines, (size_t)n, sizeof(lines[0]), cmp);
			for (int i = 0; i < n; i++)
				T_OBS("%s", lines[i]), free(lines[i]);
			n = 0;
			T_OBS("--");
		}
		char norm[512];
		normalize_line(l, base, norm, sizeof(norm));
		T_ASSERT(n < 512);
		lines[n++] = strdup(norm);
	}
	qsort(lines, (size_t)n, sizeof(lines[0]), cmp);
	for (int i = 0; i < n; i++)
		T_OBS("%s", lines[i]), free(lines[i]);
}

static void scenario(void)
{
	const char *page = NULL;
	for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]) && !page; i++)
		if (access(pages[i], R_OK) == 0)
			page = pages[i];
	if (!page)
		t_skip("userfaultfd(2) is not installed (Debian: apt-get install manpages-dev)");

	char dir[] = "/tmp/uffd-man-example-XXXXXX";
	T_ASSERT(mkdtemp(dir));
	char cmd[2 * PATH_MAX], src[PATH_MAX], bin[PATH_MAX], errc[PATH_MAX];
	snprintf(src, sizeof(src), "%s/userfaultfd_demo.c", dir);
	snprintf(bin, sizeof(bin), "%s/userfaultfd_demo", dir);
	snprintf(errc, sizeof(errc), "%s/errc.h", dir);
	FILE *f = fopen(errc, "w");
	T_ASSERT(f);
	fputs("#include <err.h>\n#include <errno.h>\n"
	      "#define errc(eval, code, ...) (errno = (code), err((eval), __VA_ARGS__))\n", f);
	fclose(f);
	/* The source between ".\" SRC BEGIN" + ".EX" and ".EE", roff escapes undone. */
	snprintf(cmd, sizeof(cmd),
		 "zcat -f '%s' | sed -n '/^\\.\\\\\" SRC BEGIN/,/^\\.EE/p' | sed '1,2d;$d' | "
		 "sed -e 's/\\\\-/-/g' -e \"s/\\\\\\\\\\[aq\\]/'/g\" -e 's/\\\\\\[ti\\]/~/g' "
		 "-e 's/\\\\e/\\\\/g' -e 's/\\\\&//g' > '%s'", page, src);
	if (system(cmd) != 0)
		T_FATAL("cannot extract the example from %s", page);
	char flags[PATH_MAX + 16];
	snprintf(flags, sizeof(flags), "-include '%s'", errc);
	tr_compile(src, bin, flags);

	char *out;
	int status = tr_run(NULL, (char *const[]){ bin, "3", NULL }, &out);
	tr_obs_status(status);
	obs_output(out);
	free(out);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	T_ASSERT(system(cmd) == 0);
}

T_MAIN("man-example", scenario)
