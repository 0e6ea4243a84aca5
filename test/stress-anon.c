/*
 * The stress engine (test/lib/stress.h) on anon memory: faulting threads,
 * handler threads, and a churner that write-protects pages and cycles
 * chunks through UNREGISTER, dropping pages, REGISTER, all racing; every
 * page checked at the end, no fault lost, none resolved twice.  A few
 * seconds in make test; `make stress DURATION=s` runs it longer.
 */
#include "stress.h"

static void scenario(void)
{
	stress_run(STRESS_ANON, 256, 2);
}
T_MAIN("stress-anon", scenario)
