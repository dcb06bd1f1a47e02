/* Running a command under the compiled policy (Linux: plan + sandbox). */
#ifndef SH_RUN_H
#define SH_RUN_H

#include "cli/context.h"
#include "policy/assemble.h"
#include "policy/policy.h"
#include "util/err.h"

/* Returns the command's exit status, or -1 with *e filled. */
int sh_run_command(const struct sh_context *c, const struct sh_assembly *a,
		   const struct sh_policy *p, struct sh_err *e);
/* Start the sandbox's init early (enforce/sandbox.h: sh_sandbox_prestart),
 * when a command is going to run; cancel it when none did. */
void sh_run_prestart(const struct sh_options *o);
void sh_run_prestart_cancel(void);
/* --print-plan: print the enforcement plan; returns 0 or -1. */
int sh_run_print_plan(const struct sh_context *c, const struct sh_assembly *a,
		      const struct sh_policy *p, struct sh_err *e);
/* safehouse doctor: returns 0 only when full mode is available. */
int sh_run_doctor(struct sh_err *e);

#endif
