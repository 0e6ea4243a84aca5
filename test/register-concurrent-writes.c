/* Threads write to pages of a range while it is being registered: every
 * write lands, whether it comes before the registration (the page holds
 * data and keeps it) or after (a missing fault, resolved by a handler). */
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include "harness.h"

#define WRITERS 3
#define PAGES_EACH 64
#define ROUNDS 20

static int fd;
static char *mem;
static _Atomic int go, stop;

struct writer { int id; };

static void *writer(void *arg)
{
	struct writer *w = arg;

	while (!atomic_load(&go))
		;
	for (int i = 0; i < PAGES_EACH; i++)
		((volatile char *)mem)[(w->id * PAGES_EACH + i) * t_page + 17] = (char)(w->id + 1);
	return NULL;
}

static void *handler(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, 10) <= 0)
			continue;
		struct uffd_msg m;
		if (read(fd, &m, sizeof(m)) != sizeof(m))
			continue;
		struct uffdio_zeropage z = { { m.arg.pagefault.address & ~(uint64_t)(t_page - 1),
					       t_page }, 0, 0 };
		uffd_ioctl(fd, UFFDIO_ZEROPAGE, &z);   /* EEXIST is fine */
	}
	return NULL;
}

static void scenario(void)
{
	const size_t len = (size_t)WRITERS * PAGES_EACH * t_page;
	int lost = 0;

	fd = t_uffd_api(O_CLOEXEC | O_NONBLOCK, 0);
	for (int round = 0; round < ROUNDS; round++) {
		mem = t_map(len);
		pthread_t w[WRITERS], h;
		struct writer ws[WRITERS];
		atomic_store(&go, 0);
		atomic_store(&stop, 0);
		T_ASSERT(pthread_create(&h, NULL, handler, NULL) == 0);
		for (int i = 0; i < WRITERS; i++) {
			ws[i].id = i;
			T_ASSERT(pthread_create(&w[i], NULL, writer, &ws[i]) == 0);
		}
		atomic_store(&go, 1);
		t_register(fd, mem, len, UFFDIO_REGISTER_MODE_MISSING);
		for (int i = 0; i < WRITERS; i++)
			pthread_join(w[i], NULL);
		atomic_store(&stop, 1);
		pthread_join(h, NULL);
		for (int i = 0; i < WRITERS; i++)
			for (int p = 0; p < PAGES_EACH; p++)
				lost += mem[(i * PAGES_EACH + p) * t_page + 17] != (char)(i + 1);
		struct uffdio_range r = { (uintptr_t)mem, len };
		T_ASSERT(uffd_ioctl(fd, UFFDIO_UNREGISTER, &r) == 0);
		munmap(mem, len);
	}
	T_OBS("writes lost: %d", lost);
	T_EXPECT_EQ(lost, 0);
	close(fd);
}
T_MAIN("register-concurrent-writes", scenario)
