/* Host feature probing, for `safehouse doctor` and for the CLI's choice of
 * fallback mode (reference.md section 4, style.md P8).  Linux-only.
 *
 * Every probe really tries the feature (in a throw-away child where it is
 * irreversible) rather than trusting version numbers, and explains a
 * failure with the cause it can identify and a fix. */
#ifndef SH_HOSTCHECK_H
#define SH_HOSTCHECK_H

#include <stdbool.h>
#include <stddef.h>

enum sh_check_status {
	SH_CHECK_OK,
	SH_CHECK_WARN, /* works, but weaker than it could be */
	SH_CHECK_FAIL, /* not available */
};

struct sh_check {
	const char *name;            /* "user namespaces", "landlock", ... */
	enum sh_check_status status;
	char detail[256];            /* what was found ("ABI 7", "EPERM from unshare") */
	char hint[512];              /* how to fix it, empty if nothing to do */
};

/* Unprivileged user namespaces usable for our purpose: a forked child
 * unshares user+mount+pid+net+ipc+uts namespaces, writes its id maps and
 * mounts a tmpfs.  On failure the detail names the failing step and the
 * hint the likely cause: kernel.unprivileged_userns_clone=0,
 * user.max_user_namespaces=0, AppArmor's
 * kernel.apparmor_restrict_unprivileged_userns=1 (Ubuntu 24.04), or a
 * container's seccomp profile. */
bool sh_hostcheck_userns(struct sh_check *c);
/* Landlock ABI (>= 6 for OK: signal and abstract-socket scoping). *abi is
 * set to the ABI or -1. */
bool sh_hostcheck_landlock(struct sh_check *c, int *abi);
/* seccomp filters can be loaded (tried in a child). */
bool sh_hostcheck_seccomp(struct sh_check *c);
/* Kernel release and the features it implies (mount API 5.2, openat2 5.6,
 * mount_setattr 5.12, Landlock 5.13). */
bool sh_hostcheck_kernel(struct sh_check *c, int *major, int *minor);
/* dev.tty.legacy_tiocsti: 1 (or absent, before 6.2) means TIOCSTI works on
 * any tty a process can open; safehouse stops it regardless (own pty,
 * setsid, seccomp), so this is a WARN with the sysctl fix. */
bool sh_hostcheck_tiocsti(struct sh_check *c);

/* All of the above, in a fixed order; returns the number written (<= max). */
size_t sh_hostcheck_all(struct sh_check *out, size_t max);
const char *sh_check_status_name(enum sh_check_status s);

#endif
