/* Pure TLS ClientHello SNI extraction. */
#include "proxy/tls.h"

#include <stdint.h>
#include <string.h>

#define TLS_RECORD_CHANGE_CIPHER_SPEC 0x14
#define TLS_RECORD_ALERT 0x15
#define TLS_RECORD_HANDSHAKE 0x16
#define TLS_RECORD_APPLICATION_DATA 0x17
#define TLS_RECORD_HEARTBEAT 0x18
#define TLS_HANDSHAKE_CLIENT_HELLO 0x01
#define TLS_RECORD_MAX 16384
#define TLS_EXT_SERVER_NAME 0x0000
#define TLS_SNI_HOST_NAME 0x00

struct rd {
	const unsigned char *p;
	size_t n, off;
	int bad;
};

static unsigned u8(struct rd *r)
{
	if (r->off + 1 > r->n) {
		r->bad = 1;
		return 0;
	}
	return r->p[r->off++];
}

static unsigned u16(struct rd *r)
{
	unsigned hi = u8(r);
	return (hi << 8) | u8(r);
}

static const unsigned char *take(struct rd *r, size_t len)
{
	if (r->bad || len > r->n - r->off) {
		r->bad = 1;
		return NULL;
	}
	const unsigned char *s = r->p + r->off;
	r->off += len;
	return s;
}

/* server_name extension body: ServerNameList. */
static enum sh_tls_result parse_sni(const unsigned char *p, size_t n, char *sni, size_t *sni_len)
{
	struct rd r = { p, n, 0, 0 };
	size_t list = u16(&r);
	int found = 0;

	if (r.bad || list != n - 2 || list == 0)
		return SH_TLS_MALFORMED;
	while (r.off < n) {
		unsigned type = u8(&r);
		size_t len = u16(&r);
		const unsigned char *name = take(&r, len);
		if (r.bad)
			return SH_TLS_MALFORMED;
		if (type != TLS_SNI_HOST_NAME)
			continue;
		if (found || len == 0 || len > SH_TLS_SNI_MAX)
			return SH_TLS_MALFORMED;
		memcpy(sni, name, len);
		sni[len] = '\0';
		*sni_len = len;
		found = 1;
	}
	return found ? SH_TLS_SNI : SH_TLS_NO_SNI;
}

static enum sh_tls_result parse_hello(const unsigned char *p, size_t n, char *sni, size_t *sni_len)
{
	struct rd r = { p, n, 0, 0 };
	enum sh_tls_result res = SH_TLS_NO_SNI;
	int seen_sni = 0;

	if (u8(&r) != 3) /* legacy_version major */
		return SH_TLS_MALFORMED;
	u8(&r);
	take(&r, 32); /* random */
	size_t sid = u8(&r);
	if (sid > 32)
		return SH_TLS_MALFORMED;
	take(&r, sid);
	size_t cs = u16(&r);
	if (cs < 2 || cs % 2)
		return SH_TLS_MALFORMED;
	take(&r, cs);
	size_t comp = u8(&r);
	if (comp < 1)
		return SH_TLS_MALFORMED;
	take(&r, comp);
	if (r.bad)
		return SH_TLS_MALFORMED;
	if (r.off == n)
		return SH_TLS_NO_SNI; /* no extensions at all */
	size_t ext_total = u16(&r);
	if (r.bad || ext_total != n - r.off)
		return SH_TLS_MALFORMED;
	while (r.off < n) {
		unsigned type = u16(&r);
		size_t len = u16(&r);
		const unsigned char *body = take(&r, len);
		if (r.bad)
			return SH_TLS_MALFORMED;
		if (type != TLS_EXT_SERVER_NAME)
			continue;
		if (seen_sni)
			return SH_TLS_MALFORMED;
		seen_sni = 1;
		res = parse_sni(body, len, sni, sni_len);
		if (res == SH_TLS_MALFORMED)
			return res;
	}
	return res;
}

enum sh_tls_result sh_tls_client_hello_sni(const unsigned char *b, size_t n, char *sni,
					   size_t *sni_len)
{
	unsigned char hs[SH_TLS_MAX_HELLO + 4];
	size_t hs_len = 0, off = 0;

	if (n == 0)
		return SH_TLS_NEED_MORE;
	switch (b[0]) {
	case TLS_RECORD_HANDSHAKE:
		break;
	case TLS_RECORD_CHANGE_CIPHER_SPEC:
	case TLS_RECORD_ALERT:
	case TLS_RECORD_APPLICATION_DATA:
	case TLS_RECORD_HEARTBEAT:
		/* TLS, but not a ClientHello first.  Some servers (Go's) skip a
		 * warning alert before the hello: relaying this unread would let
		 * the hello behind it name any server. */
		return SH_TLS_MALFORMED;
	default:
		return SH_TLS_NOT_TLS;
	}
	for (;;) {
		/* Enough handshake bytes for the whole message? */
		if (hs_len >= 4) {
			if (hs[0] != TLS_HANDSHAKE_CLIENT_HELLO)
				return SH_TLS_MALFORMED;
			size_t mlen = ((size_t)hs[1] << 16) | ((size_t)hs[2] << 8) | hs[3];
			if (mlen > SH_TLS_MAX_HELLO || mlen < 38)
				return SH_TLS_MALFORMED;
			if (hs_len >= 4 + mlen) {
				if (hs_len != 4 + mlen)
					return SH_TLS_MALFORMED; /* more handshake data after the hello */
				return parse_hello(hs + 4, mlen, sni, sni_len);
			}
		}
		/* Next record header. */
		if (n - off < 1)
			return SH_TLS_NEED_MORE;
		if (b[off] != TLS_RECORD_HANDSHAKE)
			return SH_TLS_MALFORMED;
		if (n - off >= 2 && b[off + 1] != 3)
			return SH_TLS_MALFORMED;
		if (n - off < 5)
			return SH_TLS_NEED_MORE;
		size_t rlen = ((size_t)b[off + 3] << 8) | b[off + 4];
		if (rlen == 0 || rlen > TLS_RECORD_MAX)
			return SH_TLS_MALFORMED;
		size_t have = n - off - 5 < rlen ? n - off - 5 : rlen;
		if (hs_len + have > sizeof(hs))
			return SH_TLS_MALFORMED;
		memcpy(hs + hs_len, b + off + 5, have);
		hs_len += have;
		if (have < rlen) {
			/* Partial record: decide early if what we have is already wrong. */
			if (hs_len >= 1 && hs[0] != TLS_HANDSHAKE_CLIENT_HELLO)
				return SH_TLS_MALFORMED;
			if (hs_len >= 4) {
				size_t mlen = ((size_t)hs[1] << 16) | ((size_t)hs[2] << 8) | hs[3];
				if (mlen > SH_TLS_MAX_HELLO || mlen < 38 || hs_len > 4 + mlen)
					return SH_TLS_MALFORMED;
			}
			return SH_TLS_NEED_MORE;
		}
		off += 5 + rlen;
	}
}
