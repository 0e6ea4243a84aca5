/* SPDX-License-Identifier: MIT */
/*
 * The kernel backend's ways in, and AUTO's fallback: with the userfaultfd
 * system call refused by a seccomp filter (EPERM as Docker's profile does, or
 * ENOSYS), uffd_open() goes through /dev/userfaultfd; with the device gone as
 * well, it fails saying "seccomp", and AUTO falls back to the user backend.
 * Also uffd_fd_backend(), uffd_backend_name(), bad flags, and the
 * UFFD_USER_MODE_ONLY retry when vm.unprivileged_userfaultfd=0.
 * Each case runs in a forked child (filters and namespaces do not come back);
 * not differential: one PASS/FAIL/SKIP line per case.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <pthread.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "uffd.h"
#include "sandbox.h"

#define NAME "kernel-open-fallback"

static const char *cur;   /* the case running in this child */
static int failed;

#define CHECK(cond) \
	do { if (!(cond)) { \
		printf("FAIL " NAME "/%s: line %d: %s (errno %d, uffd_strerror \"%s\")\n", \
		       cur, __LINE__, #cond, errno, uffd_strerror()); \
		failed = 1; } } while (0)

static void skip(const char *why)
{
	printf("SKIP " NAME "/%s: %s\n", cur, why);
	fflush(stdout);
	_exit(77);
}

/* Refuse userfaultfd(2) with err, as a container's seccomp profile does. */
static void block_syscall(int err)
{
	const char *why = sb_refuse_userfaultfd(err);
	if (why)
		skip(why);
}

enum device { DEV_NULL, DEV_ABSENT };

/* Make /dev/userfaultfd useless in a private mount namespace. */
static void hide_device(enum device how)
{
	const char *why = sb_hide_device(how == DEV_ABSENT);
	if (why)
		skip(why);
}

/* The device path is reachable: as root, it is in this test. */
static void need_device(void)
{
	if (access("/dev/userfaultfd", R_OK | W_OK))
		skip("/dev/userfaultfd is not usable here");
}

static int api_ok(int fd)
{
	struct uffdio_api api = { .api = UFFD_API };

	return uffd_ioctl(fd, UFFDIO_API, &api) == 0 && api.api == UFFD_API;
}

/* uffd_open(0, KERNEL) works through the device despite the filter. */
static void through_device(int err)
{
	need_device();
	block_syscall(err);
	int fd = uffd_open(O_CLOEXEC, UFFD_BACKEND_KERNEL);
	CHECK(fd >= 0);
	CHECK(uffd_fd_backend(fd) == UFFD_BACKEND_KERNEL);
	CHECK(api_ok(fd));
	CHECK(!strcmp(uffd_strerror(), "no error"));
	close(fd);

	struct uffd_backend_info info;
	CHECK(uffd_backend_probe(UFFD_BACKEND_KERNEL, 0, &info) == 0);
	CHECK(info.available == 1);
	CHECK(!strcmp(info.how, "/dev/userfaultfd"));

	/* AUTO takes the kernel's too. */
	unsetenv("UFFD_BACKEND");
	fd = uffd_open(0, UFFD_BACKEND_AUTO);
	CHECK(fd >= 0 && uffd_fd_backend(fd) == UFFD_BACKEND_KERNEL);
	close(fd);
}

static void eperm_device(void) { through_device(EPERM); }
static void enosys_device(void) { through_device(ENOSYS); }

/* AUTO falls back to the user backend; while it is not built, fails naming both. */
static void check_auto_fallback(void)
{
	unsetenv("UFFD_BACKEND");
	errno = 0;
	int fd = uffd_open(O_CLOEXEC, UFFD_BACKEND_AUTO);
	if (fd >= 0) {
		CHECK(uffd_fd_backend(fd) == UFFD_BACKEND_USER);
		close(fd);
	} else {
		CHECK(errno == ENOSYS);
		CHECK(strstr(uffd_strerror(), "kernel:") != NULL);
		CHECK(strstr(uffd_strerror(), "user:") != NULL);
		CHECK(strstr(uffd_strerror(), "seccomp") != NULL);
	}

	/* UFFD_BACKEND=kernel: no fallback, the kernel's reason alone. */
	setenv("UFFD_BACKEND", "kernel", 1);
	errno = 0;
	CHECK(uffd_open(O_CLOEXEC, UFFD_BACKEND_AUTO) == -1);
	CHECK(strstr(uffd_strerror(), "seccomp") != NULL);
	CHECK(strstr(uffd_strerror(), "user:") == NULL);

	/* UFFD_BACKEND=user: the user backend only. */
	setenv("UFFD_BACKEND", "user", 1);
	errno = 0;
	fd = uffd_open(O_CLOEXEC, UFFD_BACKEND_AUTO);
	if (fd >= 0) {
		CHECK(uffd_fd_backend(fd) == UFFD_BACKEND_USER);
		close(fd);
	} else {
		CHECK(errno == ENOSYS);
		CHECK(strstr(uffd_strerror(), "kernel:") == NULL);
	}
	unsetenv("UFFD_BACKEND");
}

/* Syscall refused with EPERM, device replaced by /dev/null. */
static void eperm_no_device(void)
{
	hide_device(DEV_NULL);
	block_syscall(EPERM);
	errno = 0;
	CHECK(uffd_open(O_CLOEXEC, UFFD_BACKEND_KERNEL) == -1);
	CHECK(errno == EPERM);
	CHECK(strstr(uffd_strerror(), "seccomp") != NULL);
	CHECK(strstr(uffd_strerror(), "/dev/userfaultfd") != NULL);

	struct uffd_backend_info info;
	CHECK(uffd_backend_probe(UFFD_BACKEND_KERNEL, 0, &info) == 0);
	CHECK(info.available == 0);
	CHECK(info.error == EPERM);
	CHECK(strstr(info.why, "seccomp") != NULL);
	check_auto_fallback();
}

/* Syscall refused with ENOSYS, no device node at all. */
static void enosys_no_device(void)
{
	hide_device(DEV_ABSENT);
	block_syscall(ENOSYS);
	errno = 0;
	CHECK(uffd_open(O_CLOEXEC, UFFD_BACKEND_KERNEL) == -1);
	CHECK(errno == ENOSYS);
	CHECK(strstr(uffd_strerror(), "seccomp") != NULL);
	CHECK(strstr(uffd_strerror(), "no device node") != NULL);
	check_auto_fallback();
}

/* Syscall refused with ENOSYS, /dev/userfaultfd is some other device. */
static void enosys_wrong_device(void)
{
	hide_device(DEV_NULL);
	block_syscall(ENOSYS);
	errno = 0;
	CHECK(uffd_open(0, UFFD_BACKEND_KERNEL) == -1);
	CHECK(errno == ENOSYS);
	CHECK(strstr(uffd_strerror(), "seccomp") != NULL);
	check_auto_fallback();
}

/* A filter on one thread only: the reason must still name seccomp. */
static void *thread_body(void *arg)
{
	(void)arg;
	block_syscall(EPERM);
	errno = 0;
	CHECK(uffd_open(O_CLOEXEC, UFFD_BACKEND_KERNEL) == -1);
	CHECK(errno == EPERM);
	CHECK(strstr(uffd_strerror(), "seccomp") != NULL);
	return NULL;
}

static void seccomp_in_thread(void)
{
	pthread_t t;

	hide_device(DEV_ABSENT);
	CHECK(pthread_create(&t, NULL, thread_body, NULL) == 0);
	pthread_join(t, NULL);
	/* The main thread has no filter: the device is gone but the syscall works. */
	int fd = uffd_open(O_CLOEXEC, UFFD_BACKEND_KERNEL);
	CHECK(fd >= 0);
	close(fd);
}

/* Drop CAP_SYS_PTRACE from the effective set (uid stays 0). */
static int drop_sys_ptrace(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data))
		return -1;
	data[CAP_SYS_PTRACE / 32].effective &= ~(1u << (CAP_SYS_PTRACE % 32));
	return (int)syscall(SYS_capset, &hdr, data);
}

/* vm.unprivileged_userfaultfd=0 and no CAP_SYS_PTRACE: UFFD_USER_MODE_ONLY retry. */
static void user_mode_only(void)
{
	char c = 0;
	int sysctl = open("/proc/sys/vm/unprivileged_userfaultfd", O_RDONLY);

	if (sysctl < 0 || read(sysctl, &c, 1) != 1)
		skip("no vm.unprivileged_userfaultfd");
	close(sysctl);
	if (c != '0')
		skip("vm.unprivileged_userfaultfd is not 0 (left alone: it is global)");
	hide_device(DEV_ABSENT);
	if (drop_sys_ptrace())
		skip("cannot drop CAP_SYS_PTRACE");

	errno = 0;
	CHECK(uffd_open(O_CLOEXEC, UFFD_BACKEND_KERNEL) == -1);
	CHECK(errno == EPERM);
	CHECK(strstr(uffd_strerror(), "vm.unprivileged_userfaultfd=0") != NULL);

	int fd = uffd_open(O_CLOEXEC | UFFD_OPEN_ALLOW_USER_MODE_ONLY, UFFD_BACKEND_KERNEL);
	CHECK(fd >= 0);
	CHECK(uffd_fd_backend(fd) == UFFD_BACKEND_KERNEL);
	CHECK(api_ok(fd));
	close(fd);
	fd = uffd_open(O_CLOEXEC | UFFD_USER_MODE_ONLY, UFFD_BACKEND_KERNEL);
	CHECK(fd >= 0);
	close(fd);

	struct uffd_backend_info info;
	CHECK(uffd_backend_probe(UFFD_BACKEND_KERNEL, UFFD_OPEN_ALLOW_USER_MODE_ONLY, &info) == 0);
	CHECK(info.available == 1);
	CHECK(!strcmp(info.how, "syscall+UFFD_USER_MODE_ONLY"));

	/* AUTO takes the kernel's user-mode-only userfaultfd before the user
	 * backend: the same limit, kernel speed. */
	fd = uffd_open(O_CLOEXEC, UFFD_BACKEND_AUTO);
	CHECK(fd >= 0);
	CHECK(uffd_fd_backend(fd) == UFFD_BACKEND_KERNEL);
	CHECK(api_ok(fd));
	close(fd);
	CHECK(uffd_backend_probe(UFFD_BACKEND_AUTO, 0, &info) == 0);
	CHECK(info.available == 1);
	CHECK(!strcmp(info.how, "syscall+UFFD_USER_MODE_ONLY"));
}

/* Unknown flags and backends: EINVAL everywhere, with no fallback. */
static void bad_arguments(void)
{
	for (int b = UFFD_BACKEND_AUTO; b <= UFFD_BACKEND_USER; b++) {
		errno = 0;
		CHECK(uffd_open(1 << 29, b) == -1);
		CHECK(errno == EINVAL);
		CHECK(strstr(uffd_strerror(), "unknown flags") != NULL);
	}
	errno = 0;
	CHECK(uffd_open(0, (enum uffd_backend)7) == -1);
	CHECK(errno == EINVAL);
	errno = 0;
	CHECK(uffd_backend_probe(UFFD_BACKEND_KERNEL, 0, NULL) == -1);
	CHECK(errno == EFAULT);
}

static void fd_backend(void)
{
	int fd = uffd_open(O_CLOEXEC, UFFD_BACKEND_KERNEL);
	if (fd < 0)
		skip("no kernel userfaultfd here");
	CHECK(uffd_fd_backend(fd) == UFFD_BACKEND_KERNEL);
	close(fd);

	int p[2];
	CHECK(pipe(p) == 0);
	errno = 0;
	CHECK(uffd_fd_backend(p[0]) == -1 && errno == EINVAL);
	close(p[0]);
	close(p[1]);
	errno = 0;
	CHECK(uffd_fd_backend(p[0]) == -1 && errno == EBADF);
	errno = 0;
	CHECK(uffd_fd_backend(-1) == -1 && errno == EBADF);

	CHECK(!strcmp(uffd_backend_name(UFFD_BACKEND_AUTO), "auto"));
	CHECK(!strcmp(uffd_backend_name(UFFD_BACKEND_KERNEL), "kernel"));
	CHECK(!strcmp(uffd_backend_name(UFFD_BACKEND_USER), "user"));
	CHECK(!strcmp(uffd_backend_name((enum uffd_backend)42), "unknown"));
}

static int run(const char *name, void (*fn)(void))
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0) {
		printf("FAIL " NAME "/%s: fork: %s\n", name, strerror(errno));
		return 1;
	}
	if (pid == 0) {
		cur = name;
		fn();
		fflush(stdout);
		_exit(failed);
	}
	int st;
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st)) {
		printf("FAIL " NAME "/%s: child died (status 0x%x)\n", name, st);
		return 1;
	}
	if (WEXITSTATUS(st) == 0)
		printf("PASS " NAME "/%s\n", name);
	return WEXITSTATUS(st) == 1;
}

int main(void)
{
	int bad = 0;

	bad |= run("fd-backend", fd_backend);
	bad |= run("bad-arguments", bad_arguments);
	bad |= run("seccomp-eperm-device", eperm_device);
	bad |= run("seccomp-enosys-device", enosys_device);
	bad |= run("seccomp-eperm-no-device", eperm_no_device);
	bad |= run("seccomp-enosys-no-device", enosys_no_device);
	bad |= run("seccomp-enosys-wrong-device", enosys_wrong_device);
	bad |= run("seccomp-in-thread", seccomp_in_thread);
	bad |= run("user-mode-only", user_mode_only);
	return bad;
}
