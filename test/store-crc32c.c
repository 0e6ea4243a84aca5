/* SPDX-License-Identifier: MIT */
/*
 * The chunk checksum is CRC-32C: the check values of RFC 3720 (iSCSI) and
 * "123456789"; the CPU's crc32 instruction (where used) and the tables agree
 * on every length 0-300 at every alignment 0-7 and on 1 MiB, and a checksum
 * continues across pieces.  Images pushed by either read with the other.
 */
#include "harness.h"
#include "store.h"

static void scenario(void)
{
	unsigned char buf[32], *big = malloc((1 << 20) + 8);
	uint32_t x = 12345;
	int differ = 0;

	T_ASSERT(big);
	T_EXPECT_EQ(store_crc32c(0, "123456789", 9), 0xE3069283u);
	memset(buf, 0, 32);
	T_EXPECT_EQ(store_crc32c(0, buf, 32), 0x8A9136AAu);
	memset(buf, 0xff, 32);
	T_EXPECT_EQ(store_crc32c(0, buf, 32), 0x62A8AB43u);
	for (int i = 0; i < 32; i++)
		buf[i] = (unsigned char)i;
	T_EXPECT_EQ(store_crc32c(0, buf, 32), 0x46DD794Eu);
	for (int i = 0; i < 32; i++)
		buf[i] = (unsigned char)(31 - i);
	T_EXPECT_EQ(store_crc32c(0, buf, 32), 0x113FDB5Cu);
	T_EXPECT_EQ(store_crc32c_table(0, "123456789", 9), 0xE3069283u);
	for (size_t i = 0; i < (1 << 20) + 8; i++) {
		x = x * 1103515245u + 12345;
		big[i] = (unsigned char)(x >> 16);
	}
	for (size_t len = 0; len <= 300; len++)
		for (size_t al = 0; al < 8; al++)
			differ += store_crc32c(7, big + al, len) != store_crc32c_table(7, big + al, len);
	differ += store_crc32c(0, big, 1 << 20) != store_crc32c_table(0, big, 1 << 20);
	uint32_t whole = store_crc32c(0, big, 1000);
	T_EXPECT_EQ(store_crc32c(store_crc32c(0, big, 333), big + 333, 667), whole);
	T_OBS("instruction and tables differ in %d cases", differ);
	T_EXPECT_EQ(differ, 0);
	free(big);
}

T_MAIN("store-crc32c", scenario)
