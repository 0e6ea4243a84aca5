/* SPDX-License-Identifier: MIT */
/* `uffd probe`: names of feature bits, ioctl bits, modes, memory and errno. */
#include <stdio.h>
#include <string.h>

#include "probe.h"

const char *const probe_mem_names[PROBE_NMEM] = { "anon", "shmem", "hugetlb" };

const uint64_t probe_modes[PROBE_NMODE] = {
	UFFDIO_REGISTER_MODE_MISSING,
	UFFDIO_REGISTER_MODE_WP,
	UFFDIO_REGISTER_MODE_MINOR,
	UFFDIO_REGISTER_MODE_MISSING | UFFDIO_REGISTER_MODE_WP,
};
const char *const probe_mode_names[PROBE_NMODE] = {
	"MISSING", "WP", "MINOR", "MISSING|WP",
};

#define NAME(x) { x, #x }
static const struct { uint64_t bit; const char *name; } features[] = {
	NAME(UFFD_FEATURE_PAGEFAULT_FLAG_WP),
	NAME(UFFD_FEATURE_EVENT_FORK),
	NAME(UFFD_FEATURE_EVENT_REMAP),
	NAME(UFFD_FEATURE_EVENT_REMOVE),
	NAME(UFFD_FEATURE_MISSING_HUGETLBFS),
	NAME(UFFD_FEATURE_MISSING_SHMEM),
	NAME(UFFD_FEATURE_EVENT_UNMAP),
	NAME(UFFD_FEATURE_SIGBUS),
	NAME(UFFD_FEATURE_THREAD_ID),
	NAME(UFFD_FEATURE_MINOR_HUGETLBFS),
	NAME(UFFD_FEATURE_MINOR_SHMEM),
	NAME(UFFD_FEATURE_EXACT_ADDRESS),
	NAME(UFFD_FEATURE_WP_HUGETLBFS_SHMEM),
	NAME(UFFD_FEATURE_WP_UNPOPULATED),
	NAME(UFFD_FEATURE_POISON),
	NAME(UFFD_FEATURE_WP_ASYNC),
	NAME(UFFD_FEATURE_MOVE),
};
/* The ioctl masks are bit numbers (_UFFDIO_*), not request codes. */
static const struct { int bit; const char *name; } ioctls[] = {
	NAME(_UFFDIO_REGISTER),
	NAME(_UFFDIO_UNREGISTER),
	NAME(_UFFDIO_WAKE),
	NAME(_UFFDIO_COPY),
	NAME(_UFFDIO_ZEROPAGE),
	NAME(_UFFDIO_MOVE),
	NAME(_UFFDIO_WRITEPROTECT),
	NAME(_UFFDIO_CONTINUE),
	NAME(_UFFDIO_POISON),
	NAME(_UFFDIO_API),
};
#undef NAME

const char *probe_feature_name(int bit)
{
	for (size_t i = 0; i < sizeof(features) / sizeof(features[0]); i++)
		if (features[i].bit == (uint64_t)1 << bit)
			return features[i].name;
	return NULL;
}

const char *probe_ioctl_name(int bit)
{
	for (size_t i = 0; i < sizeof(ioctls) / sizeof(ioctls[0]); i++)
		if (ioctls[i].bit == bit)
			return ioctls[i].name;
	return NULL;
}

const char *probe_errname(int err)
{
	static char other[24];
	const char *name = strerrorname_np(err);

	if (name)
		return name;
	snprintf(other, sizeof(other), "errno %d", err);
	return other;
}
