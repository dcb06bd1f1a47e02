/* Proxy: the pure request parsers (HTTP request head, SOCKS5, TLS
 * ClientHello SNI) and the decision log (NET-11/NET-12). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "proxy/filter.h"
#include "proxy/http.h"
#include "proxy/log.h"
#include "proxy/socks5.h"
#include "proxy/tls.h"

static int parse(const char *s, struct sh_http_req *r)
{
	return sh_http_parse(s, strlen(s), r);
}

static char *span(const char *buf, struct sh_span s)
{
	static char out[SH_HTTP_MAX_HEAD + 1];
	memcpy(out, buf + s.off, s.len);
	out[s.len] = '\0';
	return out;
}

static struct sh_http_req req;

TEST(proxy_http_connect)
{
	const char *s = "CONNECT Api.Example.com:443 HTTP/1.1\r\nHost: api.example.com:443\r\n"
			"User-Agent: curl\r\n\r\n\x16\x03\x01";
	CHECK_INT(parse(s, &req), ==, 1);
	CHECK(req.connect);
	CHECK_INT(req.head_len, ==, strlen(s) - 3);
	CHECK_STR(span(s, req.host), "Api.Example.com");
	CHECK_INT(req.port, ==, 443);
	CHECK_INT(req.minor, ==, 1);
	CHECK_INT(req.nheaders, ==, 2);

	s = "CONNECT [::1]:8443 HTTP/1.0\r\n\r\n";
	CHECK_INT(parse(s, &req), ==, 1);
	CHECK_STR(span(s, req.host), "::1");
	CHECK_INT(req.port, ==, 8443);

	/* partial input: need more, not an error */
	s = "CONNECT a.com:443 HTTP/1.1\r\nHost: a";
	CHECK_INT(parse(s, &req), ==, 0);
	CHECK_INT(parse("", &req), ==, 0);

	static const char *const bad[] = {
		"CONNECT a.com HTTP/1.1\r\n\r\n",           /* port required */
		"CONNECT a.com: HTTP/1.1\r\n\r\n",
		"CONNECT a.com:99999 HTTP/1.1\r\n\r\n",
		"CONNECT user@a.com:443 HTTP/1.1\r\n\r\n",
		"CONNECT a.com:443 HTTP/2.0\r\n\r\n",
		"CONNECT a.com:443 HTTP/1.1 \r\n\r\n",
		"CONNECT  a.com:443 HTTP/1.1\r\n\r\n",
		"CONNECT a.com:443\r\n\r\n",
		"CONNECT a.com:443 HTTP/1.1\nHost: a\r\n\r\n",  /* bare LF */
		"CONNECT a.com:443 HTTP/1.1\r\nHost : a\r\n\r\n", /* space before colon */
		"CONNECT a.com:443 HTTP/1.1\r\nHost: a\r\n b\r\n\r\n", /* obs-fold */
		"CONNECT a.com:443 HTTP/1.1\r\nX: a\rb\r\n\r\n",
		"CONNECT a.com:443 HTTP/1.1\r\nX: a\x01\r\n\r\n",
		"CONNECT ::1:443 HTTP/1.1\r\n\r\n",
		"\r\n\r\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (!CHECK_INT(parse(bad[i], &req), ==, -1))
			fprintf(stderr, "# accepted [%zu]\n", i);
	CHECK_INT(parse("CONNECT a.com:443 HTTP/2.0\r\n\r\n", &req), ==, -1);
	CHECK_INT(req.status, ==, 505);
}

TEST(proxy_http_absolute)
{
	const char *s = "GET http://Example.com/a/b?q=1 HTTP/1.1\r\nHost: example.com\r\n"
			"Proxy-Authorization: Basic c2VjcmV0\r\nConnection: keep-alive, X-Drop\r\n"
			"X-Drop: 1\r\nAccept: */*\r\nContent-Length: 3\r\n\r\nabc";
	CHECK_INT(parse(s, &req), ==, 1);
	CHECK(!req.connect);
	CHECK_STR(span(s, req.host), "Example.com");
	CHECK_INT(req.port, ==, 80);
	CHECK_STR(span(s, req.path), "/a/b?q=1");
	CHECK(req.has_content_length);
	CHECK_INT(req.content_length, ==, 3);
	CHECK_INT(sh_http_host_consistent(s, &req), ==, 0);

	char out[SH_HTTP_MAX_HEAD + 512];
	ssize_t n = sh_http_build_upstream(s, &req, "example.com", out, sizeof(out));
	CHECK_INT(n, >, 0);
	out[n > 0 ? n : 0] = '\0';
	CHECK_STR(out, "GET /a/b?q=1 HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n"
		       "Content-Length: 3\r\nConnection: close\r\n\r\n");
	CHECK_INT(sh_http_build_upstream(s, &req, "example.com", out, 20), ==, -1);

	/* Connection cannot drop Content-Length: the body forwarded is that long,
	 * and without it the upstream would read the body as a second request */
	s = "POST http://a.com/ HTTP/1.1\r\nHost: a.com\r\nConnection: content-length\r\n"
	    "Content-Length: 4\r\n\r\nGET ";
	CHECK_INT(parse(s, &req), ==, 1);
	n = sh_http_build_upstream(s, &req, "a.com", out, sizeof(out));
	out[n > 0 ? n : 0] = '\0';
	CHECK_STR(out, "POST / HTTP/1.1\r\nHost: a.com\r\nContent-Length: 4\r\n"
		       "Connection: close\r\n\r\n");

	s = "GET http://a.com:8080?x HTTP/1.0\r\n\r\n";
	CHECK_INT(parse(s, &req), ==, 1);
	CHECK_INT(req.port, ==, 8080);
	n = sh_http_build_upstream(s, &req, "a.com:8080", out, sizeof(out));
	out[n > 0 ? n : 0] = '\0';
	CHECK_STR(out, "GET /?x HTTP/1.0\r\nHost: a.com:8080\r\nConnection: close\r\n\r\n");

	s = "GET http://[::1]:81 HTTP/1.1\r\n\r\n";
	CHECK_INT(parse(s, &req), ==, 1);
	CHECK_STR(span(s, req.host), "::1");
	CHECK_INT(req.path.len, ==, 0);

	static const char *const bad[] = {
		"GET /path HTTP/1.1\r\nHost: a.com\r\n\r\n",           /* origin-form */
		"GET https://a.com/ HTTP/1.1\r\n\r\n",
		"GET ftp://a.com/ HTTP/1.1\r\n\r\n",
		"GET http://allowed.com@evil.com/ HTTP/1.1\r\n\r\n",   /* userinfo */
		"GET http://a.com/#frag HTTP/1.1\r\n\r\n",
		"GET http:///x HTTP/1.1\r\n\r\n",
		"GET * HTTP/1.1\r\n\r\n",
		"GET http://a.com/ HTTP/1.1\r\nHost: a.com\r\nHost: b.com\r\n\r\n",
		"POST http://a.com/ HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n",
		"POST http://a.com/ HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
		"POST http://a.com/ HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
		"POST http://a.com/ HTTP/1.1\r\nContent-Length: 1 2\r\n\r\n",
		"G\x01T http://a.com/ HTTP/1.1\r\n\r\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (!CHECK_INT(parse(bad[i], &req), ==, -1))
			fprintf(stderr, "# accepted [%zu]\n", i);
}

/* NET-11: absolute-URI and Host must agree. */
TEST(proxy_http_host_mismatch)
{
	static const struct {
		const char *req;
		int consistent;
	} cases[] = {
		{ "GET http://allowed.example/ HTTP/1.1\r\nHost: not-allowed.example\r\n\r\n", -1 },
		{ "GET http://allowed.example/ HTTP/1.1\r\nHost: allowed.example\r\n\r\n", 0 },
		{ "GET http://allowed.example/ HTTP/1.1\r\nHost: ALLOWED.example.\r\n\r\n", 0 },
		{ "GET http://allowed.example/ HTTP/1.1\r\nHost: allowed.example:80\r\n\r\n", 0 },
		{ "GET http://allowed.example:80/ HTTP/1.1\r\nHost: allowed.example\r\n\r\n", 0 },
		{ "GET http://allowed.example/ HTTP/1.1\r\nHost: allowed.example:8080\r\n\r\n", -1 },
		{ "GET http://allowed.example/ HTTP/1.1\r\nHost: allowed.example.evil\r\n\r\n", -1 },
		{ "GET http://allowed.example/ HTTP/1.1\r\nHost: evil@allowed.example\r\n\r\n", -1 },
		{ "GET http://allowed.example/ HTTP/1.1\r\nHost: \r\n\r\n", -1 },
		{ "GET http://allowed.example/ HTTP/1.1\r\n\r\n", 0 },
		{ "GET http://1.1.1.1/ HTTP/1.1\r\nHost: 16843009\r\n\r\n", 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CHECK_INT(parse(cases[i].req, &req), ==, 1);
		if (!CHECK_INT(sh_http_host_consistent(cases[i].req, &req), ==, cases[i].consistent))
			fprintf(stderr, "# case %zu\n", i);
	}
}

TEST(proxy_http_limits)
{
	char *big = malloc(SH_HTTP_MAX_HEAD + 64);
	size_t n = 0;

	n += (size_t)sprintf(big, "GET http://a.com/ HTTP/1.1\r\n");
	while (n < SH_HTTP_MAX_HEAD + 10)
		big[n++] = 'a';
	CHECK_INT(sh_http_parse(big, n, &req), ==, -1);
	CHECK_INT(req.status, ==, 431);
	/* a head just under the limit, but still incomplete: need more */
	CHECK_INT(sh_http_parse(big, SH_HTTP_MAX_HEAD - 1, &req), ==, 0);

	n = (size_t)sprintf(big, "GET http://a.com/ HTTP/1.1\r\n");
	for (int i = 0; i < SH_HTTP_MAX_HEADERS; i++)
		n += (size_t)sprintf(big + n, "X-%d: v\r\n", i);
	strcpy(big + n, "\r\n");
	CHECK_INT(sh_http_parse(big, n + 2, &req), ==, 1);
	CHECK_INT(req.nheaders, ==, SH_HTTP_MAX_HEADERS);
	n += (size_t)sprintf(big + n, "X-last: v\r\n\r\n");
	CHECK_INT(sh_http_parse(big, n, &req), ==, -1);
	CHECK_INT(req.status, ==, 431);
	free(big);

	char out[512];
	CHECK_INT(sh_http_response(403, "nope\n", out, sizeof(out)), >, 0);
	CHECK_CONTAINS(out, "HTTP/1.1 403 Forbidden\r\n");
	CHECK_CONTAINS(out, "Content-Length: 5\r\n");
	CHECK_CONTAINS(out, "\r\n\r\nnope\n");
}

TEST(proxy_socks5)
{
	bool noauth = false;
	const unsigned char g1[] = { 5, 2, 2, 0 };
	CHECK_INT(sh_socks5_parse_greeting(g1, sizeof(g1), &noauth), ==, 4);
	CHECK(noauth);
	const unsigned char g2[] = { 5, 1, 2 };
	CHECK_INT(sh_socks5_parse_greeting(g2, sizeof(g2), &noauth), ==, 3);
	CHECK(!noauth);
	CHECK_INT(sh_socks5_parse_greeting(g1, 3, &noauth), ==, 0);
	CHECK_INT(sh_socks5_parse_greeting(g1, 1, &noauth), ==, 0);
	const unsigned char g3[] = { 4, 1, 0 };
	CHECK_INT(sh_socks5_parse_greeting(g3, sizeof(g3), &noauth), ==, -1);
	const unsigned char g4[] = { 5, 0 };
	CHECK_INT(sh_socks5_parse_greeting(g4, sizeof(g4), &noauth), ==, -1);

	struct sh_socks5_req r;
	const unsigned char d[] = { 5, 1, 0, 3, 12, 'a', 'l', 'l', 'o', 'w', 'e', 'd', '.', 't', 'e', 's', 't', 0x01, 0xbb, 'X' };
	CHECK_INT(sh_socks5_parse_request(d, sizeof(d), &r), ==, (int)sizeof(d) - 1);
	CHECK_STR(r.host, "allowed.test");
	CHECK_INT(r.port, ==, 443);
	for (size_t i = 0; i < sizeof(d) - 1; i++)
		CHECK_INT(sh_socks5_parse_request(d, i, &r), ==, 0);
	const unsigned char nul[] = { 5, 1, 0, 3, 5, 'a', '.', 'c', 0, 'x', 0, 80 };
	CHECK_INT(sh_socks5_parse_request(nul, sizeof(nul), &r), ==, (int)sizeof(nul));
	CHECK_INT(r.host_len, ==, 5); /* NUL kept: the filter refuses it */
	const unsigned char v4[] = { 5, 1, 0, 1, 1, 1, 1, 1, 0, 80 };
	CHECK_INT(sh_socks5_parse_request(v4, sizeof(v4), &r), ==, 10);
	CHECK_INT(r.atyp, ==, SH_SOCKS5_ATYP_IPV4);
	const unsigned char v6[22] = { 5, 1, 0, 4, [19] = 1, [20] = 0, [21] = 22 };
	CHECK_INT(sh_socks5_parse_request(v6, sizeof(v6), &r), ==, 22);
	CHECK_INT(r.port, ==, 22);
	const unsigned char bind[] = { 5, 2, 0, 1, 1, 1, 1, 1, 0, 80 };
	CHECK_INT(sh_socks5_parse_request(bind, sizeof(bind), &r), ==, -1);
	CHECK_INT(r.rep, ==, SH_SOCKS5_CMD_UNSUPPORTED);
	const unsigned char udp[] = { 5, 3, 0, 1, 0, 0, 0, 0, 0, 0 };
	CHECK_INT(sh_socks5_parse_request(udp, sizeof(udp), &r), ==, -1);
	CHECK_INT(r.rep, ==, SH_SOCKS5_CMD_UNSUPPORTED);
	const unsigned char atyp[] = { 5, 1, 0, 9, 0, 0 };
	CHECK_INT(sh_socks5_parse_request(atyp, sizeof(atyp), &r), ==, -1);
	CHECK_INT(r.rep, ==, SH_SOCKS5_ATYP_UNSUPPORTED);
	const unsigned char rsv[] = { 5, 1, 7, 1, 1, 1, 1, 1, 0, 80 };
	CHECK_INT(sh_socks5_parse_request(rsv, sizeof(rsv), &r), ==, -1);
	const unsigned char empty[] = { 5, 1, 0, 3, 0, 0, 80 };
	CHECK_INT(sh_socks5_parse_request(empty, sizeof(empty), &r), ==, -1);
	const unsigned char port0[] = { 5, 1, 0, 1, 1, 1, 1, 1, 0, 0 };
	CHECK_INT(sh_socks5_parse_request(port0, sizeof(port0), &r), ==, -1);

	unsigned char out[SH_SOCKS5_REPLY_MAX];
	CHECK_INT(sh_socks5_reply(out, SH_SOCKS5_NOT_ALLOWED, NULL), ==, 10);
	CHECK_INT(out[0], ==, 5);
	CHECK_INT(out[1], ==, 2);
	CHECK_INT(out[3], ==, 1);
}

/* ---- TLS ClientHello builder ---- */

struct hello_opts {
	const char *sni;     /* NULL: no server_name extension */
	size_t sni_len;      /* 0: strlen */
	int dup_ext;         /* two server_name extensions */
	int dup_name;        /* two host_name entries */
	size_t frag;         /* record fragment size, 0: one record */
	int no_ext;          /* no extensions block */
};

static size_t put16(unsigned char *p, size_t v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
	return 2;
}

static size_t sni_ext(unsigned char *p, const char *name, size_t nl, int dup_name)
{
	size_t entry = 3 + nl, list = entry * (dup_name ? 2 : 1), o = 0;
	o += put16(p + o, 0);
	o += put16(p + o, list + 2);
	o += put16(p + o, list);
	for (int i = 0; i <= dup_name; i++) {
		p[o++] = 0;
		o += put16(p + o, nl);
		memcpy(p + o, name, nl);
		o += nl;
	}
	return o;
}

static size_t build_hello(unsigned char *out, const struct hello_opts *h)
{
	unsigned char body[4096], ext[2048];
	size_t b = 0, e = 0;
	body[b++] = 3;
	body[b++] = 3;
	memset(body + b, 0xab, 32);
	b += 32;
	body[b++] = 0; /* session id */
	b += put16(body + b, 4);
	body[b++] = 0x13, body[b++] = 0x01, body[b++] = 0x13, body[b++] = 0x02;
	body[b++] = 1, body[b++] = 0;
	/* supported_versions, then maybe SNI */
	e += put16(ext + e, 0x2b);
	e += put16(ext + e, 3);
	ext[e++] = 2, ext[e++] = 3, ext[e++] = 4;
	if (h->sni) {
		size_t nl = h->sni_len ? h->sni_len : strlen(h->sni);
		e += sni_ext(ext + e, h->sni, nl, h->dup_name);
		if (h->dup_ext)
			e += sni_ext(ext + e, "other.test", 10, 0);
	}
	if (!h->no_ext) {
		b += put16(body + b, e);
		memcpy(body + b, ext, e);
		b += e;
	}
	unsigned char hs[4200];
	hs[0] = 1;
	hs[1] = 0;
	put16(hs + 2, b);
	memcpy(hs + 4, body, b);
	size_t hl = b + 4, o = 0, frag = h->frag ? h->frag : hl;
	for (size_t off = 0; off < hl; off += frag) {
		size_t n = hl - off < frag ? hl - off : frag;
		out[o++] = 0x16, out[o++] = 3, out[o++] = 1;
		o += put16(out + o, n);
		memcpy(out + o, hs + off, n);
		o += n;
	}
	return o;
}

static enum sh_tls_result sni_of(const unsigned char *b, size_t n, char *sni)
{
	size_t l = 0;
	sni[0] = '\0';
	return sh_tls_client_hello_sni(b, n, sni, &l);
}

TEST(proxy_tls_sni)
{
	unsigned char buf[8192];
	char sni[SH_TLS_SNI_MAX + 1];
	size_t n;

	n = build_hello(buf, &(struct hello_opts){ .sni = "allowed.test" });
	CHECK_INT(sni_of(buf, n, sni), ==, SH_TLS_SNI);
	CHECK_STR(sni, "allowed.test");
	/* every prefix is "need more", never a wrong answer */
	for (size_t i = 0; i < n; i++)
		if (!CHECK_INT(sni_of(buf, i, sni), ==, SH_TLS_NEED_MORE))
			break;
	/* trailing bytes after the hello (next records) do not matter */
	buf[n] = 0x17;
	CHECK_INT(sni_of(buf, n + 1, sni), ==, SH_TLS_SNI);

	/* fragmented across 1..7-byte records: reassembled, same answer */
	for (size_t f = 1; f <= 7; f++) {
		n = build_hello(buf, &(struct hello_opts){ .sni = "allowed.test", .frag = f });
		CHECK_INT(sni_of(buf, n, sni), ==, SH_TLS_SNI);
		CHECK_STR(sni, "allowed.test");
		CHECK_INT(sni_of(buf, n - 1, sni), ==, SH_TLS_NEED_MORE);
	}

	n = build_hello(buf, &(struct hello_opts){ 0 });
	CHECK_INT(sni_of(buf, n, sni), ==, SH_TLS_NO_SNI);
	n = build_hello(buf, &(struct hello_opts){ .no_ext = 1 });
	CHECK_INT(sni_of(buf, n, sni), ==, SH_TLS_NO_SNI);
	n = build_hello(buf, &(struct hello_opts){ .sni = "a.test", .dup_ext = 1 });
	CHECK_INT(sni_of(buf, n, sni), ==, SH_TLS_MALFORMED);
	n = build_hello(buf, &(struct hello_opts){ .sni = "a.test", .dup_name = 1 });
	CHECK_INT(sni_of(buf, n, sni), ==, SH_TLS_MALFORMED);
	n = build_hello(buf, &(struct hello_opts){ .sni = "a.test\0evil", .sni_len = 11 });
	CHECK_INT(sni_of(buf, n, sni), ==, SH_TLS_SNI); /* raw: the filter refuses it */

	CHECK_INT(sni_of((const unsigned char *)"GET / HTTP/1.1\r\n", 16, sni), ==, SH_TLS_NOT_TLS);
	CHECK_INT(sni_of((const unsigned char *)"SSH-2.0-x\r\n", 11, sni), ==, SH_TLS_NOT_TLS);
	CHECK_INT(sni_of(buf, 0, sni), ==, SH_TLS_NEED_MORE);
	/* another TLS record first (a warning alert, which Go's server skips):
	 * refused, never relayed unread with the hello behind it */
	{
		static const unsigned char first[] = { 0x14, 0x15, 0x17, 0x18 };
		unsigned char pre[8200];
		n = build_hello(buf, &(struct hello_opts){ .sni = "other.test" });
		for (size_t k = 0; k < sizeof(first); k++) {
			const unsigned char rec[] = { first[k], 3, 1, 0, 2, 1, 0x5a };
			memcpy(pre, rec, sizeof(rec));
			memcpy(pre + sizeof(rec), buf, n);
			CHECK_INT(sni_of(pre, sizeof(rec) + n, sni), ==, SH_TLS_MALFORMED);
			CHECK_INT(sni_of(pre, 1, sni), ==, SH_TLS_MALFORMED);
		}
	}
	const unsigned char not_hello[] = { 0x16, 3, 1, 0, 4, 2, 0, 0, 0 };
	CHECK_INT(sni_of(not_hello, sizeof(not_hello), sni), ==, SH_TLS_MALFORMED);
	const unsigned char bad_ver[] = { 0x16, 9, 1, 0, 4 };
	CHECK_INT(sni_of(bad_ver, sizeof(bad_ver), sni), ==, SH_TLS_MALFORMED);
	const unsigned char zero_rec[] = { 0x16, 3, 1, 0, 0 };
	CHECK_INT(sni_of(zero_rec, sizeof(zero_rec), sni), ==, SH_TLS_MALFORMED);
	const unsigned char huge[] = { 0x16, 3, 1, 0, 8, 1, 0x10, 0, 0, 3, 3, 0, 0 };
	CHECK_INT(sni_of(huge, sizeof(huge), sni), ==, SH_TLS_MALFORMED);
	/* a different record type in the middle of the hello */
	n = build_hello(buf, &(struct hello_opts){ .sni = "a.test", .frag = 20 });
	buf[25] = 0x17;
	CHECK_INT(sni_of(buf, n, sni), ==, SH_TLS_MALFORMED);
	/* lengths that do not add up */
	n = build_hello(buf, &(struct hello_opts){ .sni = "a.test" });
	buf[n - 12] ^= 0x40;
	CHECK_INT(sni_of(buf, n, sni), !=, SH_TLS_SNI);
}

TEST(proxy_log_counts)
{
	static const struct sh_proxy_rulespec allow[] = { { "a.com", NULL } };
	struct sh_proxy_config cfg = { .allow = allow, .n_allow = 1 };
	struct sh_proxy_filter f;
	struct sh_err e = { 0 };
	struct sh_proxy_verdict v;
	char *mem = NULL;
	size_t memlen = 0;
	FILE *stream = open_memstream(&mem, &memlen);
	struct sh_proxy_log *log = sh_proxy_log_new(stream);

	CHECK_INT(sh_proxy_filter_init(&f, &cfg, &e), ==, 0);
	for (int i = 0; i < 3; i++) {
		sh_proxy_filter_check(&f, "A.com", 5, 443, &v);
		sh_proxy_log_decision(log, "http-connect", &v);
	}
	sh_proxy_filter_check(&f, "evil.com", 8, 443, &v);
	sh_proxy_log_decision(log, "socks5", &v);
	sh_proxy_filter_check(&f, "evil\r\n.com", 10, 443, &v);
	sh_proxy_log_decision(log, "http", &v);
	CHECK_INT(sh_proxy_log_count(log, "a.com:443", true), ==, 3);
	CHECK_INT(sh_proxy_log_count(log, "evil.com:443", false), ==, 1);
	CHECK_INT(sh_proxy_log_count(log, "evil.com:443", true), ==, 0);
	CHECK_INT(sh_proxy_log_total(log, false), ==, 2);
	fflush(stream);
	CHECK_CONTAINS(mem, "allow http-connect a.com:443 rule=a.com\n");
	CHECK_CONTAINS(mem, "deny socks5 evil.com:443 reason=not-allowed\n");
	CHECK_CONTAINS(mem, "deny http <malformed>:443 reason=malformed-host");
	CHECK(strstr(mem, "evil\r") == NULL);
	fclose(stream);
	free(mem);

	stream = open_memstream(&mem, &memlen);
	sh_proxy_log_summary(log, stream);
	fclose(stream);
	CHECK_CONTAINS(mem, "network: allowed 1 destination (3 connections), denied 2 (2)");
	CHECK_CONTAINS(mem, "allow      3  a.com:443");
	CHECK_CONTAINS(mem, "deny       1  evil.com:443  not-allowed");
	free(mem);
	sh_proxy_log_free(log);

	/* a flood of unique names stays bounded */
	log = sh_proxy_log_new(NULL);
	for (int i = 0; i < SH_PROXY_LOG_MAX_DESTS + 50; i++) {
		char name[64];
		int len = snprintf(name, sizeof(name), "x%d.exfil.test", i);
		sh_proxy_filter_check(&f, name, (size_t)len, 443, &v);
		sh_proxy_log_decision(log, "http", &v);
	}
	CHECK_INT(sh_proxy_log_total(log, false), ==, SH_PROXY_LOG_MAX_DESTS + 50);
	stream = open_memstream(&mem, &memlen);
	sh_proxy_log_summary(log, stream);
	fclose(stream);
	CHECK_CONTAINS(mem, "deny    1034  (984+ other destinations)");
	CHECK(strstr(mem, "x99.exfil.test") == NULL || strlen(mem) < 4096);
	free(mem);
	sh_proxy_log_free(log);
	sh_proxy_filter_free(&f);
}

/* Shared with test_proxy_e2e.c: a one-record ClientHello naming sni. */
size_t t_proxy_hello(unsigned char *out, const char *sni);
size_t t_proxy_hello(unsigned char *out, const char *sni)
{
	return build_hello(out, &(struct hello_opts){ .sni = sni });
}
