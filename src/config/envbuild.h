/* The child's environment.
 *
 * Layers, later wins:
 *   1. base: SANITIZED (default) an allow-list of host variables plus fixed
 *      values; FULL (--env) the whole host environment; FILE (--env=FILE)
 *      SANITIZED plus the file's assignments;
 *   2. --env-pass=A,B: the named host variables, copied on top;
 *   3. profile exec-env-defaults "NAME=VALUE", only where NAME is unset;
 *   4. leading NAME=VALUE words of the command line, overriding.
 * LD_* names are removed from every layer (FULL included) unless named in
 * --env-pass: they change what every dynamically linked program in the
 * sandbox loads.  Host SAFEHOUSE_* variables are never passed (they steer
 * safehouse itself).  TMPDIR is always "/tmp" and PWD the given directory,
 * in every mode: the sandbox has a private /tmp, so a host TMPDIR such as
 * /tmp/user-1000 would not exist inside. */
#ifndef SH_ENVBUILD_H
#define SH_ENVBUILD_H

#include <stdbool.h>
#include <stddef.h>

#include "config/dotenv.h"
#include "util/err.h"
#include "util/str.h"

enum sh_env_mode { SH_ENV_SANITIZED, SH_ENV_FULL, SH_ENV_FILE };

struct sh_env_opts {
	enum sh_env_mode mode;
	char *const *host;              /* host environ, NULL-terminated (NULL = empty) */
	const char *pwd;                /* PWD for the child; NULL: getcwd() */
	const struct sh_dotenv *file;   /* SH_ENV_FILE: the parsed file */
	const struct sh_strv *pass;     /* --env-pass names (validated), may be NULL */
	const struct sh_strv *defaults; /* profile "NAME=VALUE", may be NULL */
	const struct sh_strv *assign;   /* command-line "NAME=VALUE", may be NULL */
	bool runtime_dir;               /* also pass XDG_RUNTIME_DIR (sanitized/file) */
};

/* What happened, for --explain.  All lists are owned; free with
 * sh_env_report_free. */
struct sh_env_report {
	enum sh_env_mode mode;
	size_t n_host;                /* host variables seen */
	size_t n_host_passed;         /* of which passed through (base + --env-pass) */
	struct sh_strv passed;        /* --env-pass names copied */
	struct sh_strv pass_missing;  /* --env-pass names unset on the host */
	struct sh_strv file_vars;     /* names set from the env file */
	struct sh_strv defaults_set;  /* profile defaults applied ("NAME=VALUE") */
	struct sh_strv defaults_kept; /* profile default names already set */
	struct sh_strv stripped;      /* LD_* and SAFEHOUSE_* names removed */
	struct sh_strv dropped_secret; /* dropped host names that look like
					* credentials (*KEY*, *TOKEN*, *SECRET*,
					* *PASSWORD*, *CREDENTIAL*, *AUTH*) */
};

/* Build the environment into *out (a NULL-terminated vector of "NAME=VALUE",
 * out->v never NULL on success; *out must be zeroed).  rep may be NULL; it
 * is overwritten, not freed, so pass a zeroed or already-freed report.
 * Errors: a malformed assignment "invalid environment assignment 'X'"
 * (SH_EXIT_USAGE) or profile default (SH_EXIT_PROFILE), no home directory
 * (SH_EXIT_SETUP).  On error *out and *rep are freed. */
int sh_env_build(const struct sh_env_opts *o, struct sh_strv *out, struct sh_env_report *rep,
		 struct sh_err *e);

/* Parse a --env-pass / SAFEHOUSE_ENV_PASS list "A,B" (blanks around names
 * allowed, empty fields skipped) and append the names, de-duplicated, to
 * *names.  Error "--env-pass: invalid variable name 'X'" (SH_EXIT_USAGE). */
int sh_env_pass_parse(const char *list, struct sh_strv *names, struct sh_err *e);

/* --env together with --env-pass is contradictory: error
 * "--env and --env-pass cannot be combined" with a hint (SH_EXIT_USAGE). */
int sh_env_check_combo(enum sh_env_mode mode, size_t n_pass, struct sh_err *e);

/* Is "NAME=VALUE" well formed (valid NAME, has '=')? */
bool sh_env_assignment_valid(const char *s);

/* Value of name in a NULL-terminated environment vector, or NULL. */
const char *sh_env_get(char *const *env, const char *name);

/* One line for --explain, e.g. "env: sanitized, 21 of 64 host variables
 * passed; dropped credentials: OPENAI_API_KEY, GH_TOKEN; stripped: LD_PRELOAD;
 * --env-pass: FOO (unset: BAR); profile defaults: X=1".  Caller frees. */
char *sh_env_report_summary(const struct sh_env_report *rep);

const char *sh_env_mode_name(enum sh_env_mode m); /* "sanitized", "full", "file" */

void sh_env_report_free(struct sh_env_report *rep);

#endif
