/* Where does an address lead?  Classification of IPv4 and IPv6 addresses the
 * proxy is about to connect to (after its own resolution, NET-08/NET-16).
 * Embedded IPv4 (v4-mapped, NAT64 64:ff9b::/96, 6to4 2002::/16) is
 * classified as the IPv4 address it reaches. */
#ifndef SH_PROXY_ADDRCLASS_H
#define SH_PROXY_ADDRCLASS_H

#include <stdbool.h>
#include <sys/socket.h>

enum sh_addr_class {
	SH_ADDR_PUBLIC,
	SH_ADDR_LOOPBACK,    /* 127/8, ::1 */
	SH_ADDR_UNSPECIFIED, /* 0/8, :: (connect() to 0.0.0.0 reaches the local host) */
	SH_ADDR_LINKLOCAL,   /* 169.254/16, fe80::/10 */
	SH_ADDR_PRIVATE,     /* 10/8, 172.16/12, 192.168/16, fec0::/10, 64:ff9b:1::/48 */
	SH_ADDR_CGNAT,       /* 100.64/10 */
	SH_ADDR_ULA,         /* fc00::/7 */
	SH_ADDR_METADATA,    /* cloud instance metadata endpoints */
	SH_ADDR_MULTICAST,   /* 224/4, ff00::/8 */
	SH_ADDR_RESERVED,    /* documentation, benchmarking, 240/4, broadcast, non-global IPv6 */
};

enum sh_addr_class sh_addr_class4(const unsigned char a[4]);
enum sh_addr_class sh_addr_class6(const unsigned char a[16]);
/* AF_INET / AF_INET6; any other family is SH_ADDR_RESERVED. */
enum sh_addr_class sh_addr_classify(const struct sockaddr *sa);
const char *sh_addr_class_name(enum sh_addr_class c);

/* May the proxy connect to an address of class c?  Public: always.
 * Metadata: only with allow_metadata.  Multicast: never.  Everything else
 * (loopback, private, link-local, ...): only with allow_private. */
bool sh_addr_class_permitted(enum sh_addr_class c, bool allow_private, bool allow_metadata);

#endif
