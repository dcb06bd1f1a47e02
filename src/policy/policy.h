/* The compiled policy: an ordered list of allow/deny rules.
 *
 * This is the single source of truth.  The profile compiler (profile/) fills it
 * from SBPL text; the evaluator (policy/eval.h) answers "(operation, path) ->
 * decision + deciding rule"; the renderer prints it back; the planner
 * (plan/) compiles it into mounts, Landlock rules and a seccomp filter.
 *
 * Semantics (as in SBPL): for one operation on one object the LAST matching
 * rule decides; if none matches, the default (from "(deny default)" or
 * "(allow default)"; deny if neither) decides.  Several filters in one rule
 * are alternatives (OR).  A rule with no filter matches every object. */
#ifndef SH_POLICY_H
#define SH_POLICY_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>

#include "util/str.h"

enum sh_action { SH_DENY = 0, SH_ALLOW = 1 };

enum sh_filter_kind {
	SH_F_LITERAL,     /* arg: exact absolute path */
	SH_F_SUBPATH,     /* arg: the path and everything below it */
	SH_F_PREFIX,      /* arg: string prefix of the path */
	SH_F_REGEX,       /* arg: POSIX ERE source; re: compiled */
	SH_F_REQUIRE_ALL, /* children: all must match */
	SH_F_REQUIRE_ANY, /* children: one must match */
	SH_F_REQUIRE_NOT, /* children[0] must not match */
	SH_F_REMOTE,      /* network destination: net_kind + arg */
	SH_F_LOCAL,       /* local network endpoint: net_kind + arg */
	SH_F_OTHER,       /* a filter with no Linux meaning (vnode-type, global-name,
			   * extension, ...): kept verbatim in raw for macOS */
};

/* For SH_F_REMOTE / SH_F_LOCAL. */
enum sh_net_kind {
	SH_NET_IP,          /* arg "host:port": host is "*" or "localhost"; port number or "*" */
	SH_NET_TCP,
	SH_NET_UDP,
	SH_NET_UNIX_SOCKET, /* children[0] is the path filter (path-literal -> SH_F_LITERAL, ...) */
	SH_NET_DOMAIN,      /* safehouse extension: arg "name:port", name may be "*.example.com";
			     * enforced by the filtering proxy, see docs/profiles.md */
};

struct sh_filter {
	enum sh_filter_kind kind;
	enum sh_net_kind net_kind; /* SH_F_REMOTE / SH_F_LOCAL only */
	char *arg;                 /* path / regex source / address, already string-evaluated */
	regex_t *re;               /* SH_F_REGEX: compiled, owned */
	char *lit;                 /* SH_F_REGEX: what every match starts with, or NULL */
	size_t litlen;
	struct sh_filter *children;
	size_t nchildren;
	char *raw;                 /* SH_F_OTHER: the source s-expression text */
	int line, col;
};

/* Where a rule, definition or diagnostic came from. */
struct sh_origin {
	const char *source; /* e.g. "60-agents/codex.sb", "<cli --add-dirs>", "/home/a/extra.sb";
			     * owned by the policy's source table, valid as long as the policy */
	int line, col;
};

struct sh_rule {
	enum sh_action action;
	char **ops;  /* operation names as written: "file-read*", "network-outbound", ... */
	size_t nops;
	struct sh_filter *filters;
	size_t nfilters;
	struct sh_origin origin;
	/* Set by the compiler: true if at least one op has a Linux meaning; rules
	 * that are entirely macOS-only are kept (for rendering) but reported by
	 * --explain as "ignored on Linux". */
	bool linux_meaningful;
};

struct sh_policy {
	struct sh_rule *rules;
	size_t nrules, cap;
	enum sh_action default_action; /* from (deny default)/(allow default); SH_DENY if absent */
	struct sh_origin default_origin; /* where the default was set; source NULL if never */
	int version;                   /* from (version N); 0 if absent */
	/* Interned source names, owned; struct sh_origin.source points into these. */
	char **sources;
	size_t nsources, sources_cap;
};

void sh_policy_init(struct sh_policy *p);
void sh_policy_free(struct sh_policy *p);
/* Intern a source name; the result lives as long as the policy. */
const char *sh_policy_source(struct sh_policy *p, const char *name);
/* Append a rule; takes ownership of its members. */
void sh_policy_add(struct sh_policy *p, const struct sh_rule *r);
void sh_filter_free(struct sh_filter *f); /* frees members, not f itself */

/* ---- operations ---- */

/* Classification of an operation name. */
enum sh_op_class {
	SH_OP_UNKNOWN = 0, /* not an SBPL operation we know: a compile error */
	SH_OP_LINUX,       /* has a Linux meaning (file-*, process-exec/fork, signal, network-*, ...) */
	SH_OP_MACOS_ONLY,  /* valid SBPL, no Linux meaning (mach-*, iokit-*, user-preference-*, ...) */
};
enum sh_op_class sh_op_classify(const char *op);

/* True if the rule operation `rule_op` (which may be a wildcard such as
 * "file-read*", "file*", "network*", "default") covers the concrete query
 * operation `query_op` (e.g. "file-read-data"). */
bool sh_op_covers(const char *rule_op, const char *query_op);

/* ---- evaluation ---- */

struct sh_verdict {
	enum sh_action action;
	const struct sh_rule *rule; /* deciding rule, or NULL when the default decided */
};

/* Decide query_op (a concrete operation like "file-read-data",
 * "file-write-data", "process-exec", "file-read-metadata") on an absolute,
 * normalised path.  Pure. */
struct sh_verdict sh_policy_check(const struct sh_policy *p, const char *query_op,
				  const char *path);

/* Does filter f match path?  (Path filters and require-* combinations; network
 * and macOS-only filters never match a path.) */
bool sh_filter_matches_path(const struct sh_filter *f, const char *path);
/* The literal text every match of the anchored ERE branch `src` must start
 * with: "^/home/u/\\.config/(a|b)" -> "/home/u/.config/".  A character
 * followed by '*', '?' or '{' is not part of it; one followed by '+' is.
 * NULL if the branch is not anchored with '^'.  Returns a new string. */
char *sh_regex_literal_prefix(const char *src);
/* The same for a whole regex: what every match of src begins with, or NULL
 * when nothing can be told (not anchored, a top-level alternative, no
 * literal).  Lets matchers skip regexec for paths that cannot match. */
char *sh_regex_match_prefix(const char *src);
/* Push to out the literal runs of src's top level (outside groups and
 * bracket expressions, none made optional by a quantifier), at least two
 * bytes each: text every match of src contains.  false, with nothing pushed,
 * when src has a top-level alternative or cannot be read.  Lets a walk skip
 * regexec for paths that cannot match ("/.git/" in the nested-repository
 * rule). */
bool sh_regex_required_literals(const char *src, struct sh_strv *out);

#endif
