/* Launch-time expansion of prefix and regex path filters over what exists on
 * the host, so the planner can give each matching path its own decision.
 *
 * Bounded by construction: a prefix lists one directory; a regex walks from
 * the directory of its literal leading part, at most max_depth levels and
 * max_entries directory entries, never through symlinks, and only into
 * directories that can still lead to a match of the literal part. */
#ifndef SH_PLAN_EXPAND_H
#define SH_PLAN_EXPAND_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>

#include "policy/policy.h" /* sh_regex_literal_prefix */
#include "util/str.h"

/* Split an ERE into its top-level alternatives ("a|b(c|d)" -> "a", "b(c|d)"),
 * respecting parentheses, brackets and escapes. */
void sh_regex_split_alternatives(const char *src, struct sh_strv *out);

/* Directory listings read once per plan (profiles list the same
 * directories for several prefixes: /etc for /etc/java and /etc/python). */
struct sh_dircache {
	struct sh_dirlist *v;
	size_t n, cap;
};
void sh_dircache_free(struct sh_dircache *c);
/* Whether dir, listed once (at most max entries) and cached in c, has an
 * entry called name: 1 yes, 0 no, -1 cannot tell (dir unreadable, or more
 * than max entries). */
int sh_dircache_has(struct sh_dircache *c, const char *dir, const char *name, size_t max);

/* List the directory part of `prefix` and push every entry whose full path
 * starts with prefix.  At most max_entries entries are examined (*capped set
 * when the limit was hit).  Returns the number of paths pushed.  cache may
 * be NULL. */
size_t sh_expand_prefix(const char *prefix, size_t max_entries, struct sh_strv *out,
			bool *capped, struct sh_dircache *cache);

/* Push every existing path that `re` (compiled from `src`) matches, searching
 * from the directory of the literal part of each anchored alternative.
 * Unanchored alternatives are searched below unanchored_root when it is not
 * NULL (the workdir), else skipped.  *entries counts examined directory
 * entries across calls; the walk stops once it reaches max_entries (*capped
 * set).  Returns the number of paths pushed. */
size_t sh_expand_regex(const char *src, const regex_t *re, const char *unanchored_root,
		       size_t max_entries, int max_depth, size_t *entries, struct sh_strv *out,
		       bool *capped);

#endif
