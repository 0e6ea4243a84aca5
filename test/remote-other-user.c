/* SPDX-License-Identifier: MIT */
/*
 * A handler process of another user.  The faulting process (root) sends its
 * userfaultfd to a handler that dropped to nobody and closes its own copy.
 * The kernel's fd is a capability: the handler's UFFDIO_COPY fills the page.
 * The user backend's channel admits only the same user or root, so there it
 * is EPERM (a named limit); the handler then exits, the last reference goes,
 * and the blocked thread sees ordinary memory.  Neither process hangs.
 */
#include <grp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include "oracle.h"
#include "passfd.h"

#define NOBODY 65534

struct result {
	int ret, err;
};

static int handler(int sock, void *src)
{
	if (setgroups(0, NULL) || setgid(NOBODY) || setuid(NOBODY))
		return 2;
	int fd = pfd_recv(sock);
	struct uffd_msg m;
	if (fd < 0 || !t_read_msg(fd, &m, 10000))
		return 3;
	struct uffdio_copy c = { m.arg.pagefault.address & ~(uint64_t)(t_page - 1),
				 (uintptr_t)src, t_page, 0, 0 };
	struct result r;
	r.ret = uffd_ioctl(fd, UFFDIO_COPY, &c);
	r.err = r.ret ? errno : 0;
	return write(sock, &r, sizeof(r)) == sizeof(r) ? 0 : 4;
}

static void scenario(void)
{
	char *mem = t_map(2 * t_page);
	char *src = t_map(t_page);

	if (geteuid() != 0)
		t_skip("needs root to drop a handler to nobody");
	memset(src, 0x42, t_page);
	int sock;
	pid_t pid = pfd_fork(handler, src, &sock);
	pfd_hand_over(sock, mem, 2 * t_page);

	struct orc_toucher t;
	orc_touch_start(&t, mem + 5, 0, 0);
	struct result r = { -2, 0 };
	T_EXPECT(read(sock, &r, sizeof(r)) == sizeof(r));
	int status;
	T_ASSERT(waitpid(pid, &status, 0) == pid);
	T_EXPECT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	char v = orc_touch_join(&t);
	if (t_limit_begin("a userfaultfd used by a process of another user")) {
		T_EXPECT_EQ(r.ret, 0);
		T_EXPECT_EQ(v, 0x42);
		t_limit_end();
	} else {
		T_EXPECT_EQ(r.ret, -1);
		T_EXPECT_EQ(r.err, EPERM);
		T_EXPECT_EQ(v, 0);
	}
	T_OBS("neither process hung; the handler exited %d", WIFEXITED(status));
	close(sock);
}
T_MAIN("remote-other-user", scenario)
