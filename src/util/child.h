/* The launcher's helper processes (the network proxy, the publish
 * forwarder): each runs until its stop pipe gets a byte or EOF. */
#ifndef SH_UTIL_CHILD_H
#define SH_UTIL_CHILD_H

#include <sys/types.h>

/* Fork a helper.  In the child: it dies with the caller (SIGTERM), is not
 * dumpable, is named `name`, ignores the terminal's signals and SIGPIPE (the
 * caller stops it through the pipe), has SIGTERM and SIGCHLD at their
 * defaults and no signal blocked; *stop_r is the pipe's read end.  In the
 * caller: *stop_w is the write end.  Returns 0 in the child, the child's pid
 * in the caller, -1 with errno (nothing left open) on failure.  The caller
 * must be single-threaded. */
pid_t sh_helper_fork(const char *name, int *stop_r, int *stop_w);

/* Tell the helper to stop (one byte, then close the pipe) and reap it.
 * Either may be -1 already; both are -1 afterwards. */
void sh_helper_stop(pid_t *pid, int *stop_w);

#endif
