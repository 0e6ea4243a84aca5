/*
 * libuffd exports its API and nothing else: every global symbol that
 * build/libuffd.a and build/libuffd.so define is named in src/libuffd.map,
 * and every name there is defined by both (issue 11: the static library
 * exported ~55 internal u_* globals, which collide with a program's own).
 * Reads the symbol tables with nm(1) (binutils, which builds the library).
 * Not a differential scenario: a property of the build, checked once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX 256

static int api_n;
static char api[MAX][64];

static int in_api(const char *name)
{
	for (int i = 0; i < api_n; i++)
		if (!strcmp(api[i], name))
			return 1;
	return 0;
}

/* The library next to this test: <build>/test/lib-exports -> <build>/lib. */
static void lib_path(char *out, size_t len, const char *lib)
{
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n < 0) {
		perror("readlink /proc/self/exe");
		exit(1);
	}
	self[n] = 0;
	*strrchr(self, '/') = 0;          /* <build>/test */
	*strrchr(self, '/') = 0;          /* <build> */
	snprintf(out, len, "%s/%s", self, lib);
}

/* Check one library; returns the number of problems. */
static int check(const char *lib, const char *nm_flags)
{
	char path[4200], cmd[4400], line[512];
	int defined[MAX] = { 0 }, bad = 0;

	lib_path(path, sizeof(path), lib);
	snprintf(cmd, sizeof(cmd), "nm %s --defined-only '%s' 2>&1", nm_flags, path);
	FILE *p = popen(cmd, "r");
	if (!p) {
		perror("popen nm");
		exit(1);
	}
	int rows = 0;
	while (fgets(line, sizeof(line), p)) {
		char addr[64], type[8], name[256];
		if (sscanf(line, "%63s %7s %255s", addr, type, name) != 3)
			continue;
		rows++;
		name[strcspn(name, "@")] = 0;   /* uffd_open@@LIBUFFD_0.1 */
		/* Absolute symbols: the version nodes of the shared library. */
		if (type[0] == 'A' || !strncmp(name, "LIBUFFD_", 8))
			continue;
		int k = 0;
		while (k < api_n && strcmp(api[k], name))
			k++;
		if (k < api_n) {
			defined[k] = 1;
			continue;
		}
		printf("%s exports %s (%s), which src/libuffd.map does not name\n", lib, name, type);
		bad++;
	}
	if (pclose(p) != 0 || rows == 0) {
		printf("nm could not read %s\n", path);
		return bad + 1;
	}
	for (int k = 0; k < api_n; k++)
		if (!defined[k]) {
			printf("%s does not define %s\n", lib, api[k]);
			bad++;
		}
	return bad;
}

int main(void)
{
	FILE *m = fopen("src/libuffd.map", "r");
	char line[256], name[64];

	if (!m) {
		perror("src/libuffd.map (run from the source tree)");
		return 1;
	}
	while (fgets(line, sizeof(line), m))
		if (sscanf(line, " %63[a-z0-9_];", name) == 1 && !strncmp(name, "uffd_", 5) &&
		    api_n < MAX && !in_api(name))
			strcpy(api[api_n++], name);
	fclose(m);
	if (api_n < 6) {
		printf("FAIL lib-exports: src/libuffd.map names only %d functions\n", api_n);
		return 1;
	}
	int bad = check("libuffd.a", "-g") + check("libuffd.so", "-D");
	if (bad) {
		printf("FAIL lib-exports: %d symbols wrong\n", bad);
		return 1;
	}
	printf("PASS lib-exports: %d API symbols, nothing else exported\n", api_n);
	return 0;
}
