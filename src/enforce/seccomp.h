/* seccomp: the kernel attack-surface filter (threats.md section 6), installed
 * last, after no_new_privs.  Linux-only; uses libseccomp. */
#ifndef SH_SECCOMP_H
#define SH_SECCOMP_H

#include <stdbool.h>

#include "plan/plan.h"
#include "util/err.h"

struct sh_seccomp_config {
	/* NONE: AF_UNIX only; FULL/FILTERED: AF_UNIX, AF_INET, AF_INET6 (no raw,
	 * no ICMP).  Every mode also allows AF_NETLINK with NETLINK_ROUTE only
	 * (getifaddrs); see socket_rules() in seccomp.c. */
	enum sh_net_mode net;
};

/* Load the filter into the calling process (with TSYNC). */
int sh_seccomp_apply(const struct sh_seccomp_config *c, struct sh_err *e);

/* Write a human-readable (libseccomp PFC) description of the filter to fd;
 * for --print-plan and tests. */
int sh_seccomp_export_pfc(const struct sh_seccomp_config *c, int fd, struct sh_err *e);

#endif
