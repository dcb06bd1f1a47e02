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

/* File descriptors over a unix socket (SCM_RIGHTS), with one data byte. */
#define SH_FDS_MAX 4 /* the most fds one message carries */
/* Send byte with fds[0..n) (n <= SH_FDS_MAX, may be 0); flags are added to
 * MSG_NOSIGNAL.  0 or -1 (errno). */
int sh_send_fds(int sock, char byte, const int *fds, size_t n, int flags);
/* Receive one byte and up to max fds (O_CLOEXEC).  Returns the number of
 * fds, or -1 (errno; 0 at EOF).  Fds beyond max, or a truncated control
 * message, close everything received and fail with EPROTO. */
int sh_recv_fds(int sock, char *byte, int *fds, size_t max, int flags);
/* One fd: sh_send_fd sends it with the byte 'm'; sh_recv_fd returns it, or
 * -1 (errno; 0 at EOF; EBADMSG when the message carried no fd). */
int sh_send_fd(int sock, int fd);
int sh_recv_fd(int sock);

#endif
