/* Pure HTTP/1.x proxy request parser and the upstream request builder.
 *
 * Accepted: "CONNECT host:port HTTP/1.x" (authority-form) and
 * "METHOD http://host[:port]/path HTTP/1.x" (absolute-form).  Strict by
 * design, because every leniency is a place where the proxy and the upstream
 * may read a different request (NET-11):
 *   - lines end in CRLF; a bare CR or LF inside a line is malformed;
 *   - no obs-fold, no whitespace before ':', header names are tokens;
 *   - one Host header at most, one Content-Length at most, never both
 *     Content-Length and Transfer-Encoding;
 *   - no userinfo ("http://allowed@evil/"), no percent-encoded hosts, no
 *     fragments, only the http scheme (https goes through CONNECT).
 * Limits: SH_HTTP_MAX_HEAD bytes for the whole head, SH_HTTP_MAX_HEADERS
 * header lines. */
#ifndef SH_PROXY_HTTP_H
#define SH_PROXY_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SH_HTTP_MAX_HEAD 16384  /* request line + headers + blank line */
#define SH_HTTP_MAX_HEADERS 100
#define SH_HTTP_MAX_METHOD 32

struct sh_span {
	size_t off, len; /* into the parsed buffer */
};

struct sh_http_header {
	struct sh_span name, value; /* value without surrounding whitespace */
};

struct sh_http_req {
	size_t head_len;           /* bytes of the head, blank line included */
	struct sh_span method, target;
	int minor;                 /* HTTP/1.<minor>, 0 or 1 */
	bool connect;              /* CONNECT (authority-form) */
	struct sh_span host;       /* host of the target, brackets removed */
	uint16_t port;             /* explicit or 80 for http:// */
	struct sh_span path;       /* origin-form of an absolute-URI; len 0 means "/" */
	size_t nheaders;
	struct sh_http_header headers[SH_HTTP_MAX_HEADERS];
	int host_header;           /* index into headers or -1 */
	bool has_content_length, has_transfer_encoding;
	uint64_t content_length;
	/* On error: the status to answer (400, 414, 431, 501, 505) and why. */
	int status;
	const char *error;
};

/* Parse the head in buf[0..len).
 * Returns 1 when complete (r filled, r->head_len set), 0 when more bytes are
 * needed (len < SH_HTTP_MAX_HEAD and no error seen yet), -1 on error
 * (r->status, r->error). */
int sh_http_parse(const char *buf, size_t len, struct sh_http_req *r);

/* Split an authority "host[:port]" / "[v6][:port]" (no userinfo).
 * Returns 0 with *host (brackets removed) and *port (-1 when absent), or -1. */
int sh_http_authority(const char *s, size_t n, struct sh_span *host, int *port);

/* NET-11: the Host header, if any, must name the same host and port as the
 * absolute-URI (ports compared after defaulting to 80).  Returns 0 when
 * consistent (or no Host header / CONNECT), -1 otherwise. */
int sh_http_host_consistent(const char *buf, const struct sh_http_req *r);

/* Is the header name (case-insensitive) equal to name? */
bool sh_http_header_is(const char *buf, const struct sh_http_header *h, const char *name);

/* The request sent upstream for a plain-HTTP (absolute-form) request:
 * "METHOD /path HTTP/1.x", "Host: <authority>" (from the target), every
 * end-to-end header except hop-by-hop ones (Connection and the names it lists,
 * Keep-Alive, Proxy-*, TE, Trailer, Upgrade, Host), and "Connection: close".
 * authority is the canonical "host[:port]" to put in Host.
 * Returns the length written (no NUL), or -1 if out is too small. */
ssize_t sh_http_build_upstream(const char *buf, const struct sh_http_req *r, const char *authority,
			       char *out, size_t outsz);

/* A complete response with a text body: status line, Content-Type,
 * Content-Length, "Connection: close".  Returns the length or -1 if too small. */
ssize_t sh_http_response(int status, const char *body, char *out, size_t outsz);
const char *sh_http_reason(int status);

#endif
