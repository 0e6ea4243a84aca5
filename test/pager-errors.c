/* SPDX-License-Identifier: MIT */
/*
 * The pager's argument errors, the same on every backend: a bad config
 * (NULL, unknown backend or flag, too many threads, readahead too large),
 * a bad map (NULL source, length 0, unaligned offset, flags), sources that
 * cannot be made (NULL ops or read, NULL callback, a directory, a missing
 * file, a malformed "zero:", an unknown scheme), and NULL regions.
 */
#include "pager_help.h"

static int dummy_read(void *priv, uint64_t off, void *buf, size_t len)
{
	(void)priv, (void)off, (void)buf, (void)len;
	return 0;
}

static void scenario(void)
{
	struct uffd_pager_config cfg = { .backend = t_backend };

	T_EXPECT_ERR(uffd_pager_create(NULL) ? 0 : -1, EINVAL);
	cfg.backend = (enum uffd_backend)7;
	T_EXPECT_ERR(uffd_pager_create(&cfg) ? 0 : -1, EINVAL);
	cfg.backend = t_backend;
	cfg.flags = 0x100;
	T_EXPECT_ERR(uffd_pager_create(&cfg) ? 0 : -1, EINVAL);
	cfg.flags = 0;
	cfg.threads = UFFD_PAGER_MAX_THREADS + 1;
	T_EXPECT_ERR(uffd_pager_create(&cfg) ? 0 : -1, EINVAL);
	cfg.threads = 1;
	cfg.readahead = 1u << 20;
	T_EXPECT_ERR(uffd_pager_create(&cfg) ? 0 : -1, EINVAL);

	struct uffd_pager *p = tp_pager(1, 0, 0);
	struct uffd_source *z = uffd_source_zero(1 << 20);
	T_ASSERT(z);
	T_EXPECT_ERR(uffd_pager_map(p, NULL, 4096, 0, 0) ? 0 : -1, EINVAL);
	T_EXPECT_ERR(uffd_pager_map(p, z, 0, 0, 0) ? 0 : -1, EINVAL);
	T_EXPECT_ERR(uffd_pager_map(p, z, 4096, 100, 0) ? 0 : -1, EINVAL);
	T_EXPECT_ERR(uffd_pager_map(p, z, 4096, 0, 1) ? 0 : -1, EINVAL);
	T_EXPECT_ERR(uffd_region_unmap(NULL), EINVAL);
	T_EXPECT_ERR(uffd_region_writeback(NULL), EINVAL);
	T_EXPECT_ERR(uffd_pager_stats(p, NULL), EINVAL);

	struct uffd_source_ops none = { 0 }, ops = { .read = dummy_read };
	T_EXPECT_ERR(uffd_source_new(NULL, NULL, 1) ? 0 : -1, EINVAL);
	T_EXPECT_ERR(uffd_source_new(&none, NULL, 1) ? 0 : -1, EINVAL);
	T_EXPECT_ERR(uffd_source_callback(NULL, NULL, 1) ? 0 : -1, EINVAL);
	T_EXPECT_ERR(uffd_source_file("/", 0) ? 0 : -1, EINVAL);
	T_EXPECT_ERR(uffd_source_file("/nonexistent/x", 0) ? 0 : -1, ENOENT);
	T_EXPECT_ERR(uffd_source_open("zero:12Q") ? 0 : -1, EINVAL);
	T_EXPECT_ERR(uffd_source_open("zero:") ? 0 : -1, EINVAL);
	T_EXPECT_ERR(uffd_source_open("nosuch://host/key") ? 0 : -1, EPROTONOSUPPORT);
	T_EXPECT_ERR(uffd_source_open("") ? 0 : -1, EINVAL);
	struct uffd_source *s = uffd_source_open("zero:3G");
	T_EXPECT(s && uffd_source_size(s) == 3ull << 30);
	uffd_source_close(s);
	s = uffd_source_new(&ops, NULL, 12345);
	T_EXPECT(s && uffd_source_size(s) == 12345);
	uffd_source_close(s);
	uffd_source_close(z);
	uffd_pager_destroy(p);
}

T_MAIN("pager-errors", scenario)
