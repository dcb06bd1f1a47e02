/* Landlock: the second filesystem layer under the mount namespace, and the
 * only one in fallback mode (threats.md section 10; style.md P8).
 *
 * Every filesystem right the running kernel's ABI knows is *handled*, so a
 * right that no rule grants is denied.  Rules only ever grant (Landlock is
 * allow-only): masking a path inside an allowed tree is the mount layer's
 * job.  Nothing here is best-effort: if the caller asks for something the
 * kernel cannot enforce (ABI below min_abi, TCP rules below ABI 4, scopes
 * below ABI 6) we fail closed with a message and a hint.
 *
 * Enforcement-order contract (sandbox.c, style.md P7): the caller is
 * single-threaded (landlock_restrict_self() only restricts the calling
 * thread before ABI 8's TSYNC, Linux 7.0) and has already set
 * PR_SET_NO_NEW_PRIVS, unless it holds CAP_SYS_ADMIN in its user namespace.
 * This file never sets no_new_privs itself; it reports a clear error when
 * the kernel refuses for that reason. */
#include "enforce/landlock.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* ---- Vendored UAPI (Debian 12 headers stop at ABI 2).  Values are the
 * kernel's include/uapi/linux/landlock.h; they never change once released. */
#ifndef LANDLOCK_CREATE_RULESET_VERSION
#define LANDLOCK_CREATE_RULESET_VERSION (1U << 0)
#endif
#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER (1ULL << 13) /* ABI 2 */
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14) /* ABI 3 */
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15) /* ABI 5 */
#endif
#ifndef LANDLOCK_ACCESS_NET_BIND_TCP
#define LANDLOCK_ACCESS_NET_BIND_TCP (1ULL << 0) /* ABI 4 */
#endif
#ifndef LANDLOCK_ACCESS_NET_CONNECT_TCP
#define LANDLOCK_ACCESS_NET_CONNECT_TCP (1ULL << 1) /* ABI 4 */
#endif
#ifndef LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET
#define LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0) /* ABI 6 */
#endif
#ifndef LANDLOCK_SCOPE_SIGNAL
#define LANDLOCK_SCOPE_SIGNAL (1ULL << 1) /* ABI 6 */
#endif
#ifndef LANDLOCK_RESTRICT_SELF_LOG_SAME_EXEC_OFF
#define LANDLOCK_RESTRICT_SELF_LOG_SAME_EXEC_OFF (1U << 0) /* ABI 7 */
#endif
#ifndef LANDLOCK_RESTRICT_SELF_LOG_NEW_EXEC_ON
#define LANDLOCK_RESTRICT_SELF_LOG_NEW_EXEC_ON (1U << 1) /* ABI 7 */
#endif
#ifndef LANDLOCK_RESTRICT_SELF_LOG_SUBDOMAINS_OFF
#define LANDLOCK_RESTRICT_SELF_LOG_SUBDOMAINS_OFF (1U << 2) /* ABI 7 */
#endif

/* enum landlock_rule_type values: enumerators, so #ifndef cannot see them;
 * spelled out under our own names to avoid clashing with newer headers. */
#define SH_LL_RULE_PATH_BENEATH 1
#define SH_LL_RULE_NET_PORT 2 /* ABI 4 */

/* The ruleset attribute as of ABI 6.  The kernel accepts a larger struct
 * than it knows as long as the unknown trailing fields are zero, so passing
 * this size to an ABI 1 kernel with net/scoped zeroed is fine. */
struct sh_ll_ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net; /* ABI 4 */
	uint64_t scoped;             /* ABI 6 */
};

struct sh_ll_path_beneath_attr {
	uint64_t allowed_access;
	int32_t parent_fd;
} __attribute__((packed));

struct sh_ll_net_port_attr {
	uint64_t allowed_access;
	uint64_t port; /* host byte order */
};

#ifndef __NR_landlock_create_ruleset
#define __NR_landlock_create_ruleset 444
#endif
#ifndef __NR_landlock_add_rule
#define __NR_landlock_add_rule 445
#endif
#ifndef __NR_landlock_restrict_self
#define __NR_landlock_restrict_self 446
#endif

#define LL_FS_V1                                                                            \
	(LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |                        \
	 LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR |                        \
	 LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |                    \
	 LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR |                        \
	 LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK |                        \
	 LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK |                      \
	 LANDLOCK_ACCESS_FS_MAKE_SYM)

/* Rights that make sense on a non-directory; the kernel rejects a rule on a
 * file that carries any other right with EINVAL. */
#define LL_FS_FILE                                                                          \
	(LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |                        \
	 LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_TRUNCATE |                        \
	 LANDLOCK_ACCESS_FS_IOCTL_DEV)

static int ll_create_ruleset(const struct sh_ll_ruleset_attr *attr, size_t size, uint32_t flags)
{
	return (int)syscall(__NR_landlock_create_ruleset, attr, size, flags);
}

static int ll_add_rule(int fd, int type, const void *attr)
{
	return (int)syscall(__NR_landlock_add_rule, fd, type, attr, 0U);
}

static int ll_restrict_self(int fd, uint32_t flags)
{
	return (int)syscall(__NR_landlock_restrict_self, fd, flags);
}

int sh_landlock_abi(int *err_out)
{
	int abi = ll_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	if (abi < 0) {
		if (err_out)
			*err_out = errno;
		return -1;
	}
	return abi;
}

uint64_t sh_landlock_handled_fs(int abi)
{
	uint64_t m = 0;
	if (abi >= 1)
		m |= LL_FS_V1;
	if (abi >= 2)
		m |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		m |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if (abi >= 5)
		m |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
	return m;
}

uint64_t sh_landlock_fs_rights(unsigned access, int abi, bool is_dir)
{
	uint64_t r = 0;
	if (access & SH_ACC_READ)
		r |= LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR;
	if (access & SH_ACC_WRITE)
		/* MAKE_BLOCK is never granted: no block devices, ever. */
		r |= LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_REMOVE_DIR |
		     LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_MAKE_CHAR |
		     LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG |
		     LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO |
		     LANDLOCK_ACCESS_FS_MAKE_SYM | LANDLOCK_ACCESS_FS_REFER |
		     LANDLOCK_ACCESS_FS_TRUNCATE | LANDLOCK_ACCESS_FS_IOCTL_DEV;
	if (access & SH_ACC_EXEC)
		r |= LANDLOCK_ACCESS_FS_EXECUTE;
	if (!is_dir)
		r &= LL_FS_FILE;
	return r & sh_landlock_handled_fs(abi);
}

static void closep(int *fd)
{
	if (*fd >= 0)
		(void)close(*fd);
}

static int unavailable(struct sh_err *e, int err)
{
	sh_fail(e, SH_EXIT_SETUP, err, "cannot enable landlock");
	switch (err) {
	case EOPNOTSUPP:
		return sh_hint(e, "landlock is disabled at boot; add \"landlock\" to the lsm= kernel "
				  "parameter");
	case ENOSYS:
		return sh_hint(e, "the kernel lacks landlock (CONFIG_SECURITY_LANDLOCK, Linux >= "
				  "5.13), or a seccomp filter (container runtime?) blocks it");
	case EPERM:
		return sh_hint(e, "a seccomp filter (container runtime?) blocks the landlock "
				  "system calls");
	default:
		return -1;
	}
}

/* One path-beneath rule.  Returns 0 (added or skipped) or -1. */
static int add_path_rule(int ruleset, const struct sh_ll_rule *r, int abi, struct sh_err *e)
{
	__attribute__((cleanup(closep))) int fd = -1;
	struct stat st;
	bool is_dir;

	if (!r->path || r->path[0] != '/')
		return sh_fail(e, SH_EXIT_SETUP, 0, "landlock rule path '%s' is not absolute",
			       r->path ? r->path : "(null)");
	/* A write grant does not follow a final symlink: a link planted in a
	 * writable tree by an earlier session must not turn into write access
	 * to its target.  Read/exec grants follow links (/lib -> usr/lib). */
	int flags = O_PATH | O_CLOEXEC;
	if (r->access & SH_ACC_WRITE)
		flags |= O_NOFOLLOW;
	fd = open(r->path, flags);
	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0; /* the plan says: missing paths are skipped */
		return sh_fail(e, SH_EXIT_SETUP, errno, "cannot open landlock rule path '%s'",
			       r->path);
	}
	if (fstat(fd, &st) < 0)
		return sh_fail(e, SH_EXIT_SETUP, errno, "cannot stat landlock rule path '%s'",
			       r->path);
	if (S_ISLNK(st.st_mode)) {
		sh_warn("not granting write access through symlink '%s'; name its target instead",
			r->path);
		return 0;
	}
	is_dir = S_ISDIR(st.st_mode);
	struct sh_ll_path_beneath_attr pb = {
		.allowed_access = sh_landlock_fs_rights(r->access, abi, is_dir),
		.parent_fd = fd,
	};
	if (!pb.allowed_access)
		return 0; /* nothing to grant (the kernel would say ENOMSG) */
	if (ll_add_rule(ruleset, SH_LL_RULE_PATH_BENEATH, &pb) < 0)
		return sh_fail(e, SH_EXIT_SETUP, errno, "cannot add landlock rule for '%s'",
			       r->path);
	return 0;
}

int sh_landlock_apply(const struct sh_landlock_config *c, struct sh_err *e)
{
	__attribute__((cleanup(closep))) int ruleset = -1;
	struct sh_ll_ruleset_attr attr = { 0 };
	int err = 0;
	int abi = sh_landlock_abi(&err);

	if (abi < 0)
		return unavailable(e, err);
	if (abi < c->min_abi) {
		sh_fail(e, SH_EXIT_SETUP, 0,
			"landlock ABI %d is too old: the policy requires ABI %d or later", abi,
			c->min_abi);
		return sh_hint(e, "a newer kernel is needed (ABI 4 = Linux 6.7, 5 = 6.10, 6 = 6.12, "
				  "7 = 6.15)");
	}
	if (c->restrict_tcp && abi < 4) {
		sh_fail(e, SH_EXIT_SETUP, 0,
			"landlock ABI %d cannot restrict TCP connections (ABI 4 needed)", abi);
		return sh_hint(e, "use a kernel >= 6.7, or a network mode that does not rely on "
				  "landlock TCP rules");
	}
	if ((c->scope_abstract_unix || c->scope_signal) && abi < 6) {
		sh_fail(e, SH_EXIT_SETUP, 0,
			"landlock ABI %d cannot scope signals and abstract unix sockets (ABI 6 "
			"needed)", abi);
		return sh_hint(e, "use a kernel >= 6.12");
	}

	if (!c->fs_inherited)
		attr.handled_access_fs = sh_landlock_handled_fs(abi);
	if (c->restrict_tcp)
		attr.handled_access_net = (c->bind_any ? 0 : LANDLOCK_ACCESS_NET_BIND_TCP) |
					  LANDLOCK_ACCESS_NET_CONNECT_TCP;
	if (c->scope_abstract_unix)
		attr.scoped |= LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET;
	if (c->scope_signal)
		attr.scoped |= LANDLOCK_SCOPE_SIGNAL;

	if (!attr.handled_access_fs && !attr.handled_access_net && !attr.scoped)
		return 0; /* fs_inherited, nothing of its own */
	ruleset = ll_create_ruleset(&attr, sizeof(attr), 0);
	if (ruleset < 0)
		return sh_fail(e, SH_EXIT_SETUP, errno, "cannot create the landlock ruleset");

	for (size_t i = 0; !c->fs_inherited && i < c->nrules; i++)
		if (add_path_rule(ruleset, &c->rules[i], abi, e) < 0)
			return -1;

	/* TCP: no bind rule at all (no listening on TCP), connect only to the
	 * listed ports (the proxy). */
	for (size_t i = 0; c->restrict_tcp && i < c->nports; i++) {
		struct sh_ll_net_port_attr np = {
			.allowed_access = LANDLOCK_ACCESS_NET_CONNECT_TCP,
			.port = c->connect_ports[i],
		};
		if (ll_add_rule(ruleset, SH_LL_RULE_NET_PORT, &np) < 0)
			return sh_fail(e, SH_EXIT_SETUP, errno,
				       "cannot add landlock rule for TCP port %u",
				       (unsigned)c->connect_ports[i]);
	}

	/* Published ports (--publish): the command's listeners inside. */
	for (size_t i = 0; c->restrict_tcp && !c->bind_any && i < c->nbind_ports; i++) {
		struct sh_ll_net_port_attr np = {
			.allowed_access = LANDLOCK_ACCESS_NET_BIND_TCP,
			.port = c->bind_ports[i],
		};
		if (ll_add_rule(ruleset, SH_LL_RULE_NET_PORT, &np) < 0)
			return sh_fail(e, SH_EXIT_SETUP, errno,
				       "cannot add landlock bind rule for TCP port %u",
				       (unsigned)c->bind_ports[i]);
	}

	/* ABI 7 audit logging: stay quiet for the rest of the launcher (same
	 * exec: only our own, expected, denials) and log the sandboxed programs'
	 * denials after execve.  Subdomain logging is left alone (a runtime
	 * choice).  Older kernels reject the flags with EINVAL: retry without. */
	uint32_t flags = 0;
	if (abi >= 7)
		flags = LANDLOCK_RESTRICT_SELF_LOG_SAME_EXEC_OFF |
			LANDLOCK_RESTRICT_SELF_LOG_NEW_EXEC_ON;
	int r = ll_restrict_self(ruleset, flags);
	if (r < 0 && errno == EINVAL && flags) {
		flags = 0;
		r = ll_restrict_self(ruleset, flags);
	}
	if (r < 0) {
		int saved = errno;
		if (saved == EPERM && prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1) {
			sh_fail(e, SH_EXIT_SETUP, saved,
				"cannot enforce landlock: no_new_privs is not set");
			return sh_hint(e, "internal ordering bug: PR_SET_NO_NEW_PRIVS must be set "
					  "before sh_landlock_apply() (or CAP_SYS_ADMIN held)");
		}
		if (saved == E2BIG) {
			sh_fail(e, SH_EXIT_SETUP, saved, "cannot enforce landlock");
			return sh_hint(e, "too many nested landlock domains (at most 16): is this "
					  "already running inside many sandboxes?");
		}
		return sh_fail(e, SH_EXIT_SETUP, saved, "cannot enforce landlock");
	}
	return 0;
}
