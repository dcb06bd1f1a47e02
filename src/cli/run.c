/* Running a command under the compiled policy on Linux: decide the network
 * mode, compile the plan, build the child's environment, harden the launcher
 * and hand over to the sandbox.  Fail closed: nothing runs unsandboxed. */
#include "cli/run.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/envbuild.h"
#include "enforce/harden.h"
#include "enforce/hostcheck.h"
#include "enforce/sandbox.h"
#include "enforce/seccomp.h"
#include "plan/plan.h"
#include "policy/net.h"

extern char **environ;

/* Split the words after the options into NAME=VALUE assignments and argv. */
static void split_command(const struct sh_options *o, struct sh_strv *assign, int *first)
{
	int i = 0;
	while (i < o->argc && sh_env_assignment_valid(o->argv[i]))
		sh_strv_push(assign, o->argv[i++]);
	*first = i;
}

static enum sh_net_mode net_mode(const struct sh_policy *p)
{
	/* Filtered egress through the built-in proxy is not available yet, so a
	 * policy that only names destinations gets no network at all. */
	return sh_policy_full_network(p, NULL) ? SH_NETMODE_FULL : SH_NETMODE_NONE;
}

static int build_env(const struct sh_context *c, const struct sh_assembly *a,
		     const struct sh_strv *assign, const char *pwd, struct sh_strv *env,
		     struct sh_err *e)
{
	struct sh_env_opts eo = { 0 };

	eo.mode = c->opt->env_mode;
	eo.host = environ;
	eo.pwd = pwd;
	eo.file = c->opt->env_mode == SH_ENV_FILE ? &c->env_file : NULL;
	eo.pass = &c->env_pass;
	eo.defaults = &a->env_defaults;
	eo.assign = assign;
	return sh_env_build(&eo, env, NULL, e);
}

/* Build the complete plan for this run.  fallback: no user namespace. */
static int make_plan(const struct sh_context *c, const struct sh_assembly *a,
		     const struct sh_policy *p, bool fallback, struct sh_plan *plan,
		     struct sh_plan_notes *notes, struct sh_err *e)
{
	struct sh_plan_input in = { 0 };
	struct sh_strv assign = { 0 }, env = { 0 };
	int first, rc;

	in.policy = p;
	in.home = c->home;
	in.workdir = c->workdir;
	in.net = net_mode(p);
	in.fallback = fallback;
	sh_plan_init(plan);
	if (sh_plan_build_ex(&in, plan, notes, e) < 0)
		return -1;
	plan->use_userns = !fallback;
	/* Absent denied paths in writable trees: init refuses their creation. */
	if (notes && notes->missing.n) {
		plan->protect_create = sh_xcalloc(notes->missing.n, sizeof(char *));
		for (size_t i = 0; i < notes->missing.n; i++)
			plan->protect_create[i] = sh_xstrdup(notes->missing.v[i]);
		plan->nprotect_create = notes->missing.n;
	}
	plan->hostname = sh_xstrdup("safehouse");
	plan->cwd = sh_xstrdup(c->workdir ? c->workdir : c->cwd);
	split_command(c->opt, &assign, &first);
	rc = build_env(c, a, &assign, plan->cwd, &env, e);
	sh_strv_free(&assign);
	if (rc < 0)
		return -1;
	plan->envp = env.v; /* ownership moves to the plan */
	plan->argv = sh_xcalloc((size_t)(c->opt->argc - first) + 1, sizeof(char *));
	for (int i = first; i < c->opt->argc; i++)
		plan->argv[i - first] = sh_xstrdup(c->opt->argv[i]);
	if (!plan->argv[0])
		return sh_fail(e, SH_EXIT_USAGE, 0, "no command after the NAME=VALUE assignments");
	return 0;
}

static void print_notes(FILE *f, const struct sh_plan_notes *n)
{
	for (size_t i = 0; i < n->expansions.n; i++)
		fprintf(f, "note: expanded %s\n", n->expansions.v[i]);
	for (size_t i = 0; i < n->missing.n; i++)
		fprintf(f, "note: protected path does not exist (nothing mounted, the host is "
			   "never modified): %s\n", n->missing.v[i]);
	for (size_t i = 0; i < n->warnings.n; i++)
		fprintf(f, "warning: %s\n", n->warnings.v[i]);
}

int sh_run_print_plan(const struct sh_context *c, const struct sh_assembly *a,
		      const struct sh_policy *p, struct sh_err *e)
{
	struct sh_plan plan;
	struct sh_plan_notes notes = { 0 };
	struct sh_seccomp_config sc = { 0 };
	int rc;

	rc = make_plan(c, a, p, false, &plan, &notes, e);
	if (rc == 0) {
		sh_plan_print(&plan, stdout);
		print_notes(stdout, &notes);
		printf("argv:");
		for (char **v = plan.argv; *v; v++)
			printf(" %s", *v);
		size_t nenv = 0;
		while (plan.envp[nenv])
			nenv++;
		printf("\nenv: %zu variables\nseccomp filter:\n", nenv);
		fflush(stdout);
		sc.net = plan.net;
		rc = sh_seccomp_export_pfc(&sc, STDOUT_FILENO, e);
	}
	sh_plan_notes_free(&notes);
	sh_plan_free(&plan);
	return rc < 0 ? -1 : SH_EXIT_OK;
}

static int refuse_no_layers(const struct sh_check *uc, const struct sh_check *lc, struct sh_err *e)
{
	sh_fail(e, SH_EXIT_SETUP, 0, "cannot sandbox: no user namespaces (%s) and no Landlock (%s)",
		uc->detail, lc->detail);
	return sh_hint(e, "%s", uc->hint[0] ? uc->hint : lc->hint);
}

static int run_plan(const struct sh_context *c, const struct sh_assembly *a,
		    const struct sh_policy *p, bool fallback, struct sh_err *e)
{
	struct sh_plan plan;
	struct sh_plan_notes notes = { 0 };
	int rc = make_plan(c, a, p, fallback, &plan, &notes, e);

	if (rc == 0 && c->opt->explain)
		print_notes(stderr, &notes);
	if (rc == 0)
		rc = sh_sandbox_exec(&plan, e);
	sh_plan_notes_free(&notes);
	sh_plan_free(&plan);
	return rc;
}

/* Full mode is tried first (no probe on the hot path).  Only when the user
 * namespace itself cannot be created -- nothing has run yet -- is the host
 * probed, and fallback (Landlock + seccomp, weaker: said on every run) used
 * if Landlock is there.  With neither: refuse. */
int sh_run_command(const struct sh_context *c, const struct sh_assembly *a,
		   const struct sh_policy *p, struct sh_err *e)
{
	struct sh_check uc, lc;
	int abi = -1, rc;

	if (sh_harden_self(e) < 0)
		return -1;
	if (strcmp(c->sandbox, "danger-full-access") == 0)
		sh_warn("--sandbox=danger-full-access: no filesystem or network restriction (the "
			"environment is still sanitized and the process hardened)");
	rc = run_plan(c, a, p, false, e);
	if (rc >= 0 || !sh_sandbox_err_is_userns(e))
		return rc;
	memset(&uc, 0, sizeof(uc));
	memset(&lc, 0, sizeof(lc));
	if (sh_hostcheck_userns(&uc))
		return -1; /* a transient failure: report it as it was */
	if (!sh_hostcheck_landlock(&lc, &abi) || abi < 1)
		return refuse_no_layers(&uc, &lc, e);
	sh_warn("user namespaces are unavailable (%s): running with Landlock and seccomp only "
		"(no private mount view, /tmp, pid or network namespace; see safehouse doctor)",
		uc.detail);
	memset(e, 0, sizeof(*e));
	return run_plan(c, a, p, true, e);
}

static void print_requirements(void)
{
	struct sh_requirements r = { 0 };
	struct sh_err re = { 0 };
	int rc = sh_requirements_load(sh_context_sysconfdir(), &r, &re);

	if (rc < 0)
		printf("fail requirements           %s\n", re.msg);
	else if (rc == 0)
		printf("ok   requirements           %s\n", r.ignored ? r.ignored : "none");
	else {
		printf("ok   requirements           %s: %zu in force\n", r.path,
		       sh_requirements_count(&r));
		sh_requirements_print(&r, "     ", stdout);
	}
	sh_requirements_free(&r);
}

int sh_run_doctor(struct sh_err *e)
{
	struct sh_check checks[16];
	size_t n = sh_hostcheck_all(checks, sizeof(checks) / sizeof(checks[0]));
	bool userns = false, landlock = false;

	(void)e;
	for (size_t i = 0; i < n; i++) {
		const struct sh_check *k = &checks[i];
		printf("%-4s %-22s %s\n", sh_check_status_name(k->status), k->name, k->detail);
		if (k->hint[0])
			printf("     fix: %s\n", k->hint);
		if (strcmp(k->name, "user namespaces") == 0)
			userns = k->status != SH_CHECK_FAIL;
		if (strcmp(k->name, "landlock") == 0)
			landlock = k->status != SH_CHECK_FAIL;
	}
	print_requirements();
	if (userns)
		printf("mode: full (namespaces, mount view, Landlock, seccomp)\n");
	else if (landlock)
		printf("mode: fallback (Landlock and seccomp only; no mount view, private /tmp, pid or "
		       "network namespace)\n");
	else
		printf("mode: none available: safehouse refuses to run commands on this host\n");
	return userns ? SH_EXIT_OK : SH_EXIT_SETUP;
}
