/* Error contract shared by every layer.
 *
 * Library functions return 0 (or a non-negative value) on success and -1 on
 * failure, after filling a caller-owned struct sh_err.  On success the error is
 * left untouched.  Only main() (and the post-fork child) turns an error into an
 * exit status, using sh_err.exit_code. */
#ifndef SH_ERR_H
#define SH_ERR_H

#include <stddef.h>

/* Exit statuses, as documented in safehouse(1). */
enum sh_exit {
	SH_EXIT_OK = 0,
	SH_EXIT_USAGE = 1,     /* validation error: bad flag, bad path, bad config */
	SH_EXIT_PROFILE = 65,  /* profile compile error (EX_DATAERR) */
	SH_EXIT_SETUP = 125,   /* the sandbox could not be set up */
	SH_EXIT_NOEXEC = 126,  /* command found but not executable */
	SH_EXIT_NOTFOUND = 127 /* command not found */
};

struct sh_err {
	int exit_code;  /* enum sh_exit */
	int errnum;     /* errno of the failing call, or 0 */
	char msg[1024]; /* complete message, without program name or newline */
	char hint[512]; /* optional "hint:" line, empty if none */
};

/* Fill *e and return -1.  errnum != 0 appends ": strerror(errnum)". */
__attribute__((format(printf, 4, 5)))
int sh_fail(struct sh_err *e, int exit_code, int errnum, const char *fmt, ...);

/* Set the hint of an already-filled error; returns -1 for chaining. */
__attribute__((format(printf, 2, 3)))
int sh_hint(struct sh_err *e, const char *fmt, ...);

/* Prefix the existing message with more context: "ctx: old message". */
__attribute__((format(printf, 2, 3)))
int sh_err_prefix(struct sh_err *e, const char *fmt, ...);

/* Print "safehouse: msg" and, if any, "safehouse: hint: ..." to stderr. */
void sh_err_report(const struct sh_err *e);

/* Diagnostics that do not stop the run. */
__attribute__((format(printf, 1, 2)))
void sh_warn(const char *fmt, ...);

#endif
