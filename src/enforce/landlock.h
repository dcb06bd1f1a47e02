/* Landlock: the second filesystem layer under the mount namespace, and the
 * only one in fallback mode.  Linux-only. */
#ifndef SH_LANDLOCK_H
#define SH_LANDLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plan/plan.h"
#include "util/err.h"

/* Landlock ABI version of the running kernel, or -1 if Landlock is
 * unavailable (not built, disabled at boot: errno in *err_out if non-NULL). */
int sh_landlock_abi(int *err_out);

struct sh_landlock_config {
	const struct sh_ll_rule *rules; /* paths that must exist; missing ones are skipped */
	size_t nrules;
	int min_abi;             /* refuse (fail closed) if the kernel is older */
	bool restrict_tcp;       /* handle TCP bind/connect (ABI >= 4) */
	const uint16_t *connect_ports; /* allowed TCP connect ports when restrict_tcp */
	size_t nports;
	const uint16_t *bind_ports; /* allowed TCP bind ports when restrict_tcp (--publish) */
	size_t nbind_ports;
	bool bind_any;           /* restrict_tcp: connect only; bind is not handled */
	bool scope_abstract_unix; /* ABI >= 6 */
	bool scope_signal;        /* ABI >= 6 */
	bool fs_inherited;        /* the same filesystem rules are enforced by a domain this
				   * process already is in (init's): this layer handles no
				   * filesystem right (rules ignored), only TCP and scopes,
				   * and is not made at all when it has neither */
};

/* Build the ruleset and call landlock_restrict_self().  The caller must be
 * single-threaded and must have set PR_SET_NO_NEW_PRIVS (or hold
 * CAP_SYS_ADMIN in its user namespace).  Every filesystem right the kernel's
 * ABI knows is handled; rights that a rule does not grant are denied. */
int sh_landlock_apply(const struct sh_landlock_config *c, struct sh_err *e);

/* Pure helpers (no system calls), for --print-plan and unit tests. */
/* Every filesystem right Landlock ABI abi knows (0 for abi < 1). */
uint64_t sh_landlock_handled_fs(int abi);
/* Landlock rights granted for SH_ACC_* access on a directory (is_dir) or on
 * a non-directory (only file rights: the kernel rejects others), limited to
 * what abi knows.  MAKE_BLOCK is never granted. */
uint64_t sh_landlock_fs_rights(unsigned access, int abi, bool is_dir);

#endif
