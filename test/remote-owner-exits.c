/* SPDX-License-Identifier: MIT */
/*
 * The faulting process exits as soon as its fault is resolved.  A process
 * opens a userfaultfd, registers a page, sends the fd to this (the handler)
 * process, touches the page and _exit()s the moment the read returns.  The
 * handler's UFFDIO_COPY has done its work by then: it must report success
 * (0, copy == one page) as the kernel's does, not the owner's exit.  On the
 * user backend the owner executes the COPY and wakes its thread: the reply
 * must leave before that thread can end the process.  Many rounds, each a
 * new owner process: the race is a short one.
 */
#include <sys/socket.h>
#include <sys/wait.h>
#include "oracle.h"
#include "passfd.h"

/* About 4 rounds in 10 failed before the fix.  A round takes about a
 * second under ThreadSanitizer (a user-backend process started and ended). */
#if LIBUFFD_TSAN
#define ROUNDS 15
#else
#define ROUNDS 150
#endif

static int owner(int sock, void *arg)
{
	(void)arg;
	char *mem = mmap(NULL, (size_t)t_page, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int fd = uffd_open(O_CLOEXEC | O_NONBLOCK, t_backend);
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register r = { { (uintptr_t)mem, (uint64_t)t_page },
				     UFFDIO_REGISTER_MODE_MISSING, 0 };
	if (mem == MAP_FAILED || fd < 0 || uffd_ioctl(fd, UFFDIO_API, &api) ||
	    uffd_ioctl(fd, UFFDIO_REGISTER, &r) || pfd_send(sock, fd))
		return 2;
	close(fd);
	return ((volatile char *)mem)[7] == 7 ? 0 : 3;   /* faults; then exit at once */
}

static void scenario(void)
{
	char *src = t_map(t_page);
	int copied = 0, exited = 0;
	long first_bad = -1;

	memset(src, 7, (size_t)t_page);
	for (int i = 0; i < ROUNDS; i++) {
		int sock, status;
		pid_t pid = pfd_fork(owner, NULL, &sock);
		int fd = pfd_recv(sock);
		struct uffd_msg m;
		if (fd < 0 || !t_read_msg(fd, &m, 10000))
			T_FATAL("round %d: no fault from the owner", i);
		struct uffdio_copy c = { m.arg.pagefault.address & ~(uint64_t)(t_page - 1),
					 (uintptr_t)src, (uint64_t)t_page, 0, 0 };
		int ret = uffd_ioctl(fd, UFFDIO_COPY, &c);
		if (ret == 0 && c.copy == t_page)
			copied++;
		else if (first_bad < 0)
			first_bad = ret ? -errno : c.copy;
		close(fd);
		close(sock);
		T_ASSERT(waitpid(pid, &status, 0) == pid);
		exited += WIFEXITED(status) && WEXITSTATUS(status) == 0;
	}
	T_OBS("%d rounds: COPY succeeded in %d (first failure %ld), the owner read the page in %d",
	      ROUNDS, copied, first_bad, exited);
	T_EXPECT_EQ(copied, ROUNDS);
	T_EXPECT_EQ(exited, ROUNDS);
}
T_MAIN("remote-owner-exits", scenario)
