/* The profile language: a compiler from SBPL-subset text to policy rules.
 *
 * Sources are compiled one after another into one struct sh_policy with one
 * shared context, exactly as if they had been concatenated into one file (as
 * upstream Agent Safehouse does): a (define ...) in 00-base is visible in
 * every later source.  Pure code: no file system access. */
#ifndef SH_PROFILE_H
#define SH_PROFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "policy/policy.h"
#include "util/err.h"
#include "util/str.h"

struct sh_profile_ctx;

/* home: $HOME (canonical); workdir: canonical workdir, or NULL when the
 * workdir grant is disabled (--workdir=): then any workdir-* helper or use of
 * WORK_DIR is a compile error (exit 65).  Predefined values: HOME_DIR,
 * WORK_DIR (only when enabled), TARGET ("linux" or "macos"). */
struct sh_profile_ctx *sh_profile_ctx_new(const char *home, const char *workdir,
					  const char *target);
void sh_profile_ctx_free(struct sh_profile_ctx *ctx);

/* Compile one source.  `source` names it in diagnostics and in rule origins
 * ("60-agents/codex.sb", "/home/a/overlay.sb", "<generated: grants>").
 * On error: -1, e->exit_code = SH_EXIT_PROFILE, e->msg = "SOURCE:LINE:COL: what
 * was expected".  Rules compiled before the error stay in p. */
int sh_profile_compile(struct sh_profile_ctx *ctx, const char *source, const char *text,
		       size_t len, struct sh_policy *p, struct sh_err *e);

/* Metadata comments: ";; $$key=value$$" anywhere in a comment.
 *   require=55-integrations-optional/keychain.sb  (repeatable, or comma list)
 *   command=claude,claude-code                    (agent aliases)
 *   exec-env-default=NAME=VALUE                   (repeatable)
 *   target=linux|macos                            (profile applies to one target only)
 *   env-pass=SSH_AUTH_SOCK,XDG_RUNTIME_DIR        (host variables passed when included)
 *   create-dirs=/.codex,/.cache/codex             (agent state dirs under $HOME, created
 *                                                  0700 before a run if missing)
 *   publish=1455                                  (loopback ports published when this
 *                                                  agent profile is selected; --publish)
 * Unknown keys are ignored. */
struct sh_profile_meta {
	struct sh_strv requires;
	struct sh_strv commands;
	struct sh_strv env_defaults; /* "NAME=VALUE" */
	struct sh_strv targets;
	struct sh_strv env_pass;    /* env-pass=NAME[,NAME]: host variables the profile needs */
	struct sh_strv create_dirs; /* create-dirs=/.codex,...: $HOME-relative state dirs */
	struct sh_strv insert_args; /* insert-args=-c,k=v: words after the agent's command word */
	struct sh_strv publish;     /* publish=1455[,HOST:INSIDE]: ports the selected agent needs */
};
void sh_profile_scan_meta(const char *text, size_t len, struct sh_profile_meta *m);
void sh_profile_meta_free(struct sh_profile_meta *m);

/* Quote s as an SBPL string literal (with surrounding double quotes; '"' and
 * '\\' escaped, control characters as \xHH).  Returns a new string. */
char *sh_sbpl_quote(const char *s);

#endif
