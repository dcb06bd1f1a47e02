/* Pure SOCKS5 parser and reply encoder. */
#include "proxy/socks5.h"

#include <netinet/in.h>
#include <string.h>

int sh_socks5_parse_greeting(const unsigned char *b, size_t n, bool *noauth)
{
	if (n < 1)
		return 0;
	if (b[0] != SH_SOCKS5_VERSION)
		return -1;
	if (n < 2)
		return 0;
	if (b[1] == 0)
		return -1;
	if (n < 2 + (size_t)b[1])
		return 0;
	*noauth = memchr(b + 2, SH_SOCKS5_AUTH_NONE, b[1]) != NULL;
	return 2 + b[1];
}

static int refuse(struct sh_socks5_req *r, enum sh_socks5_rep rep)
{
	r->rep = rep;
	return -1;
}

int sh_socks5_parse_request(const unsigned char *b, size_t n, struct sh_socks5_req *r)
{
	size_t alen, aoff = 4;

	memset(r, 0, sizeof(*r));
	if (n >= 1 && b[0] != SH_SOCKS5_VERSION)
		return refuse(r, SH_SOCKS5_GENERAL_FAILURE);
	if (n >= 3 && b[2] != 0)
		return refuse(r, SH_SOCKS5_GENERAL_FAILURE);
	if (n < 4)
		return 0;
	r->cmd = b[1];
	r->atyp = b[3];
	if (r->cmd != SH_SOCKS5_CMD_CONNECT)
		return refuse(r, SH_SOCKS5_CMD_UNSUPPORTED); /* BIND, UDP ASSOCIATE, junk */
	switch (r->atyp) {
	case SH_SOCKS5_ATYP_IPV4:
		alen = 4;
		break;
	case SH_SOCKS5_ATYP_IPV6:
		alen = 16;
		break;
	case SH_SOCKS5_ATYP_DOMAIN:
		if (n < 5)
			return 0;
		alen = b[4];
		aoff = 5;
		if (alen == 0)
			return refuse(r, SH_SOCKS5_GENERAL_FAILURE);
		break;
	default:
		return refuse(r, SH_SOCKS5_ATYP_UNSUPPORTED);
	}
	if (n < aoff + alen + 2)
		return 0;
	if (r->atyp == SH_SOCKS5_ATYP_DOMAIN) {
		memcpy(r->host, b + aoff, alen);
		r->host[alen] = '\0';
		r->host_len = alen;
	} else {
		memcpy(r->addr, b + aoff, alen);
	}
	r->port = (uint16_t)((b[aoff + alen] << 8) | b[aoff + alen + 1]);
	if (r->port == 0)
		return refuse(r, SH_SOCKS5_GENERAL_FAILURE);
	return (int)(aoff + alen + 2);
}

size_t sh_socks5_reply(unsigned char *out, enum sh_socks5_rep rep, const struct sockaddr *bound)
{
	out[0] = SH_SOCKS5_VERSION;
	out[1] = (unsigned char)rep;
	out[2] = 0;
	if (bound && bound->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)(const void *)bound;
		out[3] = SH_SOCKS5_ATYP_IPV6;
		memcpy(out + 4, &s6->sin6_addr, 16);
		memcpy(out + 20, &s6->sin6_port, 2);
		return 22;
	}
	out[3] = SH_SOCKS5_ATYP_IPV4;
	if (bound && bound->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)(const void *)bound;
		memcpy(out + 4, &s4->sin_addr, 4);
		memcpy(out + 8, &s4->sin_port, 2);
	} else {
		memset(out + 4, 0, 6);
	}
	return 10;
}
