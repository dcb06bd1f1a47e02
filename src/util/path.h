/* Path helpers: tilde expansion, canonicalisation with user-facing errors,
 * joining, containment tests and validated path lists ("P1:P2").
 *
 * Every returned char * is heap-allocated and owned by the caller (free()).
 * Functions taking a struct sh_err follow util/err.h: 0 on success, -1 after
 * filling *e. */
#ifndef SH_PATH_H
#define SH_PATH_H

#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"
#include "util/str.h"

/* "~" -> home, "~/x" -> home/x.  Anything else (including "~user", which we
 * deliberately do not resolve) is returned as a copy.  A NULL or empty home
 * also leaves the path unchanged, so the later existence check fails with a
 * message naming the literal path.  Never returns NULL. */
char *sh_path_expand_tilde(const char *path, const char *home);

/* realpath() with clear errors.  On success *out is the canonical absolute
 * path (caller frees).  Errors (SH_EXIT_USAGE):
 *   empty path                -> "empty path"
 *   control characters        -> "path contains control characters"
 *                                (the path is not echoed: it could carry
 *                                terminal escapes)
 *   ENOENT / ENOTDIR          -> "'P' does not exist"
 *   anything else             -> "cannot resolve 'P': strerror" */
int sh_path_canon(const char *path, char **out, struct sh_err *e);

/* a + "/" + b without doubled slashes: ("/", "x") -> "/x", ("/a/", "/b") ->
 * "/a/b", ("", "x") -> "x", ("a", "") -> "a".  Never returns NULL. */
char *sh_path_join(const char *a, const char *b);

/* Component-wise containment: true if path == dir or path lies below dir.
 * "/a/bc" is NOT under "/a/b".  dir "/" contains every absolute path.
 * Trailing slashes on either side are ignored.  Both should be canonical:
 * no "..", "." or symlink resolution is done here. */
bool sh_path_is_under(const char *path, const char *dir);

/* Lexical parent: "/a/b" -> "/a", "/a" -> "/", "/" -> "/", "a/b/" -> "a",
 * "a" -> ".".  Never returns NULL. */
char *sh_path_parent(const char *path);

/* One user-supplied path, resolved like a sh_pathlist_add entry but NOT
 * split on ':' (use it for paths that are already single paths, e.g.
 * worktree grants): "~" expanded with home, relative paths taken from base
 * (or the current directory), canonicalised, must exist.  *canon is
 * caller-owned; *is_dir tells a directory from anything else.  Errors as
 * sh_path_canon. */
int sh_path_resolve(const char *path, const char *home, const char *base, char **canon,
		    bool *is_dir, struct sh_err *e);

/* A validated, canonical list of user-supplied paths. */
struct sh_pathlist {
	struct sh_strv paths; /* canonical absolute paths, de-duplicated, in order */
	bool *is_dir;         /* is_dir[i] for paths.v[i]: directory (subtree grant)
			       * or anything else (single-file grant) */
	size_t cap;           /* allocated length of is_dir */
};

/* Split spec on ':' (empty fields skipped), expand "~" with home, resolve
 * relative entries against base (or the current directory when base is
 * NULL), require existence, canonicalise, and append each path not already
 * present to *pl.  Callable repeatedly (repeatable flags).  All-or-nothing:
 * on error *pl is unchanged.  what names the source for messages
 * ("--add-dirs", ".safehouse:3 add-dirs"); errors are
 * "WHAT: 'P' does not exist" etc. (SH_EXIT_USAGE). */
int sh_pathlist_add(struct sh_pathlist *pl, const char *spec, const char *home,
		    const char *base, const char *what, struct sh_err *e);
void sh_pathlist_free(struct sh_pathlist *pl);

/* Shared file reader: reads a regular file of at most max bytes into a
 * NUL-terminated heap buffer (*out, *len).  open_flags are OR-ed into
 * O_RDONLY|O_CLOEXEC|O_NOCTTY|O_NONBLOCK (pass O_NOFOLLOW for
 * attacker-controlled locations).
 * Returns 0, or -1 with errors "cannot open 'P'", "'P' is a symbolic link"
 * (ELOOP under O_NOFOLLOW), "'P' is not a regular file",
 * "'P' is too large (max N bytes)".  ENOENT is reported with
 * errnum == ENOENT so callers can treat absence specially. */
int sh_read_small_file(const char *path, int open_flags, size_t max, char **out, size_t *len,
		       struct sh_err *e);

/* Create base/rel and its missing parents with mode (like mkdir -p), where
 * rel is relative ("/.codex" and ".codex" alike).  Never follows a symlink:
 * each component is opened with O_NOFOLLOW relative to its parent, so a
 * symlink planted at any level stops the walk with an error.  ".." and
 * control characters are refused.  0 on success (also when it existed). */
int sh_mkdirs_beneath(const char *base, const char *rel, unsigned mode, struct sh_err *e);

#endif
