/* The proxy's decision on a destination, separate from the event loop so
 * that it can be tested (and fuzzed) without sockets. */
#ifndef SH_PROXY_FILTER_H
#define SH_PROXY_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "proxy/hostmatch.h"
#include "proxy/proxy.h"

enum sh_proxy_reason {
	SH_PR_ALLOWED,
	SH_PR_MALFORMED,     /* the requested host is not a valid name or literal */
	SH_PR_DENY_RULE,     /* a deny rule matched (deny wins) */
	SH_PR_NOT_ALLOWED,   /* no allow rule matched */
	SH_PR_PORT,          /* an allow rule covers the host, but not this port */
	SH_PR_IP_LITERAL,    /* IP literal not listed and allow_ip_literals off */
	SH_PR_ADDR_CLASS,    /* the (resolved) address is loopback/private/... */
	SH_PR_RESOLVE,       /* the allowed name has no address */
	SH_PR_SNI_MISMATCH,  /* TLS SNI names another host than CONNECT */
	SH_PR_TLS_MALFORMED, /* the tunnel started like TLS but the ClientHello was invalid */
	SH_PR_HOST_MISMATCH, /* absolute-URI and Host disagree */
};

struct sh_proxy_verdict {
	bool allow;
	enum sh_proxy_reason reason;
	bool host_valid;             /* host is filled */
	struct sh_host host;         /* canonical requested host */
	uint16_t port;
	const struct sh_host_rule *rule; /* the deciding rule (allow or deny), or the near miss (PORT) */
	int addr_class;                  /* SH_PR_ADDR_CLASS: enum sh_addr_class of the first refused address */
	char detail[SH_HOST_BUFSZ + 16];               /* "127.0.0.1 is loopback", "sni evil.com", raw-host excerpt */
};

struct sh_proxy_filter {
	struct sh_hostlist allow, deny;
	bool allow_ip_literals, allow_private, allow_metadata;
};

int sh_proxy_filter_init(struct sh_proxy_filter *f, const struct sh_proxy_config *cfg,
			 struct sh_err *e);
void sh_proxy_filter_free(struct sh_proxy_filter *f);

/* Steps 1-3: decide on the requested host (raw bytes) and port, with no DNS.
 * Returns v->allow. */
bool sh_proxy_filter_check(const struct sh_proxy_filter *f, const char *host, size_t len,
			   uint16_t port, struct sh_proxy_verdict *v);

/* Step 4, after an allowing check: the addresses to connect to (port set),
 * from the literal itself or from resolve(), minus the forbidden classes.
 * Returns the count (> 0), or 0 after turning *v into a refusal
 * (SH_PR_RESOLVE or SH_PR_ADDR_CLASS). */
size_t sh_proxy_filter_addrs(const struct sh_proxy_filter *f, sh_proxy_resolve_fn resolve,
			     void *ctx, struct sh_proxy_verdict *v, struct sockaddr_storage *out,
			     size_t max);

/* Refuse an allowed tunnel whose TLS ClientHello names sni[0..len) (raw).
 * Returns true if the SNI is acceptable (absent names are handled by the
 * caller); otherwise turns *v into SH_PR_SNI_MISMATCH. */
bool sh_proxy_filter_sni(struct sh_proxy_verdict *v, const char *sni, size_t len);

const char *sh_proxy_reason_name(enum sh_proxy_reason r);
/* The text of a refusal for the client: what was refused, why, which rule,
 * and the flag that would allow it.  Always NUL-terminates; returns length. */
size_t sh_proxy_verdict_explain(const struct sh_proxy_verdict *v, char *buf, size_t sz);
/* "host:port" for logs and counts; "<malformed>" when the host was invalid. */
void sh_proxy_verdict_dest(const struct sh_proxy_verdict *v, char *buf, size_t sz);

#endif
