/* SPDX-License-Identifier: MIT */
/*
 * The owner of a user-backend userfaultfd trusts nothing that arrives over
 * its channel (src/user/wire.h).  A forked child of the same user speaks
 * the protocol by hand (test/lib/handwire.h) and posts in its ring: a COPY
 * whose data length disagrees with its len (EINVAL), a COPY aimed at an
 * unregistered page of the owner (ENOENT, the page untouched), an argument
 * size that is not the ioctl's (EINVAL), a pipe that is none of the owner's
 * contexts (ENOTTY), a data length beyond the limit and a wrong magic
 * (EINVAL: an error for that request, the connection stays), a header of
 * random bytes (an error).  It cannot shrink the ring (the owner's accesses
 * would fault) nor write the owner's public page (both sealed).  A second
 * connection, from a grandchild, posts a COPY, rings nobody and exits.  The
 * owner stays up and serves a well-formed request afterwards; its memory
 * outside the registered range is unchanged.  The channel is the user
 * backend's: the kernel half skips.
 */
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include "oracle.h"
#include "handwire.h"

static int fd;
static char *mem, *canary;

static int ask(struct hw *h, const struct w_req *rq, const void *data)
{
	struct w_rep out;

	return hw_ask(h, rq, data, &out) ? 1 : out.ret;
}

static void child(void *arg, int report)
{
	pid_t owner = *(pid_t *)arg;
	struct stat st;
	struct hw h;
	char *page = t_map(t_page);

	memset(page, 0x66, t_page);
	if (fstat(fd, &st) || hw_connect(owner, 0, &h))
		_exit(2);
	struct w_req rq = { .magic = W_MAGIC, .dev = st.st_dev, .ino = st.st_ino };
	struct uffdio_copy c = { (uintptr_t)mem, 0, (uint64_t)t_page, 0, 0 };

	rq.request = UFFDIO_COPY;
	rq.argsize = sizeof(c);
	rq.datalen = (uint32_t)t_page / 2;   /* disagrees with len */
	memcpy(rq.arg, &c, sizeof(c));
	dprintf(report, "COPY, short data: %d\n", ask(&h, &rq, page));
	c.dst = (uintptr_t)canary;           /* not registered */
	memcpy(rq.arg, &c, sizeof(c));
	rq.datalen = (uint32_t)t_page;
	dprintf(report, "COPY, unregistered page: %d\n", ask(&h, &rq, page));
	rq.argsize = 8;                      /* not the ioctl's size */
	dprintf(report, "COPY, wrong size: %d\n", ask(&h, &rq, page));
	rq.argsize = sizeof(c);
	rq.ino ^= 1;                         /* none of the owner's pipes */
	dprintf(report, "unknown pipe: %d\n", ask(&h, &rq, page));
	rq.ino ^= 1;
	rq.datalen = W_DATA_MAX + 1;         /* beyond the ring */
	dprintf(report, "data beyond the limit: %d\n", ask(&h, &rq, NULL));
	rq.datalen = (uint32_t)t_page;
	rq.magic ^= 1;
	dprintf(report, "wrong magic: %d\n", ask(&h, &rq, page));
	rq.magic ^= 1;
	struct w_req junk;
	uint64_t x = 0x9e3779b97f4a7c15ull;
	for (size_t i = 0; i < sizeof(junk); i++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		((unsigned char *)&junk)[i] = (unsigned char)(x >> 56);
	}
	dprintf(report, "random header, an error: %d\n", ask(&h, &junk, NULL) < 0);
	dprintf(report, "ring cannot shrink: %d\n", ftruncate(h.ring_fd, 0) == -1);
	dprintf(report, "public page not writable: %d\n",
		mmap(NULL, W_PUBLIC_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, h.pub_fd, 0) ==
		MAP_FAILED);
	hw_close(&h);

	/* A peer that posts and exits without ringing anybody. */
	pid_t g = fork();
	if (g == 0) {
		if (hw_connect(owner, 1, &h))
			_exit(3);
		c.dst = (uintptr_t)mem + t_page;
		memcpy(rq.arg, &c, sizeof(c));
		hw_post(&h, &rq, page);
		_exit(0);
	}
	int status;
	dprintf(report, "posting peer exited: %d\n",
		waitpid(g, &status, 0) == g && WIFEXITED(status) && !WEXITSTATUS(status));
	/* The owner still serves the library's own requests. */
	struct uffdio_range w = { (uintptr_t)mem, (uint64_t)t_page };
	dprintf(report, "WAKE afterwards: %d\n", uffd_ioctl(fd, UFFDIO_WAKE, &w));
	struct uffdio_zeropage z = { { (uintptr_t)mem, (uint64_t)t_page }, 0, 0 };
	dprintf(report, "ZEROPAGE afterwards: %d\n", uffd_ioctl(fd, UFFDIO_ZEROPAGE, &z));
}

static void scenario(void)
{
	if (t_backend != UFFD_BACKEND_USER)
		t_skip("the channel between processes is the user backend's");
	fd = t_uffd_api(O_CLOEXEC | O_NONBLOCK, 0);
	mem = t_map(2 * t_page);
	canary = t_map(t_page);
	memset(canary, 0x11, t_page);
	t_register(fd, mem, 2 * t_page, UFFDIO_REGISTER_MODE_MISSING);

	pid_t self = getpid();
	char out[2048];
	int n = orc_in_child(child, &self, out, sizeof(out) - 1);
	T_EXPECT(n > 0);
	out[n > 0 ? n : 0] = 0;
	static const char *const want[] = {
		"COPY, short data: -22\n", "COPY, unregistered page: -2\n",
		"COPY, wrong size: -22\n", "unknown pipe: -25\n",
		"data beyond the limit: -22\n", "wrong magic: -22\n",
		"random header, an error: 1\n", "ring cannot shrink: 1\n",
		"public page not writable: 1\n", "posting peer exited: 1\n",
		"WAKE afterwards: 0\n", "ZEROPAGE afterwards: 0\n",
	};
	bool all = true;
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		T_EXPECT(strstr(out, want[i]));
		all = all && strstr(out, want[i]);
	}
	char seen[4096];
	memset(seen, 0x11, sizeof(seen));
	T_EXPECT(!memcmp(canary, seen, t_page < 4096 ? t_page : 4096));
	/* Page 0, zero-filled by the ZEROPAGE above, reads as zeros. */
	T_EXPECT_EQ(mem[5], 0);
	if (!all)
		fprintf(stderr, "child said:\n%s", out);
	close(fd);
}
T_MAIN("remote-malformed", scenario)
