/* Proxy: host canonicalisation, IP literal spellings, rule matching,
 * address classes and the filter's decisions (NET-08/09/14/16). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "proxy/addrclass.h"
#include "proxy/filter.h"
#include "proxy/hostmatch.h"

/* Canonical text of s, or "ERR" if refused. */
static const char *canon(const char *s, size_t len)
{
	static char out[SH_HOST_BUFSZ + 8];
	struct sh_host h;
	if (sh_host_canon(s, len, &h, NULL) < 0)
		return "ERR";
	snprintf(out, sizeof(out), "%s%s", h.kind == SH_HOST_NAME ? "" : h.kind == SH_HOST_IPV4 ? "v4:" : "v6:",
		 h.text);
	return out;
}
#define CANON(s) canon((s), strlen(s))

TEST(proxy_host_canon_names)
{
	CHECK_STR(CANON("Example.COM"), "example.com");
	CHECK_STR(CANON("allowed.com."), "allowed.com");
	CHECK_STR(CANON("ALLOWED.COM."), "allowed.com");
	CHECK_STR(CANON("allowed.com.."), "ERR");
	CHECK_STR(CANON("."), "ERR");
	CHECK_STR(CANON(""), "ERR");
	CHECK_STR(CANON(".a.com"), "ERR");
	CHECK_STR(CANON("a..com"), "ERR");
	CHECK_STR(CANON("_dmarc.x-y.com"), "_dmarc.x-y.com");
	CHECK_STR(CANON("-a.com"), "ERR");
	CHECK_STR(CANON("a-.com"), "ERR");
	CHECK_STR(CANON("a.com-"), "ERR");
	CHECK_STR(CANON("xn--bcher-kva.example"), "xn--bcher-kva.example");
	CHECK_STR(CANON("b\xc3\xbc" "cher.example"), "ERR"); /* U-label: must be an A-label */
	CHECK_STR(CANON("a com"), "ERR");
	CHECK_STR(CANON("a%2ecom"), "ERR");
	CHECK_STR(CANON("user@a.com"), "ERR");
	CHECK_STR(CANON("a.com/x"), "ERR");
	CHECK_STR(CANON("*.a.com"), "ERR");
	char lab[80];
	memset(lab, 'a', 63);
	strcpy(lab + 63, ".com");
	CHECK_STR(CANON(lab), lab);
	memset(lab, 'a', 64);
	strcpy(lab + 64, ".com");
	CHECK_STR(CANON(lab), "ERR");
	char big[300];
	memset(big, 0, sizeof(big));
	for (int i = 0; i < 126; i++)
		memcpy(big + 2 * i, "a.", 2);
	big[252] = 'a'; /* 253 bytes */
	CHECK_STR(CANON(big), big);
	char want[300];
	strcpy(want, big);
	big[253] = '.'; /* 253 bytes plus the trailing dot is fine */
	CHECK_STR(canon(big, 254), want);
	big[253] = 'a';
	CHECK_STR(CANON(big), "ERR");
}

/* NET-09/NET-14: NUL and control bytes anywhere refuse the name outright. */
TEST(proxy_host_control_bytes)
{
	CHECK_STR(canon("allowed.com\0.evil.com", 21), "ERR");
	CHECK_STR(canon("evil.com\0allowed.com", 20), "ERR");
	CHECK_STR(canon("allowed.com\0", 12), "ERR");
	CHECK_STR(CANON("allowed.com\r\nX: y"), "ERR");
	CHECK_STR(CANON("allowed.com\t"), "ERR");
	CHECK_STR(CANON("allowed.com\x7f"), "ERR");
	CHECK_STR(CANON("allowed\x1b.com"), "ERR");
}

/* NET-09: every IPv4 spelling is the same literal, never a domain name. */
TEST(proxy_host_ipv4_spellings)
{
	CHECK_STR(CANON("1.1.1.1"), "v4:1.1.1.1");
	CHECK_STR(CANON("16843009"), "v4:1.1.1.1");
	CHECK_STR(CANON("0x01010101"), "v4:1.1.1.1");
	CHECK_STR(CANON("0X01010101"), "v4:1.1.1.1");
	CHECK_STR(CANON("01.01.01.01"), "v4:1.1.1.1");
	CHECK_STR(CANON("0x1.0x1.0x1.0x1"), "v4:1.1.1.1");
	CHECK_STR(CANON("1.65793"), "v4:1.1.1.1");
	CHECK_STR(CANON("1.1.257"), "v4:1.1.1.1");
	CHECK_STR(CANON("1.1.1.1."), "v4:1.1.1.1");
	CHECK_STR(CANON("0177.0.0.1"), "v4:127.0.0.1");
	CHECK_STR(CANON("2130706433"), "v4:127.0.0.1");
	CHECK_STR(CANON("0x7f.1"), "v4:127.0.0.1");
	CHECK_STR(CANON("127.1"), "v4:127.0.0.1");
	CHECK_STR(CANON("0"), "v4:0.0.0.0");
	CHECK_STR(CANON("0x"), "v4:0.0.0.0");
	CHECK_STR(CANON("3232235777"), "v4:192.168.1.1");
	CHECK_STR(CANON("169.254.169.254"), "v4:169.254.169.254");
	CHECK_STR(CANON("0xa9fea9fe"), "v4:169.254.169.254");
	/* ends in a number but not a valid literal: malformed, not a name */
	CHECK_STR(CANON("1.1.1.256"), "ERR");
	CHECK_STR(CANON("4294967296"), "ERR");
	CHECK_STR(CANON("1.1.1.1.1"), "ERR");
	CHECK_STR(CANON("08.1.1.1"), "ERR");
	CHECK_STR(CANON("a.1"), "ERR");
	CHECK_STR(CANON("evil.com.1"), "ERR");
	CHECK_STR(CANON("1.1.1.0x"), "v4:1.1.1.0");
	CHECK_STR(CANON("256.1.1.1"), "ERR");
	/* a numeric label that is not last is an ordinary name */
	CHECK_STR(CANON("1.1.1.1.nip.io"), "1.1.1.1.nip.io");
	CHECK_STR(CANON("0x1.com"), "0x1.com");
}

TEST(proxy_host_ipv6_spellings)
{
	CHECK_STR(CANON("[::1]"), "v6:::1");
	CHECK_STR(CANON("::1"), "v6:::1");
	CHECK_STR(CANON("[0:0:0:0:0:0:0:1]"), "v6:::1");
	CHECK_STR(CANON("[2001:DB8::1]"), "v6:2001:db8::1");
	CHECK_STR(CANON("[::ffff:1.1.1.1]"), "v4:1.1.1.1");
	CHECK_STR(CANON("[::ffff:0101:0101]"), "v4:1.1.1.1");
	CHECK_STR(CANON("[::FFFF:127.0.0.1]"), "v4:127.0.0.1");
	CHECK_STR(CANON("[fe80::1%eth0]"), "ERR");
	CHECK_STR(CANON("[fe80::1%25eth0]"), "ERR");
	CHECK_STR(CANON("[::1"), "ERR");
	CHECK_STR(CANON("[]"), "ERR");
	CHECK_STR(CANON("[1::2::3]"), "ERR");
	CHECK_STR(CANON("[::1]:443"), "ERR");
}

static struct sh_host H(const char *s)
{
	struct sh_host h;
	memset(&h, 0, sizeof(h));
	if (sh_host_canon(s, strlen(s), &h, NULL) < 0)
		h.text[0] = '\0';
	return h;
}

TEST(proxy_rule_parse)
{
	struct sh_host_rule r;
	struct sh_err e = { 0 };

	CHECK_INT(sh_host_rule_parse("A.com", &r, &e), ==, 0);
	CHECK_STR(r.pattern, "a.com");
	CHECK_INT(r.port, ==, SH_PORT_WEB);
	sh_host_rule_free(&r);
	CHECK_INT(sh_host_rule_parse("*.B.com.:*", &r, &e), ==, 0);
	CHECK_STR(r.pattern, "*.b.com:*");
	CHECK(r.wildcard);
	sh_host_rule_free(&r);
	CHECK_INT(sh_host_rule_parse("api.openai.com:443", &r, &e), ==, 0);
	CHECK_INT(r.port, ==, 443);
	sh_host_rule_free(&r);
	CHECK_INT(sh_host_rule_parse("[::1]:8080", &r, &e), ==, 0);
	CHECK_STR(r.pattern, "[::1]:8080");
	sh_host_rule_free(&r);
	CHECK_INT(sh_host_rule_parse("16843009:443", &r, &e), ==, 0);
	CHECK_STR(r.pattern, "1.1.1.1:443");
	sh_host_rule_free(&r);
	static const char *const bad[] = { "*", "*:443", "a.*.com", "*a.com", "*.1.2.3.4",
					   "a.com:0", "a.com:65536", "a.com:", "a.com:x",
					   "a.com\n", "", "[::1", "a..com", "a.com:44 3" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (!CHECK_INT(sh_host_rule_parse(bad[i], &r, &e), ==, -1))
			fprintf(stderr, "# accepted: '%s'\n", bad[i]);
		sh_host_rule_free(&r);
	}
}

/* NET-09: exact label matching; no suffix or prefix tricks. */
TEST(proxy_rule_wildcards)
{
	struct sh_host_rule r;
	struct sh_err e = { 0 };
	struct sh_host h;

	CHECK_INT(sh_host_rule_parse("*.b.com", &r, &e), ==, 0);
	h = H("x.b.com");
	CHECK(sh_host_rule_covers(&r, &h));
	h = H("y.x.b.com");
	CHECK(sh_host_rule_covers(&r, &h));
	h = H("X.B.COM.");
	CHECK(sh_host_rule_covers(&r, &h));
	h = H("b.com");
	CHECK(!sh_host_rule_covers(&r, &h));
	h = H("evilb.com");
	CHECK(!sh_host_rule_covers(&r, &h));
	h = H("b.com.evil");
	CHECK(!sh_host_rule_covers(&r, &h));
	h = H("x.b.com.evil");
	CHECK(!sh_host_rule_covers(&r, &h));
	h = H("xb.com");
	CHECK(!sh_host_rule_covers(&r, &h));
	sh_host_rule_free(&r);

	CHECK_INT(sh_host_rule_parse("a.com", &r, &e), ==, 0);
	h = H("a.com");
	CHECK(sh_host_rule_covers(&r, &h));
	h = H("x.a.com");
	CHECK(!sh_host_rule_covers(&r, &h));
	h = H("evila.com");
	CHECK(!sh_host_rule_covers(&r, &h));
	h = H("a.com.evil");
	CHECK(!sh_host_rule_covers(&r, &h));
	CHECK(sh_host_rule_port_ok(&r, 443));
	CHECK(sh_host_rule_port_ok(&r, 80));
	CHECK(!sh_host_rule_port_ok(&r, 22)); /* NET-17 */
	sh_host_rule_free(&r);
}

static void filter_new(struct sh_proxy_filter *f, const char *const *allow, size_t na,
		       const char *const *deny, size_t nd, bool ip, bool priv)
{
	struct sh_proxy_rulespec a[16], d[16];
	struct sh_proxy_config cfg = { .allow = a, .n_allow = na, .deny = d, .n_deny = nd,
				       .allow_ip_literals = ip, .allow_private = priv };
	struct sh_err e = { 0 };
	for (size_t i = 0; i < na; i++)
		a[i] = (struct sh_proxy_rulespec){ allow[i], "--allow-domains" };
	for (size_t i = 0; i < nd; i++)
		d[i] = (struct sh_proxy_rulespec){ deny[i], "test deny list" };
	if (sh_proxy_filter_init(f, &cfg, &e) < 0)
		fprintf(stderr, "# filter: %s\n", e.msg);
}

static enum sh_proxy_reason decide(const struct sh_proxy_filter *f, const char *host, uint16_t port)
{
	struct sh_proxy_verdict v;
	sh_proxy_filter_check(f, host, strlen(host), port, &v);
	return v.reason;
}

TEST(proxy_filter_decisions)
{
	static const char *const allow[] = { "a.com", "*.b.com", "ssh.c.com:22", "any.d.com:*",
					     "1.2.3.4:8443", "[2606:4700::1111]", "*.b.com:8443",
					     "e.com:*" };
	static const char *const deny[] = { "bad.b.com", "a.com:80", "e.com:25" };
	struct sh_proxy_filter f;

	filter_new(&f, allow, 8, deny, 3, false, false);
	/* a deny rule without a port denies every port, whatever allows it */
	CHECK_INT(decide(&f, "bad.b.com", 8443), ==, SH_PR_DENY_RULE);
	CHECK_INT(decide(&f, "x.b.com", 8443), ==, SH_PR_ALLOWED);
	/* with a port, only that port */
	CHECK_INT(decide(&f, "e.com", 25), ==, SH_PR_DENY_RULE);
	CHECK_INT(decide(&f, "e.com", 26), ==, SH_PR_ALLOWED);
	CHECK_INT(decide(&f, "a.com", 443), ==, SH_PR_ALLOWED);
	CHECK_INT(decide(&f, "A.COM.", 443), ==, SH_PR_ALLOWED);
	CHECK_INT(decide(&f, "a.com", 80), ==, SH_PR_DENY_RULE); /* deny wins */
	CHECK_INT(decide(&f, "a.com", 22), ==, SH_PR_PORT);
	CHECK_INT(decide(&f, "x.b.com", 443), ==, SH_PR_ALLOWED);
	CHECK_INT(decide(&f, "bad.b.com", 443), ==, SH_PR_DENY_RULE);
	CHECK_INT(decide(&f, "BAD.b.com.", 443), ==, SH_PR_DENY_RULE);
	CHECK_INT(decide(&f, "b.com", 443), ==, SH_PR_NOT_ALLOWED);
	CHECK_INT(decide(&f, "evilb.com", 443), ==, SH_PR_NOT_ALLOWED);
	CHECK_INT(decide(&f, "b.com.evil", 443), ==, SH_PR_NOT_ALLOWED);
	CHECK_INT(decide(&f, "ssh.c.com", 22), ==, SH_PR_ALLOWED);
	CHECK_INT(decide(&f, "ssh.c.com", 443), ==, SH_PR_PORT);
	CHECK_INT(decide(&f, "any.d.com", 5432), ==, SH_PR_ALLOWED);
	/* IP literals: only the exact listed ones */
	CHECK_INT(decide(&f, "1.2.3.4", 8443), ==, SH_PR_ALLOWED);
	CHECK_INT(decide(&f, "16909060", 8443), ==, SH_PR_ALLOWED); /* same address */
	CHECK_INT(decide(&f, "1.2.3.4", 443), ==, SH_PR_IP_LITERAL);
	CHECK_INT(decide(&f, "1.1.1.1", 443), ==, SH_PR_IP_LITERAL);
	CHECK_INT(decide(&f, "16843009", 443), ==, SH_PR_IP_LITERAL);
	CHECK_INT(decide(&f, "01.01.01.01", 443), ==, SH_PR_IP_LITERAL);
	CHECK_INT(decide(&f, "[::ffff:1.1.1.1]", 443), ==, SH_PR_IP_LITERAL);
	CHECK_INT(decide(&f, "[2606:4700:0::1111]", 443), ==, SH_PR_ALLOWED);
	struct sh_proxy_verdict v;
	CHECK(!sh_proxy_filter_check(&f, "a.com\0.x", 8, 443, &v));
	CHECK_INT(v.reason, ==, SH_PR_MALFORMED);
	CHECK(!sh_proxy_filter_check(&f, "a.com", 5, 0, &v));
	CHECK_INT(v.reason, ==, SH_PR_MALFORMED);
	sh_proxy_filter_free(&f);

	/* empty allow list refuses everything */
	filter_new(&f, NULL, 0, NULL, 0, false, false);
	CHECK_INT(decide(&f, "a.com", 443), ==, SH_PR_NOT_ALLOWED);
	sh_proxy_filter_free(&f);

	/* allow_ip_literals: any literal, still under deny */
	static const char *const deny2[] = { "1.1.1.1:*" };
	filter_new(&f, NULL, 0, deny2, 1, true, false);
	CHECK_INT(decide(&f, "8.8.8.8", 443), ==, SH_PR_ALLOWED);
	CHECK_INT(decide(&f, "[::ffff:1.1.1.1]", 443), ==, SH_PR_DENY_RULE);
	CHECK_INT(decide(&f, "16843009", 443), ==, SH_PR_DENY_RULE);
	CHECK_INT(decide(&f, "a.com", 443), ==, SH_PR_NOT_ALLOWED);
	sh_proxy_filter_free(&f);
}

/* ---- resolution: a counting resolver that returns canned addresses ---- */

struct fake_dns {
	int calls;
	const char *last;
	const char *addrs[4]; /* textual, v4 or v6 */
	size_t n;
};

static int fake_resolve(void *ctx, const char *name, struct sockaddr_storage *out, size_t max)
{
	struct fake_dns *d = ctx;
	size_t n = 0;
	d->calls++;
	d->last = name;
	for (size_t i = 0; i < d->n && n < max; i++, n++) {
		memset(&out[n], 0, sizeof(out[n]));
		struct sockaddr_in *s4 = (struct sockaddr_in *)&out[n];
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&out[n];
		if (inet_pton(AF_INET, d->addrs[i], &s4->sin_addr) == 1)
			s4->sin_family = AF_INET;
		else if (inet_pton(AF_INET6, d->addrs[i], &s6->sin6_addr) == 1)
			s6->sin6_family = AF_INET6;
	}
	return (int)n;
}

/* Decide then resolve; returns the usable address count and the verdict. */
static size_t decide_resolve(const struct sh_proxy_filter *f, struct fake_dns *d, const char *host,
			     uint16_t port, struct sh_proxy_verdict *v)
{
	struct sockaddr_storage out[SH_PROXY_MAX_ADDRS];
	if (!sh_proxy_filter_check(f, host, strlen(host), port, v))
		return 0;
	return sh_proxy_filter_addrs(f, fake_resolve, d, v, out, SH_PROXY_MAX_ADDRS);
}

/* NET-14: a denied name never reaches the resolver. */
TEST(proxy_filter_no_dns_for_denied)
{
	static const char *const allow[] = { "allowed.test", "*.wild.test" };
	static const char *const deny[] = { "no.wild.test" };
	struct sh_proxy_filter f;
	struct fake_dns d = { .addrs = { "93.184.215.14" }, .n = 1 };
	struct sh_proxy_verdict v;

	filter_new(&f, allow, 2, deny, 1, false, false);
	static const char *const refused[] = { "evil.test", "6578706f7274.exfil.test", "no.wild.test",
					       "wild.test", "allowed.test.evil", "1.1.1.1",
					       "allowed.test\n", "allowed.test:443" };
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		CHECK_INT(decide_resolve(&f, &d, refused[i], 443, &v), ==, 0);
	CHECK(!sh_proxy_filter_check(&f, "allowed.test\0.evil", 18, 443, &v));
	CHECK_INT(d.calls, ==, 0);
	CHECK_INT(decide_resolve(&f, &d, "ALLOWED.test.", 443, &v), ==, 1);
	CHECK_INT(d.calls, ==, 1);
	CHECK_STR(d.last, "allowed.test"); /* canonical name is what gets resolved */
	CHECK_INT(decide_resolve(&f, &d, "allowed.test", 22, &v), ==, 0);
	CHECK_INT(d.calls, ==, 1);
	sh_proxy_filter_free(&f);
}

/* NET-08/NET-16: resolved loopback, private, link-local, metadata: refused. */
TEST(proxy_filter_refuses_private_after_resolution)
{
	static const char *const allow[] = { "allowed.test" };
	struct sh_proxy_filter f;
	struct sh_proxy_verdict v;
	static const char *const bad[] = { "127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1",
					   "169.254.169.254", "169.254.1.1", "100.64.0.1",
					   "100.100.100.200", "0.0.0.0", "::1", "::", "fe80::1",
					   "fd00::1", "fd00:ec2::254", "::ffff:127.0.0.1",
					   "::ffff:169.254.169.254", "64:ff9b::a9fe:a9fe",
					   "2002:c0a8:0101::1", "224.0.0.1", "ff02::1",
					   "168.63.129.16", "255.255.255.255" };

	filter_new(&f, allow, 1, NULL, 0, false, false);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct fake_dns d = { .addrs = { bad[i] }, .n = 1 };
		if (!CHECK_INT(decide_resolve(&f, &d, "allowed.test", 443, &v), ==, 0))
			fprintf(stderr, "# accepted %s\n", bad[i]);
		CHECK_INT(v.reason, ==, SH_PR_ADDR_CLASS);
	}
	/* mixed answers: only the public ones are used */
	struct fake_dns mix = { .addrs = { "10.0.0.1", "93.184.215.14", "::1", "2606:4700::1" }, .n = 4 };
	CHECK_INT(decide_resolve(&f, &mix, "allowed.test", 443, &v), ==, 2);
	struct fake_dns none = { .n = 0 };
	CHECK_INT(decide_resolve(&f, &none, "allowed.test", 443, &v), ==, 0);
	CHECK_INT(v.reason, ==, SH_PR_RESOLVE);
	sh_proxy_filter_free(&f);

	/* allow_private admits private but never metadata */
	filter_new(&f, allow, 1, NULL, 0, false, true);
	struct fake_dns lo = { .addrs = { "127.0.0.1" }, .n = 1 };
	CHECK_INT(decide_resolve(&f, &lo, "allowed.test", 443, &v), ==, 1);
	struct fake_dns md = { .addrs = { "169.254.169.254" }, .n = 1 };
	CHECK_INT(decide_resolve(&f, &md, "allowed.test", 443, &v), ==, 0);
	char body[1024];
	sh_proxy_verdict_explain(&v, body, sizeof(body));
	CHECK_CONTAINS(body, "cloud metadata");
	sh_proxy_filter_free(&f);

	/* IP literal requests go through the same check */
	filter_new(&f, NULL, 0, NULL, 0, true, false);
	struct fake_dns unused = { .n = 0 };
	CHECK_INT(decide_resolve(&f, &unused, "2130706433", 80, &v), ==, 0);
	CHECK_INT(v.reason, ==, SH_PR_ADDR_CLASS);
	CHECK_INT(decide_resolve(&f, &unused, "[::ffff:a9fe:a9fe]", 80, &v), ==, 0);
	CHECK_INT(decide_resolve(&f, &unused, "8.8.8.8", 443, &v), ==, 1);
	CHECK_INT(unused.calls, ==, 0);
	sh_proxy_filter_free(&f);

	/* an exactly listed literal is explicit consent */
	static const char *const lit[] = { "127.0.0.1:8080" };
	filter_new(&f, lit, 1, NULL, 0, false, false);
	CHECK_INT(decide_resolve(&f, &unused, "127.0.0.1", 8080, &v), ==, 1);
	sh_proxy_filter_free(&f);
}

static enum sh_addr_class cls(const char *s)
{
	unsigned char a[16];
	if (inet_pton(AF_INET, s, a) == 1)
		return sh_addr_class4(a);
	if (inet_pton(AF_INET6, s, a) == 1)
		return sh_addr_class6(a);
	return (enum sh_addr_class)-1;
}

TEST(proxy_addr_classes)
{
	CHECK_INT(cls("8.8.8.8"), ==, SH_ADDR_PUBLIC);
	CHECK_INT(cls("93.184.215.14"), ==, SH_ADDR_PUBLIC);
	CHECK_INT(cls("127.0.0.1"), ==, SH_ADDR_LOOPBACK);
	CHECK_INT(cls("127.255.255.254"), ==, SH_ADDR_LOOPBACK);
	CHECK_INT(cls("0.0.0.0"), ==, SH_ADDR_UNSPECIFIED);
	CHECK_INT(cls("10.0.0.1"), ==, SH_ADDR_PRIVATE);
	CHECK_INT(cls("172.16.0.1"), ==, SH_ADDR_PRIVATE);
	CHECK_INT(cls("172.31.255.255"), ==, SH_ADDR_PRIVATE);
	CHECK_INT(cls("172.32.0.1"), ==, SH_ADDR_PUBLIC);
	CHECK_INT(cls("172.15.0.1"), ==, SH_ADDR_PUBLIC);
	CHECK_INT(cls("192.168.0.1"), ==, SH_ADDR_PRIVATE);
	CHECK_INT(cls("169.254.0.1"), ==, SH_ADDR_LINKLOCAL);
	CHECK_INT(cls("169.254.169.254"), ==, SH_ADDR_METADATA);
	CHECK_INT(cls("169.254.170.2"), ==, SH_ADDR_METADATA);
	CHECK_INT(cls("100.64.0.1"), ==, SH_ADDR_CGNAT);
	CHECK_INT(cls("100.127.255.255"), ==, SH_ADDR_CGNAT);
	CHECK_INT(cls("100.128.0.1"), ==, SH_ADDR_PUBLIC);
	CHECK_INT(cls("100.100.100.200"), ==, SH_ADDR_METADATA);
	CHECK_INT(cls("168.63.129.16"), ==, SH_ADDR_METADATA);
	CHECK_INT(cls("169.254.170.23"), ==, SH_ADDR_METADATA);
	CHECK_INT(cls("169.254.0.23"), ==, SH_ADDR_METADATA);
	CHECK_INT(cls("224.0.0.1"), ==, SH_ADDR_MULTICAST);
	CHECK_INT(cls("240.0.0.1"), ==, SH_ADDR_RESERVED);
	CHECK_INT(cls("255.255.255.255"), ==, SH_ADDR_RESERVED);
	CHECK_INT(cls("203.0.113.7"), ==, SH_ADDR_RESERVED);
	CHECK_INT(cls("198.18.0.1"), ==, SH_ADDR_RESERVED);
	CHECK_INT(cls("::1"), ==, SH_ADDR_LOOPBACK);
	CHECK_INT(cls("::"), ==, SH_ADDR_UNSPECIFIED);
	CHECK_INT(cls("fe80::1"), ==, SH_ADDR_LINKLOCAL);
	CHECK_INT(cls("febf::1"), ==, SH_ADDR_LINKLOCAL);
	CHECK_INT(cls("fec0::1"), ==, SH_ADDR_PRIVATE);
	CHECK_INT(cls("fc00::1"), ==, SH_ADDR_ULA);
	CHECK_INT(cls("fd12:3456::1"), ==, SH_ADDR_ULA);
	CHECK_INT(cls("fd00:ec2::254"), ==, SH_ADDR_METADATA);
	CHECK_INT(cls("fd00:ec2::23"), ==, SH_ADDR_METADATA);
	CHECK_INT(cls("ff02::1"), ==, SH_ADDR_MULTICAST);
	CHECK_INT(cls("::ffff:10.0.0.1"), ==, SH_ADDR_PRIVATE);
	CHECK_INT(cls("::ffff:8.8.8.8"), ==, SH_ADDR_PUBLIC);
	CHECK_INT(cls("::ffff:169.254.169.254"), ==, SH_ADDR_METADATA);
	CHECK_INT(cls("64:ff9b::7f00:1"), ==, SH_ADDR_LOOPBACK);
	CHECK_INT(cls("64:ff9b::808:808"), ==, SH_ADDR_PUBLIC);
	CHECK_INT(cls("64:ff9b:1::1"), ==, SH_ADDR_PRIVATE);
	CHECK_INT(cls("2002:7f00:1::1"), ==, SH_ADDR_LOOPBACK);
	CHECK_INT(cls("2002:808:808::1"), ==, SH_ADDR_PUBLIC);
	CHECK_INT(cls("::127.0.0.1"), ==, SH_ADDR_RESERVED);
	CHECK_INT(cls("2001:db8::1"), ==, SH_ADDR_RESERVED);
	CHECK_INT(cls("2001::1"), ==, SH_ADDR_RESERVED);
	CHECK_INT(cls("2606:4700::1111"), ==, SH_ADDR_PUBLIC);
	CHECK_INT(cls("4000::1"), ==, SH_ADDR_RESERVED);
	CHECK(sh_addr_class_permitted(SH_ADDR_PUBLIC, false, false));
	CHECK(!sh_addr_class_permitted(SH_ADDR_LOOPBACK, false, false));
	CHECK(sh_addr_class_permitted(SH_ADDR_LOOPBACK, true, false));
	CHECK(!sh_addr_class_permitted(SH_ADDR_METADATA, true, false));
	CHECK(sh_addr_class_permitted(SH_ADDR_METADATA, false, true));
	CHECK(!sh_addr_class_permitted(SH_ADDR_MULTICAST, true, true));
}

/* The 403 text names the rule and the flag that would allow it. */
TEST(proxy_refusal_text)
{
	static const char *const allow[] = { "a.com", "ssh.c.com:22" };
	static const char *const deny[] = { "*.evil.com" };
	struct sh_proxy_filter f;
	struct sh_proxy_verdict v;
	char body[2048];

	filter_new(&f, allow, 2, deny, 1, false, false);
	sh_proxy_filter_check(&f, "Other.COM.", 10, 443, &v);
	sh_proxy_verdict_explain(&v, body, sizeof(body));
	CHECK_CONTAINS(body, "refused other.com:443");
	CHECK_CONTAINS(body, "no allow rule matches other.com:443");
	CHECK_CONTAINS(body, "--allow-domains=other.com\n");

	sh_proxy_filter_check(&f, "other.com", 9, 8080, &v);
	sh_proxy_verdict_explain(&v, body, sizeof(body));
	CHECK_CONTAINS(body, "--allow-domains=other.com:8080");

	sh_proxy_filter_check(&f, "x.evil.com", 10, 443, &v);
	sh_proxy_verdict_explain(&v, body, sizeof(body));
	CHECK_CONTAINS(body, "deny rule '*.evil.com' (from test deny list)");

	sh_proxy_filter_check(&f, "ssh.c.com", 9, 443, &v);
	sh_proxy_verdict_explain(&v, body, sizeof(body));
	CHECK_CONTAINS(body, "allow rule 'ssh.c.com:22' (from --allow-domains)");
	CHECK_CONTAINS(body, "--allow-domains=ssh.c.com:443");

	sh_proxy_filter_check(&f, "16843009", 8, 443, &v);
	sh_proxy_verdict_explain(&v, body, sizeof(body));
	CHECK_CONTAINS(body, "IP-literal");
	CHECK_CONTAINS(body, "--allow-domains=1.1.1.1:443");

	sh_proxy_filter_check(&f, "a\x01.com", 6, 443, &v);
	sh_proxy_verdict_explain(&v, body, sizeof(body));
	CHECK_CONTAINS(body, "malformed (control byte in host name)");
	CHECK(strchr(body, '\x01') == NULL);

	struct fake_dns d = { .addrs = { "10.0.0.7" }, .n = 1 };
	CHECK_INT(decide_resolve(&f, &d, "a.com", 443, &v), ==, 0);
	sh_proxy_verdict_explain(&v, body, sizeof(body));
	CHECK_CONTAINS(body, "10.0.0.7 is private");
	CHECK_CONTAINS(body, "--allow-private-network");

	sh_proxy_filter_check(&f, "a.com", 5, 443, &v);
	CHECK(sh_proxy_filter_sni(&v, "A.com.", 6));
	CHECK(!sh_proxy_filter_sni(&v, "evil.com", 8));
	sh_proxy_verdict_explain(&v, body, sizeof(body));
	CHECK_CONTAINS(body, "sni evil.com");
	sh_proxy_filter_check(&f, "a.com", 5, 443, &v);
	CHECK(!sh_proxy_filter_sni(&v, "a.com\0", 6));
	sh_proxy_filter_free(&f);
}
