/* SPDX-License-Identifier: MIT */
/* uffd_source_open(): a source named by a string.  Remote stores add their
 * scheme to the table below. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "source.h"

/* "SIZE" with an optional K, M, G, T suffix (powers of 1024): 0 or -1. */
static int parse_size(const char *s, uint64_t *out)
{
	char *end;

	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *s == '-')
		return -1;
	unsigned shift = 0;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case 't': case 'T': shift = 40; end++; break;
	}
	if (*end || (shift && v > (~0ULL >> shift)))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

static struct uffd_source *open_zero(const char *url)
{
	uint64_t size;

	if (parse_size(url + strlen("zero:"), &size) < 0) {
		errno = EINVAL;
		return NULL;
	}
	return uffd_source_zero(size);
}

/* A path: read-write when the file allows it (write-back), else read-only. */
static struct uffd_source *open_path(const char *path)
{
	struct uffd_source *src = uffd_source_file(path, O_RDWR);

	if (!src && (errno == EACCES || errno == EROFS || errno == EPERM))
		src = uffd_source_file(path, O_RDONLY);
	return src;
}

static struct uffd_source *open_file(const char *url)
{
	return open_path(url + strlen("file:"));
}

/* Redis and memcached images live in libuffd-store (it links hiredis and
 * libmemcached; libuffd does not): reached through a weak reference, present
 * when the program links -luffd-store. */
extern struct uffd_source *uffd_source_store(const char *url) __attribute__((weak));

static struct uffd_source *open_store(const char *url)
{
	if (!uffd_source_store) {
		errno = EPROTONOSUPPORT;
		return NULL;
	}
	return uffd_source_store(url);
}

static const struct uffd_source_scheme schemes[] = {
	{ "zero:", open_zero },
	{ "file:", open_file },
	{ "redis://", open_store },
	{ "memcached://", open_store },
};

struct uffd_source *uffd_source_open(const char *url)
{
	if (!url || !*url) {
		errno = EINVAL;
		return NULL;
	}
	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
		if (!strncmp(url, schemes[i].prefix, strlen(schemes[i].prefix)))
			return schemes[i].open(url);
	if (strstr(url, "://")) {
		errno = EPROTONOSUPPORT;   /* a scheme this build does not have */
		return NULL;
	}
	return open_path(url);
}
