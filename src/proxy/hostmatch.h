/* Destination names: canonical form, IP literal detection and allow/deny lists.
 *
 * Everything here is pure (no DNS, no I/O).  The proxy decides on the name
 * the client asked for, before any lookup, so what is matched must be exactly
 * what would be resolved or connected to: one canonical spelling per host.
 *
 *   - names: ASCII lowercase, one trailing dot removed, labels of [a-z0-9_-]
 *     (1..63 bytes, no leading/trailing '-'), at most 253 bytes.  Control
 *     bytes, NUL, '%', '@', spaces and non-ASCII (U-labels) are malformed:
 *     IDNs must arrive as A-labels ("xn--...") and match literally.
 *   - IPv4 literals in every spelling inet_aton and URL parsers accept:
 *     "1.1.1.1", "16843009", "0x01010101", "01.01.01.01", "1.65793", ...
 *     A name whose last label is numeric (or 0x-hex) is an IPv4 literal or
 *     malformed, never a domain name (WHATWG URL "ends in a number").
 *   - IPv6 literals, bracketed or not, without zone ids; IPv4-mapped IPv6
 *     ("::ffff:1.1.1.1") is the IPv4 address, so a deny on "1.1.1.1" also
 *     catches "[::ffff:1.1.1.1]". */
#ifndef SH_PROXY_HOSTMATCH_H
#define SH_PROXY_HOSTMATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define SH_HOST_NAME_MAX 253 /* DNS name length without the trailing dot */
#define SH_HOST_LABEL_MAX 63
#define SH_HOST_BUFSZ 256    /* any canonical host text plus NUL */

enum sh_host_kind {
	SH_HOST_NAME,
	SH_HOST_IPV4,
	SH_HOST_IPV6,
};

struct sh_host {
	enum sh_host_kind kind;
	char text[SH_HOST_BUFSZ]; /* canonical: lowercase name, dotted quad, RFC 5952 IPv6 */
	unsigned char addr[16];   /* IPV4: addr[0..3]; IPV6: all 16 */
};

/* Canonicalise the host s[0..len) (not NUL-terminated; may hold any bytes).
 * Returns 0 and fills *h, or -1 with *why (if non-NULL) set to a static
 * reason.  Only writes to *h on success. */
int sh_host_canon(const char *s, size_t len, struct sh_host *h, const char **why);

/* Host text as it appears in an authority: IPv6 in brackets.  out >= 260. */
void sh_host_authority(const struct sh_host *h, uint16_t port, char *out, size_t outsz);

/* Port selectors of a rule. */
#define SH_PORT_ANY (-1) /* "name:*" */
#define SH_PORT_WEB (-2) /* "name": 80 and 443 only (NET-17: no :22 or :25 by default) */

struct sh_host_rule {
	struct sh_host host; /* for wildcards: the suffix after "*." */
	bool wildcard;       /* "*.b.com": any name with at least one more label */
	int port;            /* 1..65535, SH_PORT_ANY or SH_PORT_WEB */
	char *pattern;       /* canonical pattern text, for messages and logs */
	char *origin;        /* where the rule came from ("--allow-domains", a profile), may be NULL */
};

struct sh_hostlist {
	struct sh_host_rule *v;
	size_t n, cap;
};

/* Parse a pattern: "a.com", "*.b.com", "a.com:443", "*.b.com:*", "1.2.3.4",
 * "[::1]:8080".  A bare "*" and wildcards over IP literals are refused.
 * Returns 0, or -1 with *e filled (SH_EXIT_USAGE). */
int sh_host_rule_parse(const char *pattern, struct sh_host_rule *r, struct sh_err *e);
void sh_host_rule_free(struct sh_host_rule *r);

/* Append a parsed pattern; origin is copied.  Returns 0 or -1 with *e filled. */
int sh_hostlist_add(struct sh_hostlist *l, const char *pattern, const char *origin,
		    struct sh_err *e);
void sh_hostlist_free(struct sh_hostlist *l);

/* Does rule r cover host h (port ignored)?  Exact label matching. */
bool sh_host_rule_covers(const struct sh_host_rule *r, const struct sh_host *h);
bool sh_host_rule_port_ok(const struct sh_host_rule *r, uint16_t port);

/* First rule covering (h, port), or NULL. */
const struct sh_host_rule *sh_hostlist_match(const struct sh_hostlist *l, const struct sh_host *h,
					     uint16_t port);
/* First rule covering h on some other port, or NULL (for "wrong port" answers). */
const struct sh_host_rule *sh_hostlist_match_host(const struct sh_hostlist *l,
						  const struct sh_host *h);

#endif
