/* Placeholder until the Linux enforcement lands: fail closed, never run
 * anything unsandboxed. */
#include "cli/run.h"

int sh_run_command(const struct sh_context *c, const struct sh_assembly *a,
		   const struct sh_policy *p, struct sh_err *e)
{
	(void)c;
	(void)a;
	(void)p;
	return sh_fail(e, SH_EXIT_SETUP, 0, "running commands is not available in this build yet; "
		       "use --stdout, --explain or why");
}

int sh_run_print_plan(const struct sh_context *c, const struct sh_assembly *a,
		      const struct sh_policy *p, struct sh_err *e)
{
	(void)c;
	(void)a;
	(void)p;
	return sh_fail(e, SH_EXIT_SETUP, 0, "--print-plan is not available in this build yet");
}

int sh_run_doctor(struct sh_err *e)
{
	return sh_fail(e, SH_EXIT_SETUP, 0, "doctor is not available in this build yet");
}
