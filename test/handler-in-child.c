/* The faults of a process resolved by another one: the parent registers its
 * memory and forks; the child, holding the same userfaultfd, reads the
 * message and resolves it with UFFDIO_COPY into the parent's memory.  The
 * kernel allows it (the uffd belongs to the parent's mm); the user backend
 * forwards the child's ioctl to the parent, which owns the context. */
#include <pthread.h>
#include <sys/wait.h>
#include "harness.h"
#include "oracle.h"

static void scenario(void)
{
	int fd = t_uffd_api(O_CLOEXEC | O_NONBLOCK, 0);
	char *mem = t_map(2 * t_page);
	char *src = t_map(t_page);
	memset(src, 0x42, t_page);
	t_register(fd, mem, 2 * t_page, UFFDIO_REGISTER_MODE_MISSING);

	fflush(NULL);
	pid_t pid = fork();
	T_ASSERT(pid >= 0);
	if (pid == 0) {
		alarm(10);
		struct uffd_msg m;
		if (!t_read_msg(fd, &m, 5000))
			_exit(2);
		struct uffdio_copy c = { m.arg.pagefault.address & ~(uint64_t)(t_page - 1),
					 (uintptr_t)src, t_page, 0, 0 };
		_exit(uffd_ioctl(fd, UFFDIO_COPY, &c) == 0 ? 0 : 3);
	}
	struct orc_toucher t;
	orc_touch_start(&t, mem + t_page + 5, 0, 0);
	int status;
	T_ASSERT(waitpid(pid, &status, 0) == pid);
	T_EXPECT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	char v = orc_touch_join(&t);
	T_OBS("the parent read the child's copy: %d", v == 0x42);
	T_EXPECT_EQ(v, 0x42);
	close(fd);
}
T_MAIN("handler-in-child", scenario)
