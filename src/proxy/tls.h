/* Pure TLS ClientHello SNI extraction from the first bytes of a tunnel.
 *
 * Handshake records are reassembled, so a ClientHello split across several
 * TLS records (a known DPI-evasion trick) is read whole instead of being
 * waved through.  Anything ambiguous is MALFORMED, never "no SNI": two
 * server_name extensions, two host_name entries, trailing bytes, lengths that
 * do not add up, a record other than a handshake first. */
#ifndef SH_PROXY_TLS_H
#define SH_PROXY_TLS_H

#include <stddef.h>

#define SH_TLS_MAX_HELLO 16384 /* largest ClientHello handshake message accepted */
#define SH_TLS_SNI_MAX 255

enum sh_tls_result {
	SH_TLS_NEED_MORE, /* a valid prefix: read more bytes */
	SH_TLS_SNI,       /* ClientHello with a host_name: *sni filled */
	SH_TLS_NO_SNI,    /* ClientHello without server_name */
	SH_TLS_NOT_TLS,   /* the first byte is no TLS record type: another protocol */
	SH_TLS_MALFORMED, /* starts like TLS but is not a valid ClientHello first */
};

/* Examine b[0..n).  On SH_TLS_SNI, sni (>= SH_TLS_SNI_MAX + 1 bytes) receives
 * the raw name, NUL-terminated, and *sni_len its length (the name may contain
 * any byte: canonicalise it before comparing). */
enum sh_tls_result sh_tls_client_hello_sni(const unsigned char *b, size_t n, char *sni,
					   size_t *sni_len);

#endif
