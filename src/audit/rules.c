#include "audit/rules.h"

#include <string.h>

#include "util/str.h"

static const struct {
	const char *name, *why;
} kinds[SH_AK_COUNT] = {
	[SH_AK_NONE] = { "none", "" },
	[SH_AK_REPO] = { "git-repo", "a repository whose hooks and config run on the next git command" },
	[SH_AK_NESTED_REPO] = { "nested-repo",
				"a nested repository: its hooks and config run when git is used inside it, "
				"and carve-outs of the top-level .git do not cover it" },
	[SH_AK_GIT_HOOK] = { "git-hook", "runs on the next git command outside the sandbox" },
	[SH_AK_GIT_CONFIG] = { "git-config",
			       "names programs git runs (fsmonitor on every git status, pager, editor, "
			       "ssh, filters, aliases, includes)" },
	[SH_AK_GIT_POINTER] = { "git-pointer",
				"redirects git to another directory whose config and hooks then run" },
	[SH_AK_GIT_ATTR] = { "git-attributes",
			     "selects filter/diff/merge drivers, which run programs named in git config" },
	[SH_AK_GIT_ALT] = { "git-alternates", "makes git read objects from another repository" },
	[SH_AK_GITMODULES] = { "gitmodules",
			       "submodule URLs and update commands used by the next git submodule command" },
	[SH_AK_HOOK_MANAGER] = { "hook-manager",
				 "git hook manager config or hooks: runs on the next git commit" },
	[SH_AK_VSCODE] = { "vscode",
			   "VS Code workspace config: tasks can run on folder open, settings name "
			   "executables and auto-approve agent tools" },
	[SH_AK_IDEA] = { "idea", "JetBrains project config: run configurations and tool paths" },
	[SH_AK_DEVCONTAINER] = { "devcontainer",
				 "devcontainer commands (initializeCommand) run on the host" },
	[SH_AK_CURSOR] = { "cursor", "Cursor config: MCP servers and rules for the next agent session" },
	[SH_AK_AGENT] = { "agent-config",
			  "agent config: hooks and MCP servers run by the next agent session, possibly "
			  "unsandboxed" },
	[SH_AK_INSTRUCTIONS] = { "agent-instructions",
				 "instructions obeyed by the next agent session (prompt injection that "
				 "persists)" },
	[SH_AK_DIRENV] = { "direnv", "direnv runs it when a shell enters the directory (once allowed)" },
	[SH_AK_MISE] = { "mise", "mise/asdf hooks and env templates run when a shell enters the directory" },
	[SH_AK_NPM] = { "npmrc",
			"npm settings (node-options, script-shell, registry) apply to the next npm command" },
	[SH_AK_YARN] = { "yarn", "yarnPath, plugins and PnP loaders: the next yarn command runs this code" },
	[SH_AK_PNPM] = { "pnpmfile", "pnpm runs its hooks on the next install" },
	[SH_AK_BUN] = { "bunfig", "preload scripts run by the next bun command" },
	[SH_AK_CARGO] = { "cargo-config",
			  "cargo runners and rustc wrappers run on the next cargo command" },
	[SH_AK_PYTHON] = { "python-startup", "executed by every start of that Python interpreter" },
	[SH_AK_UNAUDITED] = { "unaudited", "could not be inspected: anything below it was not audited" },
	[SH_AK_WORKDIR] = { "workdir", "the workdir was replaced during the session" },
};

const char *sh_audit_kind_name(unsigned kind)
{
	return kind < SH_AK_COUNT ? kinds[kind].name : "unknown";
}

const char *sh_audit_kind_why(unsigned kind)
{
	return kind < SH_AK_COUNT ? kinds[kind].why : "";
}

/* Names that matter in any ordinary directory.  dir_zone != 0xff: a
 * directory of that name is walked with that zone (and dir_kind when the zone
 * is SH_AZ_ALL).  file: a non-directory of that name is recorded.  A symlink
 * at any listed name is always recorded: it may point anywhere. */
#define NOZONE 0xff
static const struct name_rule {
	const char *name;
	uint8_t kind;
	bool file;
	uint8_t dir_zone;
} plain_rules[] = {
	{ ".gitmodules", SH_AK_GITMODULES, true, NOZONE },
	{ ".gitattributes", SH_AK_GIT_ATTR, true, NOZONE },
	{ ".husky", SH_AK_HOOK_MANAGER, false, SH_AZ_ALL },
	{ ".githooks", SH_AK_HOOK_MANAGER, false, SH_AZ_ALL },
	{ ".pre-commit-config.yaml", SH_AK_HOOK_MANAGER, true, NOZONE },
	{ "lefthook.yml", SH_AK_HOOK_MANAGER, true, NOZONE },
	{ ".lefthook.yml", SH_AK_HOOK_MANAGER, true, NOZONE },
	{ "lefthook-local.yml", SH_AK_HOOK_MANAGER, true, NOZONE },
	{ ".lefthook-local.yml", SH_AK_HOOK_MANAGER, true, NOZONE },
	{ ".vscode", SH_AK_VSCODE, false, SH_AZ_ALL },
	{ ".idea", SH_AK_IDEA, false, SH_AZ_ALL },
	{ ".devcontainer", SH_AK_DEVCONTAINER, false, SH_AZ_ALL },
	{ ".devcontainer.json", SH_AK_DEVCONTAINER, true, NOZONE },
	{ ".cursor", SH_AK_CURSOR, false, SH_AZ_ALL },
	{ ".claude", SH_AK_AGENT, false, SH_AZ_ALL },
	{ ".codex", SH_AK_AGENT, false, SH_AZ_ALL },
	{ ".gemini", SH_AK_AGENT, false, SH_AZ_ALL },
	{ ".windsurf", SH_AK_AGENT, false, SH_AZ_ALL },
	{ ".mcp.json", SH_AK_AGENT, true, NOZONE },
	/* the project config of other agents safehouse has profiles for */
	{ ".opencode", SH_AK_AGENT, false, SH_AZ_ALL }, /* plugins/ load at start */
	{ "opencode.json", SH_AK_AGENT, true, NOZONE },
	{ "opencode.jsonc", SH_AK_AGENT, true, NOZONE },
	{ ".crush.json", SH_AK_AGENT, true, NOZONE },
	{ "crush.json", SH_AK_AGENT, true, NOZONE },
	{ ".aider.conf.yml", SH_AK_AGENT, true, NOZONE },
	{ ".aider.model.settings.yml", SH_AK_AGENT, true, NOZONE },
	{ ".qwen", SH_AK_AGENT, false, SH_AZ_ALL },
	{ ".kilocode", SH_AK_AGENT, false, SH_AZ_ALL },
	{ ".factory", SH_AK_AGENT, false, SH_AZ_ALL },
	{ ".augment", SH_AK_AGENT, false, SH_AZ_ALL },
	{ ".clinerules", SH_AK_INSTRUCTIONS, true, SH_AZ_ALL },
	{ ".goosehints", SH_AK_INSTRUCTIONS, true, NOZONE },
	{ "QWEN.md", SH_AK_INSTRUCTIONS, true, NOZONE },
	{ "copilot-instructions.md", SH_AK_INSTRUCTIONS, true, NOZONE },
	{ "AGENTS.md", SH_AK_INSTRUCTIONS, true, NOZONE },
	{ "AGENTS.override.md", SH_AK_INSTRUCTIONS, true, NOZONE },
	{ "CLAUDE.md", SH_AK_INSTRUCTIONS, true, NOZONE },
	{ "CLAUDE.local.md", SH_AK_INSTRUCTIONS, true, NOZONE },
	{ "GEMINI.md", SH_AK_INSTRUCTIONS, true, NOZONE },
	{ ".cursorrules", SH_AK_INSTRUCTIONS, true, NOZONE },
	{ ".windsurfrules", SH_AK_INSTRUCTIONS, true, NOZONE },
	{ ".envrc", SH_AK_DIRENV, true, NOZONE },
	{ ".tool-versions", SH_AK_MISE, true, NOZONE },
	{ ".mise.toml", SH_AK_MISE, true, NOZONE },
	{ "mise.toml", SH_AK_MISE, true, NOZONE },
	{ ".mise.local.toml", SH_AK_MISE, true, NOZONE },
	{ "mise.local.toml", SH_AK_MISE, true, NOZONE },
	{ ".rtx.toml", SH_AK_MISE, true, NOZONE },
	{ ".mise", SH_AK_MISE, false, SH_AZ_ALL },
	{ ".npmrc", SH_AK_NPM, true, NOZONE },
	{ ".yarnrc", SH_AK_YARN, true, NOZONE },
	{ ".yarnrc.yml", SH_AK_YARN, true, NOZONE },
	{ ".pnp.cjs", SH_AK_YARN, true, NOZONE },
	{ ".pnp.loader.mjs", SH_AK_YARN, true, NOZONE },
	{ ".yarn", SH_AK_YARN, false, SH_AZ_YARN },
	{ ".pnpmfile.cjs", SH_AK_PNPM, true, NOZONE },
	{ "bunfig.toml", SH_AK_BUN, true, NOZONE },
	{ ".bunfig.toml", SH_AK_BUN, true, NOZONE },
	{ ".cargo", SH_AK_CARGO, false, SH_AZ_CARGO },
	{ "node_modules", SH_AK_NONE, false, SH_AZ_VENDOR },
	{ "site-packages", SH_AK_PYTHON, false, SH_AZ_SITEPKG },
	{ "dist-packages", SH_AK_PYTHON, false, SH_AZ_SITEPKG },
};

/* Most names start with neither '.' nor one of these letters: one byte test
 * rejects them before any string compare. */
static bool maybe_plain(const char *name)
{
	switch (name[0]) {
	case '.': case 'A': case 'C': case 'G': case 'Q': case 'b': case 'c': case 'd': case 'l':
	case 'm': case 'n': case 'o': case 's':
		return true;
	default:
		return false;
	}
}

static void dir_into(struct sh_audit_class *out, uint8_t zone, uint8_t zone_kind)
{
	out->descend = true;
	out->zone = zone;
	out->zone_kind = zone_kind;
}

static void classify_plain(uint8_t z, bool at_root, const char *name, enum sh_audit_etype t,
			   struct sh_audit_class *out)
{
	if (strcmp(name, ".git") == 0) {
		out->kind = t == SH_AE_DIR ? (at_root ? SH_AK_REPO : SH_AK_NESTED_REPO)
					   : SH_AK_GIT_POINTER;
		if (t == SH_AE_DIR)
			dir_into(out, SH_AZ_GITDIR, 0);
		return;
	}
	if (z == SH_AZ_SITEPKG &&
	    (strcmp(name, "sitecustomize") == 0 || strcmp(name, "usercustomize") == 0 ||
	     strncmp(name, "sitecustomize.", 14) == 0 || strncmp(name, "usercustomize.", 14) == 0)) {
		/* the module in any form Python imports: .py, .pyc, an
		 * extension module, or a package directory */
		if (t == SH_AE_DIR)
			dir_into(out, SH_AZ_ALL, SH_AK_PYTHON);
		else
			out->kind = SH_AK_PYTHON;
		return;
	}
	if (z == SH_AZ_SITEPKG && t != SH_AE_DIR && sh_str_ends(name, ".pth")) {
		out->kind = SH_AK_PYTHON;
		return;
	}
	if (z == SH_AZ_CARGO && t != SH_AE_DIR &&
	    (strcmp(name, "config") == 0 || strcmp(name, "config.toml") == 0)) {
		out->kind = SH_AK_CARGO;
		return;
	}
	if (z == SH_AZ_YARN && (strcmp(name, "releases") == 0 || strcmp(name, "plugins") == 0)) {
		if (t == SH_AE_DIR)
			dir_into(out, SH_AZ_ALL, SH_AK_YARN);
		else
			out->kind = SH_AK_YARN;
		return;
	}
	if (z == SH_AZ_VENDOR) {
		/* Published packages ship .npmrc, .gitattributes, .vscode/ and
		 * AGENTS.md that nothing reads from there: an `npm install` must
		 * not fill the report.  Nested repositories (above) and Python
		 * startup files (site-packages below) still count. */
		if (t == SH_AE_DIR)
			dir_into(out, (strcmp(name, "site-packages") == 0 ||
				       strcmp(name, "dist-packages") == 0)
					      ? SH_AZ_SITEPKG
					      : SH_AZ_VENDOR,
				 0);
		return;
	}
	if (maybe_plain(name)) {
		for (size_t i = 0; i < sizeof(plain_rules) / sizeof(plain_rules[0]); i++) {
			const struct name_rule *r = &plain_rules[i];
			if (strcmp(name, r->name) != 0)
				continue;
			if (t == SH_AE_DIR && r->dir_zone != NOZONE) {
				dir_into(out, r->dir_zone, r->kind);
				return;
			}
			if (t == SH_AE_LNK || (t != SH_AE_DIR && r->file)) {
				out->kind = r->kind;
				out->gitconfig = r->kind == SH_AK_GITMODULES;
			}
			break;
		}
	}
	if (t == SH_AE_DIR && !out->descend)
		dir_into(out, SH_AZ_PLAIN, 0);
}

/* Inside a git directory.  refs/, logs/, lfs/, objects/<xx>/ and the like
 * hold data git never executes: they are not walked, so the normal churn
 * of git commands there costs nothing.  Unknown subdirectories are walked
 * as git directories.  worktrees/<id> and modules/<name> are git dirs
 * whatever their names: a worktree made as ../logs has the id "logs", a
 * submodule at third_party/config has its git dir at
 * modules/third_party/config, so below modules/ a directory named config,
 * refs or logs may be one more step of a name (SH_AZ_GITMODDIR). */
static void classify_git(uint8_t z, const char *name, enum sh_audit_etype t,
			 struct sh_audit_class *out)
{
	bool dir = t == SH_AE_DIR;

	switch ((enum sh_audit_zone)z) {
	case SH_AZ_GITSUBS:
		if (dir)
			dir_into(out, SH_AZ_GITDIR, 0);
		return;
	case SH_AZ_GITMODS:
		if (dir)
			dir_into(out, SH_AZ_GITMODDIR, 0);
		return;
	case SH_AZ_GITDIR:
	case SH_AZ_GITMODDIR:
		if (dir && strcmp(name, "modules") == 0) {
			dir_into(out, SH_AZ_GITMODS, 0);
		} else if (dir && strcmp(name, "worktrees") == 0) {
			dir_into(out, SH_AZ_GITSUBS, 0);
		} else if (dir && z == SH_AZ_GITMODDIR && strcmp(name, "hooks") != 0 &&
			   strcmp(name, "info") != 0 && strcmp(name, "objects") != 0) {
			dir_into(out, SH_AZ_GITMODDIR, 0);
		} else if (strcmp(name, "config") == 0 || strcmp(name, "config.worktree") == 0) {
			out->kind = dir ? SH_AK_NONE : SH_AK_GIT_CONFIG;
			out->gitconfig = !dir;
		} else if (strcmp(name, "commondir") == 0 || strcmp(name, "gitdir") == 0) {
			out->kind = dir ? SH_AK_NONE : SH_AK_GIT_POINTER;
		} else if (strcmp(name, "hooks") == 0) {
			if (dir)
				dir_into(out, SH_AZ_ALL, SH_AK_GIT_HOOK);
			else
				out->kind = t == SH_AE_LNK ? SH_AK_GIT_HOOK : SH_AK_NONE;
		} else if (strcmp(name, "info") == 0 || strcmp(name, "objects") == 0) {
			bool info = name[0] == 'i';
			if (dir)
				dir_into(out, info ? SH_AZ_GITINFO : SH_AZ_GITOBJ, 0);
			else if (t == SH_AE_LNK)
				out->kind = info ? SH_AK_GIT_ATTR : SH_AK_GIT_ALT;
		} else if (dir && strcmp(name, "refs") != 0 && strcmp(name, "logs") != 0 &&
			   strcmp(name, "lfs") != 0 && strcmp(name, "rr-cache") != 0) {
			dir_into(out, SH_AZ_GITDIR, 0);
		}
		return;
	case SH_AZ_GITINFO:
		if (!dir && strcmp(name, "attributes") == 0)
			out->kind = SH_AK_GIT_ATTR;
		else if (!dir && strcmp(name, "grafts") == 0)
			out->kind = SH_AK_GIT_POINTER;
		return;
	case SH_AZ_GITOBJ:
		if (strcmp(name, "info") == 0) {
			if (dir)
				dir_into(out, SH_AZ_GITOBJINFO, 0);
			else if (t == SH_AE_LNK)
				out->kind = SH_AK_GIT_ALT;
		}
		return;
	case SH_AZ_GITOBJINFO:
		if (!dir && (strcmp(name, "alternates") == 0 || strcmp(name, "http-alternates") == 0))
			out->kind = SH_AK_GIT_ALT;
		return;
	case SH_AZ_PLAIN:
	case SH_AZ_SITEPKG:
	case SH_AZ_ALL:
	case SH_AZ_CARGO:
	case SH_AZ_YARN:
	case SH_AZ_VENDOR:
	default:
		return;
	}
}

void sh_audit_classify(uint8_t z, uint8_t zone_kind, bool at_root, const char *name,
		       enum sh_audit_etype t, struct sh_audit_class *out)
{
	memset(out, 0, sizeof(*out));
	switch ((enum sh_audit_zone)z) {
	case SH_AZ_ALL:
		if (strcmp(name, ".git") == 0) {
			classify_plain(SH_AZ_PLAIN, false, name, t, out);
		} else if (t == SH_AE_DIR) {
			dir_into(out, SH_AZ_ALL, zone_kind);
		} else if (!(zone_kind == SH_AK_GIT_HOOK && sh_str_ends(name, ".sample"))) {
			/* git never runs "<hook>.sample" */
			out->kind = zone_kind;
		}
		return;
	case SH_AZ_PLAIN:
	case SH_AZ_SITEPKG:
	case SH_AZ_CARGO:
	case SH_AZ_YARN:
	case SH_AZ_VENDOR:
		classify_plain(z, at_root, name, t, out);
		return;
	case SH_AZ_GITDIR:
	case SH_AZ_GITINFO:
	case SH_AZ_GITOBJ:
	case SH_AZ_GITOBJINFO:
	case SH_AZ_GITSUBS:
	case SH_AZ_GITMODS:
	case SH_AZ_GITMODDIR:
		classify_git(z, name, t, out);
		return;
	default:
		return;
	}
}
