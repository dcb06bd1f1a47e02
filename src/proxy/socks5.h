/* Pure SOCKS5 (RFC 1928) parser and reply encoder: no-auth only, CONNECT
 * only (no BIND, no UDP ASSOCIATE), targets as domain name, IPv4 or IPv6. */
#ifndef SH_PROXY_SOCKS5_H
#define SH_PROXY_SOCKS5_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define SH_SOCKS5_VERSION 0x05
#define SH_SOCKS5_AUTH_NONE 0x00
#define SH_SOCKS5_AUTH_NOT_ACCEPTABLE 0xff
#define SH_SOCKS5_CMD_CONNECT 0x01
#define SH_SOCKS5_ATYP_IPV4 0x01
#define SH_SOCKS5_ATYP_DOMAIN 0x03
#define SH_SOCKS5_ATYP_IPV6 0x04
#define SH_SOCKS5_REPLY_MAX 22 /* VER REP RSV ATYP + 16 + 2 */

enum sh_socks5_rep {
	SH_SOCKS5_OK = 0x00,
	SH_SOCKS5_GENERAL_FAILURE = 0x01,
	SH_SOCKS5_NOT_ALLOWED = 0x02, /* "connection not allowed by ruleset" */
	SH_SOCKS5_NET_UNREACHABLE = 0x03,
	SH_SOCKS5_HOST_UNREACHABLE = 0x04,
	SH_SOCKS5_REFUSED = 0x05,
	SH_SOCKS5_TTL_EXPIRED = 0x06,
	SH_SOCKS5_CMD_UNSUPPORTED = 0x07,
	SH_SOCKS5_ATYP_UNSUPPORTED = 0x08,
};

/* Greeting "VER NMETHODS METHODS...".  Returns the bytes consumed (> 0) with
 * *noauth telling whether method 0 was offered, 0 if more bytes are needed,
 * -1 if malformed (wrong version, no methods). */
int sh_socks5_parse_greeting(const unsigned char *b, size_t n, bool *noauth);

struct sh_socks5_req {
	unsigned char cmd, atyp;
	char host[256];        /* ATYP_DOMAIN: raw bytes (may contain anything), NUL-terminated copy */
	size_t host_len;
	unsigned char addr[16]; /* ATYP_IPV4: addr[0..3]; ATYP_IPV6: 16 bytes */
	uint16_t port;
	enum sh_socks5_rep rep; /* on -1: the reply code to send */
};

/* Request "VER CMD RSV ATYP DST.ADDR DST.PORT".  Returns the bytes consumed
 * (> 0), 0 if more bytes are needed, -1 when it must be refused (r->rep:
 * general failure for malformed, CMD_UNSUPPORTED, ATYP_UNSUPPORTED). */
int sh_socks5_parse_request(const unsigned char *b, size_t n, struct sh_socks5_req *r);

/* Encode a reply; bound may be NULL (0.0.0.0:0).  out must hold
 * SH_SOCKS5_REPLY_MAX bytes.  Returns the length. */
size_t sh_socks5_reply(unsigned char *out, enum sh_socks5_rep rep, const struct sockaddr *bound);

#endif
