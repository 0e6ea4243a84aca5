/* SPDX-License-Identifier: MIT */
/*
 * ioctl(2): a /dev/userfaultfd stand-in answers USERFAULTFD_IOC_NEW; a
 * userfaultfd of either backend goes to uffd_ioctl(); everything else
 * passes through to the C library.
 */
#include <errno.h>

#include "preload.h"

static int real_ioctl(int fd, unsigned long request, void *arg)
{
	if (shim_real.ioctl)
		return shim_real.ioctl(fd, request, arg);
	return sys_ioctl(fd, request, arg);
}

int shim_ioctl(int fd, unsigned long request, void *arg)
{
	if (shim_is_device(fd))
		return shim_device_ioctl(fd, request, arg);
	if (request == shim_pagemap_scan_request() && shim_is_pagemap(fd))
		return shim_pagemap_scan(fd, arg, real_ioctl);
	if (shim_backend != UFFD_BACKEND_KERNEL &&
	    (uffd_user_hinted(fd) || _IOC_TYPE(request) == UFFDIO))
		return uffd_ioctl(fd, request, arg);
	return real_ioctl(fd, request, arg);
}

SHIM_EXPORT int ioctl(int fd, unsigned long request, ...)
{
	va_list ap;
	va_start(ap, request);
	void *arg = va_arg(ap, void *);
	va_end(ap);
	return shim_ioctl(fd, request, arg);
}
