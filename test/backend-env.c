/* SPDX-License-Identifier: MIT */
/*
 * UFFD_BACKEND in the environment.  "kernel", "user" and "auto" (or unset,
 * or empty) choose what UFFD_BACKEND_AUTO opens; anything else -- a typo
 * such as "usr" or "USER" -- is refused: uffd_open(AUTO) and
 * uffd_backend_probe(AUTO) fail with EINVAL and uffd_strerror() names the
 * variable, instead of silently taking the default.  An explicit backend
 * does not read the variable.  The same on both halves (the variable is the
 * library's, not a backend's).
 */
#include "harness.h"

static void scenario(void)
{
	static const char *const bad[] = { "usr", "USER", "Kernel", "kernel ", "1" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		setenv("UFFD_BACKEND", bad[i], 1);
		errno = 0;
		int fd = uffd_open(O_CLOEXEC, UFFD_BACKEND_AUTO);
		int err = errno;
		T_OBS("UFFD_BACKEND=\"%s\": uffd_open(AUTO) = %d %s, named: %d", bad[i], fd < 0 ? -1 : 0,
		      fd < 0 ? t_errname(err) : "", strstr(uffd_strerror(), "UFFD_BACKEND") != NULL);
		T_EXPECT_EQ(fd, -1);
		T_EXPECT_EQ(err, EINVAL);
		T_EXPECT(strstr(uffd_strerror(), "UFFD_BACKEND") != NULL);
		struct uffd_backend_info info;
		T_EXPECT_EQ(uffd_backend_probe(UFFD_BACKEND_AUTO, 0, &info), 0);
		T_EXPECT_EQ(info.available, 0);
		T_EXPECT_EQ(info.error, EINVAL);
		/* an explicit backend does not look at it */
		fd = uffd_open(O_CLOEXEC, t_backend);
		if (fd < 0)
			t_skip("%s backend unavailable: %s", uffd_backend_name(t_backend),
			       uffd_strerror());
		close(fd);
	}
	static const char *const good[] = { "kernel", "user", "auto", "" };
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		setenv("UFFD_BACKEND", good[i], 1);
		int fd = uffd_open(O_CLOEXEC, UFFD_BACKEND_AUTO);
		int b = fd >= 0 ? uffd_fd_backend(fd) : -1;
		if (fd >= 0)
			close(fd);
		T_OBS("UFFD_BACKEND=\"%s\": opens %s", good[i], b < 0 ? "nothing" :
		      uffd_backend_name((enum uffd_backend)b));
		if (!strcmp(good[i], "kernel") || !strcmp(good[i], "user"))
			T_EXPECT(b >= 0 && !strcmp(uffd_backend_name((enum uffd_backend)b), good[i]));
		else
			T_EXPECT(b >= 0);
	}
	unsetenv("UFFD_BACKEND");
}

T_MAIN("backend-env", scenario)
