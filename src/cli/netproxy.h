/* --network=filtered: the configuration of the built-in proxy (src/proxy)
 * from the policy, config and command line, and the proxy process itself.
 *
 * The listening socket is created by the sandbox's init inside the new
 * network namespace (127.0.0.1:SH_NETPROXY_PORT) and handed to the launcher,
 * which forks one proxy process running in the host's network namespace
 * (safehouse(1), --network; the proxy itself: docs/network.md). */
#ifndef SH_CLI_NETPROXY_H
#define SH_CLI_NETPROXY_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include "cli/context.h"
#include "policy/policy.h"
#include "proxy/proxy.h"
#include "util/err.h"
#include "util/str.h"

/* The proxy's port on the sandbox's own loopback (private network
 * namespace: nothing else listens there). */
#define SH_NETPROXY_PORT 3128
#define SH_NETPROXY_ADDR "127.0.0.1:3128"

struct sh_netrules {
	struct sh_strv allow, allow_origin; /* patterns and where each came from */
	struct sh_strv deny, deny_origin;
	struct sh_proxy_rulespec *allow_spec, *deny_spec; /* views into the above */
};

/* Collect and validate the lists: allow = the policy's (remote domain ...)
 * destinations + allow-domains (config, --allow-domains); deny =
 * deny-domains (config, --deny-domains) + the requirement deny-domains.
 * -1 (usage error naming the entry) for an invalid pattern. */
int sh_netrules_build(const struct sh_context *c, const struct sh_policy *p,
		      struct sh_netrules *r, struct sh_err *e);
void sh_netrules_free(struct sh_netrules *r);

struct sh_netproxy {
	struct sh_netrules rules;
	struct sh_proxy_config cfg;
	int log_fd; /* --network-log, opened before the sandbox starts; or -1 */
	pid_t pid;  /* the proxy process, or -1 */
	int stop_w; /* write end of its stop pipe, or -1 */
};

/* Build the rules and open --network-log.  Nothing is started. */
int sh_netproxy_prepare(struct sh_netproxy *np, const struct sh_context *c,
			const struct sh_policy *p, struct sh_err *e);
/* Fork the proxy serving the listening socket lfd (not closed here).  The
 * caller must be single-threaded.  ctx is a struct sh_netproxy. */
int sh_netproxy_start(void *ctx, int lfd, struct sh_err *e);
/* Stop the proxy (it prints its summary to stderr) and wait for it. */
void sh_netproxy_stop(void *ctx);
void sh_netproxy_free(struct sh_netproxy *np);

#endif
