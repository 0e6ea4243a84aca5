/* SPDX-License-Identifier: MIT */
/* `uffd image push|pull|ls|rm`: memory images in Redis or memcached (libuffd-store). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "uffd/store.h"

static int usage(FILE *out)
{
	fprintf(out,
		"usage: uffd image push FILE --to URL [--chunk BYTES]\n"
		"       uffd image pull URL FILE\n"
		"       uffd image ls URL\n"
		"       uffd image rm URL\n"
		"\n"
		"URL: redis://HOST:PORT[,HOST:PORT...]/ID (one server, or seeds of a Redis\n"
		"Cluster) or memcached://HOST:PORT[,HOST:PORT...]/ID (keys spread over the\n"
		"servers by consistent hashing); options ?timeout=MS&retries=N&inflight=N.\n"
		"An image is stored in chunks (default 64 KiB, a multiple of 4096) with a\n"
		"CRC-32C each, checked whenever a chunk is read; chunks of zeros are not\n"
		"stored.  ls takes a URL without ID.  See uffd(1) for the key schema.\n");
	return out == stdout ? 0 : 2;
}

static int failed(const char *what)
{
	fprintf(stderr, "uffd image %s: %s\n", what, uffd_image_strerror());
	return 1;
}

static int push(int argc, char **argv)
{
	const char *file = NULL, *url = NULL;
	unsigned long chunk = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--to") && i + 1 < argc)
			url = argv[++i];
		else if (!strcmp(argv[i], "--chunk") && i + 1 < argc) {
			char *end;
			chunk = strtoul(argv[++i], &end, 0);
			if (*end == 'k' || *end == 'K')
				chunk <<= 10, end++;
			else if (*end == 'm' || *end == 'M')
				chunk <<= 20, end++;
			if (*end || chunk == 0 || chunk > UINT32_MAX)
				return usage(stderr);
		} else if (!file && argv[i][0] != '-')
			file = argv[i];
		else
			return usage(stderr);
	}
	if (!file || !url)
		return usage(stderr);
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "uffd image push: %s: %s\n", file, strerror(errno));
		return 1;
	}
	int ret = uffd_image_push(url, fd, (uint32_t)chunk);
	close(fd);
	return ret ? failed("push") : 0;
}

static int pull(int argc, char **argv)
{
	if (argc != 3)
		return usage(stderr);
	int fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		fprintf(stderr, "uffd image pull: %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	int ret = uffd_image_pull(argv[1], fd);
	if (close(fd) && !ret) {
		fprintf(stderr, "uffd image pull: %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	return ret ? failed("pull") : 0;
}

static int print(void *ctx, const struct uffd_image_info *in)
{
	int *n = ctx;

	if ((*n)++ == 0)
		printf("%-24s %14s %8s %8s %8s\n", "ID", "BYTES", "CHUNK", "CHUNKS", "ZERO");
	if (in->error)
		printf("%-24s %s\n", in->id, in->error == ENOENT ? "(header missing)" : strerror(in->error));
	else
		printf("%-24s %14" PRIu64 " %8u %8" PRIu64 " %8" PRIu64 "\n", in->id, in->size,
		       in->chunk, in->chunks, in->zero_chunks);
	return 0;
}

int cmd_image(int argc, char **argv)
{
	int n = 0;

	if (argc < 2)
		return usage(stderr);
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))
		return usage(stdout);
	if (!strcmp(argv[1], "push"))
		return push(argc - 1, argv + 1);
	if (!strcmp(argv[1], "pull"))
		return pull(argc - 1, argv + 1);
	if (!strcmp(argv[1], "ls") && argc == 3)
		return uffd_image_list(argv[2], print, &n) ? failed("ls") : 0;
	if (!strcmp(argv[1], "rm") && argc == 3)
		return uffd_image_remove(argv[2]) ? failed("rm") : 0;
	return usage(stderr);
}
