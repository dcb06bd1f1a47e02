/* The Linux launcher: applies a plan and runs the command.  Linux-only. */
#ifndef SH_SANDBOX_H
#define SH_SANDBOX_H

#include "plan/plan.h"
#include "util/err.h"

/* Run plan->argv under the plan.  Returns the command's exit status
 * (0-255; 128+N when killed by signal N), or -1 with *e filled (exit_code
 * SH_EXIT_SETUP, message naming the step that failed) when the sandbox could
 * not be set up.  126/127 when the command is not executable / not found. */
int sh_sandbox_exec(const struct sh_plan *plan, struct sh_err *e);

#endif
