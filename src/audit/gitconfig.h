/* Find the keys of a git config file that make git run a program, load
 * another file or fetch from somewhere else.
 *
 * Pure.  The grammar follows git's own config.c (git_parse_source,
 * get_base_var, get_extended_base_var, get_value, parse_value), so that
 * what git would read as "core.fsmonitor" is read the same way here: a key on
 * the header line ("[core] fsmonitor = x"), legacy "[core.x]" headers,
 * quotes, escapes, comments and backslash-newline continuations.  Where this
 * parser rejects input, the caller treats the file as suspicious, never as
 * clean. */
#ifndef SH_AUDIT_GITCONFIG_H
#define SH_AUDIT_GITCONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "util/str.h"

/* Append one "section[.subsection].key=value" string per risky key of buf to
 * *keys (section and key lowercased as git does; the value is raw and may
 * hold any byte but NUL: escape it before printing).  gitmodules: the file
 * is a .gitmodules (submodule URLs count as risky there).
 * Returns 0, or -1 if buf is not valid git config (keys found before the
 * error are kept). */
int sh_audit_gitconfig_keys(const char *buf, size_t len, bool gitmodules, struct sh_strv *keys);

/* True if "section.sub.key" (as git names it) with this value runs a program
 * or redirects git elsewhere. */
bool sh_audit_gitconfig_risky(const char *var, const char *value, bool gitmodules);

#endif
