/* Pure HTTP/1.x proxy request parser and the upstream request builder. */
#include "proxy/http.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "proxy/hostmatch.h"

static int err(struct sh_http_req *r, int status, const char *why)
{
	r->status = status;
	r->error = why;
	return -1;
}

static bool is_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool is_value_byte(unsigned char c)
{
	return c == '\t' || c == ' ' || (c >= 0x21 && c <= 0x7e) || c >= 0x80;
}

static bool span_ieq(const char *buf, struct sh_span s, const char *lit)
{
	size_t n = strlen(lit);
	return s.len == n && strncasecmp(buf + s.off, lit, n) == 0;
}

int sh_http_authority(const char *s, size_t n, struct sh_span *host, int *port)
{
	size_t hend, rest;

	*port = -1;
	if (n == 0 || memchr(s, '@', n))
		return -1;
	if (s[0] == '[') {
		const char *rb = memchr(s, ']', n);
		if (!rb || rb == s + 1)
			return -1;
		host->off = 1;
		host->len = (size_t)(rb - s) - 1;
		rest = (size_t)(rb - s) + 1;
	} else {
		const char *colon = memchr(s, ':', n);
		if (colon && memchr(colon + 1, ':', n - (size_t)(colon - s) - 1))
			return -1; /* unbracketed IPv6 or junk */
		hend = colon ? (size_t)(colon - s) : n;
		if (hend == 0)
			return -1;
		host->off = 0;
		host->len = hend;
		rest = hend;
	}
	if (rest == n)
		return 0;
	if (s[rest] != ':' || rest + 1 == n || n - rest - 1 > 5)
		return -1;
	long v = 0;
	for (size_t i = rest + 1; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (v < 1 || v > 65535)
		return -1;
	*port = (int)v;
	return 0;
}

static int parse_request_line(const char *buf, size_t n, struct sh_http_req *r)
{
	size_t i = 0;

	while (i < n && is_tchar((unsigned char)buf[i]))
		i++;
	if (i == 0 || i >= n || buf[i] != ' ')
		return err(r, 400, "malformed request line");
	if (i > SH_HTTP_MAX_METHOD)
		return err(r, 501, "method name too long");
	r->method = (struct sh_span){ 0, i };
	size_t t0 = ++i;
	while (i < n && buf[i] >= 0x21 && buf[i] <= 0x7e)
		i++;
	if (i == t0 || i >= n || buf[i] != ' ')
		return err(r, 400, "malformed request target");
	r->target = (struct sh_span){ t0, i - t0 };
	i++;
	if (n - i != 8 || strncmp(buf + i, "HTTP/1.", 7) != 0) {
		if (n - i >= 5 && strncmp(buf + i, "HTTP/", 5) == 0)
			return err(r, 505, "only HTTP/1.0 and HTTP/1.1 are supported");
		return err(r, 400, "malformed HTTP version");
	}
	if (buf[i + 7] != '0' && buf[i + 7] != '1')
		return err(r, 505, "only HTTP/1.0 and HTTP/1.1 are supported");
	r->minor = buf[i + 7] - '0';
	return 0;
}

static int parse_uint(const char *s, size_t n, uint64_t *v)
{
	uint64_t x = 0;
	if (n == 0 || n > 18)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		x = x * 10 + (uint64_t)(s[i] - '0');
	}
	*v = x;
	return 0;
}

static int parse_header(const char *buf, size_t off, size_t n, struct sh_http_req *r)
{
	const char *l = buf + off;
	size_t i = 0;

	if (l[0] == ' ' || l[0] == '\t')
		return err(r, 400, "obsolete header line folding");
	while (i < n && is_tchar((unsigned char)l[i]))
		i++;
	if (i == 0 || i >= n || l[i] != ':')
		return err(r, 400, "malformed header name");
	if (r->nheaders == SH_HTTP_MAX_HEADERS)
		return err(r, 431, "too many header lines");
	struct sh_http_header *h = &r->headers[r->nheaders];
	h->name = (struct sh_span){ off, i };
	i++;
	for (size_t j = i; j < n; j++)
		if (!is_value_byte((unsigned char)l[j]))
			return err(r, 400, "control byte in header value");
	while (i < n && (l[i] == ' ' || l[i] == '\t'))
		i++;
	size_t end = n;
	while (end > i && (l[end - 1] == ' ' || l[end - 1] == '\t'))
		end--;
	h->value = (struct sh_span){ off + i, end - i };
	if (span_ieq(buf, h->name, "host")) {
		if (r->host_header >= 0)
			return err(r, 400, "more than one Host header");
		r->host_header = (int)r->nheaders;
	} else if (span_ieq(buf, h->name, "content-length")) {
		if (r->has_content_length)
			return err(r, 400, "more than one Content-Length header");
		if (parse_uint(buf + h->value.off, h->value.len, &r->content_length) < 0)
			return err(r, 400, "malformed Content-Length");
		r->has_content_length = true;
	} else if (span_ieq(buf, h->name, "transfer-encoding")) {
		r->has_transfer_encoding = true;
	}
	r->nheaders++;
	return 0;
}

static int parse_target(const char *buf, struct sh_http_req *r)
{
	const char *t = buf + r->target.off;
	size_t n = r->target.len;
	int port;

	if (memchr(t, '#', n))
		return err(r, 400, "fragment in request target");
	if (span_ieq(buf, r->method, "CONNECT") && strncmp(buf + r->method.off, "CONNECT", 7) == 0) {
		r->connect = true;
		if (sh_http_authority(t, n, &r->host, &port) < 0 || port < 0)
			return err(r, 400, "CONNECT target must be host:port");
		r->host.off += r->target.off;
		r->port = (uint16_t)port;
		return 0;
	}
	if (n >= 8 && strncasecmp(t, "https://", 8) == 0)
		return err(r, 400, "https:// URLs must use CONNECT");
	if (n < 7 || strncasecmp(t, "http://", 7) != 0)
		return err(r, 400, t[0] == '/' ? "not a proxy request (origin-form target)"
					       : "request target must be an http:// URL");
	size_t a0 = 7, a1 = 7;
	while (a1 < n && t[a1] != '/' && t[a1] != '?')
		a1++;
	if (memchr(t + a0, '@', a1 - a0))
		return err(r, 400, "userinfo in URL authority");
	if (sh_http_authority(t + a0, a1 - a0, &r->host, &port) < 0)
		return err(r, 400, "malformed URL authority");
	r->host.off += r->target.off + a0;
	r->port = port < 0 ? 80 : (uint16_t)port;
	r->path = (struct sh_span){ r->target.off + a1, n - a1 };
	return 0;
}

int sh_http_parse(const char *buf, size_t len, struct sh_http_req *r)
{
	size_t lim = len < SH_HTTP_MAX_HEAD ? len : SH_HTTP_MAX_HEAD;
	const char *end;

	memset(r, 0, offsetof(struct sh_http_req, headers));
	r->nheaders = 0;
	r->host_header = -1;
	r->has_content_length = r->has_transfer_encoding = false;
	r->content_length = 0;
	r->status = 0;
	r->error = NULL;
	end = memmem(buf, lim, "\r\n\r\n", 4);
	if (!end) {
		if (len >= SH_HTTP_MAX_HEAD)
			return err(r, 431, "request head larger than 16 KiB");
		return 0;
	}
	r->head_len = (size_t)(end - buf) + 4;
	const char *eol = memmem(buf, r->head_len, "\r\n", 2);
	if (parse_request_line(buf, (size_t)(eol - buf), r) < 0)
		return -1;
	for (size_t off = (size_t)(eol - buf) + 2; off < r->head_len - 2;) {
		const char *e = memmem(buf + off, r->head_len - off, "\r\n", 2);
		size_t ln = (size_t)(e - (buf + off));
		for (size_t j = 0; j < ln; j++)
			if (buf[off + j] == '\r')
				return err(r, 400, "bare CR in header");
		if (parse_header(buf, off, ln, r) < 0)
			return -1;
		off += ln + 2;
	}
	for (size_t j = 0; j < (size_t)(eol - buf); j++)
		if (buf[j] == '\r' || buf[j] == '\n')
			return err(r, 400, "bare CR or LF in request line");
	if (r->has_content_length && r->has_transfer_encoding)
		return err(r, 400, "both Content-Length and Transfer-Encoding");
	if (parse_target(buf, r) < 0)
		return -1;
	return 1;
}

bool sh_http_header_is(const char *buf, const struct sh_http_header *h, const char *name)
{
	return span_ieq(buf, h->name, name);
}

int sh_http_host_consistent(const char *buf, const struct sh_http_req *r)
{
	struct sh_host a, b;
	struct sh_span hs;
	int port;

	if (r->connect || r->host_header < 0)
		return 0;
	const struct sh_http_header *h = &r->headers[r->host_header];
	if (sh_http_authority(buf + h->value.off, h->value.len, &hs, &port) < 0)
		return -1;
	if (sh_host_canon(buf + r->host.off, r->host.len, &a, NULL) < 0 ||
	    sh_host_canon(buf + h->value.off + hs.off, hs.len, &b, NULL) < 0)
		return -1;
	if (port < 0)
		port = 80;
	if (a.kind != b.kind || strcmp(a.text, b.text) != 0 || port != (int)r->port)
		return -1;
	return 0;
}

/* Is name listed in any Connection header of r? */
static bool listed_in_connection(const char *buf, const struct sh_http_req *r, struct sh_span name)
{
	for (size_t i = 0; i < r->nheaders; i++) {
		const struct sh_http_header *c = &r->headers[i];
		if (!span_ieq(buf, c->name, "connection"))
			continue;
		const char *v = buf + c->value.off;
		size_t n = c->value.len, p = 0;
		while (p < n) {
			while (p < n && (v[p] == ' ' || v[p] == '\t' || v[p] == ','))
				p++;
			size_t s = p;
			while (p < n && v[p] != ',' && v[p] != ' ' && v[p] != '\t')
				p++;
			if (p > s && p - s == name.len &&
			    strncasecmp(v + s, buf + name.off, name.len) == 0)
				return true;
		}
	}
	return false;
}

static bool hop_by_hop(const char *buf, const struct sh_http_header *h)
{
	static const char *const hop[] = { "connection", "proxy-connection", "keep-alive",
					   "proxy-authorization", "proxy-authenticate", "te",
					   "trailer", "transfer-encoding", "upgrade", "host" };
	for (size_t i = 0; i < sizeof(hop) / sizeof(hop[0]); i++)
		if (span_ieq(buf, h->name, hop[i]))
			return true;
	return false;
}

struct out {
	char *p;
	size_t n, cap;
	bool overflow;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->overflow || o->cap - o->n < n) {
		o->overflow = true;
		return;
	}
	memcpy(o->p + o->n, s, n);
	o->n += n;
}

static void puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

ssize_t sh_http_build_upstream(const char *buf, const struct sh_http_req *r, const char *authority,
			       char *out, size_t outsz)
{
	struct out o = { out, 0, outsz, false };

	put(&o, buf + r->method.off, r->method.len);
	puts_(&o, " ");
	if (r->path.len == 0 || buf[r->path.off] != '/')
		puts_(&o, "/");
	put(&o, buf + r->path.off, r->path.len);
	puts_(&o, r->minor ? " HTTP/1.1\r\nHost: " : " HTTP/1.0\r\nHost: ");
	puts_(&o, authority);
	puts_(&o, "\r\n");
	for (size_t i = 0; i < r->nheaders; i++) {
		const struct sh_http_header *h = &r->headers[i];
		/* Content-Length stays whatever Connection lists: the body the
		 * proxy forwards is that long, and an upstream that did not know
		 * would read it as a second request nobody checked. */
		if (hop_by_hop(buf, h) || (listed_in_connection(buf, r, h->name) &&
					   !span_ieq(buf, h->name, "content-length")))
			continue;
		put(&o, buf + h->name.off, h->name.len);
		puts_(&o, ": ");
		put(&o, buf + h->value.off, h->value.len);
		puts_(&o, "\r\n");
	}
	puts_(&o, "Connection: close\r\n\r\n");
	return o.overflow ? -1 : (ssize_t)o.n;
}

const char *sh_http_reason(int status)
{
	switch (status) {
	case 200: return "Connection established";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 414: return "URI Too Long";
	case 431: return "Request Header Fields Too Large";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 505: return "HTTP Version Not Supported";
	default: return "Error";
	}
}

ssize_t sh_http_response(int status, const char *body, char *out, size_t outsz)
{
	size_t bl = strlen(body);
	int n = snprintf(out, outsz,
			 "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\n"
			 "Content-Length: %zu\r\nCache-Control: no-store\r\nConnection: close\r\n"
			 "\r\n%s",
			 status, sh_http_reason(status), bl, body);
	if (n < 0 || (size_t)n >= outsz)
		return -1;
	return n;
}
