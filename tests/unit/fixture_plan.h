/* Shared by the enforcement tests that build plans by hand. */
#ifndef SH_FIXTURE_PLAN_H
#define SH_FIXTURE_PLAN_H

#include "plan/plan.h"

/* /bin, /lib, ...: a symlink entry when the host has a symlink (merged
 * /usr), a read-only bind (with a read+exec Landlock rule) otherwise. */
void t_plan_add_root_entry(struct sh_plan *p, const char *path);

/* An agent-like base view: /usr read-only, the merged-/usr root entries,
 * fresh /proc and /dev, private /tmp, "/" readable; userns mode, net mode
 * as given. */
void t_plan_base_view(struct sh_plan *p, enum sh_net_mode net);

#endif
