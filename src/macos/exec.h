/* Running a command on macOS: sandbox-exec(1) with the rendered SBPL policy.
 * Compiled only on macOS (the Makefile excludes src/macos/ elsewhere). */
#ifndef SH_MACOS_EXEC_H
#define SH_MACOS_EXEC_H

#include "cli/context.h"
#include "policy/assemble.h"
#include "util/err.h"

/* Write policy to a private temp file (mode 0600, in the caller's $TMPDIR,
 * which on macOS is the per-user /var/folders/.../T), run
 *   /usr/bin/sandbox-exec -f FILE -- argv...
 * with exactly envp as the environment, wait for it, remove the file.
 * Returns the command's exit status (128+N when killed by signal N), or -1
 * with *e filled (SH_EXIT_SETUP) when the sandbox could not be started.
 * While waiting, SIGINT/SIGQUIT are ignored (the terminal delivers them to
 * the command too) and SIGTERM/SIGHUP are forwarded to the command. */
int sh_macos_exec(const char *policy, char *const *argv, char *const *envp, struct sh_err *e);

/* The CLI's "run" on macOS: build the child environment from the context
 * (same rules as on Linux: config/envbuild.h), split the leading NAME=VALUE
 * words off the command, and sh_macos_exec() the rest. */
int sh_macos_run(const struct sh_context *c, const struct sh_assembly *a, const char *policy,
		 struct sh_err *e);

#endif
