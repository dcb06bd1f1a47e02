/* The creation supervisor: file creations of the sandbox performed by init on
 * its behalf, so that denied paths that do not exist on the host cannot be
 * created (threats.md LAUNCH-03, FS-09).  Linux-only.  Design in supervise.c. */
#ifndef SH_SUPERVISE_H
#define SH_SUPERVISE_H

#include <stdbool.h>
#include <stddef.h>

#include "plan/plan.h"
#include "util/err.h"

/* Init side, before forking the command (after the mount view exists and its
 * capabilities are dropped): no_new_privs and a Landlock ruleset with the
 * plan's filesystem rules, so that what init does on the command's behalf is
 * checked like the command's own calls.  Its domain is the parent of the
 * command's (which init's access to /proc/PID/mem requires). */
int sh_supervise_confine(const struct sh_plan *p, int min_abi, struct sh_err *e);

/* The calls the supervisor answers: always (flags_arg -1), or when their
 * flags argument (index flags_arg) has O_CREAT.  The command's seccomp
 * filter sends them to the listener (enforce/seccomp.c). */
struct sh_supervise_call {
	int nr;
	int flags_arg;
};
size_t sh_supervise_calls(const struct sh_supervise_call **calls);

/* Command side, once its filter is loaded: send the listener to init over
 * sock (SCM_RIGHTS) and close it. */
int sh_supervise_handover(int sock, int listener, struct sh_err *e);

struct sh_supervisor;

/* Init side: protect[] are absolute paths inside the view (copied, and
 * resolved now: the slow part, done while the command sets itself up).
 * NULL when out of memory or the kernel lacks notifications. */
struct sh_supervisor *sh_supervisor_new(char *const *protect, size_t n);
/* Then the command's listener, received from it: s takes ownership (closed
 * by sh_supervisor_free).  True when the kernel (6.6+) took the
 * synchronous wake-up mode for it (a matter of speed only). */
bool sh_supervisor_listen(struct sh_supervisor *s, int listener);
void sh_supervisor_free(struct sh_supervisor *s);
/* The fd to poll for POLLIN (POLLHUP: nothing is filtered any more). */
int sh_supervisor_fd(const struct sh_supervisor *s);
/* Receive and answer one notification.  0, or -1 when the listener is
 * unusable (the caller stops polling it). */
int sh_supervisor_handle(struct sh_supervisor *s);
/* poll() timeout while opens of FIFOs without a reader wait (ms), else -1. */
int sh_supervisor_timeout(const struct sh_supervisor *s);
/* Retry the waiting FIFO opens (call after every poll()). */
void sh_supervisor_tick(struct sh_supervisor *s);

/* Pure, for tests: is creating canonical path `path` refused?  It is when path
 * equals a protected path or lies below one, and (ancestors) when a protected
 * path lies below it (a symlink or a renamed tree there would carry content
 * onto the protected name).  ASCII case is ignored (case-folding filesystems;
 * over-refusing a name that differs only in case is harmless). */
bool sh_supervise_refused(char *const *protect, size_t n, const char *path, bool ancestors);

#endif
