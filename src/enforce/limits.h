/* Resource limits for the session: --max-procs and --max-memory.
 *
 * Mechanism, best first:
 *   cgroup v2 -- a child of our own cgroup when it is delegated to us
 *                (controllers enabled in its subtree_control, writable);
 *   cgroup v1 -- a child in the pids/memory hierarchies (root);
 *   rlimits   -- RLIMIT_NPROC (per uid: it counts all of the user's
 *                processes) and RLIMIT_AS (address space, not RSS).
 * RLIMIT_NPROC does not apply to uid 0, so root without cgroups cannot
 * enforce --max-procs: that is refused (fail closed).  Linux-only. */
#ifndef SH_LIMITS_H
#define SH_LIMITS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/err.h"

enum sh_limits_kind { SH_LIMITS_NONE = 0, SH_LIMITS_CGROUP2, SH_LIMITS_CGROUP1, SH_LIMITS_RLIMIT };

struct sh_limits {
	long max_procs;        /* 0: no limit */
	uint64_t max_memory;   /* bytes; 0: no limit */
	enum sh_limits_kind kind;
	char *dirs[2];         /* cgroup directories created (v2: one; v1: pids, memory) */
};

/* Choose the mechanism and create the cgroup(s).  Nothing to do (0) when no
 * limit is asked.  Call before the sandbox is started. */
int sh_limits_prepare(struct sh_limits *l, struct sh_err *e);

/* Put pid (the sandbox's first process, before it runs anything) into the
 * cgroup(s).  No-op for rlimits. */
int sh_limits_attach(const struct sh_limits *l, pid_t pid, struct sh_err *e);

/* In the child, before exec: set the rlimits when that is the mechanism. */
int sh_limits_apply_rlimits(const struct sh_limits *l, struct sh_err *e);

/* After the session: remove the cgroup(s) (killing anything left). */
void sh_limits_cleanup(struct sh_limits *l);

/* "cgroup v1 (pids.max=256)" etc., for --explain and messages. */
const char *sh_limits_kind_name(enum sh_limits_kind k);

#endif
