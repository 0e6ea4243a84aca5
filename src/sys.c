/* SPDX-License-Identifier: MIT */
/*
 * The signal return trampoline for handlers that libuffd installs itself
 * (sys_sigaction in sys.h).  On x86_64 the kernel returns from a handler to
 * sa_restorer, which the C library normally supplies; libuffd installs its
 * handler past the C library, so it supplies its own, as musl does.
 */
#include "sys.h"

#if defined(__x86_64__)
__asm__(".text\n"
	".globl uffd_sys_restore_rt\n"
	".hidden uffd_sys_restore_rt\n"
	".type uffd_sys_restore_rt,@function\n"
	".p2align 4\n"
	"uffd_sys_restore_rt:\n"
	"\tmovq $15, %rax\n"      /* __NR_rt_sigreturn */
	"\tsyscall\n"
	".size uffd_sys_restore_rt, .-uffd_sys_restore_rt\n");
#else
void uffd_sys_restore_rt(void)
{
}
#endif
