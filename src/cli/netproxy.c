/* The filtering proxy of --network=filtered: its rules and its process. */
#include "cli/netproxy.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "enforce/harden.h"
#include "policy/net.h"
#include "proxy/hostmatch.h"
#include "util/child.h"

static int check_rule(const char *pat, const char *origin, struct sh_err *e)
{
	struct sh_host_rule hr;
	memset(&hr, 0, sizeof(hr));
	if (sh_host_rule_parse(pat, &hr, e) < 0) {
		e->exit_code = SH_EXIT_USAGE;
		return sh_err_prefix(e, "%s: destination '%s'", origin, pat);
	}
	sh_host_rule_free(&hr);
	return 0;
}

static struct sh_proxy_rulespec *specs(const struct sh_strv *pat, const struct sh_strv *origin)
{
	struct sh_proxy_rulespec *s = sh_xcalloc(pat->n + 1, sizeof(*s));
	for (size_t i = 0; i < pat->n; i++)
		s[i] = (struct sh_proxy_rulespec){ pat->v[i], origin->v[i] };
	return s;
}

int sh_netrules_build(const struct sh_context *c, const struct sh_policy *p,
		      struct sh_netrules *r, struct sh_err *e)
{
	memset(r, 0, sizeof(*r));
	sh_policy_domain_origins(p, &r->allow, &r->allow_origin);
	for (size_t i = 0; i < c->allow_domains.n; i++) {
		sh_strv_push(&r->allow, c->allow_domains.v[i]);
		sh_strv_push(&r->allow_origin, c->allow_domain_origins.v[i]);
	}
	for (size_t i = 0; i < c->deny_domains.n; i++) {
		sh_strv_push(&r->deny, c->deny_domains.v[i]);
		sh_strv_push(&r->deny_origin, c->deny_domain_origins.v[i]);
	}
	for (size_t i = 0; i < c->req.deny_domains.n; i++) {
		sh_strv_push(&r->deny, c->req.deny_domains.v[i].value);
		sh_strv_push_take(&r->deny_origin,
				  sh_xasprintf("requirement %s", c->req.deny_domains.v[i].origin));
	}
	for (size_t i = 0; i < r->allow.n; i++)
		if (check_rule(r->allow.v[i], r->allow_origin.v[i], e) < 0)
			return -1;
	for (size_t i = 0; i < r->deny.n; i++)
		if (check_rule(r->deny.v[i], r->deny_origin.v[i], e) < 0)
			return -1;
	r->allow_spec = specs(&r->allow, &r->allow_origin);
	r->deny_spec = specs(&r->deny, &r->deny_origin);
	return 0;
}

void sh_netrules_free(struct sh_netrules *r)
{
	sh_strv_free(&r->allow);
	sh_strv_free(&r->allow_origin);
	sh_strv_free(&r->deny);
	sh_strv_free(&r->deny_origin);
	free(r->allow_spec);
	free(r->deny_spec);
	memset(r, 0, sizeof(*r));
}

int sh_netproxy_prepare(struct sh_netproxy *np, const struct sh_context *c,
			const struct sh_policy *p, struct sh_err *e)
{
	memset(np, 0, sizeof(*np));
	np->log_fd = np->stop_w = -1;
	np->pid = -1;
	if (sh_netrules_build(c, p, &np->rules, e) < 0)
		return -1;
	np->cfg.allow = np->rules.allow_spec;
	np->cfg.n_allow = np->rules.allow.n;
	np->cfg.deny = np->rules.deny_spec;
	np->cfg.n_deny = np->rules.deny.n;
	np->cfg.allow_private = c->opt->allow_private_network;
	if (c->opt->network_log) {
		np->log_fd = open(c->opt->network_log,
				  O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY,
				  0600);
		if (np->log_fd < 0)
			return sh_fail(e, SH_EXIT_USAGE, errno, "--network-log: cannot open '%s'",
				       c->opt->network_log);
	}
	return 0;
}

/* The proxy process.  Never returns. */
__attribute__((noreturn)) static void proxy_main(struct sh_netproxy *np, int lfd, int stop_r)
{
	struct sh_err e = { 0 };
	FILE *logf = NULL;
	int rc;

	int keep[] = { 2, lfd, stop_r, np->log_fd };
	if (sh_close_fds_except(keep, np->log_fd >= 0 ? 4 : 3, &e) < 0)
		_exit(1);
	if (np->log_fd >= 0)
		logf = fdopen(np->log_fd, "a");
	np->cfg.log = sh_proxy_log_new(logf);
	rc = sh_proxy_run(&np->cfg, &lfd, 1, stop_r, &e);
	if (rc < 0)
		fprintf(stderr, "safehouse: network proxy: %s\n", e.msg);
	if (np->cfg.log && (sh_proxy_log_total(np->cfg.log, true) ||
			    sh_proxy_log_total(np->cfg.log, false)))
		sh_proxy_log_summary(np->cfg.log, stderr);
	fflush(stderr);
	if (logf)
		fclose(logf);
	_exit(rc < 0 ? 1 : 0);
}

int sh_netproxy_start(void *ctx, int lfd, struct sh_err *e)
{
	struct sh_netproxy *np = ctx;
	int stop_r = -1;
	pid_t pid = sh_helper_fork("safehouse-proxy", &stop_r, &np->stop_w);

	if (pid < 0)
		return sh_fail(e, SH_EXIT_SETUP, errno, "network: cannot start the proxy");
	if (pid == 0)
		proxy_main(np, lfd, stop_r);
	np->pid = pid;
	return 0;
}

void sh_netproxy_stop(void *ctx)
{
	struct sh_netproxy *np = ctx;

	sh_helper_stop(&np->pid, &np->stop_w);
}

void sh_netproxy_free(struct sh_netproxy *np)
{
	sh_netproxy_stop(np);
	if (np->log_fd >= 0)
		close(np->log_fd);
	np->log_fd = -1;
	sh_netrules_free(&np->rules);
}
