/* Everything a run needs, resolved from options, environment variables, the
 * workdir config and the host: the inputs of assembly, plus what --explain
 * reports about each decision. */
#ifndef SH_CONTEXT_H
#define SH_CONTEXT_H

#include <stdbool.h>

#include "cli/options.h"
#include "config/dotenv.h"
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
	char *wdconfig_status; /* for --explain */
	char *trust_update;    /* what --always-trust-workdir-config did, or NULL */
	struct sh_wdconfig wdconfig; /* loaded only when trusted */
	struct sh_worktree worktree;
	bool is_worktree;
	struct sh_grant *grants;
	size_t ngrants, grants_cap;
	struct sh_strv features;
	struct sh_appended *appended;
	size_t nappended, appended_cap;
	struct sh_strv env_pass; /* validated names: config, env, CLI */
	struct sh_dotenv env_file; /* --env=FILE, parsed (never executed) */
	struct sh_strv notes;    /* extra --explain lines */
};

int sh_context_build(struct sh_context *c, const struct sh_options *o, struct sh_err *e);
void sh_context_free(struct sh_context *c);

/* Fill the assembly input from the context (pointers into c). */
void sh_context_assemble_in(const struct sh_context *c, struct sh_assemble_in *in);

#endif
