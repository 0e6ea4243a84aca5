/* SPDX-License-Identifier: MIT */
/*
 * The handler process dies with faults pending.  The faulting process sends
 * its userfaultfd to a handler process and closes its own copy; a thread
 * faults; the handler reads the message and is killed (SIGKILL) before it
 * resolves anything.  With the last reference gone the userfaultfd is
 * released: the blocked thread retries and sees ordinary memory (zero),
 * later touches do not fault, and nothing hangs in either process.
 */
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include "oracle.h"
#include "passfd.h"

static int handler(int sock, void *arg)
{
	(void)arg;
	int fd = pfd_recv(sock);
	struct uffd_msg m;

	if (fd < 0 || !t_read_msg(fd, &m, 10000))
		return 2;
	char got = 1;
	if (write(sock, &got, 1) != 1)
		return 3;
	for (;;)
		pause();   /* killed here, the fault unresolved */
}

static void scenario(void)
{
	char *mem = t_map(4 * t_page);

	int sock;
	pid_t pid = pfd_fork(handler, NULL, &sock);
	pfd_hand_over(sock, mem, 4 * t_page);

	struct orc_toucher t;
	orc_touch_start(&t, mem + t_page + 5, 0, 0);
	char got;
	T_ASSERT(read(sock, &got, 1) == 1);   /* the handler has the message */
	T_ASSERT(kill(pid, SIGKILL) == 0);
	int status;
	T_ASSERT(waitpid(pid, &status, 0) == pid);
	T_OBS("handler killed by signal %d", WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	char v = orc_touch_join(&t);
	T_OBS("the blocked thread went on and read %d", v);
	T_EXPECT_EQ(v, 0);
	mem[2 * t_page] = 7;
	T_OBS("another page is ordinary memory: %d %d", mem[2 * t_page], mem[3 * t_page]);
	close(sock);
}
T_MAIN("remote-handler-killed", scenario)
