/* libFuzzer target: the proxy's request parsers over arbitrary bytes -- the
 * HTTP request head, the SOCKS5 greeting and request, TLS ClientHello SNI
 * extraction -- plus host canonicalisation and the filter decision on
 * whatever host they extract.  Besides memory safety it checks invariants:
 *   - spans stay inside the parsed head; the upstream request always fits;
 *   - canonical hosts are idempotent and contain only [a-z0-9._-] (names);
 *   - a TLS prefix is never judged differently from the whole hello;
 *   - SOCKS5 never consumes more than it was given;
 *   - a prefix of a complete HTTP head, SOCKS5 greeting or SOCKS5 request
 *     is "need more", never an error or a different parse: the event loop
 *     re-parses after every read, so a request split across reads must be
 *     judged exactly as the same request in one read. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/filter.h"
#include "proxy/hostmatch.h"
#include "proxy/http.h"
#include "proxy/socks5.h"
#include "proxy/tls.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct sh_proxy_filter filter;
static int filter_ready;

static void setup(void)
{
	static const struct sh_proxy_rulespec allow[] = {
		{ "a.com", "fuzz" }, { "*.b.com:*", "fuzz" }, { "1.2.3.4:443", "fuzz" },
		{ "[2001:db8::1]:8443", NULL },
	};
	static const struct sh_proxy_rulespec deny[] = { { "x.b.com", "fuzz" } };
	struct sh_proxy_config cfg = { .allow = allow, .n_allow = 4, .deny = deny, .n_deny = 1 };
	struct sh_err e;
	if (sh_proxy_filter_init(&filter, &cfg, &e) < 0)
		abort();
	filter_ready = 1;
}

static void check_host(const char *s, size_t n, uint16_t port)
{
	struct sh_host h, h2;
	struct sh_proxy_verdict v;
	char buf[2048];

	if (sh_host_canon(s, n, &h, NULL) == 0) {
		size_t tl = strlen(h.text);
		if (tl == 0 || tl > SH_HOST_NAME_MAX)
			abort();
		if (h.kind == SH_HOST_NAME)
			for (size_t i = 0; i < tl; i++)
				if (!strchr("abcdefghijklmnopqrstuvwxyz0123456789._-", h.text[i]))
					abort();
		if (sh_host_canon(h.text, tl, &h2, NULL) != 0 || h2.kind != h.kind ||
		    strcmp(h2.text, h.text) != 0)
			abort();
	}
	sh_proxy_filter_check(&filter, s, n, port, &v);
	if (v.allow && !v.host_valid)
		abort();
	sh_proxy_verdict_explain(&v, buf, sizeof(buf));
	for (const char *p = buf; *p; p++)
		if ((unsigned char)*p < 0x20 && *p != '\n')
			abort(); /* refusal text never carries raw control bytes */
	if (v.allow)
		(void)sh_proxy_filter_sni(&v, s, n > SH_TLS_SNI_MAX ? SH_TLS_SNI_MAX : n);
}

static void in_head(const struct sh_http_req *r, struct sh_span s)
{
	if (s.off > r->head_len || s.len > r->head_len - s.off)
		abort();
}

static void fuzz_http(const char *d, size_t n)
{
	static struct sh_http_req r;
	static char out[SH_HTTP_MAX_HEAD + 512];
	int rc = sh_http_parse(d, n, &r);

	if (rc == 0 && n >= SH_HTTP_MAX_HEAD)
		abort();
	if (rc < 0 && (r.status < 400 || !r.error))
		abort();
	if (rc != 1)
		return;
	if (r.head_len > n || r.head_len > SH_HTTP_MAX_HEAD || r.nheaders > SH_HTTP_MAX_HEADERS)
		abort();
	in_head(&r, r.method);
	in_head(&r, r.target);
	in_head(&r, r.host);
	in_head(&r, r.path);
	for (size_t i = 0; i < r.nheaders; i++) {
		in_head(&r, r.headers[i].name);
		in_head(&r, r.headers[i].value);
	}
	size_t head = r.head_len, cuts[3] = { head - 1, head / 2, 1 };
	for (int i = 0; i < 3; i++) {
		static struct sh_http_req pr;
		if (cuts[i] > 0 && cuts[i] < head && sh_http_parse(d, cuts[i], &pr) != 0)
			abort();
	}
	if (sh_http_parse(d, n, &r) != 1 || r.head_len != head)
		abort(); /* the parse is a function of the bytes */
	(void)sh_http_host_consistent(d, &r);
	check_host(d + r.host.off, r.host.len, r.port);
	if (!r.connect) {
		struct sh_host h;
		char auth[SH_HOST_BUFSZ + 16];
		if (sh_host_canon(d + r.host.off, r.host.len, &h, NULL) == 0) {
			sh_host_authority(&h, r.port, auth, sizeof(auth));
			if (sh_http_build_upstream(d, &r, auth, out, sizeof(out)) < 0)
				abort();
		}
	}
}

static void fuzz_socks(const unsigned char *d, size_t n)
{
	bool noauth;
	struct sh_socks5_req r;
	int g = sh_socks5_parse_greeting(d, n, &noauth);

	if (g > (int)n)
		abort();
	for (int cut = 0; cut < g; cut++)
		if (sh_socks5_parse_greeting(d, (size_t)cut, &noauth) != 0)
			abort();
	if (g > 0) {
		d += g;
		n -= (size_t)g;
	}
	int rc = sh_socks5_parse_request(d, n, &r);
	if (rc > (int)n)
		abort();
	for (int cut = 0; cut < rc; cut++) {
		struct sh_socks5_req pr;
		if (sh_socks5_parse_request(d, (size_t)cut, &pr) != 0)
			abort();
	}
	if (rc > 0 && r.atyp == SH_SOCKS5_ATYP_DOMAIN) {
		if (r.host_len == 0 || r.host_len > 255)
			abort();
		check_host(r.host, r.host_len, r.port);
	}
	unsigned char rep[SH_SOCKS5_REPLY_MAX];
	if (sh_socks5_reply(rep, (enum sh_socks5_rep)(n & 0xff), NULL) != 10)
		abort();
}

static void fuzz_tls(const unsigned char *d, size_t n)
{
	char sni[SH_TLS_SNI_MAX + 1], sni2[SH_TLS_SNI_MAX + 1];
	size_t sl = 0, sl2 = 0;
	enum sh_tls_result r = sh_tls_client_hello_sni(d, n, sni, &sl);

	if (r == SH_TLS_SNI) {
		if (sl == 0 || sl > SH_TLS_SNI_MAX || sni[sl] != '\0')
			abort();
		check_host(sni, sl, 443);
	}
	if (r == SH_TLS_SNI || r == SH_TLS_NO_SNI) {
		size_t cuts[2] = { n / 2, n ? n - 1 : 0 };
		for (int i = 0; i < 2; i++) {
			enum sh_tls_result p = sh_tls_client_hello_sni(d, cuts[i], sni2, &sl2);
			if (p != SH_TLS_NEED_MORE && p != r)
				abort();
			if (p == SH_TLS_SNI && (sl2 != sl || memcmp(sni, sni2, sl) != 0))
				abort();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!filter_ready)
		setup();
	fuzz_http((const char *)data, size);
	fuzz_socks(data, size);
	fuzz_tls(data, size);
	check_host((const char *)data, size > 300 ? 300 : size, (uint16_t)(size + 1));
	/* rule patterns are C strings */
	char pat[300];
	size_t pl = size < sizeof(pat) - 1 ? size : sizeof(pat) - 1;
	memcpy(pat, data, pl);
	pat[pl] = '\0';
	struct sh_host_rule rule;
	struct sh_err e;
	(void)sh_host_rule_parse(pat, &rule, &e);
	sh_host_rule_free(&rule);
	return 0;
}
