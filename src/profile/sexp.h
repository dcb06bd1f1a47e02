/* S-expression reader for the profile language (the SBPL subset).
 *
 * The reader knows nothing about forms: it turns text into a tree of lists
 * and atoms, each carrying the 1-based line and column where it starts, so
 * the compiler can say exactly where a problem is.  Input is untrusted (user
 * overlays, fuzzing): nesting depth and input size are bounded, and every
 * syntax error names what was expected at a SOURCE:LINE:COL position. */
#ifndef SH_SEXP_H
#define SH_SEXP_H

#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

/* Deeper nesting than this is an error: the reader and the compiler recurse. */
#define SH_SEXP_MAX_DEPTH 64
/* Larger sources are refused: real profiles are a few kilobytes. */
#define SH_SEXP_MAX_INPUT ((size_t)4 << 20)

enum sh_sexp_kind {
	SH_SX_LIST,
	SH_SX_SYMBOL, /* text: the name as written */
	SH_SX_STRING, /* text: the string with escapes resolved (never holds NUL) */
	SH_SX_REGEX,  /* text: the body of #"..." verbatim, except \" -> " */
	SH_SX_INT,    /* num */
	SH_SX_BOOL,   /* truth: #t / #f */
};

struct sh_sexp {
	enum sh_sexp_kind kind;
	int line, col; /* 1-based; col counts bytes */
	char *text;
	long long num;
	bool truth;
	struct sh_sexp *items; /* SH_SX_LIST */
	size_t n;
};

/* Read every top-level expression of text[0..len) into *root, a SH_SX_LIST
 * at 1:1.  `source` names the text in diagnostics.  Returns 0, or -1 with
 * e->exit_code = SH_EXIT_PROFILE and e->msg = "SOURCE:LINE:COL: ..."; on
 * failure *root is left empty (sh_sexp_free on it is harmless). */
int sh_sexp_read(const char *source, const char *text, size_t len, struct sh_sexp *root,
		 struct sh_err *e);

/* Free the members of x (not x itself) and zero it. */
void sh_sexp_free(struct sh_sexp *x);

/* Deep copy of src into *dst. */
void sh_sexp_copy(struct sh_sexp *dst, const struct sh_sexp *src);

/* Print x back as profile text on one line (strings re-quoted with
 * sh_sbpl_quote's rules).  Returns a new string. */
char *sh_sexp_print(const struct sh_sexp *x);

/* "a list", "a symbol", "a string", ...: for messages like "expected a
 * string, got a list". */
const char *sh_sexp_kind_name(enum sh_sexp_kind k);

#endif
