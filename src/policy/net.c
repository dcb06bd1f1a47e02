#include "policy/net.h"

#include <string.h>

static bool is_any_destination(const struct sh_filter *f)
{
	return f->kind == SH_F_REMOTE && (f->net_kind == SH_NET_IP || f->net_kind == SH_NET_TCP) &&
	       f->arg && strcmp(f->arg, "*:*") == 0;
}

static bool covers_outbound(const struct sh_rule *r)
{
	for (size_t i = 0; i < r->nops; i++)
		if (strcmp(r->ops[i], "default") != 0 && sh_op_covers(r->ops[i], "network-outbound"))
			return true;
	return false;
}

bool sh_policy_full_network(const struct sh_policy *p, const struct sh_rule **rule)
{
	if (rule)
		*rule = NULL;
	for (size_t i = p->nrules; i-- > 0;) {
		const struct sh_rule *r = &p->rules[i];
		bool any = r->nfilters == 0;

		if (!covers_outbound(r))
			continue;
		for (size_t j = 0; j < r->nfilters && !any; j++)
			any = is_any_destination(&r->filters[j]);
		/* Rules for specific destinations (domains, localhost, sockets) do not
		 * decide the general question; keep looking. */
		if (!any)
			continue;
		if (rule)
			*rule = r;
		return r->action == SH_ALLOW;
	}
	return p->default_action == SH_ALLOW;
}

void sh_policy_domains(const struct sh_policy *p, struct sh_strv *out)
{
	sh_policy_domain_origins(p, out, NULL);
}

void sh_policy_domain_origins(const struct sh_policy *p, struct sh_strv *out,
			      struct sh_strv *origins)
{
	for (size_t i = 0; i < p->nrules; i++) {
		const struct sh_rule *r = &p->rules[i];
		if (r->action != SH_ALLOW || !covers_outbound(r))
			continue;
		for (size_t j = 0; j < r->nfilters; j++) {
			const struct sh_filter *f = &r->filters[j];
			if (f->kind == SH_F_REMOTE && f->net_kind == SH_NET_DOMAIN && f->arg &&
			    !sh_strv_contains(out, f->arg)) {
				sh_strv_push(out, f->arg);
				if (origins)
					sh_strv_push_take(origins,
							  sh_xasprintf("%s:%d", r->origin.source
										   ? r->origin.source
										   : "profile",
								       f->line ? f->line
									       : r->origin.line));
			}
		}
	}
}
