/* The enforcement plan: what the Linux launcher will do, as data.
 *
 * Built from the evaluated policy by sh_plan_build() (pure apart from
 * lstat/readdir of the host to expand prefix/regex rules and to learn which
 * paths exist), printed by --print-plan, unit-tested without privileges, and
 * applied by sh_sandbox_exec() (enforce/sandbox.h), the only place that
 * performs irreversible steps. */
#ifndef SH_PLAN_H
#define SH_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "policy/policy.h"
#include "util/err.h"
#include "util/str.h"

struct sh_limits; /* enforce/limits.h */

enum sh_net_mode {
	SH_NETMODE_NONE = 0, /* private network namespace with only lo */
	SH_NETMODE_FULL,     /* host network */
	SH_NETMODE_FILTERED, /* private netns; egress only through the proxy */
};

/* Abstract access rights, mapped to Landlock bits by enforce/landlock.c. */
#define SH_ACC_READ  (1u << 0) /* read files, list directories */
#define SH_ACC_WRITE (1u << 1) /* write, create, remove, rename, truncate */
#define SH_ACC_EXEC  (1u << 2) /* execute files */

enum sh_mount_kind {
	SH_MNT_BIND,  /* bind the host path onto the same path in the new root */
	SH_MNT_MASK,  /* hide a path inside a bind: empty read-only tmpfs (dir) or
		       * empty read-only file (file) */
	SH_MNT_DIR,   /* skeleton directory: exists for traversal/stat, no content */
	SH_MNT_TMPFS, /* private writable tmpfs (size in bytes; 0 = default) */
	SH_MNT_PROC,  /* fresh procfs for the new pid namespace, sensitive entries masked */
	SH_MNT_DEV,   /* minimal /dev */
	SH_MNT_SYMLINK, /* create a symlink at path pointing to target (e.g. /bin -> usr/bin
			 * on merged-/usr hosts); never followed by the launcher */
	SH_MNT_PINLINK, /* a host symlink inside a writable bind whose own write is
			 * denied: bound onto itself, so it cannot be removed, renamed
			 * or replaced (what it points to keeps its own rules) */
};

struct sh_mount {
	enum sh_mount_kind kind;
	char *path;       /* absolute path in the sandbox (== host path for binds) */
	bool writable;    /* SH_MNT_BIND only */
	bool is_dir;      /* SH_MNT_BIND / SH_MNT_MASK: the host object is a directory */
	uint64_t size;    /* SH_MNT_TMPFS */
	char *target;     /* SH_MNT_SYMLINK */
	struct sh_origin why; /* rule that caused it (source NULL for built-ins) */
};

struct sh_ll_rule {
	char *path;      /* absolute path as seen inside the sandbox */
	unsigned access; /* SH_ACC_* */
};

struct sh_plan {
	struct sh_mount *mounts; /* in application order: parents before children */
	size_t nmounts, mounts_cap;
	struct sh_ll_rule *ll;   /* Landlock path-beneath rules */
	size_t nll, ll_cap;
	enum sh_net_mode net;
	uint16_t proxy_port;     /* SH_NETMODE_FILTERED: the only TCP port connect() may reach */
	bool use_userns;         /* false: fallback mode (Landlock + seccomp only) */
	bool grants_socket;      /* a rule grants a Unix socket file by name (an
				  * integration: ssh-agent, docker): in fallback
				  * mode socket(AF_UNIX) then stays allowed */
	char *cwd;               /* working directory inside (the workdir, or $HOME) */
	char **argv;             /* command, argv[0] resolved by the launcher via PATH */
	char **envp;             /* complete child environment */
	char *hostname;          /* uts namespace hostname */
	const struct sh_limits *limits; /* --max-procs / --max-memory, or NULL (not owned) */
	char **protect_create;   /* absolute paths inside writable binds that do not exist:
				  * creating them (or below them) is refused by init's
				  * creation supervisor (enforce/supervise.c) */
	size_t nprotect_create;
};

void sh_plan_init(struct sh_plan *p);
void sh_plan_free(struct sh_plan *p);
/* Returns the new entry (valid until the next add). */
struct sh_mount *sh_plan_add_mount(struct sh_plan *p, enum sh_mount_kind kind, const char *path,
				   bool writable, bool is_dir, const struct sh_origin *why);
void sh_plan_add_ll(struct sh_plan *p, const char *path, unsigned access);

struct sh_plan_input {
	const struct sh_policy *policy;
	const char *home;    /* $HOME, canonical */
	const char *workdir; /* canonical, or NULL when disabled */
	enum sh_net_mode net;
	uint16_t proxy_port;
	bool fallback;       /* no user namespace: Landlock (+ seccomp) only, no mounts */
};

/* Compile the policy into mounts and Landlock rules (and copy net settings).
 * argv/envp/cwd are filled by the caller afterwards. */
int sh_plan_build(const struct sh_plan_input *in, struct sh_plan *out, struct sh_err *e);

/* What --explain should say about a plan (every string owned). */
struct sh_plan_notes {
	struct sh_strv missing;    /* denied paths inside writable trees that do not exist on the
				    * host: nothing is mounted over them (the host is never
				    * modified), so the sandbox could create them */
	struct sh_strv expansions; /* "prefix /h/.local/bin/codex -> 2 paths", "regex ... (capped)" */
	struct sh_strv warnings;   /* approximations (fallback splitting, symlinks not followed,
				    * special files, caps hit) */
	struct sh_strv alerts;     /* those of the warnings that weaken a protection the
				    * user relies on (a protected name that cannot be fully
				    * protected): said on every run, not only in --explain */
};
void sh_plan_notes_free(struct sh_plan_notes *n);

/* sh_plan_build() that also fills *notes (may be NULL; sh_plan_notes_free()
 * it afterwards).  Non-existent paths are normal, never an error; errors only
 * for impossible situations ("/" cannot be stat'ed). */
int sh_plan_build_ex(const struct sh_plan_input *in, struct sh_plan *out,
		     struct sh_plan_notes *notes, struct sh_err *e);

/* A deep copy of *src into the arena (dst itself is the caller's): every
 * string and array of the copy lives in the arena, so the arena's bytes are
 * a complete plan wherever they sit at the same address.  limits is not
 * copied (NULL).  -1 when the arena is too small. */
struct sh_arena;
int sh_plan_copy_to(const struct sh_plan *src, struct sh_plan *dst, struct sh_arena *a);

/* Human-readable dump, one line per step (used by --print-plan). */
void sh_plan_print(const struct sh_plan *p, FILE *f);

#endif
