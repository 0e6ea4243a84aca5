/* SPDX-License-Identifier: MIT */
/*
 * ioctl(2) on a user-backend userfaultfd: copying the argument in and out
 * with the kernel's EFAULT semantics, UFFDIO_API, and the dispatch.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>
#include <setjmp.h>
#include <sys/ioctl.h>
#include <linux/fs.h>
#include <linux/fiemap.h>

#include "user.h"

/* Copy between the caller's memory and ours, failing with EFAULT as
 * copy_from_user()/copy_to_user() would, even from a signal handler: a fault
 * during the copy lands in the SIGSEGV handler, which jumps back here (the
 * kernel's exception tables, in user space; no system call on the way). */
__attribute__((no_sanitize("address", "thread", "undefined"), noinline))
static void copy_bytes(volatile char *to, const volatile char *from, size_t len)
{
#if defined(__x86_64__)
	/* A string move: a page in ~0.1 us where the byte loop took ~2 us
	 * (a remote UFFDIO_COPY reads its whole source through here). */
	__asm__ __volatile__("rep movsb" : "+D"(to), "+S"(from), "+c"(len) : : "memory");
#else
	size_t i = 0;
	if (!(((uintptr_t)to | (uintptr_t)from) & 7))
		for (; i + 8 <= len; i += 8)
			*(volatile uint64_t *)(to + i) = *(const volatile uint64_t *)(from + i);
	for (; i < len; i++)
		to[i] = from[i];
#endif
}

int u_guarded_copy(void *to, const void *from, size_t len)
{
	sigjmp_buf jb;

	if (sigsetjmp(jb, 0)) {
		u_fixup = NULL;
		return -EFAULT;
	}
	u_fixup = &jb;
	atomic_signal_fence(memory_order_seq_cst);
	copy_bytes(to, from, len);
	atomic_signal_fence(memory_order_seq_cst);
	u_fixup = NULL;
	return 0;
}

static int copy_in(void *to, const void *from, size_t len)
{
	return u_guarded_copy(to, from, len);
}

static int copy_out(void *to, const void *from, size_t len)
{
	return u_guarded_copy(to, from, len);
}

int u_validate_range(uint64_t start, uint64_t len, bool aligned_start)
{
#if defined(__x86_64__)
	const uint64_t task_size = (1ULL << 47) - (uint64_t)u_page;
#else
	const uint64_t task_size = 1ULL << 48;
#endif
	if (aligned_start && (start & (u_page - 1)))
		return -EINVAL;
	if (len & (u_page - 1) || !len)
		return -EINVAL;
	if (start >= task_size || len > task_size - start)
		return -EINVAL;
	if (start + len <= start)
		return -EINVAL;
	return 0;
}

static int api(struct u_ctx *ctx, struct uffdio_api *arg)
{
	struct uffdio_api a;
	int ret;

	if (copy_in(&a, arg, sizeof(a)))
		return -EFAULT;
	uint64_t features = a.features;
	ret = -EINVAL;
	if (a.api != UFFD_API)
		goto err;
	ret = -EPERM;
	if ((features & UFFD_FEATURE_EVENT_FORK) && geteuid() != 0)
		goto err;
	if (features & UFFD_FEATURE_WP_ASYNC)
		features |= UFFD_FEATURE_WP_UNPOPULATED;
	a.features = U_FEATURES | (atomic_load(&u_events_seen) ? U_EVENT_FEATURES : 0);
	ret = -EINVAL;
	if (features & ~a.features)
		goto err;
	a.ioctls = UFFD_API_IOCTLS;
	if (copy_out(arg, &a, sizeof(a)))
		return -EFAULT;
	/* Only once per fd. */
	int expected = 0;
	if (atomic_exchange(&ctx->api_busy, 1) != expected ||
	    atomic_load(&ctx->state) != U_CTX_OPEN)
		goto err;
	ctx->features = features;
	/* Not over a release that claimed the context meanwhile (ctx.c). */
	int open_state = U_CTX_OPEN;
	if (!atomic_compare_exchange_strong(&ctx->state, &open_state, U_CTX_READY))
		goto err;
	return 0;
err:
	memset(&a, 0, sizeof(a));
	if (copy_out(arg, &a, sizeof(a)))
		return -EFAULT;
	return ret;
}

/* The ioctls whose argument ends with an output field: copy in all but it,
 * run, write the field back if the operation got as far as setting it. */
#define WITH_RESULT(type, field, fn)                                          \
	do {                                                                  \
		type a;                                                       \
		if (copy_in(&a, arg, offsetof(type, field)))                  \
			return -EFAULT;                                       \
		int64_t result = U_NO_RESULT;                                 \
		ret = fn(ctx, &a, &result);                                   \
		if (result != U_NO_RESULT &&                                  \
		    copy_out((char *)arg + offsetof(type, field), &result,   \
			     sizeof(result)))                                 \
			return -EFAULT;                                       \
		return ret;                                                   \
	} while (0)

static int dispatch(struct u_ctx *ctx, unsigned long request, void *arg)
{
	int ret;

	if (request == UFFDIO_API)
		return api(ctx, arg);
	if (atomic_load(&ctx->state) != U_CTX_READY)
		return -EINVAL;
	switch (request) {
	case UFFDIO_REGISTER: {
		struct uffdio_register a;
		if (copy_in(&a, arg, offsetof(struct uffdio_register, ioctls)))
			return -EFAULT;
		ret = u_register(ctx, &a);
		if (!ret && copy_out(&((struct uffdio_register *)arg)->ioctls,
				     &a.ioctls, sizeof(a.ioctls)))
			return -EFAULT;
		return ret;
	}
	case UFFDIO_UNREGISTER: {
		struct uffdio_range a;
		if (copy_in(&a, arg, sizeof(a)))
			return -EFAULT;
		return u_unregister(ctx, &a);
	}
	case UFFDIO_WAKE: {
		struct uffdio_range a;
		if (copy_in(&a, arg, sizeof(a)))
			return -EFAULT;
		return u_wake_ioctl(ctx, &a);
	}
	case UFFDIO_WRITEPROTECT: {
		struct uffdio_writeprotect a;
		if (copy_in(&a, arg, sizeof(a)))
			return -EFAULT;
		return u_writeprotect(ctx, &a);
	}
	case UFFDIO_COPY:
		WITH_RESULT(struct uffdio_copy, copy, u_copy);
	case UFFDIO_ZEROPAGE:
		WITH_RESULT(struct uffdio_zeropage, zeropage, u_zeropage);
	case UFFDIO_CONTINUE:
		WITH_RESULT(struct uffdio_continue, mapped, u_continue);
	case UFFDIO_POISON:
		WITH_RESULT(struct uffdio_poison, updated, u_poison);
	case UFFDIO_MOVE:
		WITH_RESULT(struct uffdio_move, move, u_move);
	}
	return -EINVAL;
}

/* The requests the kernel's VFS answers itself (do_vfs_ioctl), before a
 * userfaultfd sees them: on a pipe they behave as on the anonymous inode of
 * a kernel userfaultfd, so the pipe answers.  FIONREAD is not among them: a
 * pipe answers it, a userfaultfd fails it with EINVAL. */
static bool vfs_generic(unsigned long request)
{
	switch (request) {
	case FIOCLEX: case FIONCLEX: case FIONBIO: case FIOQSIZE:
	case FIFREEZE: case FITHAW: case FS_IOC_FIEMAP: case FIGETBSZ:
	case FICLONE: case FICLONERANGE: case FIDEDUPERANGE:
		return true;
	}
	return false;
}

/* FIOASYNC on a file without fasync (a userfaultfd): ENOTTY when it would
 * change the O_ASYNC flag, else nothing (a pipe has fasync: not asked). */
static int fioasync(int fd, void *arg)
{
	int on;

	if (copy_in(&on, arg, sizeof(on)))
		return -EFAULT;
	int fl = sys_fcntl(fd, F_GETFL, 0);
	if (fl < 0)
		return -errno;
	return !on != !(fl & O_ASYNC) ? -ENOTTY : 0;
}

static int user_ioctl(int fd, unsigned long request, void *arg)
{
	struct u_ctx *ctx = u_ctx_of_fd(fd);

	if (!ctx)
		return -ENOTTY;
	if (vfs_generic(request))
		return sys_ioctl(fd, request, arg) < 0 ? -errno : 0;
	if (request == FIOASYNC)
		return fioasync(fd, arg);
	return u_ctx_ioctl(ctx, request, arg);
}

int u_ctx_ioctl(struct u_ctx *ctx, unsigned long request, void *arg)
{
	u_trap_change_begin();
	int ret = dispatch(ctx, request, arg);
	u_trap_change_end();
	return ret;
}

static int user_owns(int fd)
{
	return u_ctx_of_fd(fd) != NULL;
}

const struct uffd_ops uffd_user_ops = {
	.name = "user",
	.backend = UFFD_BACKEND_USER,
	.owns = user_owns,
	.ioctl = user_ioctl,
};
