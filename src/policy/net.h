/* What the policy says about the network, for the launcher and --explain. */
#ifndef SH_POLICY_NET_H
#define SH_POLICY_NET_H

#include <stdbool.h>

#include "policy/policy.h"
#include "util/str.h"

/* True when outbound network is allowed to any destination: the deciding
 * (last) rule covering network-outbound is an allow with no filter or with
 * (remote ip|tcp "*:*"), or no rule covers it and the default is allow.
 * *rule (if non-NULL) receives the deciding rule or NULL. */
bool sh_policy_full_network(const struct sh_policy *p, const struct sh_rule **rule);

/* The (remote domain "name:port") destinations allowed by the policy, in
 * rule order, de-duplicated ("api.openai.com:443"). */
void sh_policy_domains(const struct sh_policy *p, struct sh_strv *out);
/* The same, with origins[i] ("profiles/agents/codex.sb:12") for out->v[i]
 * (origins may be NULL). */
void sh_policy_domain_origins(const struct sh_policy *p, struct sh_strv *out,
			      struct sh_strv *origins);

#endif
