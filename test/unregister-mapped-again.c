/* SPDX-License-Identifier: MIT */
/*
 * UNREGISTER, by the userfaultfd that registered it, of memory the program
 * unmapped and mapped again since (munmap, then mmap at the same address;
 * no shim, so libuffd does not see it).  The kernel's registration ended
 * with the old mapping: the new one is not registered, UNREGISTER of it
 * says 0 and changes nothing, so the protection the program gave the new
 * memory stays (here page 1 or 2 made PROT_READ).  Protections are read
 * from /proc/self/maps.  Where nothing tells the new memory from the old
 * (every page written, the protected page PROT_READ again) the user backend
 * takes it for the old registration: the limit `memory mapped again at a
 * registered address`.
 */
#include "oracle.h"

#define NP 4

static int fd;

/* The protection of page p, "rw-" and the like, from /proc/self/maps. */
static void prot_of(const char *p, char out[4])
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];

	strcpy(out, "?");
	T_ASSERT(f);
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		char perms[8];
		if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) == 3 &&
		    (uintptr_t)p >= lo && (uintptr_t)p < hi) {
			memcpy(out, perms, 3);
			out[3] = 0;
			break;
		}
	}
	fclose(f);
}

static void show(const char *what, char *mem)
{
	char line[128] = "", pr[4];

	for (int i = 0; i < NP; i++) {
		prot_of(mem + i * t_page, pr);
		strcat(line, " ");
		strcat(line, pr);
	}
	T_OBS("%s:%s", what, line);
}

/* Registered MISSING|WP, pages `written` written, page 2 write-protected;
 * then mapped again, every page written, page ro made PROT_READ. */
static char *mapped_again(int written, int ro)
{
	char *mem = t_map(NP * t_page);
	for (int i = 0; i < NP; i++)
		if (written >> i & 1)
			mem[i * t_page] = 1;
	t_register(fd, mem, NP * t_page, UFFDIO_REGISTER_MODE_MISSING | UFFDIO_REGISTER_MODE_WP);
	struct uffdio_writeprotect w = { { (uintptr_t)mem + 2 * t_page, t_page },
					 UFFDIO_WRITEPROTECT_MODE_WP };
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_WRITEPROTECT, &w));
	T_ASSERT(munmap(mem, NP * t_page) == 0);
	T_ASSERT(mmap(mem, NP * t_page, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == mem);
	memset(mem, 2, NP * t_page);
	T_ASSERT(mprotect(mem + ro * t_page, t_page, PROT_READ) == 0);
	return mem;
}

static void unregister(char *mem)
{
	struct uffdio_range r = { (uintptr_t)mem, NP * (uint64_t)t_page };
	T_EXPECT_OK(uffd_ioctl(fd, UFFDIO_UNREGISTER, &r));
}

static void scenario(void)
{
	fd = t_uffd_api(O_CLOEXEC | O_NONBLOCK, 0);

	/* The old registration had missing pages (0, 3): the new memory
	 * tells.  Page 1 is the program's PROT_READ. */
	char *mem = mapped_again(0x6, 1);
	show("mapped again, page 1 read-only", mem);
	unregister(mem);
	show("after UNREGISTER", mem);
	munmap(mem, NP * t_page);

	/* The same with page 2 (the protected one) read-only. */
	mem = mapped_again(0x6, 2);
	unregister(mem);
	show("page 2 read-only, after UNREGISTER", mem);
	munmap(mem, NP * t_page);

	/* Every page written, page 2 read-only as it was protected: nothing
	 * tells the new memory from the old. */
	mem = mapped_again(0xf, 2);
	show("all written, page 2 read-only", mem);
	if (t_limit_begin("memory mapped again at a registered address")) {
		unregister(mem);
		show("all written, after UNREGISTER", mem);
		t_limit_end();
	}
	munmap(mem, NP * t_page);
	close(fd);
}
T_MAIN("unregister-mapped-again", scenario)
