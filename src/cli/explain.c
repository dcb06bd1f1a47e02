#include "cli/explain.h"

#include <string.h>

#include "cli/netproxy.h"
#include "cli/publish.h"
#include "plan/plan.h"
#include "policy/net.h"

#define X(f, ...) fprintf(f, "safehouse: explain: " __VA_ARGS__)

static void list_line(FILE *f, const char *label, const struct sh_strv *v)
{
	X(f, "%s:", label);
	if (!v->n)
		fputs(" none", f);
	for (size_t i = 0; i < v->n; i++)
		fprintf(f, "%s %s", i ? "," : "", v->v[i]);
	fputc('\n', f);
}

static void explain_grants(FILE *f, const struct sh_context *c)
{
	if (!c->ngrants)
		X(f, "grants: none beyond the profiles\n");
	for (size_t i = 0; i < c->ngrants; i++)
		X(f, "grant: %s %s%s (from %s)\n", c->grants[i].writable ? "read/write" : "read-only",
		  c->grants[i].path, c->grants[i].is_dir ? "/ (subtree)" : " (file)",
		  c->grants[i].origin);
}

static void explain_rules(FILE *f, const char *label, const struct sh_strv *pat,
			  const struct sh_strv *origin)
{
	if (!pat->n)
		X(f, "network %s: none\n", label);
	for (size_t i = 0; i < pat->n; i++)
		X(f, "network %s: %s (from %s)\n", label, pat->v[i], origin->v[i]);
}

static void explain_network(FILE *f, const struct sh_context *c, const struct sh_policy *p)
{
	const struct sh_rule *r = NULL;
	const char *why = NULL;
	int mode = sh_context_net_mode(c, p, &why);

	if (mode == SH_NETMODE_FULL) {
		X(f, "network: full host network (%s", why);
		if (c->network)
			fprintf(f, ": %s", c->network_origin);
		else if (sh_policy_full_network(p, &r)) {
			fputs(": allowed by ", f);
			sh_explain_origin(f, p, r);
		}
		fputs(")\n", f);
	} else if (mode == SH_NETMODE_NONE) {
		X(f, "network: none (%s%s%s; private network namespace with loopback only; "
		     "--network=filtered with --allow-domains, or --enable=network)\n",
		  why, c->network ? ": " : "", c->network ? c->network_origin : "");
	} else {
		struct sh_netrules nr;
		struct sh_err ne = { 0 };
		X(f, "network: filtered (%s%s%s): private network namespace; egress only through "
		     "the built-in proxy at %s (HTTP_PROXY, HTTPS_PROXY, ALL_PROXY set)\n",
		  why, c->network ? ": " : "", c->network ? c->network_origin : "", SH_NETPROXY_ADDR);
		if (sh_netrules_build(c, p, &nr, &ne) < 0)
			X(f, "network rules: invalid: %s\n", ne.msg);
		else {
			explain_rules(f, "allow", &nr.allow, &nr.allow_origin);
			explain_rules(f, "deny", &nr.deny, &nr.deny_origin);
		}
		sh_netrules_free(&nr);
		X(f, "network: private addresses %s; decision log: %s\n",
		  c->opt->allow_private_network ? "allowed (--allow-private-network)" : "refused",
		  c->opt->network_log ? c->opt->network_log : "none (summary on stderr at the end)");
	}
}

/* Filters with no Linux meaning (vnode-type, global-name, ...) inside rules
 * that otherwise apply on Linux: kept for macOS, never match here. */
static void explain_ignored_filters(FILE *f, const struct sh_policy *p)
{
	for (size_t i = 0; i < p->nrules; i++) {
		const struct sh_rule *r = &p->rules[i];
		for (size_t j = 0; r->linux_meaningful && j < r->nfilters; j++)
			if (r->filters[j].kind == SH_F_OTHER)
				X(f, "  filter ignored on Linux: %s at %s:%d:%d\n",
				  r->filters[j].raw ? r->filters[j].raw : "?", r->origin.source,
				  r->filters[j].line, r->filters[j].col);
	}
}

static void explain_ignored(FILE *f, const struct sh_policy *p)
{
	size_t n = 0;

	for (size_t i = 0; i < p->nrules; i++)
		if (!p->rules[i].linux_meaningful)
			n++;
	X(f, "rules ignored on Linux: %zu (macOS-only operations)\n", n);
	for (size_t i = 0; i < p->nrules; i++) {
		const struct sh_rule *r = &p->rules[i];
		if (r->linux_meaningful)
			continue;
		X(f, "  ignored on Linux: %s %s at %s:%d\n", r->action == SH_ALLOW ? "allow" : "deny",
		  r->nops ? r->ops[0] : "?", r->origin.source, r->origin.line);
	}
	explain_ignored_filters(f, p);
}

void sh_explain_origin(FILE *f, const struct sh_policy *p, const struct sh_rule *r)
{
	if (r)
		fprintf(f, "%s:%d", r->origin.source, r->origin.line);
	else if (p->default_origin.source)
		fprintf(f, "default (%s default) at %s:%d",
			p->default_action == SH_ALLOW ? "allow" : "deny", p->default_origin.source,
			p->default_origin.line);
	else
		fputs("implicit default (deny)", f);
}

void sh_explain(FILE *f, const struct sh_context *c, const struct sh_assembly *a,
		const struct sh_policy *p, const char *run_mode)
{
	const struct sh_options *o = c->opt;

	X(f, "target: %s; profiles: %s\n", c->target, c->profiles_source);
	if (c->req.path)
		X(f, "requirements: %s (%zu in force)\n", c->req.path, sh_requirements_count(&c->req));
	else
		X(f, "requirements: %s\n", c->req.ignored ? c->req.ignored : "none");
	for (size_t i = 0; i < c->settings.n; i++)
		X(f, "setting: %s\n", c->settings.v[i]);
	X(f, "sandbox policy: %s (from %s)\n", c->sandbox, c->sandbox_origin);
	X(f, "post-session audit: %s\n", !c->workdir ? "off (no workdir)"
					  : o->audit ? o->audit : "warn (default)");
	if (c->network)
		X(f, "network setting: %s (from %s)\n", c->network, c->network_origin);
	if (c->workdir)
		X(f, "workdir: %s (from %s)\n", c->workdir, c->workdir_source);
	else
		X(f, "workdir: disabled (by %s)\n", c->workdir_source);
	X(f, "workdir config trust: %s\n", c->trust.reason);
	if (c->trust_update)
		X(f, "trusted-workdirs: %s\n", c->trust_update);
	X(f, "workdir config: %s\n", c->wdconfig_status);
	if (c->is_worktree)
		X(f, "worktree: common git dir %s read/write; %zu sibling worktree(s) read-only\n",
		  c->worktree.commondir, c->worktree.siblings.n);
	else
		X(f, "worktree: %s\n", c->worktree.note ? c->worktree.note : "not a linked worktree");
	explain_grants(f, c);
	list_line(f, "integrations enabled", &a->features_enabled);
	list_line(f, "integrations implied", &a->features_implied);
	list_line(f, "integrations not included", &a->features_skipped);
	X(f, "agent profile: %s (%s)\n", a->agent ? a->agent : "none", a->agent_reason);
	list_line(f, "profiles", &a->profiles);
	for (size_t i = 0; i < c->nappended; i++)
		X(f, "appended profile: %s (from %s)\n", c->appended[i].path, c->appended[i].origin);
	X(f, "env: %s%s\n", o->env_mode == SH_ENV_FULL ? "full host environment (--env)"
			   : o->env_mode == SH_ENV_FILE ? "sanitized + file " : "sanitized",
	  o->env_mode == SH_ENV_FILE ? o->env_file : "");
	list_line(f, "env passed by name", &c->env_pass);
	list_line(f, "profile env defaults", &a->env_defaults);
	list_line(f, "variables the profiles pass from the host", &a->env_pass);
	list_line(f, "agent state directories created before a run", &a->create_dirs);
	list_line(f, "arguments inserted after the agent's command word", &a->insert_args);
	X(f, "protection: the agent's policy-bearing files %s\n",
	  o->allow_agent_config_writes ? "writable (--allow-agent-config-writes)" : "read-only");
	X(f, "protection: appended profiles %s\n",
	  c->nappended == 0 ? "none" : o->allow_profile_writes ? "writable (--allow-profile-writes)"
							       : "write-protected");
	X(f, "protection: <workdir>/.safehouse %s\n",
	  !c->workdir ? "n/a (no workdir)"
	  : o->allow_workdir_config_writes ? "writable (--allow-workdir-config-writes)"
					   : "write-protected");
	X(f, "policy: %zu rules from %zu sources; default %s\n", p->nrules, a->n,
	  p->default_action == SH_ALLOW ? "allow" : "deny");
	explain_network(f, c, p);
	sh_publish_explain(f, c, a, sh_context_net_mode(c, p, NULL));
	explain_ignored(f, p);
	X(f, "run mode: %s\n", run_mode);
}
