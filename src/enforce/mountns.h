/* Building the sandbox's filesystem view in a fresh mount namespace.
 * Linux-only.
 *
 * Runs in the sandbox's init (pid 1 of the new pid namespace, holding
 * CAP_SYS_ADMIN in the new user namespace) before anything of the command
 * runs.  Nothing is ever created, changed or mounted on the host: all work
 * happens in the private mount namespace, and directories/files needed as
 * mount points are only created inside tmpfs instances made here. */
#ifndef SH_MOUNTNS_H
#define SH_MOUNTNS_H

#include <stdbool.h>
#include <stddef.h>

#include "plan/plan.h"
#include "util/err.h"

/* Make / recursively private, create the new root (a small tmpfs stacked on
 * the old root), apply mounts[0..n) in order, make the skeleton read-only,
 * pivot_root into it and detach the old root.  On return the process's
 * root and cwd are the new root.
 *
 * Path safety (threats.md LAUNCH-01): bind sources are resolved component by
 * component with openat2(RESOLVE_NO_SYMLINKS|RESOLVE_NO_MAGICLINKS); targets
 * likewise beneath the new root.  The plan holds canonical paths, so any
 * symlink met is an attack or a race and fails the launch:
 *   "mount: refusing to mount 'P': a path component is a symlink ('C')".
 * A target that must be created inside a host bind is a plan error:
 *   "mount: cannot mount on 'P': 'C' does not exist on the host (refusing to
 *    create it there)".
 * Mounts are cloned and attached by fd (open_tree + mount_setattr +
 * move_mount); the classic mount(2) by /proc/self/fd/N is used only when the
 * new API returns ENOSYS.
 *
 * Pinning: a bind mount point cannot be renamed or removed (EBUSY), which is
 * what keeps a carve-out in place inside a writable bind.  Because binds are
 * cloned from the HOST path, a later bind of an ancestor covers everything
 * mounted below it before: plans must list ancestors (pins) before their
 * children. */
int sh_mountns_build(const struct sh_mount *mounts, size_t n, struct sh_err *e);

/* sh_mountns_build() in two parts, so that the part no plan changes can be
 * done before the plan exists: begin makes / private and the new root, and
 * with dev_proc its /dev and /proc too (the plan's entries for exactly those
 * are then skipped; early ones the plan has no entry for are detached and
 * their directories removed, and after a mount onto "/" they are out of
 * reach with the rest of the skeleton); finish
 * applies the plan and enters the view, and frees m either way.  The caller's umask is
 * 0 in between.  begin returns NULL with *e filled on failure. */
struct sh_mountns;
struct sh_mountns *sh_mountns_begin(bool dev_proc, struct sh_err *e);
int sh_mountns_finish(struct sh_mountns *m, const struct sh_mount *mounts, size_t n,
		      struct sh_err *e);
void sh_mountns_free(struct sh_mountns *m);

/* Tests only: pretend open_tree, mount_setattr and openat2 returned ENOSYS,
 * to exercise the classic bind/remount and O_NOFOLLOW fallbacks.  (fsopen
 * keeps working: the new root itself needs it.) */
void sh_mountns_force_legacy(bool on);

#endif
