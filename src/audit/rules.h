/* Which names in a workdir matter for persistence (threats.md §2), and why.
 *
 * Pure: no system calls.  The walker (audit.c) asks one question per
 * directory entry: given the zone of the directory being read (what kind of
 * directory it is: ordinary, inside a .git dir, inside .vscode, ...) and the
 * entry's name and type, is the entry recorded, and is it descended into with
 * which zone?  Everything else is ignored without a stat. */
#ifndef SH_AUDIT_RULES_H
#define SH_AUDIT_RULES_H

#include <stdbool.h>
#include <stdint.h>

/* What a finding is about; index into the kinds table (sh_audit_kind_name,
 * sh_audit_kind_why). */
enum sh_audit_kind {
	SH_AK_NONE = 0,
	SH_AK_REPO,          /* a .git directory at the workdir root */
	SH_AK_NESTED_REPO,   /* a .git directory anywhere below the root */
	SH_AK_GIT_HOOK,      /* .git/hooks/<x> (not *.sample) */
	SH_AK_GIT_CONFIG,    /* .git/config, config.worktree */
	SH_AK_GIT_POINTER,   /* .git file, commondir, gitdir, info/grafts */
	SH_AK_GIT_ATTR,      /* .gitattributes, .git/info/attributes */
	SH_AK_GIT_ALT,       /* .git/objects/info/(http-)alternates */
	SH_AK_GITMODULES,    /* .gitmodules */
	SH_AK_HOOK_MANAGER,  /* .husky/, .githooks/, .pre-commit-config.yaml, lefthook */
	SH_AK_VSCODE,        /* .vscode/ */
	SH_AK_IDEA,          /* .idea/ */
	SH_AK_DEVCONTAINER,  /* .devcontainer/, .devcontainer.json */
	SH_AK_CURSOR,        /* .cursor/ */
	SH_AK_AGENT,         /* .claude/, .codex/, .gemini/, .windsurf/, .mcp.json */
	SH_AK_INSTRUCTIONS,  /* AGENTS.md, CLAUDE.md, ... */
	SH_AK_DIRENV,        /* .envrc */
	SH_AK_MISE,          /* .mise.toml, .tool-versions, .mise/ */
	SH_AK_NPM,           /* .npmrc */
	SH_AK_YARN,          /* .yarnrc(.yml), .pnp.cjs, .yarn/releases, .yarn/plugins */
	SH_AK_PNPM,          /* .pnpmfile.cjs */
	SH_AK_BUN,           /* bunfig.toml */
	SH_AK_CARGO,         /* .cargo/config(.toml) */
	SH_AK_PYTHON,        /* *.pth, sitecustomize.py, usercustomize.py in site-packages */
	SH_AK_UNAUDITED,     /* a directory the audit could not read */
	SH_AK_WORKDIR,       /* the workdir itself was replaced */
	SH_AK_COUNT
};

/* The kind of directory being read. */
enum sh_audit_zone {
	SH_AZ_PLAIN = 0,  /* ordinary directory: the name table applies */
	SH_AZ_SITEPKG,    /* .../site-packages or dist-packages */
	SH_AZ_ALL,        /* every non-directory below is recorded (with the zone's kind) */
	SH_AZ_CARGO,      /* .cargo/ */
	SH_AZ_YARN,       /* .yarn/ */
	SH_AZ_GITDIR,     /* a .git directory, or modules/<x>, worktrees/<x> inside one */
	SH_AZ_GITINFO,    /* .git/info/ */
	SH_AZ_GITOBJ,     /* .git/objects/ (only info/ is descended) */
	SH_AZ_GITOBJINFO, /* .git/objects/info/ */
	SH_AZ_VENDOR,     /* node_modules/: only nested repos and Python startup files */
	SH_AZ_GITSUBS,    /* <gitdir>/worktrees/: every subdirectory is a git dir */
	SH_AZ_GITMODS,    /* <gitdir>/modules/: every subdirectory is a submodule's
			   * git dir, or a step of a submodule name with '/' */
	SH_AZ_GITMODDIR,  /* such a subdirectory: a git dir whose subdirectories
			   * of any name (config, refs, logs...) may be more steps */
};

/* Entry types the rules distinguish (from d_type or st_mode). */
enum sh_audit_etype { SH_AE_DIR, SH_AE_LNK, SH_AE_OTHER };

struct sh_audit_class {
	uint8_t kind;       /* enum sh_audit_kind; SH_AK_NONE: not recorded */
	bool gitconfig;     /* content is git-config syntax worth parsing */
	bool descend;       /* a directory to walk */
	uint8_t zone;       /* its zone, when descend */
	uint8_t zone_kind;  /* its kind, when zone is SH_AZ_ALL */
};

/* Classify entry `name` of type t inside a directory of zone z (zone_kind is
 * the kind that SH_AZ_ALL records with).  at_root: the directory is the
 * workdir itself. */
void sh_audit_classify(uint8_t z, uint8_t zone_kind, bool at_root, const char *name,
		       enum sh_audit_etype t, struct sh_audit_class *out);

/* Short name ("git-hook") and a one-line reason the kind matters. */
const char *sh_audit_kind_name(unsigned kind);
const char *sh_audit_kind_why(unsigned kind);

#endif
