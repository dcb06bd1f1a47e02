/* The proxy's decision on a destination. */
#include "proxy/filter.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "proxy/addrclass.h"

int sh_proxy_filter_init(struct sh_proxy_filter *f, const struct sh_proxy_config *cfg,
			 struct sh_err *e)
{
	*f = (struct sh_proxy_filter){ .allow_ip_literals = cfg->allow_ip_literals,
				       .allow_private = cfg->allow_private,
				       .allow_metadata = cfg->allow_metadata };
	for (size_t i = 0; i < cfg->n_allow; i++)
		if (sh_hostlist_add(&f->allow, cfg->allow[i].pattern, cfg->allow[i].origin, e) < 0)
			goto fail;
	for (size_t i = 0; i < cfg->n_deny; i++) {
		if (sh_hostlist_add(&f->deny, cfg->deny[i].pattern, cfg->deny[i].origin, e) < 0)
			goto fail;
		/* "a.com" allows 80 and 443 only, but denies every port: an allow
		 * rule "a.com:8443" or "*.com:*" must not get around it. */
		struct sh_host_rule *r = &f->deny.v[f->deny.n - 1];
		if (r->port == SH_PORT_WEB)
			r->port = SH_PORT_ANY;
	}
	return 0;
fail:
	sh_proxy_filter_free(f);
	return -1;
}

void sh_proxy_filter_free(struct sh_proxy_filter *f)
{
	sh_hostlist_free(&f->allow);
	sh_hostlist_free(&f->deny);
}

static bool refuse(struct sh_proxy_verdict *v, enum sh_proxy_reason r)
{
	v->allow = false;
	v->reason = r;
	return false;
}

bool sh_proxy_filter_check(const struct sh_proxy_filter *f, const char *host, size_t len,
			   uint16_t port, struct sh_proxy_verdict *v)
{
	const char *why = NULL;
	const struct sh_host_rule *r;

	memset(v, 0, sizeof(*v));
	v->port = port;
	if (port == 0 || sh_host_canon(host, len, &v->host, &why) < 0) {
		snprintf(v->detail, sizeof(v->detail), "%s", why ? why : "port 0");
		return refuse(v, SH_PR_MALFORMED);
	}
	v->host_valid = true;
	if ((r = sh_hostlist_match(&f->deny, &v->host, port))) {
		v->rule = r;
		return refuse(v, SH_PR_DENY_RULE);
	}
	r = sh_hostlist_match(&f->allow, &v->host, port);
	if (v->host.kind != SH_HOST_NAME) {
		/* An exact literal rule is explicit; otherwise only the global switch. */
		if (!r && !f->allow_ip_literals)
			return refuse(v, SH_PR_IP_LITERAL);
	} else if (!r) {
		v->rule = sh_hostlist_match_host(&f->allow, &v->host);
		return refuse(v, v->rule ? SH_PR_PORT : SH_PR_NOT_ALLOWED);
	}
	v->rule = r;
	v->allow = true;
	v->reason = SH_PR_ALLOWED;
	return true;
}

static socklen_t set_port(struct sockaddr_storage *ss, uint16_t port)
{
	if (ss->ss_family == AF_INET) {
		((struct sockaddr_in *)ss)->sin_port = htons(port);
		return sizeof(struct sockaddr_in);
	}
	((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
	return sizeof(struct sockaddr_in6);
}

static void addr_text(const struct sockaddr_storage *ss, char *buf, size_t sz)
{
	const void *a = ss->ss_family == AF_INET
				? (const void *)&((const struct sockaddr_in *)ss)->sin_addr
				: (const void *)&((const struct sockaddr_in6 *)ss)->sin6_addr;
	if (!inet_ntop(ss->ss_family, a, buf, (socklen_t)sz))
		snprintf(buf, sz, "?");
}

static int resolve_system(void *ctx, const char *name, struct sockaddr_storage *out, size_t max)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *res, *ai;
	size_t n = 0;

	(void)ctx;
	if (getaddrinfo(name, NULL, &hints, &res) != 0)
		return -1;
	for (ai = res; ai && n < max; ai = ai->ai_next) {
		if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) ||
		    ai->ai_addrlen > sizeof(*out))
			continue;
		memset(&out[n], 0, sizeof(out[n]));
		memcpy(&out[n], ai->ai_addr, ai->ai_addrlen);
		n++;
	}
	freeaddrinfo(res);
	return (int)n;
}

size_t sh_proxy_filter_addrs(const struct sh_proxy_filter *f, sh_proxy_resolve_fn resolve,
			     void *ctx, struct sh_proxy_verdict *v, struct sockaddr_storage *out,
			     size_t max)
{
	struct sockaddr_storage got[SH_PROXY_MAX_ADDRS];
	size_t ngot = 0, n = 0;
	bool refused_one = false;

	if (max > SH_PROXY_MAX_ADDRS)
		max = SH_PROXY_MAX_ADDRS;
	memset(got, 0, sizeof(got));
	if (v->host.kind == SH_HOST_IPV4) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&got[0];
		s4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, v->host.addr, 4);
		ngot = 1;
	} else if (v->host.kind == SH_HOST_IPV6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&got[0];
		s6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, v->host.addr, 16);
		ngot = 1;
	} else {
		int r = (resolve ? resolve : resolve_system)(ctx, v->host.text, got, max);
		if (r <= 0) {
			snprintf(v->detail, sizeof(v->detail), "no address");
			refuse(v, SH_PR_RESOLVE);
			return 0;
		}
		ngot = (size_t)r < max ? (size_t)r : max;
	}
	/* An IP literal listed exactly in the allow list is explicit consent. */
	bool explicit_literal = v->host.kind != SH_HOST_NAME && v->rule && !v->rule->wildcard;
	for (size_t i = 0; i < ngot; i++) {
		if (got[i].ss_family != AF_INET && got[i].ss_family != AF_INET6)
			continue;
		enum sh_addr_class c = sh_addr_classify((const struct sockaddr *)&got[i]);
		if (!explicit_literal &&
		    !sh_addr_class_permitted(c, f->allow_private, f->allow_metadata)) {
			if (!refused_one) {
				char a[INET6_ADDRSTRLEN];
				addr_text(&got[i], a, sizeof(a));
				snprintf(v->detail, sizeof(v->detail), "%s is %s", a,
					 sh_addr_class_name(c));
				v->addr_class = (int)c;
				refused_one = true;
			}
			continue;
		}
		out[n] = got[i];
		set_port(&out[n], v->port);
		n++;
	}
	if (n == 0) {
		if (!refused_one)
			snprintf(v->detail, sizeof(v->detail), "no usable address");
		refuse(v, refused_one ? SH_PR_ADDR_CLASS : SH_PR_RESOLVE);
	}
	return n;
}

bool sh_proxy_filter_sni(struct sh_proxy_verdict *v, const char *sni, size_t len)
{
	struct sh_host s;

	if (sh_host_canon(sni, len, &s, NULL) < 0) {
		snprintf(v->detail, sizeof(v->detail), "malformed SNI");
		v->rule = NULL;
		return refuse(v, SH_PR_SNI_MISMATCH);
	}
	if (s.kind == SH_HOST_NAME && v->host.kind == SH_HOST_NAME &&
	    strcmp(s.text, v->host.text) == 0)
		return true;
	snprintf(v->detail, sizeof(v->detail), "sni %s", s.text);
	v->rule = NULL; /* no rule decides this: the tunnel's own host was allowed */
	return refuse(v, SH_PR_SNI_MISMATCH);
}

const char *sh_proxy_reason_name(enum sh_proxy_reason r)
{
	switch (r) {
	case SH_PR_ALLOWED: return "allowed";
	case SH_PR_MALFORMED: return "malformed-host";
	case SH_PR_DENY_RULE: return "deny-rule";
	case SH_PR_NOT_ALLOWED: return "not-allowed";
	case SH_PR_PORT: return "port-not-allowed";
	case SH_PR_IP_LITERAL: return "ip-literal";
	case SH_PR_ADDR_CLASS: return "address-class";
	case SH_PR_RESOLVE: return "no-address";
	case SH_PR_SNI_MISMATCH: return "sni-mismatch";
	case SH_PR_TLS_MALFORMED: return "tls-malformed";
	case SH_PR_HOST_MISMATCH: return "host-mismatch";
	default: break;
	}
	return "unknown";
}

void sh_proxy_verdict_dest(const struct sh_proxy_verdict *v, char *buf, size_t sz)
{
	if (v->host_valid)
		sh_host_authority(&v->host, v->port, buf, sz);
	else
		snprintf(buf, sz, "<malformed>:%u", v->port);
}

static const char *origin_of(const struct sh_host_rule *r)
{
	return r && r->origin ? r->origin : "configuration";
}

/* The allow pattern that would admit the destination: "name" for 80/443. */
static void allow_pattern(const struct sh_proxy_verdict *v, char *buf, size_t sz)
{
	if (v->host.kind == SH_HOST_NAME && (v->port == 80 || v->port == 443))
		snprintf(buf, sz, "%s", v->host.text);
	else
		sh_host_authority(&v->host, v->port, buf, sz);
}

size_t sh_proxy_verdict_explain(const struct sh_proxy_verdict *v, char *buf, size_t sz)
{
	char dest[SH_HOST_BUFSZ + 16], pat[SH_HOST_BUFSZ + 16];
	int n = 0;

	sh_proxy_verdict_dest(v, dest, sizeof(dest));
	if (v->host_valid)
		allow_pattern(v, pat, sizeof(pat));
	else
		pat[0] = '\0';
#define OUT(...) (n += snprintf(buf + n, (size_t)n < sz ? sz - (size_t)n : 0, __VA_ARGS__))
	OUT("safehouse: the network filter refused %s\n", dest);
	switch (v->reason) {
	case SH_PR_ALLOWED:
		n = snprintf(buf, sz, "safehouse: %s is allowed\n", dest);
		break;
	case SH_PR_MALFORMED:
		OUT("reason: the requested host is malformed (%s)\nNo flag allows a malformed host.\n",
		    v->detail);
		break;
	case SH_PR_DENY_RULE:
		OUT("reason: deny rule '%s' (from %s) matches; deny rules win over allow rules\n"
		    "To allow it, remove that deny rule; no " SH_PROXY_FLAG_ALLOW " overrides it.\n",
		    v->rule->pattern, origin_of(v->rule));
		break;
	case SH_PR_NOT_ALLOWED:
		OUT("reason: no allow rule matches %s\nTo allow it: " SH_PROXY_FLAG_ALLOW "=%s\n",
		    dest, pat);
		break;
	case SH_PR_PORT:
		OUT("reason: allow rule '%s' (from %s) covers %s but not port %u\n"
		    "To allow it: " SH_PROXY_FLAG_ALLOW "=%s:%u\n",
		    v->rule->pattern, origin_of(v->rule), v->host.text, v->port, v->host.text,
		    v->port);
		break;
	case SH_PR_IP_LITERAL:
		OUT("reason: IP-literal destinations are refused unless listed exactly\n"
		    "To allow it: " SH_PROXY_FLAG_ALLOW "=%s\n", dest);
		break;
	case SH_PR_ADDR_CLASS:
		if (v->addr_class == (int)SH_ADDR_METADATA)
			OUT("reason: %s resolves to a cloud metadata address (%s)\n"
			    "No flag allows this by name; list the address exactly with "
			    SH_PROXY_FLAG_ALLOW "=IP:PORT if you really mean it.\n",
			    v->host.text, v->detail);
		else
			OUT("reason: %s leads to a non-public address (%s)\n"
			    "To allow it: " SH_PROXY_FLAG_PRIVATE "\n", v->host.text, v->detail);
		break;
	case SH_PR_RESOLVE:
		OUT("reason: %s has no usable address\n", v->host.text);
		break;
	case SH_PR_SNI_MISMATCH:
		OUT("reason: the TLS ClientHello names another server (%s) than the tunnel's %s "
		    "(domain fronting)\nNo flag allows this; connect to the host you mean.\n",
		    v->detail, v->host.text);
		break;
	case SH_PR_TLS_MALFORMED:
		OUT("reason: the tunnel did not start with a well-formed TLS ClientHello\n");
		break;
	case SH_PR_HOST_MISMATCH:
		OUT("reason: the request URL names %s but the Host header names another host\n"
		    "No flag allows this; send a Host header that matches the URL.\n", dest);
		break;
	default:
		break;
	}
#undef OUT
	if (sz > 0 && (size_t)n >= sz)
		n = (int)sz - 1;
	return n < 0 ? 0 : (size_t)n;
}
