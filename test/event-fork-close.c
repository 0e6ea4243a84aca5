/* SPDX-License-Identifier: MIT */
/*
 * UFFD_FEATURE_EVENT_FORK, the fork event's fd closed at once: the reader
 * takes the UFFD_EVENT_FORK message and closes the child's userfaultfd
 * without serving anything.  The child's registration then ends as with the
 * kernel's release(): its missing page reads as zeros, its write-protected
 * page takes a write, and nothing hangs; the parent's memory keeps its own
 * registration (page 1 still faults, page 0 still protected).
 */
#include <pthread.h>
#include <sys/wait.h>
#include "oracle.h"

#define NP 3

static int fd, forked;

/* The reader: fork() waits until it has read the event (as the kernel's). */
static void *reader(void *arg)
{
	struct uffd_msg m;
	(void)arg;
	forked = t_read_msg(fd, &m, 10000) && m.event == UFFD_EVENT_FORK;
	if (forked)
		close((int)m.arg.fork.ufd);
	return NULL;
}

static void scenario(void)
{
	if (geteuid() != 0)
		t_skip("UFFD_FEATURE_EVENT_FORK needs CAP_SYS_PTRACE");
	fd = t_uffd_api(O_CLOEXEC | O_NONBLOCK, UFFD_FEATURE_EVENT_FORK);
	char *mem = t_map(NP * t_page), *src = t_map(t_page);
	t_fill(src, t_page, 41);
	t_register(fd, mem, NP * t_page, UFFDIO_REGISTER_MODE_MISSING | UFFDIO_REGISTER_MODE_WP);
	struct uffdio_copy c = { (uintptr_t)mem, (uintptr_t)src, (uint64_t)t_page,
				 UFFDIO_COPY_MODE_WP, 0 };
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_COPY, &c));

	/* The child waits until the fork event's fd is closed. */
	int go[2], rep[2];
	T_ASSERT(pipe(go) == 0 && pipe(rep) == 0);
	pthread_t th;
	T_ASSERT(pthread_create(&th, NULL, reader, NULL) == 0);
	fflush(NULL);
	pid_t pid = fork();
	T_ASSERT(pid >= 0);
	if (pid == 0) {
		alarm(20);
		char b;
		int got[3];
		close(go[1]);
		if (read(go[0], &b, 1) != 1)
			_exit(2);
		got[0] = 1;
		for (long i = 0; i < t_page; i++)
			got[0] &= mem[t_page + i] == 0;      /* missing: zeros */
		mem[7] = 0x77;                               /* was protected */
		got[1] = mem[7] == 0x77 && !memcmp(mem + 8, src + 8, t_page - 8);
		mem[2 * t_page] = 0x78;
		got[2] = mem[2 * t_page] == 0x78;
		_exit(write(rep[1], got, sizeof(got)) == sizeof(got) ? 0 : 3);
	}
	close(go[0]);
	close(rep[1]);
	struct uffd_msg m;
	pthread_join(th, NULL);
	T_OBS("fork event %d", forked);
	T_EXPECT(forked);
	T_ASSERT(write(go[1], "g", 1) == 1);
	int got[3] = { -1, -1, -1 }, status;
	T_EXPECT(read(rep[0], got, sizeof(got)) == sizeof(got));
	T_ASSERT(waitpid(pid, &status, 0) == pid);
	T_OBS("child exit %d: missing page zeros %d, protected page written %d, other page %d",
	      WIFEXITED(status) ? WEXITSTATUS(status) : -1, got[0], got[1], got[2]);
	T_EXPECT(got[0] == 1 && got[1] == 1 && got[2] == 1);

	/* The parent's registration is its own. */
	struct orc_toucher t;
	orc_touch_start(&t, mem + 7, 1, 0x79);
	orc_fault_msg(fd, &m, "parent: page 0", mem);
	struct uffdio_writeprotect wp = { { (uintptr_t)mem, (uint64_t)t_page }, 0 };
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_WRITEPROTECT, &wp));
	orc_touch_join(&t);
	orc_touch_start(&t, mem + t_page, 0, 0);
	orc_fault_msg(fd, &m, "parent: page 1", mem);
	c = (struct uffdio_copy){ (uintptr_t)mem + t_page, (uintptr_t)src, (uint64_t)t_page, 0, 0 };
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_COPY, &c));
	orc_touch_join(&t);
	T_OBS("parent: page 0 byte 7 0x%x, page 1 intact %d", (unsigned char)mem[7],
	      t_check(mem + t_page, t_page, 41));
	T_OBS("parent: nothing else queued %d", orc_nothing_queued(fd));
	close(fd);
}
T_MAIN("event-fork-close", scenario)
