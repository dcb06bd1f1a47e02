/* Namespace creation: the user namespace and the namespaces it owns, the
 * uid/gid maps, and the per-namespace setup that needs no mounts (hostname,
 * loopback).  Linux-only. */
#ifndef SH_USERNS_H
#define SH_USERNS_H

#include <stdbool.h>
#include <sys/types.h>

#include "plan/plan.h"
#include "util/err.h"

/* CLONE_NEWUSER|NEWNS|NEWPID|NEWIPC|NEWUTS|NEWCGROUP, plus NEWNET unless
 * net == SH_NETMODE_FULL (the host network is then shared). */
unsigned long sh_userns_flags(enum sh_net_mode net);

/* fork() into new namespaces: clone3 (clone on ENOSYS) with exit signal
 * SIGCHLD and no new stack.  Returns the child pid in the parent, 0 in the
 * child (which is pid 1 of the new pid namespace), -1 with *e filled (and a
 * hint for the usual "user namespaces are disabled" causes).  No atfork
 * handlers run: the caller must be single-threaded and the child must leave
 * with _exit(). */
pid_t sh_userns_clone(unsigned long flags, struct sh_err *e);

/* From inside the new user namespace, first thing: write "deny" to
 * /proc/self/setgroups (required before an unprivileged gid_map, harmless
 * for root), then map uid -> uid and gid -> gid (one id each: the caller's
 * ids from before the clone, which geteuid() no longer shows; root maps
 * 0 -> 0).  A single map of one's own ids is what the kernel lets an
 * unprivileged process write for itself.  Dumpable only while it writes.
 * Denied (EPERM/EACCES: an LSM left the namespace without capabilities),
 * the error starts with SH_USERNS_FAIL_MSG, so the caller may fall back. */
int sh_userns_map_self(uid_t uid, gid_t gid, struct sh_err *e);

/* Inside the new uts namespace. */
int sh_uts_set_hostname(const char *name, struct sh_err *e);
/* Inside a new network namespace: bring lo up (SIOCSIFFLAGS IFF_UP). */
int sh_netns_lo_up(struct sh_err *e);

/* The message of a failed user-namespace creation (see
 * sh_sandbox_err_is_userns). */
#define SH_USERNS_FAIL_MSG "namespaces: cannot create the user namespace"

#endif
