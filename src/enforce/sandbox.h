/* The Linux launcher: applies a plan and runs the command.  Linux-only. */
#ifndef SH_SANDBOX_H
#define SH_SANDBOX_H

#include <stdbool.h>

#include "plan/plan.h"
#include "util/err.h"

/* Run plan->argv under the plan.  Returns the command's exit status
 * (0-255; 128+N when killed by signal N), or -1 with *e filled when the
 * command could not be started:
 *   e->exit_code SH_EXIT_SETUP (125): the sandbox could not be set up; the
 *     message names the step ("mount: ...", "landlock: ...", "chdir: ...");
 *   SH_EXIT_NOEXEC (126): found but not executable (EACCES, ENOEXEC, ...);
 *   SH_EXIT_NOTFOUND (127): not found (argv[0] without '/' is searched in
 *     PATH from plan->envp, inside the sandbox's view).
 * The caller reports *e and exits with e->exit_code.
 *
 * Requirements: plan->argv and plan->envp non-NULL (argv[0] non-NULL); the
 * caller is single-threaded.  The calling process is hardened for good
 * (sh_harden_self: not dumpable, no core files); everything else it changes
 * for the duration (terminal mode, signal mask and dispositions of SIGPIPE
 * and SIGCHLD) is restored before returning. */
int sh_sandbox_exec(const struct sh_plan *plan, struct sh_err *e);

struct sh_sandbox_opts {
	int landlock_min_abi; /* refuse to run on an older Landlock ABI (default 1) */
};

void sh_sandbox_opts_init(struct sh_sandbox_opts *o);
int sh_sandbox_exec_opts(const struct sh_plan *plan, const struct sh_sandbox_opts *o,
			 struct sh_err *e);

/* Start the sandbox's init and its namespaces early, so that their set-up
 * overlaps the caller's own work (configuration, planning):
 *   sh_sandbox_prestart()      as soon as it is known that a command will
 *                              run (the earlier, the less memory init
 *                              shares copy-on-write with the caller), with
 *                              the likely network mode: unless it is FULL,
 *                              init makes its network namespace at once;
 *   sh_sandbox_prestart_net()  once the plan's network mode is known
 *                              (another than the likely one, private or
 *                              the host's, gets a new init);
 *   sh_sandbox_exec*()         uses it (a plan of another network mode gets
 *                              a new one), or starts one itself.
 * A failure is kept and reported by sh_sandbox_exec*(), so the caller may
 * ignore these return values.  Call sh_sandbox_prestart_cancel() when no
 * sh_sandbox_exec*() follows (a no-op when there is nothing to cancel).
 * sh_sandbox_prestart() hardens the caller (sh_harden_self).  Requirements
 * as for sh_sandbox_exec(). */
int sh_sandbox_prestart(enum sh_net_mode likely, struct sh_err *e);
int sh_sandbox_prestart_net(enum sh_net_mode net, struct sh_err *e);
void sh_sandbox_prestart_cancel(void);

/* True when *e (from sh_sandbox_exec) says the user namespace itself could
 * not be created: nothing ran, and the caller may choose fallback mode. */
bool sh_sandbox_err_is_userns(const struct sh_err *e);

#endif
