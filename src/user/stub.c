/* placeholder replaced by the user backend */
#include <errno.h>
#include "../internal.h"
int uffd_user_open(int flags) { (void)flags; uffd_set_why("user backend not built yet"); errno = ENOSYS; return -1; }
int uffd_user_owns(int fd) { (void)fd; return 0; }
int uffd_user_ioctl(int fd, unsigned long r, void *a) { (void)fd; (void)r; (void)a; errno = ENOTTY; return -1; }
