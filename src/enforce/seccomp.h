/* seccomp: the kernel attack-surface filter (threats.md section 6), installed
 * last, after no_new_privs.  Linux-only; libseccomp at build time only. */
#ifndef SH_SECCOMP_H
#define SH_SECCOMP_H

#include <linux/filter.h>
#include <stdbool.h>
#include <stddef.h>

#include "plan/plan.h"
#include "util/err.h"

struct sh_seccomp_config {
	/* NONE: AF_UNIX only; FULL/FILTERED: AF_UNIX, AF_INET, AF_INET6 (no raw,
	 * no ICMP).  Every mode also allows AF_NETLINK with NETLINK_ROUTE only
	 * (getifaddrs); see socket_rules() in seccomp.c. */
	enum sh_net_mode net;
	/* The calls that create names go to a listener (the creation
	 * supervisor, enforce/supervise.c). */
	bool notify;
	/* socket(AF_UNIX) -> EPERM (socketpair stays): fallback mode, where no
	 * mount view keeps the host's sockets out of reach and Landlock does
	 * not mediate connect() on them. */
	bool deny_unix;
};

/* Load the filter, one program, into the calling process (with TSYNC where
 * the kernel allows it together with the listener).  *listener: the
 * notification fd when c->notify, else -1. */
int sh_seccomp_apply(const struct sh_seccomp_config *c, int *listener, struct sh_err *e);

/* The program sh_seccomp_apply() loads (malloc'd; for tests). */
int sh_seccomp_program(const struct sh_seccomp_config *c, struct sock_filter **f, size_t *len,
		       struct sh_err *e);
/* Its main part, generated at build time by libseccomp, and libseccomp's
 * description of it (for tests and --print-plan). */
int sh_seccomp_main_program(enum sh_net_mode net, const struct sock_filter **f, size_t *len,
			    const char **pfc, struct sh_err *e);

/* Write a human-readable (libseccomp PFC) description of the filter to fd;
 * for --print-plan and tests. */
int sh_seccomp_export_pfc(const struct sh_seccomp_config *c, int fd, struct sh_err *e);

#endif
