/*
 * libuffd's ABI header against the system's <linux/userfaultfd.h>, compiled
 * in separate translation units (test/lib/abi_system_values.c sees only the
 * system header): every name both define has the same value (the aggregate
 * UFFD_API_* masks of an older header must be subsets of ours), every
 * struct both define has the same size and field offsets/sizes, and
 * including the two headers in either order compiles
 * (test/lib/abi_order_*.c) with the whole 6.18 ABI visible.
 * No userfaultfd is opened: both halves check the same thing.
 */
#include <stddef.h>
#include "harness.h"
#include "abi_names.h"

#define OUR_VALUE(n) { #n, (unsigned long long)(n) },
static const struct orc_abi_value ours[] = { ORC_NAMES(OUR_VALUE) };

#define OUR_FIELD(s, f) { #s "." #f, offsetof(struct s, f), sizeof(((struct s *)0)->f) },
#define OUR_SIZE(s) { #s, 0, sizeof(struct s) },
static const struct orc_abi_field our_fields[] = {
	ORC_FIELDS(OUR_FIELD) ORC_STRUCTS(OUR_SIZE) OUR_SIZE(uffdio_poison)
	OUR_SIZE(uffdio_move) ORC_NEW_FIELDS(OUR_FIELD)
};

static const struct orc_abi_value *find_ours(const char *name)
{
	for (size_t i = 0; i < sizeof(ours) / sizeof(ours[0]); i++)
		if (!strcmp(ours[i].name, name))
			return &ours[i];
	return NULL;
}

static void scenario(void)
{
	int same = 0, aggregates = 0;

	for (int i = 0; i < orc_abi_sys_nvalues; i++) {
		const struct orc_abi_value *sys = &orc_abi_sys_values[i];
		const struct orc_abi_value *our = find_ours(sys->name);
		if (!our) {
			t_fail_at(__FILE__, __LINE__, "%s: not in the name list", sys->name);
			continue;
		}
		if (ORC_IS_AGGREGATE(sys->name)) {
			aggregates++;
			if ((sys->value & ~our->value) != 0)
				t_fail_at(__FILE__, __LINE__, "%s: system 0x%llx has bits ours 0x%llx lacks",
					  sys->name, sys->value, our->value);
			continue;
		}
		if (sys->value != our->value)
			t_fail_at(__FILE__, __LINE__, "%s: system 0x%llx, libuffd 0x%llx",
				  sys->name, sys->value, our->value);
		else
			same++;
	}
	T_OBS("names compared: all equal %d", same + aggregates == orc_abi_sys_nvalues);
	T_EXPECT(same >= 50);   /* even a 4.11 header defines this many */

	int fields = 0;
	for (int i = 0; i < orc_abi_sys_nfields; i++) {
		const struct orc_abi_field *sys = &orc_abi_sys_fields[i];
		const struct orc_abi_field *our = NULL;
		for (size_t j = 0; j < sizeof(our_fields) / sizeof(our_fields[0]); j++)
			if (!strcmp(our_fields[j].name, sys->name))
				our = &our_fields[j];
		if (!our) {
			t_fail_at(__FILE__, __LINE__, "%s: not in our layout list", sys->name);
			continue;
		}
		if (our->offset != sys->offset || our->size != sys->size)
			t_fail_at(__FILE__, __LINE__, "%s: system offset %lu size %lu, libuffd %lu %lu",
				  sys->name, sys->offset, sys->size, our->offset, our->size);
		else
			fields++;
	}
	T_OBS("layouts compared: all equal %d", fields == orc_abi_sys_nfields);
	T_EXPECT(fields >= 40);

	/* Both include orders compile and see the same ABI. */
	unsigned long a = orc_abi_order_uffd_first(), b = orc_abi_order_system_first();
	T_OBS("include orders agree: %d", a == b);
	T_EXPECT_EQ(a, b);
	T_EXPECT_EQ(a, sizeof(struct uffdio_move) + sizeof(struct uffdio_poison) +
		       UFFDIO_MOVE + UFFDIO_POISON + UFFD_FEATURE_MOVE + UFFD_FEATURE_WP_ASYNC +
		       UFFD_FEATURE_WP_UNPOPULATED + UFFD_FEATURE_POISON + UFFDIO_API);
}
T_MAIN("abi-vs-system", scenario)
