/* SPDX-License-Identifier: MIT */
/* Every name of the userfaultfd ABI (Linux 6.18), for test/abi-vs-system.c. */
#ifndef LIBUFFD_TEST_ABI_NAMES_H
#define LIBUFFD_TEST_ABI_NAMES_H
/* X(name) for each name */
#define ORC_NAMES(X) \
	X(USERFAULTFD_IOC) \
	X(USERFAULTFD_IOC_NEW) \
	X(UFFD_API) \
	X(_UFFDIO_REGISTER) \
	X(_UFFDIO_UNREGISTER) \
	X(_UFFDIO_WAKE) \
	X(_UFFDIO_COPY) \
	X(_UFFDIO_ZEROPAGE) \
	X(_UFFDIO_MOVE) \
	X(_UFFDIO_WRITEPROTECT) \
	X(_UFFDIO_CONTINUE) \
	X(_UFFDIO_POISON) \
	X(_UFFDIO_API) \
	X(UFFDIO) \
	X(UFFDIO_API) \
	X(UFFDIO_REGISTER) \
	X(UFFDIO_UNREGISTER) \
	X(UFFDIO_WAKE) \
	X(UFFDIO_COPY) \
	X(UFFDIO_ZEROPAGE) \
	X(UFFDIO_MOVE) \
	X(UFFDIO_WRITEPROTECT) \
	X(UFFDIO_CONTINUE) \
	X(UFFDIO_POISON) \
	X(UFFD_EVENT_PAGEFAULT) \
	X(UFFD_EVENT_FORK) \
	X(UFFD_EVENT_REMAP) \
	X(UFFD_EVENT_REMOVE) \
	X(UFFD_EVENT_UNMAP) \
	X(UFFD_PAGEFAULT_FLAG_WRITE) \
	X(UFFD_PAGEFAULT_FLAG_WP) \
	X(UFFD_PAGEFAULT_FLAG_MINOR) \
	X(UFFD_FEATURE_PAGEFAULT_FLAG_WP) \
	X(UFFD_FEATURE_EVENT_FORK) \
	X(UFFD_FEATURE_EVENT_REMAP) \
	X(UFFD_FEATURE_EVENT_REMOVE) \
	X(UFFD_FEATURE_MISSING_HUGETLBFS) \
	X(UFFD_FEATURE_MISSING_SHMEM) \
	X(UFFD_FEATURE_EVENT_UNMAP) \
	X(UFFD_FEATURE_SIGBUS) \
	X(UFFD_FEATURE_THREAD_ID) \
	X(UFFD_FEATURE_MINOR_HUGETLBFS) \
	X(UFFD_FEATURE_MINOR_SHMEM) \
	X(UFFD_FEATURE_EXACT_ADDRESS) \
	X(UFFD_FEATURE_WP_HUGETLBFS_SHMEM) \
	X(UFFD_FEATURE_WP_UNPOPULATED) \
	X(UFFD_FEATURE_POISON) \
	X(UFFD_FEATURE_WP_ASYNC) \
	X(UFFD_FEATURE_MOVE) \
	X(UFFDIO_REGISTER_MODE_MISSING) \
	X(UFFDIO_REGISTER_MODE_WP) \
	X(UFFDIO_REGISTER_MODE_MINOR) \
	X(UFFDIO_COPY_MODE_DONTWAKE) \
	X(UFFDIO_COPY_MODE_WP) \
	X(UFFDIO_ZEROPAGE_MODE_DONTWAKE) \
	X(UFFDIO_WRITEPROTECT_MODE_WP) \
	X(UFFDIO_WRITEPROTECT_MODE_DONTWAKE) \
	X(UFFDIO_CONTINUE_MODE_DONTWAKE) \
	X(UFFDIO_CONTINUE_MODE_WP) \
	X(UFFDIO_POISON_MODE_DONTWAKE) \
	X(UFFDIO_MOVE_MODE_DONTWAKE) \
	X(UFFDIO_MOVE_MODE_ALLOW_SRC_HOLES) \
	X(UFFD_USER_MODE_ONLY) \
	X(UFFD_API_REGISTER_MODES) \
	X(UFFD_API_FEATURES) \
	X(UFFD_API_IOCTLS) \
	X(UFFD_API_RANGE_IOCTLS) \
	X(UFFD_API_RANGE_IOCTLS_BASIC) \
/* Aggregate masks: an older system header legitimately has fewer bits. */
#define ORC_IS_AGGREGATE(name) (!__builtin_strncmp(name, "UFFD_API_", 9) && \
				__builtin_strcmp(name, "UFFD_API_IOCTLS"))

/* Struct fields: X(struct, field) */
#define ORC_FIELDS(X) \
	X(uffd_msg, event) X(uffd_msg, reserved1) X(uffd_msg, reserved2) \
	X(uffd_msg, reserved3) X(uffd_msg, arg) X(uffd_msg, arg.pagefault.flags) \
	X(uffd_msg, arg.pagefault.address) X(uffd_msg, arg.pagefault.feat.ptid) \
	X(uffd_msg, arg.fork.ufd) X(uffd_msg, arg.remap.from) X(uffd_msg, arg.remap.to) \
	X(uffd_msg, arg.remap.len) X(uffd_msg, arg.remove.start) \
	X(uffd_msg, arg.remove.end) X(uffd_msg, arg.reserved.reserved3) \
	X(uffdio_api, api) X(uffdio_api, features) X(uffdio_api, ioctls) \
	X(uffdio_range, start) X(uffdio_range, len) \
	X(uffdio_register, range) X(uffdio_register, mode) X(uffdio_register, ioctls) \
	X(uffdio_copy, dst) X(uffdio_copy, src) X(uffdio_copy, len) \
	X(uffdio_copy, mode) X(uffdio_copy, copy) \
	X(uffdio_zeropage, range) X(uffdio_zeropage, mode) X(uffdio_zeropage, zeropage) \
	X(uffdio_writeprotect, range) X(uffdio_writeprotect, mode) \
	X(uffdio_continue, range) X(uffdio_continue, mode) X(uffdio_continue, mapped)
/* Structs newer than some system headers (checked when the header has them). */
#define ORC_NEW_FIELDS(X) \
	X(uffdio_poison, range) X(uffdio_poison, mode) X(uffdio_poison, updated) \
	X(uffdio_move, dst) X(uffdio_move, src) X(uffdio_move, len) \
	X(uffdio_move, mode) X(uffdio_move, move)
#define ORC_STRUCTS(X) X(uffd_msg) X(uffdio_api) X(uffdio_range) X(uffdio_register) \
	X(uffdio_copy) X(uffdio_zeropage) X(uffdio_writeprotect) X(uffdio_continue)

struct orc_abi_value { const char *name; unsigned long long value; };
struct orc_abi_field { const char *name; unsigned long offset, size; };

/* From abi_system_values.c: the system header's view. */
extern const struct orc_abi_value orc_abi_sys_values[];
extern const int orc_abi_sys_nvalues;
extern const struct orc_abi_field orc_abi_sys_fields[];
extern const int orc_abi_sys_nfields;
extern const int orc_abi_sys_has_poison, orc_abi_sys_has_move;
/* From abi_order_*.c: both headers included, in either order. */
unsigned long orc_abi_order_uffd_first(void);
unsigned long orc_abi_order_system_first(void);
#endif
