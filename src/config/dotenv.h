/* Parser for --env=FILE (dotenv syntax).  Upstream Agent Safehouse *sources*
 * the file with bash; we parse it, so a file can never run code.
 *
 * Syntax, one assignment per line:
 *   # comment                      blank lines and comment lines are skipped
 *   KEY=value                      unquoted: surrounding blanks trimmed; a '#'
 *                                  preceded by a blank starts a comment
 *   export KEY=value               optional "export " prefix
 *   KEY = value                    blanks around '=' are tolerated
 *   KEY='literal $x \n'            single quotes: everything literal, may span
 *                                  lines
 *   KEY="a\"b\\c\$d\n"             double quotes: \n \" \\ \$ (and \`) are
 *                                  escapes, other backslashes stay literal;
 *                                  may span lines
 * Keys match [A-Za-z_][A-Za-z0-9_]*.  After a closing quote only blanks and
 * a '#' comment may follow.  CRLF line ends are accepted.
 *
 * There is NO variable expansion and NO command substitution: "$HOME",
 * "${X}" and "$(cmd)" are kept verbatim.  That is deliberate (a file must not
 * be able to read the host environment or run anything); document it to
 * users who expect shell semantics.
 *
 * Keys starting with SAFEHOUSE_ are ignored (they would let a file steer
 * safehouse itself inside nested runs) and reported in `ignored`.
 * A key given twice keeps the last value, in the position of the first. */
#ifndef SH_DOTENV_H
#define SH_DOTENV_H

#include <stddef.h>

#include "util/err.h"
#include "util/str.h"

#define SH_DOTENV_MAX_SIZE (1024 * 1024)

struct sh_dotenv {
	struct sh_strv vars;    /* "KEY=VALUE", file order, unique keys */
	struct sh_strv ignored; /* ignored keys (SAFEHOUSE_*), unique, file order */
};

/* Parse buf[0..len) (need not be NUL-terminated) and append to *d (a later
 * parse overrides earlier keys).  origin names the source in messages.
 * Errors (SH_EXIT_USAGE), all "ORIGIN:LINE: ...":
 *   "expected KEY=VALUE"           missing '=', bad key, "export" alone
 *   "unterminated single quote" / "unterminated double quote"
 *   "unexpected text after closing quote"
 *   "NUL byte in file"
 * On error *d may hold the assignments of the lines before the bad one; the
 * caller frees it with sh_dotenv_free either way. */
int sh_dotenv_parse(struct sh_dotenv *d, const char *buf, size_t len, const char *origin,
		    struct sh_err *e);

/* Read and parse a file.  Refuses anything but a regular file (a FIFO or a
 * device would block or never end) and files over SH_DOTENV_MAX_SIZE.
 * Symlinks are followed: the path comes from the user's command line. */
int sh_dotenv_load(struct sh_dotenv *d, const char *path, struct sh_err *e);

/* Value of key, or NULL.  Points into *d. */
const char *sh_dotenv_get(const struct sh_dotenv *d, const char *key);

void sh_dotenv_free(struct sh_dotenv *d);

/* Shared by envbuild: [A-Za-z_][A-Za-z0-9_]* over s[0..n). */
bool sh_env_name_valid(const char *s, size_t n);

#endif
