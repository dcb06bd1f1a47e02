/* Process hardening for the launcher and for the pre-exec child, plus the fd
 * hygiene helpers the enforcement code shares.  Linux-only.
 *
 * Every function follows util/err.h: 0 on success, -1 after filling *e
 * (exit_code SH_EXIT_SETUP, message "step: what failed"). */
#ifndef SH_HARDEN_H
#define SH_HARDEN_H

#include <stddef.h>
#include <unistd.h>

#include "util/err.h"
#include "util/fdio.h"

/* Launcher self-protection, before anything else: PR_SET_DUMPABLE 0 (no
 * same-uid ptrace or /proc/PID/mem of the launcher and, inherited, of the
 * sandbox's init) and RLIMIT_CORE 0 (no core file with the plan or the
 * environment in it).  Irreversible for the calling process. */
int sh_harden_self(struct sh_err *e);

/* Drop every capability: bounding set (when we hold CAP_SETPCAP, i.e. as
 * root or inside our user namespace), ambient set, then capset(0).  Reads
 * the sets back.  Idempotent.  Without CAP_SETPCAP the bounding set cannot be
 * dropped; that is only accepted for a non-root uid (no_new_privs then
 * keeps exec from granting anything). */
int sh_drop_caps(struct sh_err *e);

/* PR_SET_NO_NEW_PRIVS, verified with PR_GET_NO_NEW_PRIVS. */
int sh_set_no_new_privs(struct sh_err *e);

/* Close every fd except those in keep[] (fds may be in any order, -1
 * entries are ignored).  Uses close_range(2). */
int sh_close_fds_except(const int *keep, size_t nkeep, struct sh_err *e);

/* Mark every fd >= from close-on-exec: close_range(from, ~0U,
 * CLOSE_RANGE_CLOEXEC), with an fcntl loop on kernels before 5.11.  Used
 * right before execve so that the O_CLOEXEC status pipe stays usable until
 * the exec itself. */
int sh_cloexec_from(int from, struct sh_err *e);

/* Number of threads of the calling process (/proc/self/task), or -1 if
 * unknown.  The launcher refuses to clone() from a multi-threaded process:
 * the raw clone skips glibc's fork handlers, so another thread holding the
 * malloc lock at that instant would deadlock the child. */
int sh_thread_count(void);

/* sh_write_all / sh_read_full live in util/fdio.h. */

/* Cleanup helper for locals: int fd __attribute__((cleanup(sh_closep))) = -1; */
static inline void sh_closep(int *fd)
{
	if (*fd >= 0)
		(void)close(*fd); /* never retried: the fd is gone either way */
	*fd = -1;
}
#define SH_AUTOCLOSE __attribute__((cleanup(sh_closep)))
static inline int sh_take_fd(int *fd)
{
	int r = *fd;
	*fd = -1;
	return r;
}

#endif
