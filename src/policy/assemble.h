/* Policy assembly: which profiles, in which order, plus the generated parts
 * (definitions, traversal, grants, workdir, appended profiles, protections).
 *
 * The result is an ordered list of sources.  Compiling them in order with one
 * sh_profile_ctx gives the policy; concatenating them gives the --stdout text.
 * Pure apart from reading the catalogue (already in memory). */
#ifndef SH_ASSEMBLE_H
#define SH_ASSEMBLE_H

#include <stdbool.h>
#include <stddef.h>

#include "profile/catalog.h"
#include "util/err.h"
#include "util/str.h"

enum sh_src_kind {
	SH_SRC_PROFILE,   /* a catalogue profile */
	SH_SRC_GENERATED, /* written by safehouse */
	SH_SRC_APPENDED,  /* --append-profile or the workdir config's append-profile */
};

struct sh_source {
	char *name; /* "60-agents/codex.sb", "<generated: workdir>", "/abs/overlay.sb" */
	char *text;
	size_t len;
	enum sh_src_kind kind;
	const char *note; /* static remark for the rendered header, or NULL */
};

struct sh_grant {
	char *path;     /* canonical */
	bool writable;
	bool is_dir;
	char *origin;   /* "--add-dirs", "SAFEHOUSE_ADD_DIRS", "/w/.safehouse:3", "worktree ..." */
};

struct sh_appended {
	char *path;     /* canonical path of the file */
	char *text;
	size_t len;
	char *origin;   /* "--append-profile" or "/w/.safehouse:4" */
};

struct sh_assemble_in {
	const struct sh_catalog *cat;
	const char *target;  /* "linux" / "macos" */
	const char *home;
	const char *workdir; /* NULL: disabled */
	const char *git_common_dir; /* the workdir is a linked worktree of this
				     * (canonical) common git dir, or NULL */
	const struct sh_strv *git_includes;   /* files the repo's config includes, */
	const struct sh_strv *git_hooks_dirs; /* and its core.hooksPath, in the
					       * workdir (NULL: none) */
	char **argv;         /* command words (NAME=VALUE first), may be empty */
	int argc;
	const struct sh_strv *features; /* validated, lowercase */
	const struct sh_grant *grants;
	size_t ngrants;
	const struct sh_appended *appended;
	size_t nappended;
	bool allow_workdir_config_writes;
	/* safehouse's own configuration directories (the user's, beside the
	 * trusted-workdirs store, and the system's): never writable inside,
	 * whatever the grants (NULL: none). */
	const char *config_dirs[2];
	/* A profiles directory given for this run: read-only inside as well,
	 * unless allow_profile_writes (NULL: the built-in profiles). */
	const char *profiles_dir;
	bool allow_profile_writes;
	bool allow_agent_config_writes; /* lift the agent profiles' policy-bearing denies */
	bool workdir_readonly;   /* --sandbox=read-only */
	bool danger_full_access; /* --sandbox=danger-full-access */
	const char *network;     /* NULL: the profiles decide; "none" / "full": override */
	const char *network_origin;
	const char *const *deny_paths;     /* administrator's mandatory denials */
	const char *const *deny_origins;
	size_t ndeny;
};

struct sh_assembly {
	struct sh_source *src;
	size_t n, cap;
	char *agent;          /* selected agent profile name, or NULL */
	char *agent_reason;   /* why it was (or was not) selected */
	char *agent_word;     /* the command word used for matching, or NULL */
	struct sh_strv features_enabled; /* asked for */
	struct sh_strv features_implied; /* pulled in by $$require$$ */
	struct sh_strv features_skipped; /* available but not included */
	struct sh_strv profiles;         /* catalogue profiles included, in order */
	struct sh_strv env_defaults;     /* "NAME=VALUE" from $$exec-env-default$$ */
	struct sh_strv env_pass;         /* host variable names from $$env-pass$$ */
	struct sh_strv create_dirs;      /* $HOME-relative dirs from $$create-dirs$$ */
	struct sh_strv insert_args;      /* $$insert-args$$ of the selected agent: words put
					  * right after its command word when it runs */
};

/* Valid --enable names for the target (sorted). */
void sh_features_available(const struct sh_catalog *cat, const char *target, struct sh_strv *out);

/* Split raw comma lists, lowercase, de-duplicate and validate.  Unknown name:
 * error listing the valid ones (exit 1).  origin names the source for errors. */
int sh_features_parse(const struct sh_catalog *cat, const char *target, const char *raw,
		      const char *origin, struct sh_strv *out, struct sh_err *e);

/* The word agent selection uses: basename of the command after NAME=VALUE
 * words, lowercased; through npx/bunx/pnpx/uvx/pipx the package that follows
 * (scope and version stripped).  NULL when there is no command. */
char *sh_agent_word(char **argv, int argc);
/* The same, also giving the index in argv of the word used (the command, or
 * the package after a runner); *index untouched when NULL is returned. */
char *sh_agent_word_at(char **argv, int argc, int *index);

int sh_assemble(const struct sh_assemble_in *in, struct sh_assembly *out, struct sh_err *e);
void sh_assembly_free(struct sh_assembly *a);

/* Concatenate the sources with a header per source (the --stdout text). */
char *sh_assembly_render(const struct sh_assembly *a, const char *target);

#endif
