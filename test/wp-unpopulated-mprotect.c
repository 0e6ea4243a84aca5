/* wp-unpopulated.c with the user backend's mprotect traps (forced with
 * UFFD_USER_TRAP=mprotect; what kernels without guard markers get): a
 * trap there is PROT_NONE, which write protection must leave in place. */
#define WPU_TRAP "mprotect"
#define WPU_NAME "wp-unpopulated-mprotect"
#include "wp-unpopulated.c"
