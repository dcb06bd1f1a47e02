/* Everything a run needs, resolved from options, environment variables, the
 * workdir config and the host: the inputs of assembly, plus what --explain
 * reports about each decision. */
#ifndef SH_CONTEXT_H
#define SH_CONTEXT_H

#include <stdbool.h>

#include "cli/options.h"
#include "config/dotenv.h"
#include "config/requirements.h"
#include "config/wdconfig.h"
#include "config/worktree.h"
#include "policy/assemble.h"
#include "profile/catalog.h"
#include "util/str.h"

struct sh_context {
	const struct sh_options *opt;
	char *target;
	char *home;
	char *workdir;        /* NULL: disabled */
	char *workdir_source; /* "current directory", "--workdir", "SAFEHOUSE_WORKDIR" */
	char *cwd;
	struct sh_catalog cat;
	char *profiles_source;
	struct sh_trust_decision trust;
	char *trust_store;
	char *config_dir; /* the user's safehouse configuration directory (trust_store's) */
	char *profiles_dir; /* --profiles-dir / SAFEHOUSE_PROFILES_DIR, canonical, or NULL */
	char *wdconfig_status; /* for --explain */
	char *trust_update;    /* what --always-trust-workdir-config did, or NULL */
	struct sh_wdconfig wdconfig; /* loaded only when trusted */
	struct sh_worktree worktree;
	bool is_worktree;
	/* Paths in the workdir that the repository's own config makes git read
	 * or run (include.path, includeIf.*.path: files; core.hooksPath: a
	 * directory), protected like .git/config and .git/hooks. */
	struct sh_strv git_includes, git_hooks_dirs;
	struct sh_grant *grants;
	size_t ngrants, grants_cap;
	struct sh_strv features;
	struct sh_appended *appended;
	size_t nappended, appended_cap;
	struct sh_strv env_pass; /* validated names: config, env, CLI */
	struct sh_dotenv env_file; /* --env=FILE, parsed (never executed) */
	struct sh_strv notes;    /* extra --explain lines */
	struct sh_strv settings; /* "key=value (from ORIGIN)" of every config entry applied */
	char *sandbox;           /* effective policy: read-only, workspace-write, danger-full-access */
	char *sandbox_origin;
	char *network;           /* NULL (the profiles decide), "none", "filtered" or "full" */
	char *network_origin;
	/* filtered mode: destinations from config keys and the command line,
	 * one per entry, with where each came from (requirements are added by
	 * cli/netproxy.c) */
	struct sh_strv allow_domains, allow_domain_origins;
	struct sh_strv deny_domains, deny_domain_origins;
	/* --publish and publish= values (comma lists, validated), with where
	 * each came from; cli/publish.c adds the agent profile's */
	struct sh_strv publish, publish_origins;
	struct sh_requirements req;
	char *sysconfdir;        /* SH_SYSCONFDIR, normally /etc/safehouse */
	const char **deny_paths; /* views into req.deny_path, for assembly */
	const char **deny_origins;
};

int sh_context_build(struct sh_context *c, const struct sh_options *o, struct sh_err *e);
void sh_context_free(struct sh_context *c);

/* Checks that need the assembled or compiled policy (implied features,
 * effective network mode); -1 names the requirement that is violated. */
struct sh_assembly;
struct sh_policy;
int sh_context_check_final(const struct sh_context *c, const struct sh_assembly *a,
			   const struct sh_policy *p, struct sh_err *e);

/* The effective network mode: the explicit setting (--network or config),
 * else full when the policy allows general outbound, else filtered when it
 * declares destinations, else none.  *why (if non-NULL) says which. */
int sh_context_net_mode(const struct sh_context *c, const struct sh_policy *p, const char **why);

/* Grant the unix sockets that the passed variables name (SSH_AUTH_SOCK,
 * DOCKER_HOST=unix://..., WAYLAND_DISPLAY under XDG_RUNTIME_DIR), when they
 * really are sockets.  Returns how many grants were added. */
int sh_context_add_socket_grants(struct sh_context *c, const struct sh_strv *names);

/* The system configuration directory compiled in (normally /etc/safehouse). */
const char *sh_context_sysconfdir(void);

/* Fill the assembly input from the context (pointers into c). */
void sh_context_assemble_in(const struct sh_context *c, struct sh_assemble_in *in);

#endif
