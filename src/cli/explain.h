/* --explain: one line per decision, on stderr. */
#ifndef SH_EXPLAIN_H
#define SH_EXPLAIN_H

#include <stdio.h>

#include "cli/context.h"
#include "policy/assemble.h"
#include "policy/policy.h"

void sh_explain(FILE *f, const struct sh_context *c, const struct sh_assembly *a,
		const struct sh_policy *p, const char *run_mode);

/* "file:line" of a rule, or "default (file:line)" for the default. */
void sh_explain_origin(FILE *f, const struct sh_policy *p, const struct sh_rule *r);

#endif
