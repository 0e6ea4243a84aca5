/* SPDX-License-Identifier: MIT */
/*
 * The system's <linux/userfaultfd.h> alone (no libuffd ABI header in this
 * translation unit): every ABI name it defines with its value, and the
 * layout of every struct it defines, for test/abi-vs-system.c.
 */
#include <stddef.h>
#include <linux/ioctl.h>   /* _IOWR, which the system header uses but does not include */
#include <linux/userfaultfd.h>

#include "abi_names.h"
#ifdef LIBUFFD_ABI_H
#error "this translation unit must see only the system header"
#endif

const struct orc_abi_value orc_abi_sys_values[] = {
#ifdef USERFAULTFD_IOC
	{ "USERFAULTFD_IOC", (unsigned long long)(USERFAULTFD_IOC) },
#endif
#ifdef USERFAULTFD_IOC_NEW
	{ "USERFAULTFD_IOC_NEW", (unsigned long long)(USERFAULTFD_IOC_NEW) },
#endif
#ifdef UFFD_API
	{ "UFFD_API", (unsigned long long)(UFFD_API) },
#endif
#ifdef _UFFDIO_REGISTER
	{ "_UFFDIO_REGISTER", (unsigned long long)(_UFFDIO_REGISTER) },
#endif
#ifdef _UFFDIO_UNREGISTER
	{ "_UFFDIO_UNREGISTER", (unsigned long long)(_UFFDIO_UNREGISTER) },
#endif
#ifdef _UFFDIO_WAKE
	{ "_UFFDIO_WAKE", (unsigned long long)(_UFFDIO_WAKE) },
#endif
#ifdef _UFFDIO_COPY
	{ "_UFFDIO_COPY", (unsigned long long)(_UFFDIO_COPY) },
#endif
#ifdef _UFFDIO_ZEROPAGE
	{ "_UFFDIO_ZEROPAGE", (unsigned long long)(_UFFDIO_ZEROPAGE) },
#endif
#ifdef _UFFDIO_MOVE
	{ "_UFFDIO_MOVE", (unsigned long long)(_UFFDIO_MOVE) },
#endif
#ifdef _UFFDIO_WRITEPROTECT
	{ "_UFFDIO_WRITEPROTECT", (unsigned long long)(_UFFDIO_WRITEPROTECT) },
#endif
#ifdef _UFFDIO_CONTINUE
	{ "_UFFDIO_CONTINUE", (unsigned long long)(_UFFDIO_CONTINUE) },
#endif
#ifdef _UFFDIO_POISON
	{ "_UFFDIO_POISON", (unsigned long long)(_UFFDIO_POISON) },
#endif
#ifdef _UFFDIO_API
	{ "_UFFDIO_API", (unsigned long long)(_UFFDIO_API) },
#endif
#ifdef UFFDIO
	{ "UFFDIO", (unsigned long long)(UFFDIO) },
#endif
#ifdef UFFDIO_API
	{ "UFFDIO_API", (unsigned long long)(UFFDIO_API) },
#endif
#ifdef UFFDIO_REGISTER
	{ "UFFDIO_REGISTER", (unsigned long long)(UFFDIO_REGISTER) },
#endif
#ifdef UFFDIO_UNREGISTER
	{ "UFFDIO_UNREGISTER", (unsigned long long)(UFFDIO_UNREGISTER) },
#endif
#ifdef UFFDIO_WAKE
	{ "UFFDIO_WAKE", (unsigned long long)(UFFDIO_WAKE) },
#endif
#ifdef UFFDIO_COPY
	{ "UFFDIO_COPY", (unsigned long long)(UFFDIO_COPY) },
#endif
#ifdef UFFDIO_ZEROPAGE
	{ "UFFDIO_ZEROPAGE", (unsigned long long)(UFFDIO_ZEROPAGE) },
#endif
#ifdef UFFDIO_MOVE
	{ "UFFDIO_MOVE", (unsigned long long)(UFFDIO_MOVE) },
#endif
#ifdef UFFDIO_WRITEPROTECT
	{ "UFFDIO_WRITEPROTECT", (unsigned long long)(UFFDIO_WRITEPROTECT) },
#endif
#ifdef UFFDIO_CONTINUE
	{ "UFFDIO_CONTINUE", (unsigned long long)(UFFDIO_CONTINUE) },
#endif
#ifdef UFFDIO_POISON
	{ "UFFDIO_POISON", (unsigned long long)(UFFDIO_POISON) },
#endif
#ifdef UFFD_EVENT_PAGEFAULT
	{ "UFFD_EVENT_PAGEFAULT", (unsigned long long)(UFFD_EVENT_PAGEFAULT) },
#endif
#ifdef UFFD_EVENT_FORK
	{ "UFFD_EVENT_FORK", (unsigned long long)(UFFD_EVENT_FORK) },
#endif
#ifdef UFFD_EVENT_REMAP
	{ "UFFD_EVENT_REMAP", (unsigned long long)(UFFD_EVENT_REMAP) },
#endif
#ifdef UFFD_EVENT_REMOVE
	{ "UFFD_EVENT_REMOVE", (unsigned long long)(UFFD_EVENT_REMOVE) },
#endif
#ifdef UFFD_EVENT_UNMAP
	{ "UFFD_EVENT_UNMAP", (unsigned long long)(UFFD_EVENT_UNMAP) },
#endif
#ifdef UFFD_PAGEFAULT_FLAG_WRITE
	{ "UFFD_PAGEFAULT_FLAG_WRITE", (unsigned long long)(UFFD_PAGEFAULT_FLAG_WRITE) },
#endif
#ifdef UFFD_PAGEFAULT_FLAG_WP
	{ "UFFD_PAGEFAULT_FLAG_WP", (unsigned long long)(UFFD_PAGEFAULT_FLAG_WP) },
#endif
#ifdef UFFD_PAGEFAULT_FLAG_MINOR
	{ "UFFD_PAGEFAULT_FLAG_MINOR", (unsigned long long)(UFFD_PAGEFAULT_FLAG_MINOR) },
#endif
#ifdef UFFD_FEATURE_PAGEFAULT_FLAG_WP
	{ "UFFD_FEATURE_PAGEFAULT_FLAG_WP", (unsigned long long)(UFFD_FEATURE_PAGEFAULT_FLAG_WP) },
#endif
#ifdef UFFD_FEATURE_EVENT_FORK
	{ "UFFD_FEATURE_EVENT_FORK", (unsigned long long)(UFFD_FEATURE_EVENT_FORK) },
#endif
#ifdef UFFD_FEATURE_EVENT_REMAP
	{ "UFFD_FEATURE_EVENT_REMAP", (unsigned long long)(UFFD_FEATURE_EVENT_REMAP) },
#endif
#ifdef UFFD_FEATURE_EVENT_REMOVE
	{ "UFFD_FEATURE_EVENT_REMOVE", (unsigned long long)(UFFD_FEATURE_EVENT_REMOVE) },
#endif
#ifdef UFFD_FEATURE_MISSING_HUGETLBFS
	{ "UFFD_FEATURE_MISSING_HUGETLBFS", (unsigned long long)(UFFD_FEATURE_MISSING_HUGETLBFS) },
#endif
#ifdef UFFD_FEATURE_MISSING_SHMEM
	{ "UFFD_FEATURE_MISSING_SHMEM", (unsigned long long)(UFFD_FEATURE_MISSING_SHMEM) },
#endif
#ifdef UFFD_FEATURE_EVENT_UNMAP
	{ "UFFD_FEATURE_EVENT_UNMAP", (unsigned long long)(UFFD_FEATURE_EVENT_UNMAP) },
#endif
#ifdef UFFD_FEATURE_SIGBUS
	{ "UFFD_FEATURE_SIGBUS", (unsigned long long)(UFFD_FEATURE_SIGBUS) },
#endif
#ifdef UFFD_FEATURE_THREAD_ID
	{ "UFFD_FEATURE_THREAD_ID", (unsigned long long)(UFFD_FEATURE_THREAD_ID) },
#endif
#ifdef UFFD_FEATURE_MINOR_HUGETLBFS
	{ "UFFD_FEATURE_MINOR_HUGETLBFS", (unsigned long long)(UFFD_FEATURE_MINOR_HUGETLBFS) },
#endif
#ifdef UFFD_FEATURE_MINOR_SHMEM
	{ "UFFD_FEATURE_MINOR_SHMEM", (unsigned long long)(UFFD_FEATURE_MINOR_SHMEM) },
#endif
#ifdef UFFD_FEATURE_EXACT_ADDRESS
	{ "UFFD_FEATURE_EXACT_ADDRESS", (unsigned long long)(UFFD_FEATURE_EXACT_ADDRESS) },
#endif
#ifdef UFFD_FEATURE_WP_HUGETLBFS_SHMEM
	{ "UFFD_FEATURE_WP_HUGETLBFS_SHMEM", (unsigned long long)(UFFD_FEATURE_WP_HUGETLBFS_SHMEM) },
#endif
#ifdef UFFD_FEATURE_WP_UNPOPULATED
	{ "UFFD_FEATURE_WP_UNPOPULATED", (unsigned long long)(UFFD_FEATURE_WP_UNPOPULATED) },
#endif
#ifdef UFFD_FEATURE_POISON
	{ "UFFD_FEATURE_POISON", (unsigned long long)(UFFD_FEATURE_POISON) },
#endif
#ifdef UFFD_FEATURE_WP_ASYNC
	{ "UFFD_FEATURE_WP_ASYNC", (unsigned long long)(UFFD_FEATURE_WP_ASYNC) },
#endif
#ifdef UFFD_FEATURE_MOVE
	{ "UFFD_FEATURE_MOVE", (unsigned long long)(UFFD_FEATURE_MOVE) },
#endif
#ifdef UFFDIO_REGISTER_MODE_MISSING
	{ "UFFDIO_REGISTER_MODE_MISSING", (unsigned long long)(UFFDIO_REGISTER_MODE_MISSING) },
#endif
#ifdef UFFDIO_REGISTER_MODE_WP
	{ "UFFDIO_REGISTER_MODE_WP", (unsigned long long)(UFFDIO_REGISTER_MODE_WP) },
#endif
#ifdef UFFDIO_REGISTER_MODE_MINOR
	{ "UFFDIO_REGISTER_MODE_MINOR", (unsigned long long)(UFFDIO_REGISTER_MODE_MINOR) },
#endif
#ifdef UFFDIO_COPY_MODE_DONTWAKE
	{ "UFFDIO_COPY_MODE_DONTWAKE", (unsigned long long)(UFFDIO_COPY_MODE_DONTWAKE) },
#endif
#ifdef UFFDIO_COPY_MODE_WP
	{ "UFFDIO_COPY_MODE_WP", (unsigned long long)(UFFDIO_COPY_MODE_WP) },
#endif
#ifdef UFFDIO_ZEROPAGE_MODE_DONTWAKE
	{ "UFFDIO_ZEROPAGE_MODE_DONTWAKE", (unsigned long long)(UFFDIO_ZEROPAGE_MODE_DONTWAKE) },
#endif
#ifdef UFFDIO_WRITEPROTECT_MODE_WP
	{ "UFFDIO_WRITEPROTECT_MODE_WP", (unsigned long long)(UFFDIO_WRITEPROTECT_MODE_WP) },
#endif
#ifdef UFFDIO_WRITEPROTECT_MODE_DONTWAKE
	{ "UFFDIO_WRITEPROTECT_MODE_DONTWAKE", (unsigned long long)(UFFDIO_WRITEPROTECT_MODE_DONTWAKE) },
#endif
#ifdef UFFDIO_CONTINUE_MODE_DONTWAKE
	{ "UFFDIO_CONTINUE_MODE_DONTWAKE", (unsigned long long)(UFFDIO_CONTINUE_MODE_DONTWAKE) },
#endif
#ifdef UFFDIO_CONTINUE_MODE_WP
	{ "UFFDIO_CONTINUE_MODE_WP", (unsigned long long)(UFFDIO_CONTINUE_MODE_WP) },
#endif
#ifdef UFFDIO_POISON_MODE_DONTWAKE
	{ "UFFDIO_POISON_MODE_DONTWAKE", (unsigned long long)(UFFDIO_POISON_MODE_DONTWAKE) },
#endif
#ifdef UFFDIO_MOVE_MODE_DONTWAKE
	{ "UFFDIO_MOVE_MODE_DONTWAKE", (unsigned long long)(UFFDIO_MOVE_MODE_DONTWAKE) },
#endif
#ifdef UFFDIO_MOVE_MODE_ALLOW_SRC_HOLES
	{ "UFFDIO_MOVE_MODE_ALLOW_SRC_HOLES", (unsigned long long)(UFFDIO_MOVE_MODE_ALLOW_SRC_HOLES) },
#endif
#ifdef UFFD_USER_MODE_ONLY
	{ "UFFD_USER_MODE_ONLY", (unsigned long long)(UFFD_USER_MODE_ONLY) },
#endif
#ifdef UFFD_API_REGISTER_MODES
	{ "UFFD_API_REGISTER_MODES", (unsigned long long)(UFFD_API_REGISTER_MODES) },
#endif
#ifdef UFFD_API_FEATURES
	{ "UFFD_API_FEATURES", (unsigned long long)(UFFD_API_FEATURES) },
#endif
#ifdef UFFD_API_IOCTLS
	{ "UFFD_API_IOCTLS", (unsigned long long)(UFFD_API_IOCTLS) },
#endif
#ifdef UFFD_API_RANGE_IOCTLS
	{ "UFFD_API_RANGE_IOCTLS", (unsigned long long)(UFFD_API_RANGE_IOCTLS) },
#endif
#ifdef UFFD_API_RANGE_IOCTLS_BASIC
	{ "UFFD_API_RANGE_IOCTLS_BASIC", (unsigned long long)(UFFD_API_RANGE_IOCTLS_BASIC) },
#endif
};
const int orc_abi_sys_nvalues = sizeof(orc_abi_sys_values) / sizeof(orc_abi_sys_values[0]);

#define ORC_SYS_FIELD(s, f) { #s "." #f, offsetof(struct s, f), \
			      sizeof(((struct s *)0)->f) },
#define ORC_SYS_SIZE(s) { #s, 0, sizeof(struct s) },
const struct orc_abi_field orc_abi_sys_fields[] = {
	ORC_FIELDS(ORC_SYS_FIELD)
	ORC_STRUCTS(ORC_SYS_SIZE)
#ifdef UFFDIO_POISON
	ORC_SYS_SIZE(uffdio_poison)
#endif
#ifdef UFFDIO_MOVE
	ORC_SYS_SIZE(uffdio_move)
	ORC_NEW_FIELDS(ORC_SYS_FIELD)
#endif
};
const int orc_abi_sys_nfields = sizeof(orc_abi_sys_fields) / sizeof(orc_abi_sys_fields[0]);
#ifdef UFFDIO_POISON
const int orc_abi_sys_has_poison = 1;
#else
const int orc_abi_sys_has_poison = 0;
#endif
#ifdef UFFDIO_MOVE
const int orc_abi_sys_has_move = 1;
#else
const int orc_abi_sys_has_move = 0;
#endif
