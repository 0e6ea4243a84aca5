/* SPDX-License-Identifier: MIT */
/* Including <uffd.h> then <linux/userfaultfd.h> compiles, and all of the 6.18 ABI is there. */
#include <uffd.h>
#include <linux/userfaultfd.h>

#include "abi_names.h"

unsigned long orc_abi_order_uffd_first(void)
{
	/* Uses names only the 6.18 ABI has, so a missing one fails the build. */
	return sizeof(struct uffdio_move) + sizeof(struct uffdio_poison) +
	       UFFDIO_MOVE + UFFDIO_POISON + UFFD_FEATURE_MOVE + UFFD_FEATURE_WP_ASYNC +
	       UFFD_FEATURE_WP_UNPOPULATED + UFFD_FEATURE_POISON + UFFDIO_API;
}
