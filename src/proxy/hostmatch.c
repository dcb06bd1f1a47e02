/* Destination names: canonical form, IP literal detection and allow/deny lists. */
#include "proxy/hostmatch.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/str.h"

static int fail(const char **why, const char *reason)
{
	if (why)
		*why = reason;
	return -1;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_hex(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f');
}

/* One part of an inet_aton-style IPv4 literal: decimal, 0-octal or 0x-hex.
 * Returns 0 with *v (saturated above 2^32) or -1 if the part is not a number. */
static int v4_part(const char *s, size_t n, uint64_t *v)
{
	unsigned base = 10;
	uint64_t x = 0;

	if (n == 0)
		return -1;
	if (n >= 2 && s[0] == '0' && s[1] == 'x') {
		base = 16;
		s += 2;
		n -= 2; /* "0x" alone is 0, as in the URL standard */
	} else if (n >= 2 && s[0] == '0') {
		base = 8;
		s++;
		n--;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned d;
		if (is_digit(s[i]))
			d = (unsigned)(s[i] - '0');
		else if (base == 16 && is_hex(s[i]))
			d = (unsigned)(s[i] - 'a' + 10);
		else
			return -1;
		if (d >= base)
			return -1;
		x = x * base + d;
		if (x > 0xffffffffULL)
			x = 0x100000000ULL; /* saturate: stays out of range */
	}
	*v = x;
	return 0;
}

/* Is the last label of the lowercase name t numeric (URL "ends in a number")? */
static bool ends_in_number(const char *t, size_t n)
{
	size_t start = n;
	while (start > 0 && t[start - 1] != '.')
		start--;
	const char *l = t + start;
	size_t ln = n - start;
	if (ln == 0)
		return false;
	bool all_dec = true;
	for (size_t i = 0; i < ln; i++)
		all_dec = all_dec && is_digit(l[i]);
	if (all_dec)
		return true;
	if (ln >= 2 && l[0] == '0' && l[1] == 'x') {
		for (size_t i = 2; i < ln; i++)
			if (!is_hex(l[i]))
				return false;
		return true;
	}
	return false;
}

/* Parse t (lowercase, no trailing dot) as 1..4 inet_aton parts. */
static int parse_v4(const char *t, size_t n, unsigned char out[4], const char **why)
{
	uint64_t parts[4];
	size_t np = 0, start = 0;

	for (size_t i = 0; i <= n; i++) {
		if (i < n && t[i] != '.')
			continue;
		if (np == 4)
			return fail(why, "IPv4 literal with more than four parts");
		if (v4_part(t + start, i - start, &parts[np]) < 0)
			return fail(why, "name ending in a number is neither a domain nor an IPv4 literal");
		np++;
		start = i + 1;
	}
	uint64_t v = 0;
	for (size_t i = 0; i + 1 < np; i++) {
		if (parts[i] > 255)
			return fail(why, "IPv4 literal part out of range");
		v = (v << 8) | parts[i];
	}
	unsigned lastbits = (unsigned)(8 * (5 - np));
	if (parts[np - 1] >= (1ULL << lastbits))
		return fail(why, "IPv4 literal out of range");
	v = (v << lastbits) | parts[np - 1];
	out[0] = (unsigned char)(v >> 24);
	out[1] = (unsigned char)(v >> 16);
	out[2] = (unsigned char)(v >> 8);
	out[3] = (unsigned char)v;
	return 0;
}

static void set_v4(struct sh_host *h, const unsigned char a[4])
{
	h->kind = SH_HOST_IPV4;
	memset(h->addr, 0, sizeof(h->addr));
	memcpy(h->addr, a, 4);
	snprintf(h->text, sizeof(h->text), "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
}

static int canon_v6(const char *s, size_t len, struct sh_host *h, const char **why)
{
	char tmp[INET6_ADDRSTRLEN + 1];
	unsigned char a[16];
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	if (len == 0 || len >= sizeof(tmp))
		return fail(why, "malformed IPv6 literal");
	for (size_t i = 0; i < len; i++)
		if (!is_hex(s[i]) && !(s[i] >= 'A' && s[i] <= 'F') && s[i] != ':' && s[i] != '.')
			return fail(why, "malformed IPv6 literal (zone ids are not accepted)");
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	if (inet_pton(AF_INET6, tmp, a) != 1)
		return fail(why, "malformed IPv6 literal");
	if (memcmp(a, mapped, 12) == 0) {
		set_v4(h, a + 12);
		return 0;
	}
	h->kind = SH_HOST_IPV6;
	memcpy(h->addr, a, 16);
	inet_ntop(AF_INET6, a, h->text, sizeof(h->text));
	return 0;
}

static bool name_byte_ok(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || c == '-' || c == '_';
}

int sh_host_canon(const char *s, size_t len, struct sh_host *h, const char **why)
{
	char t[SH_HOST_BUFSZ];

	if (len >= 2 && s[0] == '[' && s[len - 1] == ']')
		return canon_v6(s + 1, len - 2, h, why);
	if (memchr(s, ':', len))
		return canon_v6(s, len, h, why);
	if (len > 0 && s[len - 1] == '.')
		len--; /* one trailing dot: "allowed.com." is "allowed.com" */
	if (len == 0)
		return fail(why, "empty host name");
	if (len > SH_HOST_NAME_MAX)
		return fail(why, "host name longer than 253 bytes");
	size_t label = 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		t[i] = c;
		if (c == '.') {
			if (label == 0)
				return fail(why, "empty label in host name");
			if (t[i - 1] == '-')
				return fail(why, "label ends with '-'");
			label = 0;
			continue;
		}
		if (!name_byte_ok(c))
			return fail(why, (unsigned char)c < 0x20 || c == 0x7f
						 ? "control byte in host name"
						 : "invalid byte in host name");
		if (label == 0 && c == '-')
			return fail(why, "label starts with '-'");
		if (++label > SH_HOST_LABEL_MAX)
			return fail(why, "label longer than 63 bytes");
	}
	if (label == 0)
		return fail(why, "empty label in host name");
	if (t[len - 1] == '-')
		return fail(why, "label ends with '-'");
	t[len] = '\0';
	if (ends_in_number(t, len)) {
		unsigned char a[4];
		if (parse_v4(t, len, a, why) < 0)
			return -1;
		set_v4(h, a);
		return 0;
	}
	h->kind = SH_HOST_NAME;
	memcpy(h->text, t, len + 1);
	memset(h->addr, 0, sizeof(h->addr));
	return 0;
}

void sh_host_authority(const struct sh_host *h, uint16_t port, char *out, size_t outsz)
{
	if (h->kind == SH_HOST_IPV6)
		snprintf(out, outsz, "[%s]:%u", h->text, port);
	else
		snprintf(out, outsz, "%s:%u", h->text, port);
}

/* Split "host[:port]" / "[v6][:port]" / bare IPv6.  *port_s is NULL without a port. */
static int split_pattern(const char *p, const char **host, size_t *hlen, const char **port_s)
{
	const char *colon;

	*port_s = NULL;
	if (p[0] == '[') {
		const char *rb = strchr(p, ']');
		if (!rb)
			return -1;
		*host = p;
		*hlen = (size_t)(rb - p) + 1;
		if (rb[1] == ':')
			*port_s = rb + 2;
		else if (rb[1] != '\0')
			return -1;
		return 0;
	}
	colon = strchr(p, ':');
	*host = p;
	if (colon && strchr(colon + 1, ':')) { /* bare IPv6, no port */
		*hlen = strlen(p);
		return 0;
	}
	*hlen = colon ? (size_t)(colon - p) : strlen(p);
	if (colon)
		*port_s = colon + 1;
	return 0;
}

static int parse_port(const char *s, int *port)
{
	if (strcmp(s, "*") == 0) {
		*port = SH_PORT_ANY;
		return 0;
	}
	long v = 0;
	size_t n = strlen(s);
	if (n == 0 || n > 5)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (v < 1 || v > 65535)
		return -1;
	*port = (int)v;
	return 0;
}

int sh_host_rule_parse(const char *pattern, struct sh_host_rule *r, struct sh_err *e)
{
	const char *host, *port_s, *why = NULL;
	size_t hlen;
	char auth[SH_HOST_BUFSZ + 16];

	*r = (struct sh_host_rule){ .port = SH_PORT_WEB };
	if (sh_has_ctl(pattern))
		return sh_fail(e, SH_EXIT_USAGE, 0, "network rule contains a control byte");
	if (split_pattern(pattern, &host, &hlen, &port_s) < 0)
		return sh_fail(e, SH_EXIT_USAGE, 0, "network rule '%s': malformed", pattern);
	if (port_s && parse_port(port_s, &r->port) < 0)
		return sh_fail(e, SH_EXIT_USAGE, 0,
			       "network rule '%s': port must be 1..65535 or '*'", pattern);
	if (hlen >= 2 && host[0] == '*' && host[1] == '.') {
		r->wildcard = true;
		host += 2;
		hlen -= 2;
	} else if (hlen == 1 && host[0] == '*') {
		return sh_fail(e, SH_EXIT_USAGE, 0,
			       "network rule '%s': '*' alone would allow everything; use --network=full",
			       pattern);
	}
	if (memchr(host, '*', hlen))
		return sh_fail(e, SH_EXIT_USAGE, 0,
			       "network rule '%s': '*' is only allowed as the whole first label",
			       pattern);
	if (sh_host_canon(host, hlen, &r->host, &why) < 0)
		return sh_fail(e, SH_EXIT_USAGE, 0, "network rule '%s': %s", pattern, why);
	if (r->wildcard && r->host.kind != SH_HOST_NAME)
		return sh_fail(e, SH_EXIT_USAGE, 0,
			       "network rule '%s': wildcards apply to names, not IP literals", pattern);
	if (r->host.kind == SH_HOST_IPV6)
		snprintf(auth, sizeof(auth), "[%s]", r->host.text);
	else
		snprintf(auth, sizeof(auth), "%s%s", r->wildcard ? "*." : "", r->host.text);
	if (r->port == SH_PORT_WEB)
		r->pattern = sh_xstrdup(auth);
	else if (r->port == SH_PORT_ANY)
		r->pattern = sh_xasprintf("%s:*", auth);
	else
		r->pattern = sh_xasprintf("%s:%d", auth, r->port);
	return 0;
}

void sh_host_rule_free(struct sh_host_rule *r)
{
	free(r->pattern);
	free(r->origin);
	r->pattern = r->origin = NULL;
}

int sh_hostlist_add(struct sh_hostlist *l, const char *pattern, const char *origin,
		    struct sh_err *e)
{
	struct sh_host_rule r;

	if (sh_host_rule_parse(pattern, &r, e) < 0) {
		sh_host_rule_free(&r);
		return -1;
	}
	r.origin = origin ? sh_xstrdup(origin) : NULL;
	sh_xgrow(&l->v, &l->cap, l->n + 1, sizeof(*l->v));
	l->v[l->n++] = r;
	return 0;
}

void sh_hostlist_free(struct sh_hostlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		sh_host_rule_free(&l->v[i]);
	free(l->v);
	*l = (struct sh_hostlist){ 0 };
}

bool sh_host_rule_covers(const struct sh_host_rule *r, const struct sh_host *h)
{
	if (r->host.kind != h->kind)
		return false;
	if (!r->wildcard)
		return strcmp(r->host.text, h->text) == 0;
	/* "*.b.com": h must be "<at least one label>.b.com" */
	size_t hl = strlen(h->text), sl = strlen(r->host.text);
	return hl > sl + 1 && h->text[hl - sl - 1] == '.' &&
	       memcmp(h->text + hl - sl, r->host.text, sl) == 0;
}

bool sh_host_rule_port_ok(const struct sh_host_rule *r, uint16_t port)
{
	if (r->port == SH_PORT_ANY)
		return true;
	if (r->port == SH_PORT_WEB)
		return port == 80 || port == 443;
	return r->port == (int)port;
}

const struct sh_host_rule *sh_hostlist_match(const struct sh_hostlist *l, const struct sh_host *h,
					     uint16_t port)
{
	for (size_t i = 0; i < l->n; i++)
		if (sh_host_rule_covers(&l->v[i], h) && sh_host_rule_port_ok(&l->v[i], port))
			return &l->v[i];
	return NULL;
}

const struct sh_host_rule *sh_hostlist_match_host(const struct sh_hostlist *l,
						  const struct sh_host *h)
{
	for (size_t i = 0; i < l->n; i++)
		if (sh_host_rule_covers(&l->v[i], h))
			return &l->v[i];
	return NULL;
}
