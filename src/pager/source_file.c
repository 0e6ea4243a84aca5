/* SPDX-License-Identifier: MIT */
/* A file as a page source: pread(2) and pwrite(2), O_DIRECT on request. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "source.h"

struct file_src {
	int fd;
	long page;
};

static int file_read(void *priv, uint64_t off, void *buf, size_t len)
{
	struct file_src *f = priv;
	size_t done = 0;

	while (done < len) {
		ssize_t n = pread(f->fd, (char *)buf + done, len - done, (off_t)(off + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		done += (size_t)n;
	}
	if (done == len)
		return 0;
	/* The file ends inside the extent (it may have been truncated since it
	 * was opened).  As with a file mapping, the rest of its last page reads
	 * as zeros; a page wholly past the end is an error (SIGBUS). */
	size_t end = (done + (size_t)f->page - 1) & ~((size_t)f->page - 1);
	if (done == 0 || end < len)
		return -ENODATA;
	memset((char *)buf + done, 0, len - done);
	return 0;
}

static int file_write(void *priv, uint64_t off, const void *buf, size_t len)
{
	struct file_src *f = priv;
	size_t done = 0;

	while (done < len) {
		ssize_t n = pwrite(f->fd, (const char *)buf + done, len - done,
				   (off_t)(off + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		done += (size_t)n;
	}
	return 0;
}

static void file_close(void *priv)
{
	struct file_src *f = priv;

	close(f->fd);
	free(f);
}

struct uffd_source *uffd_source_file(const char *path, int flags)
{
	if (!path || (flags & ~(O_DIRECT | O_RDWR | O_RDONLY))) {
		errno = EINVAL;
		return NULL;
	}
	struct file_src *f = malloc(sizeof(*f));
	if (!f)
		return NULL;
	f->page = sysconf(_SC_PAGESIZE);
	f->fd = open(path, flags | O_CLOEXEC);
	struct stat st;
	if (f->fd < 0 || fstat(f->fd, &st) < 0) {
		int err = errno;
		if (f->fd >= 0)
			close(f->fd);
		free(f);
		errno = err;
		return NULL;
	}
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		close(f->fd);
		free(f);
		errno = EINVAL;
		return NULL;
	}
	uint64_t size = (uint64_t)st.st_size;
	if (S_ISBLK(st.st_mode)) {
		off_t end = lseek(f->fd, 0, SEEK_END);
		size = end > 0 ? (uint64_t)end : 0;
	}
	struct uffd_source_ops ops = {
		.read = file_read,
		.write = (flags & O_RDWR) ? file_write : NULL,
		.close = file_close,
	};
	struct uffd_source *src = uffd_source_new(&ops, f, size);
	if (!src)
		file_close(f);
	return src;
}
