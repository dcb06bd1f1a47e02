/* EINTR- and short-I/O-safe read/write loops, shared by every layer. */
#ifndef SH_FDIO_H
#define SH_FDIO_H

#include <stddef.h>
#include <sys/types.h>

/* Write all of buf, retrying on EINTR and short writes.  0 or -1 (errno). */
int sh_write_all(int fd, const void *buf, size_t len);

/* Read up to len bytes, retrying on EINTR and short reads until EOF.
 * Returns the byte count (< len only at EOF) or -1 (errno). */
ssize_t sh_read_full(int fd, void *buf, size_t len);

#endif
