/* A private host directory for one session's host-side files (the keychain
 * proxy's socket, the X11 session authority), bound into the sandbox one
 * file at a time and gone when the session ends.
 *
 * Created with mkdtemp (mode 0700) under $XDG_RUNTIME_DIR when that really
 * is the user's own directory (else /tmp).  A small guardian process, a
 * child of the launcher in its own session, holds the read end of a pipe
 * only the launcher can write: at the end of the session, or when the
 * launcher dies (even by SIGKILL), it sees EOF, empties the directory and
 * removes it.  sh_sessdir_remove() waits for that and does it again itself
 * (fallback mode's orphan sweep kills the guardian). */
#ifndef SH_CLI_SESSDIR_H
#define SH_CLI_SESSDIR_H

#include <stdbool.h>
#include <sys/types.h>

#include "plan/plan.h"
#include "util/err.h"

struct sh_sessdir {
	char *path;     /* canonical, or NULL */
	pid_t guardian; /* or -1 */
	int life_w;     /* the launcher's end of the guardian's pipe, or -1 */
};

void sh_sessdir_init(struct sh_sessdir *s);
/* tag names the directory: "<base>/safehouse-<tag>-XXXXXX".  The caller
 * must be single-threaded. */
int sh_sessdir_create(struct sh_sessdir *s, const char *tag, struct sh_err *e);
/* path/name (malloc'd). */
char *sh_sessdir_file(const struct sh_sessdir *s, const char *name);
/* Stop the guardian, remove the directory and what it holds.  Idempotent. */
void sh_sessdir_remove(struct sh_sessdir *s);

/* Make the host file or socket path (in a session directory) visible at the
 * same path inside: a bind (with namespaces) and a Landlock rule.  why is
 * a static string naming it for --print-plan. */
void sh_sessdir_bind(struct sh_plan *plan, const char *path, bool writable, const char *why);

/* Set NAME=VALUE in the plan's environment, replacing any NAME; value NULL
 * removes NAME. */
void sh_plan_env_put(struct sh_plan *plan, const char *name, const char *value);

#endif
