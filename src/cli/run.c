/* Running a command under the compiled policy on Linux: decide the network
 * mode, compile the plan, build the child's environment, harden the launcher
 * and hand over to the sandbox.  Fail closed: nothing runs unsandboxed. */
#include "cli/run.h"

#include <errno.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/audit.h"
#include "cli/dbusproxy.h"
#include "cli/netproxy.h"
#include "cli/publish.h"
#include "cli/x11auth.h"
#include "config/envbuild.h"
#include "enforce/harden.h"
#include "enforce/limits.h"
#include "enforce/hostcheck.h"
#include "enforce/init.h"
#include "enforce/sandbox.h"
#include "enforce/seccomp.h"
#include "plan/plan.h"
#include "policy/net.h"
#include "util/path.h"
#include "util/size.h"
#include "util/tpoint.h"
#include "util/escape.h"

extern char **environ;

/* Split the words after the options into NAME=VALUE assignments and argv. */
static void split_command(const struct sh_options *o, struct sh_strv *assign, int *first)
{
	int i = 0;
	while (i < o->argc && sh_env_assignment_valid(o->argv[i]))
		sh_strv_push(assign, o->argv[i++]);
	*first = i;
}

/* The effective mode (cli/context.c); without namespaces there is no
 * private loopback for the proxy, so a filtered default becomes none there
 * and an explicit --network=filtered is refused. */
static int net_mode(const struct sh_context *c, const struct sh_policy *p, bool fallback,
		    enum sh_net_mode *out, struct sh_err *e)
{
	*out = (enum sh_net_mode)sh_context_net_mode(c, p, NULL);
	if (*out != SH_NETMODE_FILTERED || !fallback)
		return 0;
	if (c->network)
		return sh_fail(e, SH_EXIT_SETUP, 0, "network=filtered (from %s) needs a private "
			       "network namespace, which fallback mode does not have",
			       c->network_origin);
	sh_warn("fallback mode: no network for the command (filtered network needs a private "
		"network namespace)");
	*out = SH_NETMODE_NONE;
	return 0;
}

/* Filtered mode: every client that honours the usual variables goes through
 * the proxy; the host's own values are replaced. */
static void set_proxy_env(struct sh_strv *env)
{
	static const char *const names[] = { "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY",
					     "http_proxy", "https_proxy", "all_proxy", "no_proxy" };
	static const char *const vals[] = { "http://" SH_NETPROXY_ADDR, "http://" SH_NETPROXY_ADDR,
					    "socks5h://" SH_NETPROXY_ADDR, "localhost,127.0.0.1,::1" };
	size_t w = 0;

	for (size_t i = 0; i < env->n; i++) {
		bool drop = false;
		for (size_t k = 0; k < 8 && !drop; k++) {
			size_t n = strlen(names[k]);
			drop = strncmp(env->v[i], names[k], n) == 0 && env->v[i][n] == '=';
		}
		if (drop)
			free(env->v[i]);
		else
			env->v[w++] = env->v[i];
	}
	env->n = w;
	if (env->v)
		env->v[w] = NULL;
	for (size_t k = 0; k < 8; k++)
		sh_strv_push_take(env, sh_xasprintf("%s=%s", names[k], vals[k % 4]));
}

static int build_env(const struct sh_context *c, const struct sh_assembly *a,
		     const struct sh_strv *assign, const char *pwd, struct sh_strv *env,
		     struct sh_err *e)
{
	struct sh_env_opts eo = { 0 };
	struct sh_strv pass = { 0 };
	int rc;

	/* Names from the command line and config, plus those the included
	 * integrations declare ($$env-pass$$: SSH_AUTH_SOCK, XDG_RUNTIME_DIR...). */
	for (size_t i = 0; i < c->env_pass.n; i++)
		sh_strv_push(&pass, c->env_pass.v[i]);
	for (size_t i = 0; i < a->env_pass.n; i++)
		if (!sh_strv_contains(&pass, a->env_pass.v[i]))
			sh_strv_push(&pass, a->env_pass.v[i]);
	eo.mode = c->opt->env_mode;
	eo.host = environ;
	eo.pwd = pwd;
	eo.file = c->opt->env_mode == SH_ENV_FILE ? &c->env_file : NULL;
	eo.pass = &pass;
	eo.defaults = &a->env_defaults;
	eo.assign = assign;
	rc = sh_env_build(&eo, env, NULL, e);
	sh_strv_free(&pass);
	return rc;
}

/* The command's argv, verbatim, except that the selected agent's
 * $$insert-args$$ (e.g. telling Codex that an outer sandbox is in charge)
 * go right after the word that selected it -- the command itself, or the
 * package after npx/uvx/... -- so the user's own later flags still win. */
static char **build_argv(const struct sh_context *c, const struct sh_assembly *a, int first)
{
	int n = c->opt->argc - first, at = -1, k = 0;
	char **argv = sh_xcalloc((size_t)n + a->insert_args.n + 1, sizeof(char *));
	char *w = a->insert_args.n ? sh_agent_word_at(c->opt->argv, c->opt->argc, &at) : NULL;

	free(w);
	for (int i = first; i < c->opt->argc; i++) {
		argv[k++] = sh_xstrdup(c->opt->argv[i]);
		for (size_t j = 0; i == at && j < a->insert_args.n; j++)
			argv[k++] = sh_xstrdup(a->insert_args.v[j]);
	}
	return argv;
}

/* Build the complete plan for this run.  fallback: no user namespace. */
/* The git dirs of nested repositories that the plan protects (found by the
 * generated rule's walk: their existing hooks, config... are bound
 * read-only) also have names that do not exist yet and that git would
 * follow if created (commondir, a hooks directory removed...): those join
 * the names init refuses to create, as the top-level repository's do. */
static void nested_git_missing(const struct sh_plan *plan, const char *workdir,
			       struct sh_strv *missing)
{
	static const char *const names[] = { "commondir", "gitdir", "config", "config.worktree",
					     "hooks", "info", "objects/info/alternates" };
	struct sh_strv dirs = { 0 };
	if (!workdir)
		return;
	for (size_t i = 0; i < plan->nmounts; i++) {
		const char *p = plan->mounts[i].path, *g = strstr(p, "/.git/");
		if (!g || !sh_path_is_under(p, workdir))
			continue;
		char *dir = sh_xstrndup(p, (size_t)(g - p) + 5);
		char *top = sh_path_join(workdir, ".git");
		if (strcmp(dir, top) != 0 && !sh_strv_contains(&dirs, dir))
			sh_strv_push(&dirs, dir);
		free(top);
		free(dir);
	}
	for (size_t i = 0; i < dirs.n; i++)
		for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
			char *n = sh_path_join(dirs.v[i], names[k]);
			struct stat st;
			if (lstat(n, &st) < 0 && errno == ENOENT && !sh_strv_contains(missing, n))
				sh_strv_push(missing, n);
			free(n);
		}
	sh_strv_free(&dirs);
}

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
	sh_plan_init(plan); /* first: the caller frees it whatever happens */
	if (net_mode(c, p, fallback, &in.net, e) < 0)
		return -1;
	in.proxy_port = in.net == SH_NETMODE_FILTERED ? SH_NETPROXY_PORT : 0;
	in.fallback = fallback;
	if (sh_plan_build_ex(&in, plan, notes, e) < 0)
		return -1;
	plan->use_userns = !fallback;
	/* Absent denied paths in writable trees: init refuses their creation. */
	if (notes)
		nested_git_missing(plan, c->workdir, &notes->missing);
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
	if (plan->net == SH_NETMODE_FILTERED)
		set_proxy_env(&env);
	plan->envp = env.v; /* ownership moves to the plan */
	plan->argv = build_argv(c, a, first);
	if (!plan->argv[0])
		return sh_fail(e, SH_EXIT_USAGE, 0, "no command after the NAME=VALUE assignments");
	return 0;
}

/* Paths here may come from the workdir (planted names): escaped. */
static void print_notes(FILE *f, const struct sh_plan_notes *n)
{
	for (size_t i = 0; i < n->expansions.n; i++) {
		fputs("note: expanded ", f);
		sh_fput_escaped(f, n->expansions.v[i], false);
		fputc('\n', f);
	}
	for (size_t i = 0; i < n->missing.n; i++) {
		fputs("note: protected path does not exist (nothing mounted, the host is never "
		      "modified): ", f);
		sh_fput_escaped(f, n->missing.v[i], false);
		fputc('\n', f);
	}
	for (size_t i = 0; i < n->warnings.n; i++) {
		fputs("warning: ", f);
		sh_fput_escaped(f, n->warnings.v[i], false);
		fputc('\n', f);
	}
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
	/* The user-namespace hint may offer the Landlock fallback, which is
	 * exactly what is missing here: name both fixes instead. */
	return sh_hint(e, "enable unprivileged user namespaces or Landlock; %s "
			  "(safehouse doctor shows both checks)",
		       lc->hint[0] ? lc->hint : "add landlock to the lsm= kernel parameter");
}

static int run_plan(const struct sh_context *c, const struct sh_assembly *a,
		    const struct sh_policy *p, bool fallback, const struct sh_limits *lim,
		    struct sh_err *e)
{
	struct sh_plan plan;
	struct sh_plan_notes notes = { 0 };
	struct sh_netproxy np;
	struct sh_publisher pub;
	bool published = false;
	struct sh_dbusproxy dp;
	struct sh_x11auth xa;
	bool proxy = false;
	SH_TP("R-plan0");
	int rc = make_plan(c, a, p, fallback, &plan, &notes, e);

	SH_TP("R-plan1");
	sh_dbusproxy_init(&dp);
	sh_x11auth_init(&xa);
	if (rc == 0 && c->opt->explain)
		print_notes(stderr, &notes);
	else if (rc == 0)
		for (size_t i = 0; i < notes.alerts.n; i++)
			sh_warn("%s", notes.alerts.v[i]);
	if (rc == 0) /* keychain: the Secret Service through a filtered D-Bus proxy */
		rc = sh_dbusproxy_setup(&dp, c, a, &plan, e);
	if (rc == 0) /* x11: the display's cookie alone */
		rc = sh_x11auth_setup(&xa, c, a, &plan, e);
	if (rc == 0 && plan.net == SH_NETMODE_FILTERED) {
		/* The rules are checked and --network-log opened before
		 * anything starts; the proxy itself is forked by the launcher
		 * once init has created its listener. */
		rc = sh_netproxy_prepare(&np, c, p, e);
		proxy = true;
		if (rc == 0) {
			struct sh_net_hooks h = { sh_netproxy_start, sh_netproxy_stop, &np };
			sh_sandbox_set_net_hooks(&h);
		}
	}
	if (rc == 0) {
		/* --publish: the host ports are bound now (a busy one fails the
		 * run before anything starts); the forwarder is forked by the
		 * launcher once init has opened its socket factory. */
		struct sh_publish_hooks h;
		published = true;
		rc = sh_publish_prepare(&pub, c, a, &plan, e);
		sh_publish_hooks(&pub, &h);
		sh_sandbox_set_publish_hooks(&h);
	}
	if (rc == 0) {
		SH_TP("R-prep");
		plan.limits = lim;
		rc = sh_sandbox_exec(&plan, e);
	}
	if (published) {
		sh_sandbox_set_publish_hooks(NULL);
		sh_publish_free(&pub);
	}
	if (proxy) {
		sh_sandbox_set_net_hooks(NULL);
		sh_netproxy_free(&np);
	}
	sh_dbusproxy_stop(&dp);
	sh_x11auth_stop(&xa);
	sh_plan_notes_free(&notes);
	sh_plan_free(&plan);
	return rc;
}

/* The post-session audit (threats.md section 2): a manifest of the workdir's
 * persistence-relevant names before the session, compared after it.  In
 * strict mode a finding turns a successful run into status 1 (a failing
 * command keeps its own status). */
struct audit_end {
	const struct sh_context *c;
	const char *mode;
	struct sh_audit_manifest *m;
	struct sh_audit_report *r;
	bool ran;
};

/* The comparison and its report; the session's status, possibly 1.  Run by
 * the sandbox once nothing inside can still write (sh_sandbox_set_end_hook),
 * overlapping init's exit, or after the run when the sandbox did not. */
static int audit_end(void *ctx, int rc)
{
	struct audit_end *ae = ctx;
	struct sh_err err = { 0 };
	ae->ran = true;
	if (sh_audit_compare(ae->c->workdir, ae->m, ae->r, &err) < 0)
		sh_warn("audit: %s", err.msg);
	else if (ae->r->count) {
		sh_audit_report_print(ae->r, stderr);
		if (strcmp(ae->mode, "strict") == 0 && rc == 0) {
			sh_warn("audit: %zu finding(s) and --audit=strict: exit status 1",
				ae->r->count);
			rc = 1;
		}
	}
	return rc;
}

static int run_audited(const struct sh_context *c, const struct sh_assembly *a,
		       const struct sh_policy *p, bool fallback, const struct sh_limits *lim,
		       struct sh_err *e)
{
	const char *mode = c->opt->audit ? c->opt->audit : "warn";
	struct sh_audit_manifest m = { 0 };
	struct sh_audit_report r = { 0 };
	struct audit_end ae = { c, mode, &m, &r, false };
	int rc;

	if (!c->workdir || strcmp(mode, "off") == 0)
		return run_plan(c, a, p, fallback, lim, e);
	SH_TP("R-snap0");
	if (sh_audit_snapshot(c->workdir, &m, e) < 0)
		return sh_err_prefix(e, "audit");
	SH_TP("R-snap1");
	sh_sandbox_set_end_hook(audit_end, &ae);
	rc = run_plan(c, a, p, fallback, lim, e);
	sh_sandbox_set_end_hook(NULL, NULL);
	if (rc >= 0 && !ae.ran)
		rc = audit_end(&ae, rc);
	SH_TP("R-audit");
	sh_audit_report_free(&r);
	sh_audit_manifest_free(&m);
	return rc;
}

/* --max-procs / --max-memory around one run: the cgroup (or rlimit plan)
 * exists before the sandbox starts and is removed after it ended. */
static int run_limited(const struct sh_context *c, const struct sh_assembly *a,
		       const struct sh_policy *p, bool fallback, struct sh_err *e)
{
	struct sh_limits lim = { 0 };
	int rc;

	if (c->opt->max_procs)
		lim.max_procs = strtol(c->opt->max_procs, NULL, 10);
	if (c->opt->max_memory && sh_parse_size(c->opt->max_memory, &lim.max_memory,
						"--max-memory", e) < 0)
		return -1;
	if (sh_limits_prepare(&lim, e) < 0)
		return -1;
	if (lim.kind != SH_LIMITS_NONE && c->opt->explain)
		fprintf(stderr, "safehouse: explain: limits: %s%s\n", sh_limits_kind_name(lim.kind),
			lim.kind == SH_LIMITS_RLIMIT ? " (no writable cgroup)" : "");
	rc = run_audited(c, a, p, fallback, &lim, e);
	sh_limits_cleanup(&lim);
	return rc;
}

void sh_run_prestart(const struct sh_options *o)
{
	struct sh_err e = { 0 };
	/* The likely network mode, from the command line alone (a
	 * configuration that says otherwise costs a second init). */
	bool full = (o->network && strcmp(o->network, "full") == 0) ||
		    (!o->network && o->sandbox && strcmp(o->sandbox, "danger-full-access") == 0);
	(void)sh_sandbox_prestart(full ? SH_NETMODE_FULL : SH_NETMODE_NONE, &e);
	/* a failure is reported by the launch */
}

void sh_run_prestart_cancel(void)
{
	sh_sandbox_prestart_cancel();
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
	/* The selected agent's own state directories, as the agent would
	 * create them on a first run outside: under a read-only $HOME view it
	 * could not, and a missing path is never mounted. */
	for (size_t i = 0; i < a->create_dirs.n; i++)
		if (sh_mkdirs_beneath(c->home, a->create_dirs.v[i], 0700, e) < 0)
			return sh_err_prefix(e, "creating the agent's state directory");
	if (strcmp(c->sandbox, "danger-full-access") == 0)
		sh_warn("--sandbox=danger-full-access: no filesystem or network restriction (the "
			"environment is still sanitized and the process hardened)");
	/* Init (started by sh_cli_main) makes its network namespace while the
	 * plan is computed (enforce/sandbox.c); a failure here is reported
	 * when the plan would have used it. */
	struct sh_err pe = { 0 };
	(void)sh_sandbox_prestart_net((enum sh_net_mode)sh_context_net_mode(c, p, NULL), &pe);
	rc = run_limited(c, a, p, false, e);
	sh_sandbox_prestart_cancel(); /* not used: a failure before the launch */
	if (rc >= 0 || !sh_sandbox_err_is_userns(e))
		return rc;
	memset(&uc, 0, sizeof(uc));
	memset(&lc, 0, sizeof(lc));
	if (sh_hostcheck_userns(&uc))
		return -1; /* a transient failure: report it as it was */
	if (!sh_hostcheck_landlock(&lc, &abi) || abi < 1)
		return refuse_no_layers(&uc, &lc, e);
	sh_warn("user namespaces are unavailable (%s): running with Landlock and seccomp only "
		"(no private mount view, /tmp, pid or network namespace; Unix sockets only when "
		"an integration grants one; see safehouse doctor)",
		uc.detail);
	memset(e, 0, sizeof(*e));
	return run_limited(c, a, p, true, e);
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
