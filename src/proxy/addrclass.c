/* Address classification for the proxy's post-resolution check. */
#include "proxy/addrclass.h"

#include <netinet/in.h>
#include <string.h>

/* Metadata services answer on these addresses with instance credentials. */
static const unsigned char meta4[][4] = {
	{ 169, 254, 169, 254 }, /* AWS, GCP, Azure IMDS, OpenStack, Oracle, DigitalOcean */
	{ 169, 254, 170, 2 },   /* AWS ECS task metadata / credentials */
	{ 169, 254, 169, 123 }, /* AWS time sync, same link-local service block */
	{ 100, 100, 100, 200 }, /* Alibaba Cloud */
	{ 168, 63, 129, 16 },   /* Azure WireServer: a public address */
	{ 169, 254, 170, 23 },  /* AWS EKS Pod Identity agent */
	{ 169, 254, 0, 23 },    /* Tencent Cloud */
};
static const unsigned char meta6[][16] = {
	{ 0xfd, 0x00, 0x0e, 0xc2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x54 }, /* AWS IMDS fd00:ec2::254 */
	{ 0xfd, 0x00, 0x0e, 0xc2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x23 }, /* AWS time fd00:ec2::123 */
	{ 0xfd, 0x00, 0x0e, 0xc2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x23 },    /* AWS EKS Pod Identity fd00:ec2::23 */
};

static bool in4(const unsigned char a[4], unsigned b0, unsigned b1, unsigned bits)
{
	unsigned long v = ((unsigned long)a[0] << 24) | ((unsigned long)a[1] << 16) |
			  ((unsigned long)a[2] << 8) | a[3];
	unsigned long net = ((unsigned long)b0 << 24) | ((unsigned long)b1 << 16);
	unsigned long mask = bits == 0 ? 0 : 0xffffffffUL << (32 - bits) & 0xffffffffUL;
	return (v & mask) == (net & mask);
}

enum sh_addr_class sh_addr_class4(const unsigned char a[4])
{
	for (size_t i = 0; i < sizeof(meta4) / sizeof(meta4[0]); i++)
		if (memcmp(a, meta4[i], 4) == 0)
			return SH_ADDR_METADATA;
	if (a[0] == 0)
		return SH_ADDR_UNSPECIFIED;
	if (a[0] == 127)
		return SH_ADDR_LOOPBACK;
	if (a[0] == 10 || in4(a, 172, 16, 12) || in4(a, 192, 168, 16))
		return SH_ADDR_PRIVATE;
	if (in4(a, 169, 254, 16))
		return SH_ADDR_LINKLOCAL;
	if (in4(a, 100, 64, 10))
		return SH_ADDR_CGNAT;
	if (a[0] >= 224 && a[0] <= 239)
		return SH_ADDR_MULTICAST;
	if (a[0] >= 240)
		return SH_ADDR_RESERVED; /* 240/4 and 255.255.255.255 */
	if ((a[0] == 192 && a[1] == 0 && (a[2] == 0 || a[2] == 2)) || /* 192.0.0/24, TEST-NET-1 */
	    (a[0] == 198 && a[1] == 51 && a[2] == 100) ||             /* TEST-NET-2 */
	    (a[0] == 203 && a[1] == 0 && a[2] == 113) ||              /* TEST-NET-3 */
	    in4(a, 198, 18, 15) ||                                    /* benchmarking */
	    (a[0] == 192 && a[1] == 88 && a[2] == 99))                /* 6to4 relay anycast */
		return SH_ADDR_RESERVED;
	return SH_ADDR_PUBLIC;
}

enum sh_addr_class sh_addr_class6(const unsigned char a[16])
{
	static const unsigned char zero[16];
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	static const unsigned char nat64[12] = { 0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0 };

	for (size_t i = 0; i < sizeof(meta6) / sizeof(meta6[0]); i++)
		if (memcmp(a, meta6[i], 16) == 0)
			return SH_ADDR_METADATA;
	if (memcmp(a, zero, 16) == 0)
		return SH_ADDR_UNSPECIFIED;
	if (memcmp(a, zero, 15) == 0 && a[15] == 1)
		return SH_ADDR_LOOPBACK;
	if (memcmp(a, mapped, 12) == 0 || memcmp(a, nat64, 12) == 0)
		return sh_addr_class4(a + 12);
	if (a[0] == 0x20 && a[1] == 0x02) /* 6to4: 2002:V4ADDR::/48 */
		return sh_addr_class4(a + 2);
	if (memcmp(a, zero, 12) == 0)
		return SH_ADDR_RESERVED; /* deprecated IPv4-compatible ::a.b.c.d */
	if (a[0] == 0 && a[1] == 0x64 && a[2] == 0xff && a[3] == 0x9b && a[4] == 0 && a[5] == 1)
		return SH_ADDR_PRIVATE; /* 64:ff9b:1::/48 local-use NAT64 */
	if (a[0] == 0xff)
		return SH_ADDR_MULTICAST;
	if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)
		return SH_ADDR_LINKLOCAL;
	if (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0)
		return SH_ADDR_PRIVATE; /* deprecated site-local */
	if ((a[0] & 0xfe) == 0xfc)
		return SH_ADDR_ULA;
	if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0d && a[3] == 0xb8)
		return SH_ADDR_RESERVED; /* documentation */
	if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0 && a[3] == 0)
		return SH_ADDR_RESERVED; /* Teredo: embeds an obfuscated IPv4 peer */
	if ((a[0] & 0xe0) != 0x20)
		return SH_ADDR_RESERVED; /* outside 2000::/3 global unicast */
	return SH_ADDR_PUBLIC;
}

enum sh_addr_class sh_addr_classify(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)(const void *)sa;
		return sh_addr_class4((const unsigned char *)&s4->sin_addr);
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)(const void *)sa;
		return sh_addr_class6(s6->sin6_addr.s6_addr);
	}
	return SH_ADDR_RESERVED;
}

const char *sh_addr_class_name(enum sh_addr_class c)
{
	switch (c) {
	case SH_ADDR_PUBLIC: return "public";
	case SH_ADDR_LOOPBACK: return "loopback";
	case SH_ADDR_UNSPECIFIED: return "unspecified";
	case SH_ADDR_LINKLOCAL: return "link-local";
	case SH_ADDR_PRIVATE: return "private";
	case SH_ADDR_CGNAT: return "shared (CGNAT)";
	case SH_ADDR_ULA: return "unique-local";
	case SH_ADDR_METADATA: return "cloud metadata";
	case SH_ADDR_MULTICAST: return "multicast";
	case SH_ADDR_RESERVED: return "reserved";
	default: break;
	}
	return "unknown";
}

bool sh_addr_class_permitted(enum sh_addr_class c, bool allow_private, bool allow_metadata)
{
	switch (c) {
	case SH_ADDR_PUBLIC:
		return true;
	case SH_ADDR_METADATA:
		return allow_metadata;
	case SH_ADDR_MULTICAST:
		return false;
	case SH_ADDR_LOOPBACK:
	case SH_ADDR_UNSPECIFIED:
	case SH_ADDR_LINKLOCAL:
	case SH_ADDR_PRIVATE:
	case SH_ADDR_CGNAT:
	case SH_ADDR_ULA:
	case SH_ADDR_RESERVED:
		return allow_private;
	default:
		break;
	}
	return false;
}
