/* SPDX-License-Identifier: MIT */
/*
 * A file mapped lazily with the pager: its pages are read when first
 * touched, a sequential scan reads ahead, two handler threads serve the
 * faults.  Prints a checksum of the file (the same as a plain read would
 * give) and the pager's statistics.
 *
 *     build/examples/pager-file /etc/services
 *     UFFD_BACKEND=user build/examples/pager-file /etc/services
 */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>

#include <uffd.h>
#include <uffd/pager.h>

int main(int argc, char *argv[])
{
	if (argc != 2) {
		fprintf(stderr, "Usage: %s FILE\n", argv[0]);
		return EXIT_FAILURE;
	}

	struct uffd_pager_config cfg = {
		.backend = UFFD_BACKEND_AUTO,                  /* UFFD_BACKEND=kernel|user */
		.threads = 2,
		.readahead = UFFD_PAGER_READAHEAD_DEFAULT,
	};
	struct uffd_pager *pager = uffd_pager_create(&cfg);
	if (!pager)
		errx(EXIT_FAILURE, "uffd_pager_create: %s", uffd_strerror());

	struct uffd_source *src = uffd_source_file(argv[1], 0);
	if (!src)
		err(EXIT_FAILURE, "%s", argv[1]);
	size_t size = uffd_source_size(src);
	if (size == 0)
		errx(EXIT_FAILURE, "%s is empty", argv[1]);

	struct uffd_region *region = uffd_pager_map(pager, src, size, 0, 0);
	if (!region)
		err(EXIT_FAILURE, "uffd_pager_map");

	/* Nothing has been read yet: each page is read on its first touch.
	 * (A read past the end of the file would raise SIGBUS, as with mmap.) */
	const unsigned char *mem = uffd_region_addr(region);
	unsigned long sum = 0;
	for (size_t i = 0; i < size; i++)
		sum = sum * 31 + mem[i];

	struct uffd_pager_stats st;
	uffd_pager_stats(pager, &st);
	printf("%s: %zu bytes, checksum %016lx\n", argv[1], size, sum);
	printf("backend %s: %llu faults, %llu pages filled (%llu read ahead), "
	       "%llu bytes read, fault latency p50 %llu ns, p99 %llu ns\n",
	       uffd_backend_name(uffd_pager_backend(pager)), (unsigned long long)st.faults,
	       (unsigned long long)st.pages_filled, (unsigned long long)st.pages_read_ahead,
	       (unsigned long long)st.bytes_read, (unsigned long long)st.latency_p50_ns,
	       (unsigned long long)st.latency_p99_ns);

	uffd_region_unmap(region);
	uffd_source_close(src);
	uffd_pager_destroy(pager);
	return EXIT_SUCCESS;
}
