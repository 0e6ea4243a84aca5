/*
 * The server of a forked child (UFFD_FEATURE_EVENT_FORK: the child owns a
 * context of its own and serves its clients itself, as one task: src/user/
 * forkev.c, serve.c) is not held up by a bad client (issue 8).  A client
 * speaking the channel by hand (test/lib/handwire.h) shrinks its reply pipe
 * to one page and asks three pages' worth of requests, never reading a
 * reply byte (it looks for each reply in the ring); then it posts one more
 * request without ringing, opens a second connection that does the same,
 * and stays.  Meanwhile the parent, the reader of the fork event, fills the
 * child's page 0 through the event's fd (a connection of its own); once the
 * bad client has exited, page 1.  The child reads both pages.  Each wait ends
 * when its peer is gone.  The channel is the user backend's: the kernel
 * half skips.
 */
#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include "oracle.h"
#include "handwire.h"

#define FLOOD 3   /* reply pipes' worth of requests */

struct target {
	pid_t child;
	uint64_t dev, ino;
};

static int fd;
static char *mem;

/* The bad client: told its target on in, reports on out, stays until in
 * ends. */
static void bad_client(int in, int out)
{
	struct target t;
	struct hw h, h2;
	char x;

	if (read(in, &t, sizeof(t)) != sizeof(t) || hw_connect(t.child, 7, &h))
		_exit(2);
	long room = fcntl(h.rep, F_SETPIPE_SZ, (int)t_page);
	struct w_req rq = { .magic = W_MAGIC, .request = W_PROBE, .dev = t.dev, .ino = t.ino };
	struct w_rep rep;
	long asked = FLOOD * (room > 0 ? room : 65536), answered = 0;
	for (long i = 0; i < asked; i++)
		if (!hw_ring(&h, &rq, NULL) && !hw_wait_ring(&h, &rep) && rep.ret == 0)
			answered++;
	hw_post(&h, &rq, NULL);   /* and rings nobody */
	int second = hw_connect(t.child, 8, &h2);
	if (!second)
		hw_post(&h2, &rq, NULL);
	dprintf(out, "reply pipe %ld bytes, requests answered: %d, second connection: %d\n",
		room, answered == asked, second);
	close(out);
	while (read(in, &x, 1) < 0 && errno == EINTR)
		;
	_exit(0);
}

/* The child: waits until the parent is done (or gone), then reads its pages. */
static void child_main(int hold, int out)
{
	char x;

	while (read(hold, &x, 1) < 0 && errno == EINTR)
		;
	dprintf(out, "child reads %c %c\n", mem[5], mem[t_page + 5]);
	_exit(0);
}

/* Up to len - 1 bytes from rd until EOF, as a string. */
static char *slurp(int rd, char *buf, size_t len)
{
	size_t n = 0;
	ssize_t got;

	while (n + 1 < len && ((got = read(rd, buf + n, len - n - 1)) > 0 ||
			       (got < 0 && errno == EINTR)))
		n += got > 0 ? (size_t)got : 0;
	buf[n] = 0;
	return buf;
}

static long copy(int ufd, long pg, char c)
{
	char *src = t_map(t_page);
	memset(src, c, t_page);
	struct uffdio_copy cp = { (uintptr_t)mem + pg * t_page, (uintptr_t)src, t_page, 0, 0 };
	int ret = uffd_ioctl(ufd, UFFDIO_COPY, &cp);
	munmap(src, t_page);
	return ret ? -errno : cp.copy / t_page;
}

static void scenario(void)
{
	if (t_backend != UFFD_BACKEND_USER)
		t_skip("the channel between processes is the user backend's");
	int to_bad[2], from_bad[2], hold[2], from_child[2];
	T_ASSERT(pipe2(to_bad, O_CLOEXEC) == 0 && pipe2(from_bad, O_CLOEXEC) == 0);
	/* Forked before any registration: no fork event for it. */
	pid_t bad = fork();
	T_ASSERT(bad >= 0);
	if (bad == 0) {
		close(to_bad[1]);
		close(from_bad[0]);
		bad_client(to_bad[0], from_bad[1]);
	}
	close(to_bad[0]);
	close(from_bad[1]);

	fd = t_uffd_api(O_CLOEXEC | O_NONBLOCK, UFFD_FEATURE_EVENT_FORK);
	mem = t_map(2 * t_page);
	t_register(fd, mem, 2 * t_page, UFFDIO_REGISTER_MODE_MISSING);
	T_ASSERT(pipe2(hold, O_CLOEXEC) == 0 && pipe2(from_child, O_CLOEXEC) == 0);
	pid_t child = fork();
	T_ASSERT(child >= 0);
	if (child == 0) {
		close(to_bad[1]);   /* the bad client's end is the parent's to close */
		close(from_bad[0]);
		close(hold[1]);
		close(from_child[0]);
		child_main(hold[0], from_child[1]);
	}
	close(hold[0]);
	close(from_child[1]);

	struct uffd_msg m;
	orc_wait_msg(fd, &m);
	T_EXPECT_EQ(m.event, UFFD_EVENT_FORK);
	int ufd = (int)m.arg.fork.ufd;
	struct stat st;
	T_ASSERT(fstat(ufd, &st) == 0);
	struct target t = { child, st.st_dev, st.st_ino };
	T_ASSERT(write(to_bad[1], &t, sizeof(t)) == sizeof(t));

	char said[256];
	T_OBS("bad client: %s", slurp(from_bad[0], said, sizeof(said)));
	T_EXPECT(strstr(said, "requests answered: 1, second connection: 0"));
	T_OBS("COPY to the child's page 0 beside it: %ld", copy(ufd, 0, 'a'));
	close(to_bad[1]);   /* the bad client exits */
	int status;
	T_ASSERT(waitpid(bad, &status, 0) == bad);
	T_OBS("bad client exited %d", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	T_OBS("COPY to the child's page 1 after it: %ld", copy(ufd, 1, 'b'));

	close(ufd);         /* (a page left missing now reads as zeros) */
	close(hold[1]);     /* the child reads its pages */
	T_OBS("%s", slurp(from_child[0], said, sizeof(said)));
	T_EXPECT(!strcmp(said, "child reads a b\n"));
	T_ASSERT(waitpid(child, &status, 0) == child);
	T_OBS("child: %s %d", WIFEXITED(status) ? "exit" : "signal",
	      WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	close(fd);
}
T_MAIN("remote-fork-server", scenario)
