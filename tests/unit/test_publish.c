/* --publish: the port list parser, the /proc/net/tcp reader of automatic
 * publishing, and the socket factory's protocol and checks. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli/pubfwd.h"
#include "cli/publish.h"
#include "enforce/sockfactory.h"
#include "harness.h"

TEST(publish_parse_forms)
{
	struct sh_pubspec s = { 0 };
	struct sh_err e = { 0 };

	CHECK_INT(sh_publish_parse(" 1455 ,8080:3000,,auto", "--publish", false, &s, &e), ==, 0);
	CHECK_INT(s.n, ==, 2);
	CHECK_INT(s.v[0].host, ==, 1455);
	CHECK_INT(s.v[0].inside, ==, 1455);
	CHECK_INT(s.v[1].host, ==, 8080);
	CHECK_INT(s.v[1].inside, ==, 3000);
	CHECK_STR(s.v[1].origin, "--publish");
	CHECK(!s.v[1].optional);
	CHECK_STR(s.auto_origin, "--publish");
	/* the same mapping again (another layer): kept once, first origin */
	CHECK_INT(sh_publish_parse("8080:3000,65535:1", "cfg:2", true, &s, &e), ==, 0);
	CHECK_INT(s.n, ==, 3);
	CHECK_STR(s.v[1].origin, "--publish");
	CHECK_INT(s.v[2].host, ==, 65535);
	CHECK_INT(s.v[2].inside, ==, 1);
	CHECK(s.v[2].optional);
	/* a host port to another sandbox port: refused, naming both */
	CHECK_INT(sh_publish_parse("8080:3001", "cfg:3", false, &s, &e), ==, -1);
	CHECK_INT(e.exit_code, ==, SH_EXIT_USAGE);
	CHECK_CONTAINS(e.msg, "cfg:3: host port 8080 is already published to sandbox port 3000 "
			      "(from --publish)");
	sh_pubspec_free(&s);
}

TEST(publish_parse_errors)
{
	static const char *const bad[] = { "0", "65536", "99999999999", "1:2:3", "a", "80:", ":80",
					   "-1", "+1", "0x10", "1 2", "auto:1", "AUTO", "1:0" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct sh_pubspec s = { 0 };
		struct sh_err e = { 0 };
		CHECK_INT(sh_publish_parse(bad[i], "X:1", false, &s, &e), ==, -1);
		CHECK_INT(e.exit_code, ==, SH_EXIT_USAGE);
		CHECK_CONTAINS(e.msg, "X:1: '");
		CHECK_CONTAINS(e.msg, "is not a port to publish");
		CHECK_INT(s.n, ==, 0);
		sh_pubspec_free(&s);
	}
	struct sh_pubspec s = { 0 };
	struct sh_err e = { 0 };
	CHECK_INT(sh_publish_parse(" , ", "X:1", false, &s, &e), ==, -1);
	CHECK_CONTAINS(e.msg, "no port");
	CHECK_INT(sh_publish_parse("1\t2\n", "X:1", false, &s, &e), ==, -1);
	CHECK_CONTAINS(e.msg, "control character");
	/* bounded */
	char list[SH_PUBLISH_MAX_PORTS * 8 + 16] = "";
	for (int i = 0; i <= SH_PUBLISH_MAX_PORTS; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%d,", 2000 + i);
	CHECK_INT(sh_publish_parse(list, "X:1", false, &s, &e), ==, -1);
	CHECK_CONTAINS(e.msg, "more than");
	sh_pubspec_free(&s);
}

/* One /proc/net/tcp line for addr:port in state st (the kernel's format:
 * each 32-bit word of the address printed as the integer of its bytes). */
static void tcp4_line(char *out, size_t n, int sl, const char *addr, unsigned port, unsigned st)
{
	struct in_addr a;
	inet_pton(AF_INET, addr, &a);
	snprintf(out, n,
		 "%4d: %08X:%04X 00000000:0000 %02X 00000000:00000000 00:00000000 00000000  1000 "
		 "       0 4242 1 0000000000000000 100 0 0 10 0\n",
		 sl, a.s_addr, port, st);
}

static void tcp6_line(char *out, size_t n, int sl, const char *addr, unsigned port, unsigned st)
{
	struct in6_addr a;
	uint32_t w[4];
	inet_pton(AF_INET6, addr, &a);
	memcpy(w, &a, sizeof(w));
	snprintf(out, n,
		 "%4d: %08X%08X%08X%08X:%04X 00000000000000000000000000000000:0000 %02X "
		 "00000000:00000000 00:00000000 00000000  1000        0 4243 1 0000000000000000 "
		 "100 0 0 10 0\n",
		 sl, w[0], w[1], w[2], w[3], port, st);
}

TEST(publish_proc_net_tcp_listeners)
{
	char text[4096] = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when "
			  "retrnsmt   uid  timeout inode\n";
	char line[256];
	uint16_t ports[16];
	size_t n;

	tcp4_line(line, sizeof(line), 0, "127.0.0.1", 3128, 0x0A); /* loopback listener */
	strcat(text, line);
	tcp4_line(line, sizeof(line), 1, "0.0.0.0", 8080, 0x0A); /* wildcard: on loopback too */
	strcat(text, line);
	tcp4_line(line, sizeof(line), 2, "127.0.0.1", 5555, 0x01); /* established: no */
	strcat(text, line);
	tcp4_line(line, sizeof(line), 3, "10.0.0.10", 22, 0x0A); /* not loopback: no */
	strcat(text, line);
	tcp4_line(line, sizeof(line), 4, "127.9.9.9", 7000, 0x0A); /* all of 127/8 */
	strcat(text, line);
	strcat(text, "   5: garbage line\n   6: 0100007F:ZZZZ 00000000:0000 0A\n");
	n = sh_pubfwd_parse_listeners(text, strlen(text), false, ports, 16);
	CHECK_INT(n, ==, 3);
	CHECK_INT(ports[0], ==, 3128);
	CHECK_INT(ports[1], ==, 8080);
	CHECK_INT(ports[2], ==, 7000);
	CHECK_INT(sh_pubfwd_parse_listeners(text, strlen(text), false, ports, 1), ==, 1);
	/* a truncated read ends cleanly */
	CHECK_INT(sh_pubfwd_parse_listeners(text, strlen(text) - 40, false, ports, 16), <=, 3);

	strcpy(text, "  sl  local_address                         remote_address ...\n");
	tcp6_line(line, sizeof(line), 0, "::1", 3000, 0x0A);
	strcat(text, line);
	tcp6_line(line, sizeof(line), 1, "::", 4000, 0x0A);
	strcat(text, line);
	tcp6_line(line, sizeof(line), 2, "::ffff:127.0.0.1", 5000, 0x0A);
	strcat(text, line);
	tcp6_line(line, sizeof(line), 3, "fe80::1", 6000, 0x0A); /* link-local: no */
	strcat(text, line);
	tcp6_line(line, sizeof(line), 4, "::1", 7000, 0x06); /* TIME_WAIT: no */
	strcat(text, line);
	n = sh_pubfwd_parse_listeners(text, strlen(text), true, ports, 16);
	CHECK_INT(n, ==, 3);
	CHECK_INT(ports[0], ==, 3000);
	CHECK_INT(ports[1], ==, 4000);
	CHECK_INT(ports[2], ==, 5000);
	/* v4 text read as v6 (or the reverse) yields nothing */
	CHECK_INT(sh_pubfwd_parse_listeners(text, strlen(text), false, ports, 16), ==, 0);
}

/* The socket factory in one process: "init" and "forwarder" ends. */
TEST(publish_sockfactory_protocol_and_checks)
{
	int sync[2], in, s, fam = 0, u;
	struct sh_sockfactory_fds f;
	struct sh_netns_id own, none = { 0, 0 };
	struct sh_err e = { 0 };
	const char *why = NULL;

	CHECK_INT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sync), ==, 0);
	in = sh_sockfactory_open(sync[1], &e);
	CHECK_INT(in, >=, 0);
	CHECK_INT(sh_sockfactory_recv(sync[0], &f), ==, 0);
	CHECK(f.chan >= 0 && f.netns >= 0 && f.tcp4 >= 0);
	CHECK_INT(sh_netns_id_of(f.netns, &own), ==, 0);

	/* nothing asked: nothing to take */
	CHECK_INT(sh_sockfactory_serve(in), ==, 0);
	errno = 0;
	CHECK_INT(sh_sockfactory_take(f.chan, &fam), ==, -1);
	CHECK_INT(errno, ==, EAGAIN);

	CHECK_INT(sh_sockfactory_request(f.chan, AF_INET6), ==, 0);
	CHECK_INT(sh_sockfactory_request(f.chan, AF_INET), ==, 0);
	CHECK_INT(sh_sockfactory_serve(in), ==, 0);
	s = sh_sockfactory_take(f.chan, &fam);
	CHECK_INT(s, >=, 0);
	CHECK_INT(fam, ==, AF_INET6);
	if (s >= 0)
		close(s);
	s = sh_sockfactory_take(f.chan, &fam);
	CHECK_INT(s, >=, 0);
	CHECK_INT(fam, ==, AF_INET);
	CHECK(fcntl(s, F_GETFD) & FD_CLOEXEC);
	/* a socket of a namespace other than the expected one: refused */
	CHECK(!sh_sockfactory_check(s, AF_INET, &none, &why));
	CHECK(why != NULL);
	/* the wrong family: refused */
	CHECK(!sh_sockfactory_check(s, AF_INET6, &own, &why));
	CHECK_CONTAINS(why, "family");
	/* the expected namespace: accepted where the namespace can be read
	 * (SIOCGSKNS needs CAP_NET_ADMIN over it: the launcher has it over the
	 * sandbox's; an unprivileged test over the host's does not, and the
	 * answer is then a refusal -- fail closed) */
	bool ok = sh_sockfactory_check(s, AF_INET, &own, &why);
	CHECK(ok || strstr(why, "cannot be checked"));
	close(s);
	/* not TCP, or not fresh: refused */
	u = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	CHECK(!sh_sockfactory_check(u, AF_INET, &own, &why));
	CHECK_CONTAINS(why, "stream");
	close(u);
	u = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK(!sh_sockfactory_check(u, AF_INET, &own, &why));
	close(u);
	int l = sh_pubfwd_listen(0);
	CHECK_INT(l, >=, 0);
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	CHECK_INT(getsockname(l, (struct sockaddr *)&sa, &len), ==, 0);
	CHECK_INT(ntohl(sa.sin_addr.s_addr), ==, INADDR_LOOPBACK);
	u = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK_INT(connect(u, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
	CHECK(!sh_sockfactory_check(u, AF_INET, &own, &why));
	CHECK_CONTAINS(why, "connected");
	/* the same port again: busy */
	errno = 0;
	CHECK_INT(sh_pubfwd_listen(ntohs(sa.sin_port)), ==, -1);
	CHECK_INT(errno, ==, EADDRINUSE);
	close(u);
	close(l);

	/* a junk request is not answered; the forwarder gone: serve says so */
	CHECK_INT(send(f.chan, "x", 1, 0), ==, 1);
	CHECK_INT(sh_sockfactory_serve(in), ==, 0);
	errno = 0;
	CHECK_INT(sh_sockfactory_take(f.chan, &fam), ==, -1);
	CHECK_INT(errno, ==, EAGAIN);
	sh_sockfactory_fds_close(&f);
	CHECK_INT(f.chan, ==, -1);
	CHECK_INT(sh_sockfactory_serve(in), ==, -1);
	close(in);
	close(sync[0]);
	close(sync[1]);
}
