/* SPDX-License-Identifier: MIT */
/*
 * A thread of the owner blocked in a fault runs what a handler process
 * posts in its ring (src/user/wire.h, ring.c), and trusts it no more than
 * the owner's server thread does.  A forked child of the same user
 * connects by hand (test/lib/handwire.h); then two threads of the owner
 * fault on pages 0 and 2 (a thread watches the rings that exist when it
 * begins to wait).  Once the owner counts both as watchers the child
 * posts, waking a watcher only (no bell for the server), a COPY whose data
 * length disagrees with its len (EINVAL), then a COPY of page 0 (done: the
 * first thread reads its byte).  A grandchild closes its end of the reply
 * pipe, posts a COPY of page 2 the same way and exits once it is done: the
 * owner's reply byte went to a pipe nobody reads, and the owner does not
 * die of it (no SIGPIPE in the faulting thread); the second thread reads
 * its byte.  The channel is the user backend's: the kernel half skips.
 */
#include <linux/futex.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include "oracle.h"
#include "handwire.h"

static int fd, go[2];
static char *mem;

/* Faults on page arg once a client is connected (a thread watches the
 * rings that exist when it begins to wait): the byte it read. */
static void *toucher(void *arg)
{
	char b;

	if (read(go[0], &b, 1) != 1)
		return (void *)-1;
	return (void *)(intptr_t)*(volatile char *)arg;
}

/* Post rq, wake one watcher of the owner (never its server). */
static void post_to_watcher(struct hw *h, const struct w_req *rq, const void *data)
{
	hw_post(h, rq, data);
	syscall(SYS_futex, &h->ring->bell, FUTEX_WAKE, 1, NULL, NULL, 0);
}

static int reply(struct hw *h)
{
	char done;

	if (read(h->rep, &done, 1) != 1 || atomic_load(&h->ring->state) != W_DONE)
		return 1;
	atomic_store(&h->ring->state, W_IDLE);
	return h->ring->rep.ret;
}

static void child(void *arg, int report)
{
	pid_t owner = *(pid_t *)arg;
	struct stat st;
	struct hw h;
	char *page = t_map(t_page);

	if (fstat(fd, &st) || hw_connect(owner, 2, &h) || write(go[1], "gg", 2) != 2)
		_exit(2);
	/* Both faulting threads count themselves before their message goes. */
	for (int i = 0; i < 10000 && atomic_load(&h.pub->watchers) < 2; i++)
		usleep(1000);
	dprintf(report, "watchers: %d\n", atomic_load(&h.pub->watchers));
	struct w_req rq = { .magic = W_MAGIC, .dev = st.st_dev, .ino = st.st_ino,
			    .request = UFFDIO_COPY, .argsize = sizeof(struct uffdio_copy) };
	struct uffdio_copy c = { (uintptr_t)mem, 0, (uint64_t)t_page, 0, 0 };
	memcpy(rq.arg, &c, sizeof(c));
	rq.datalen = (uint32_t)t_page / 2;   /* disagrees with len */
	post_to_watcher(&h, &rq, page);
	dprintf(report, "COPY, short data: %d\n", reply(&h));
	rq.datalen = (uint32_t)t_page;
	memset(page, 0x5a, t_page);
	post_to_watcher(&h, &rq, page);
	dprintf(report, "COPY of page 0: %d\n", reply(&h));
	hw_close(&h);

	pid_t g = fork();
	if (g == 0) {
		if (hw_connect(owner, 3, &h))
			_exit(3);
		c.dst = (uintptr_t)mem + 2 * t_page;
		memcpy(rq.arg, &c, sizeof(c));
		memset(page, 0x77, t_page);
		close(h.rep);   /* nobody here reads the reply */
		h.rep = -1;
		post_to_watcher(&h, &rq, page);
		for (int i = 0; i < 10000 && atomic_load(&h.ring->state) != W_DONE; i++)
			usleep(1000);
		_exit(atomic_load(&h.ring->state) == W_DONE ? 0 : 4);
	}
	int status;
	dprintf(report, "peer without a reply pipe exited: %d\n",
		waitpid(g, &status, 0) == g && WIFEXITED(status) && !WEXITSTATUS(status));
}

static void scenario(void)
{
	if (t_backend != UFFD_BACKEND_USER)
		t_skip("the channel between processes is the user backend's");
	fd = t_uffd_api(O_CLOEXEC | O_NONBLOCK, 0);
	mem = t_map(3 * t_page);
	t_register(fd, mem, 3 * t_page, UFFDIO_REGISTER_MODE_MISSING);

	pthread_t a, b;
	T_ASSERT(pipe2(go, O_CLOEXEC) == 0);
	T_ASSERT(pthread_create(&a, NULL, toucher, mem + 5) == 0);
	T_ASSERT(pthread_create(&b, NULL, toucher, mem + 2 * t_page + 5) == 0);
	pid_t self = getpid();
	char out[1024];
	int n = orc_in_child(child, &self, out, sizeof(out) - 1);
	T_EXPECT(n > 0);
	out[n > 0 ? n : 0] = 0;
	T_EXPECT(strstr(out, "watchers: 2\n"));
	T_EXPECT(strstr(out, "COPY, short data: -22\n"));
	T_EXPECT(strstr(out, "COPY of page 0: 0\n"));
	T_EXPECT(strstr(out, "peer without a reply pipe exited: 1\n"));
	void *ra, *rb;
	T_ASSERT(pthread_join(a, &ra) == 0 && pthread_join(b, &rb) == 0);
	char va = (char)(intptr_t)ra, vb = (char)(intptr_t)rb;
	T_OBS("the faulting threads read %#x and %#x", va & 0xff, vb & 0xff);
	T_EXPECT_EQ(va, 0x5a);
	T_EXPECT_EQ(vb, 0x77);
	if (!strstr(out, "peer without a reply pipe exited: 1"))
		fprintf(stderr, "child said:\n%s", out);
	close(fd);
}
T_MAIN("remote-ring-watcher", scenario)
