/* SPDX-License-Identifier: MIT */
/*
 * The owner of a user-backend userfaultfd trusts nothing that arrives over
 * its channel (src/user/wire.h).  A forked child of the same user speaks
 * the wire protocol by hand and sends: a COPY whose data length disagrees
 * with its len (EINVAL), a COPY aimed at an unregistered page of the owner
 * (ENOENT, the page untouched), an argument size that is not the ioctl's
 * (EINVAL), a pipe that is none of the owner's contexts (ENOTTY), a data
 * length beyond the limit (the owner drops that connection), and a header
 * cut short by the child closing the pipe.  The owner stays up and serves a
 * well-formed request afterwards; its memory outside the registered range
 * is unchanged.  The channel is the user backend's: the kernel half skips.
 */
#include <dirent.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include "oracle.h"
#include "../src/user/wire.h"

static int fd;
static char *mem, *canary;

/* The rest of the name of the owner's marker memfd that starts with prefix. */
static int marker(pid_t owner, const char *prefix, char *rest, size_t len)
{
	char path[64], link[256], want[128];
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)owner);
	snprintf(want, sizeof(want), "/memfd:%s", prefix);
	DIR *d = opendir(path);
	int found = 0;
	for (struct dirent *e; d && !found && (e = readdir(d));) {
		char p[320];
		snprintf(p, sizeof(p), "%s/%s", path, e->d_name);
		ssize_t n = readlink(p, link, sizeof(link) - 1);
		if (n > 0 && (link[n] = 0, !strncmp(link, want, strlen(want)))) {
			snprintf(rest, len, "%s", link + strlen(want));
			found = 1;
		}
	}
	if (d)
		closedir(d);
	return found;
}

static int open_at(pid_t owner, int n, int flags)
{
	char p[64];
	snprintf(p, sizeof(p), "/proc/%d/fd/%d", (int)owner, n);
	return open(p, flags | O_CLOEXEC);
}

/* A connection made by hand: *req, *rep; 0 on success. */
static int connect_by_hand(pid_t owner, int *req, int *rep)
{
	char rest[128], prefix[64];
	if (!marker(owner, W_SRV_NAME, rest, sizeof(rest)))
		return -1;
	int q = open_at(owner, atoi(rest), O_WRONLY);
	struct w_hello h = { W_MAGIC, (uint32_t)getpid(), 0x1234567890abcdefull + (uint64_t)*req };
	if (q < 0 || write(q, &h, sizeof(h)) != sizeof(h))
		return -1;
	close(q);
	snprintf(prefix, sizeof(prefix), W_CLI_NAME "%016llx:", (unsigned long long)h.nonce);
	for (int i = 0; i < 5000 && !marker(owner, prefix, rest, sizeof(rest)); i++)
		usleep(1000);   /* the owner's monitor answers at once */
	int r, p;
	if (sscanf(rest, "%d:%d", &r, &p) != 2)
		return -1;
	*req = open_at(owner, r, O_WRONLY);
	*rep = open_at(owner, p, O_RDONLY);
	return *req < 0 || *rep < 0 ? -1 : 0;
}

static int ask(int req, int rep, struct w_req *rq, const void *data, struct w_rep *out)
{
	if (write(req, rq, sizeof(*rq)) != sizeof(*rq) ||
	    (rq->datalen && write(req, data, rq->datalen) != (ssize_t)rq->datalen))
		return -1;
	return read(rep, out, sizeof(*out)) == sizeof(*out) ? 0 : -1;
}

static void child(void *arg, int report)
{
	pid_t owner = *(pid_t *)arg;
	struct stat st;
	int req = 0, rep;
	char *page = t_map(t_page);

	memset(page, 0x66, t_page);
	if (fstat(fd, &st) || connect_by_hand(owner, &req, &rep))
		_exit(2);
	struct w_req rq = { .magic = W_MAGIC, .dev = st.st_dev, .ino = st.st_ino };
	struct w_rep out;
	struct uffdio_copy c = { (uintptr_t)mem, 0, (uint64_t)t_page, 0, 0 };

	rq.request = UFFDIO_COPY;
	rq.argsize = sizeof(c);
	rq.datalen = (uint32_t)t_page / 2;   /* disagrees with len */
	memcpy(rq.arg, &c, sizeof(c));
	dprintf(report, "COPY, short data: %d\n", ask(req, rep, &rq, page, &out) ? 1 : out.ret);
	c.dst = (uintptr_t)canary;           /* not registered */
	memcpy(rq.arg, &c, sizeof(c));
	rq.datalen = (uint32_t)t_page;
	dprintf(report, "COPY, unregistered page: %d\n", ask(req, rep, &rq, page, &out) ? 1 : out.ret);
	rq.argsize = 8;                      /* not the ioctl's size */
	dprintf(report, "COPY, wrong size: %d\n", ask(req, rep, &rq, page, &out) ? 1 : out.ret);
	rq.argsize = sizeof(c);
	rq.ino ^= 1;                         /* none of the owner's pipes */
	dprintf(report, "unknown pipe: %d\n", ask(req, rep, &rq, page, &out) ? 1 : out.ret);
	rq.ino ^= 1;
	rq.datalen = W_DATA_MAX + 1;         /* cannot be framed: the connection ends */
	dprintf(report, "data beyond the limit, connection ended: %d\n",
		write(req, &rq, sizeof(rq)) == sizeof(rq) && read(rep, &out, sizeof(out)) == 0);
	close(req);
	close(rep);
	req = 1;
	if (connect_by_hand(owner, &req, &rep))
		_exit(3);
	dprintf(report, "cut short: %d\n", write(req, &rq, sizeof(rq) / 2) == sizeof(rq) / 2);
	close(req);
	close(rep);
	/* The owner still serves the library's own requests. */
	struct uffdio_range w = { (uintptr_t)mem, (uint64_t)t_page };
	dprintf(report, "WAKE afterwards: %d\n", uffd_ioctl(fd, UFFDIO_WAKE, &w));
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
	char out[1024];
	int n = orc_in_child(child, &self, out, sizeof(out) - 1);
	T_EXPECT(n > 0);
	out[n > 0 ? n : 0] = 0;
	T_EXPECT(strstr(out, "COPY, short data: -22\n"));
	T_EXPECT(strstr(out, "COPY, unregistered page: -2\n"));
	T_EXPECT(strstr(out, "COPY, wrong size: -22\n"));
	T_EXPECT(strstr(out, "unknown pipe: -25\n"));
	T_EXPECT(strstr(out, "data beyond the limit, connection ended: 1\n"));
	T_EXPECT(strstr(out, "cut short: 1\n"));
	T_EXPECT(strstr(out, "WAKE afterwards: 0\n"));
	char want[4096];
	memset(want, 0x11, sizeof(want));
	T_EXPECT(!memcmp(canary, want, t_page < 4096 ? t_page : 4096));
	if (n <= 0 || !strstr(out, "WAKE afterwards: 0"))
		fprintf(stderr, "child said:\n%s", out);
	close(fd);
}
T_MAIN("remote-malformed", scenario)
