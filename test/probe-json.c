/* SPDX-License-Identifier: MIT */
/*
 * `uffd probe --json` prints one valid JSON object that agrees with what this
 * test finds itself: which backends open and how, the UFFDIO_API features and
 * ioctls of the kernel backend, and a few UFFDIO_REGISTER outcomes.
 * Not differential: prints "PASS probe-json" or FAIL/SKIP lines.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "command.h"
#include "json.h"
#include "uffd.h"

static int failed;

#define CHECK(cond) \
	do { if (!(cond)) { printf("FAIL probe-json: line %d: %s\n", __LINE__, #cond); \
			    failed = 1; } } while (0)

static int is_true(const struct json *v)
{
	return v && v->type == JSON_BOOL && v->boolean;
}

static int str_is(const struct json *v, const char *s)
{
	return v && v->type == JSON_STRING && !strcmp(v->string, s);
}

static int uint_is(const struct json *v, unsigned long long u)
{
	return v && v->type == JSON_NUMBER && v->is_uint && v->uint == u;
}

/* "name", "name_hex" and "name_names" under obj all say mask. */
static void check_mask(const struct json *obj, const char *name, unsigned long long mask,
		       const char *prefix)
{
	char k[64], hex[32];

	CHECK(uint_is(json_path(obj, name), mask));
	snprintf(k, sizeof(k), "%s_hex", name);
	snprintf(hex, sizeof(hex), "%#llx", mask);
	CHECK(str_is(json_path(obj, k), hex));
	snprintf(k, sizeof(k), "%s_names", name);
	const struct json *names = json_path(obj, k);
	CHECK(names && names->type == JSON_ARRAY &&
	      names->len == (size_t)__builtin_popcountll(mask));
	for (size_t i = 0; names && i < names->len; i++) {
		const struct json *n = json_at(names, i);
		CHECK(n->type == JSON_STRING && !strncmp(n->string, prefix, strlen(prefix)));
	}
}

/* Register one page-sized range of memory in mode on a kernel uffd; errno or 0. */
static int try_register(int fd, int shmem, unsigned long long mode, unsigned long long *ioctls)
{
	size_t len = (size_t)sysconf(_SC_PAGESIZE);
	int mfd = shmem ? memfd_create("probe-json", MFD_CLOEXEC) : -1;

	if (shmem && (mfd < 0 || ftruncate(mfd, (off_t)len)))
		return errno;
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       shmem ? MAP_SHARED : MAP_PRIVATE | MAP_ANONYMOUS, mfd, 0);
	if (mfd >= 0)
		close(mfd);
	if (p == MAP_FAILED)
		return errno;
	struct uffdio_register r = { .range = { (unsigned long)p, len }, .mode = mode };
	int err = uffd_ioctl(fd, UFFDIO_REGISTER, &r) ? errno : 0;
	*ioctls = r.ioctls;
	munmap(p, len);
	return err;
}

static void check_kernel(const struct json *k)
{
	int fd = uffd_open(O_CLOEXEC | UFFD_OPEN_ALLOW_USER_MODE_ONLY, UFFD_BACKEND_KERNEL);
	struct uffdio_api api = { .api = UFFD_API };

	CHECK(fd >= 0 && uffd_ioctl(fd, UFFDIO_API, &api) == 0);
	CHECK(uint_is(json_path(k, "api"), UFFD_API));
	check_mask(k, "features", api.features, "UFFD_FEATURE_");
	check_mask(k, "ioctls", api.ioctls, "_UFFDIO_");
	/* The last feature name is the highest bit's: MOVE on Linux 6.18. */
	if (api.features & UFFD_FEATURE_MOVE) {
		const struct json *names = json_path(k, "features_names");
		CHECK(names && str_is(json_at(names, names->len - 1), "UFFD_FEATURE_MOVE"));
	}

	unsigned long long ioctls = 0;
	CHECK(try_register(fd, 0, UFFDIO_REGISTER_MODE_MISSING, &ioctls) == 0);
	CHECK(is_true(json_path(k, "register.anon.MISSING.ok")));
	check_mask(json_path(k, "register.anon.MISSING"), "ioctls", ioctls, "_UFFDIO_");

	CHECK(try_register(fd, 0, UFFDIO_REGISTER_MODE_MINOR, &ioctls) == EINVAL);
	CHECK(json_path(k, "register.anon.MINOR.ok") &&
	      !is_true(json_path(k, "register.anon.MINOR.ok")));
	CHECK(str_is(json_path(k, "register.anon.MINOR.errno"), "EINVAL"));

	int err = try_register(fd, 1, UFFDIO_REGISTER_MODE_MINOR, &ioctls);
	CHECK(is_true(json_path(k, "register.shmem.MINOR.ok")) == (err == 0));
	if (!err)
		check_mask(json_path(k, "register.shmem.MINOR"), "ioctls", ioctls, "_UFFDIO_");
	for (const char *m = "MISSING\0WP\0MINOR\0MISSING|WP\0"; *m; m += strlen(m) + 1) {
		char path[64];
		snprintf(path, sizeof(path), "register.shmem.%s.ok", m);
		CHECK(json_path(k, path) && json_path(k, path)->type == JSON_BOOL);
	}
	close(fd);

	/* Huge pages: tried only when some are reserved. */
	FILE *f = fopen("/proc/sys/vm/nr_hugepages", "re");
	long nr = -1;
	if (f) {
		if (fscanf(f, "%ld", &nr) != 1)
			nr = -1;
		fclose(f);
	}
	if (nr == 0)
		CHECK(str_is(json_path(k, "register.hugetlb.skipped"), "no huge pages reserved"));
	else if (nr > 0)
		CHECK(json_path(k, "register.hugetlb.MISSING.ok") != NULL ||
		      json_path(k, "register.hugetlb.skipped") != NULL);
}

/* "auto" says what uffd_open(UFFD_BACKEND_AUTO) opens with UFFD_BACKEND=env
 * (NULL: unset), as this process finds it itself. */
static void check_auto(const char *cmd, const char *env)
{
	char err[128];
	int status = 0;

	if (env)
		setenv("UFFD_BACKEND", env, 1);
	else
		unsetenv("UFFD_BACKEND");
	int fd = uffd_open(O_CLOEXEC, UFFD_BACKEND_AUTO);
	int open_err = errno;
	char *const argv[] = { (char *)cmd, "probe", "--json", NULL };
	char *out = cmd_run(argv, &status);
	struct json *root = out ? json_parse(out, err, sizeof(err)) : NULL;
	const struct json *a = json_path(root, "auto");

	CHECK(a && a->type == JSON_OBJECT);
	if (fd >= 0) {
		CHECK(str_is(json_path(a, "backend"), uffd_backend_name(uffd_fd_backend(fd))));
		close(fd);
	} else {
		CHECK(json_path(a, "backend") && json_path(a, "backend")->type == JSON_NULL);
		if (open_err == EINVAL)
			CHECK(str_is(json_path(a, "errno"), "EINVAL"));
		else
			CHECK(json_path(a, "errno") && json_path(a, "errno")->type == JSON_STRING);
	}
	if (env)
		CHECK(str_is(json_path(a, "env"), env));
	else
		CHECK(json_path(a, "env") && json_path(a, "env")->type == JSON_NULL);
	CHECK(json_path(a, "reason") && json_path(a, "reason")->type == JSON_STRING &&
	      *json_path(a, "reason")->string);
	json_free(root);
	free(out);
	unsetenv("UFFD_BACKEND");
}

int main(void)
{
	char cmd[PATH_MAX], err[128];
	int status = 0;

	if (cmd_find(cmd, sizeof(cmd))) {
		printf("FAIL probe-json: cannot find the uffd command beside the tests\n");
		return 1;
	}
	char *const argv[] = { cmd, "probe", "--json", NULL };
	char *out = cmd_run(argv, &status);
	if (!out) {
		printf("FAIL probe-json: cannot run %s: %s\n", cmd, strerror(errno));
		return 1;
	}
	struct json *root = json_parse(out, err, sizeof(err));
	if (!root || root->type != JSON_OBJECT) {
		printf("FAIL probe-json: %s probe --json: not one JSON object: %s\n", cmd,
		       root ? "not an object" : err);
		return 1;
	}

	int any = 0;
	for (int b = UFFD_BACKEND_KERNEL; b <= UFFD_BACKEND_USER; b++) {
		struct uffd_backend_info info;
		char path[64];
		uffd_backend_probe(b, UFFD_OPEN_ALLOW_USER_MODE_ONLY, &info);
		snprintf(path, sizeof(path), "backends.%s", uffd_backend_name(b));
		const struct json *j = json_path(root, path);
		CHECK(j && j->type == JSON_OBJECT);
		const struct json *avail = json_path(j, "available");
		CHECK(avail && avail->type == JSON_BOOL);
		/* An fd that opens but fails UFFDIO_API is "available": false with "how". */
		CHECK(!is_true(avail) || info.available);
		if (info.available) {
			CHECK(str_is(json_path(j, "how"), info.how));
		} else {
			CHECK(!is_true(avail));
			CHECK(str_is(json_path(j, "why"), info.why));
			CHECK(json_path(j, "errno") && json_path(j, "errno")->type == JSON_STRING);
		}
		any |= is_true(avail);
		if (b == UFFD_BACKEND_KERNEL && info.available)
			check_kernel(j);
	}
	CHECK(is_true(json_path(root, "ok")) == any);
	check_auto(cmd, NULL);
	check_auto(cmd, "user");
	check_auto(cmd, "usr");     /* a typo: nothing opens, EINVAL */
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == (any ? 0 : 1));
	json_free(root);
	free(out);
	if (!failed)
		printf("PASS probe-json\n");
	return failed;
}
