/*
 * EPERM from UFFDIO_API: UFFD_FEATURE_EVENT_FORK needs CAP_SYS_PTRACE at the
 * time of the UFFDIO_API call.  A forked child drops privileges (setuid to
 * nobody) and asks for it on an fd opened before dropping them and on a
 * UFFD_USER_MODE_ONLY fd opened after: EPERM, the structure zeroed, the fd
 * still uninitialized (a handshake without EVENT_FORK then succeeds).
 * Other features are allowed unprivileged.  Also, as root, EVENT_FORK works.
 */
#include <pwd.h>
#include "oracle.h"

struct who {
	const struct passwd *pw;
	int early;   /* a userfaultfd opened while privileged */
};

struct result {
	int early_r, early_e, early_zero, early_retry;
	int umo_open, umo_r, umo_e, umo_retry, other_r;
};

/* In a forked child: drop privileges and try the handshakes (above). */
static void unprivileged(void *arg, int report)
{
	const struct who *w = arg;
	const struct passwd *pw = w->pw;
	const int early = w->early;

	struct result r = {0};
	if (setgid(pw->pw_gid) || setuid(pw->pw_uid))
		_exit(3);
	struct uffdio_api a = { .api = UFFD_API, .features = UFFD_FEATURE_EVENT_FORK };
	errno = 0;
	r.early_r = uffd_ioctl(early, UFFDIO_API, &a);
	r.early_e = errno;
	r.early_zero = a.api == 0 && a.features == 0 && a.ioctls == 0;
	a = (struct uffdio_api){ .api = UFFD_API, .features = UFFD_FEATURE_THREAD_ID };
	r.early_retry = uffd_ioctl(early, UFFDIO_API, &a);
	int u = uffd_open(O_CLOEXEC | UFFD_USER_MODE_ONLY, t_backend);
	r.umo_open = u >= 0;
	if (u >= 0) {
		a = (struct uffdio_api){ .api = UFFD_API,
					 .features = UFFD_FEATURE_EVENT_FORK };
		errno = 0;
		r.umo_r = uffd_ioctl(u, UFFDIO_API, &a);
		r.umo_e = errno;
		a = (struct uffdio_api){ .api = UFFD_API };
		r.umo_retry = uffd_ioctl(u, UFFDIO_API, &a);
		int v = uffd_open(O_CLOEXEC | UFFD_USER_MODE_ONLY, t_backend);
		a = (struct uffdio_api){ .api = UFFD_API,
			.features = UFFD_FEATURE_EVENT_REMAP | UFFD_FEATURE_EVENT_REMOVE |
				    UFFD_FEATURE_EVENT_UNMAP | UFFD_FEATURE_THREAD_ID };
		r.other_r = v < 0 ? -2 : uffd_ioctl(v, UFFDIO_API, &a);
	}
	if (write(report, &r, sizeof(r)) != sizeof(r))
		_exit(2);
}

static void scenario(void)
{
	if (geteuid() != 0)
		t_skip("needs root to drop privileges in a child");
	/* Skips a backend without UFFD_FEATURE_EVENT_FORK. */
	int fd = t_uffd_api(O_CLOEXEC, UFFD_FEATURE_EVENT_FORK);
	T_OBS("EVENT_FORK as root: ok");
	close(fd);

	if (geteuid() != 0)
		t_skip("needs root to drop privileges in a child");
	struct passwd *pw = getpwnam("nobody");
	if (!pw)
		t_skip("no user nobody");
	int early = t_uffd(O_CLOEXEC);  /* opened while privileged */

	struct result r;
	struct who w = { pw, early };
	int n = orc_in_child(unprivileged, &w, &r, sizeof(r));
	if (n != sizeof(r))
		T_FATAL("the unprivileged child failed");
	/* The fd opened before belongs to the (root) parent: on the user
	 * backend the unprivileged child's ioctls on it are refused. */
	if (t_limit_begin("a userfaultfd used by a process of another user")) {
		T_OBS("unprivileged, fd opened before: %d %s zeroed %d; then without EVENT_FORK: %d",
		      r.early_r, t_errname(r.early_e), r.early_zero, r.early_retry);
		T_EXPECT_EQ(r.early_r, -1);
		T_EXPECT_EQ(r.early_e, EPERM);
		T_EXPECT(r.early_zero);
		T_EXPECT_EQ(r.early_retry, 0);
		t_limit_end();
	}
	if (!r.umo_open)
		t_skip("cannot open a UFFD_USER_MODE_ONLY fd unprivileged");
	T_OBS("unprivileged, UFFD_USER_MODE_ONLY fd: %d %s; then without: %d",
	      r.umo_r, t_errname(r.umo_e), r.umo_retry);
	T_EXPECT_EQ(r.umo_r, -1);
	T_EXPECT_EQ(r.umo_e, EPERM);
	T_EXPECT_EQ(r.umo_retry, 0);
	if (t_limit_begin("features not offered")) {
		T_OBS("other features %d", r.other_r);
		T_EXPECT_EQ(r.other_r, 0);
		t_limit_end();
	}
	close(early);
}
T_MAIN("api-eperm", scenario)
