/*
 * The stress engine (test/lib/stress.h) on hugetlb memory: faulting threads,
 * handler threads, and a churner that write-protects pages and cycles
 * chunks through UNREGISTER, dropping pages, REGISTER, all racing; every
 * page checked at the end, no fault lost, none resolved twice.  A few
 * seconds in make test; `make stress DURATION=s` runs it longer.
 */
#include "stress.h"

static void scenario(void)
{
	stress_run(STRESS_HUGETLB, 8, 2);
}
T_MAIN("stress-hugetlb", scenario)
