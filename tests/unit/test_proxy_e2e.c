/* Proxy end to end, in-process: a proxy child on 127.0.0.1:0, a small
 * echo/HTTP server child on 127.0.0.1, and a resolver hook mapping test names
 * to it.  Nothing here may leave loopback, even if the proxy is wrong: the
 * resolver only ever returns 127.0.0.1, ::1 or addresses the proxy must
 * refuse, and the connect hook refuses (and counts) any non-loopback address
 * instead of connecting. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "proxy/proxy.h"

size_t t_proxy_hello(unsigned char *out, const char *sni);

struct shared {
	int resolver_calls;
	int connects;
	int bad_connects; /* non-loopback connect attempts: must stay 0 */
};

struct fx {
	struct shared *sh;
	pid_t server, proxy;
	uint16_t server_port, proxy_port;
	int stop_w;
	char *dir, log_path[512], summary_path[512];
};

static struct shared *g_sh; /* the proxy child's view of fx.sh */

static void set_addr(struct sockaddr_storage *ss, const char *text)
{
	memset(ss, 0, sizeof(*ss));
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, text, &s4->sin_addr) == 1)
		s4->sin_family = AF_INET;
	else if (inet_pton(AF_INET6, text, &s6->sin6_addr) == 1)
		s6->sin6_family = AF_INET6;
}

static int t_resolve(void *ctx, const char *name, struct sockaddr_storage *out, size_t max)
{
	static const struct {
		const char *name, *addr;
	} map[] = {
		{ "allowed.test", "127.0.0.1" }, { "x.wild.test", "127.0.0.1" },
		{ "meta.test", "169.254.169.254" }, { "private.test", "10.0.0.1" },
		{ "v4mapped.test", "::ffff:127.0.0.1" },
	};
	(void)ctx;
	__atomic_add_fetch(&g_sh->resolver_calls, 1, __ATOMIC_SEQ_CST);
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]) && max > 0; i++)
		if (strcmp(name, map[i].name) == 0) {
			set_addr(&out[0], map[i].addr);
			return 1;
		}
	return 0;
}

static bool is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)(const void *)sa;
		return (ntohl(s4->sin_addr.s_addr) >> 24) == 127;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)(const void *)sa;
		return IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr);
	}
	return false;
}

static int t_connect(void *ctx, const struct sockaddr *sa, socklen_t len)
{
	(void)ctx;
	if (!is_loopback(sa)) {
		__atomic_add_fetch(&g_sh->bad_connects, 1, __ATOMIC_SEQ_CST);
		errno = EACCES;
		return -1;
	}
	__atomic_add_fetch(&g_sh->connects, 1, __ATOMIC_SEQ_CST);
	int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, sa, len) < 0 && errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	return fd;
}

/* ---- the upstream server: echo, or for GET/POST one HTTP exchange that
 * answers with everything it received ---- */

static void serve_one(int fd)
{
	char buf[65536];
	size_t n = 0;
	ssize_t r;

	while ((r = read(fd, buf + n, sizeof(buf) - n - 1)) > 0) {
		n += (size_t)r;
		buf[n] = '\0';
		if (n < 5 || (strncmp(buf, "GET ", 4) != 0 && strncmp(buf, "POST ", 5) != 0)) {
			if (write(fd, buf, n) < 0)
				break; /* echo */
			n = 0;
			continue;
		}
		char *end = strstr(buf, "\r\n\r\n");
		if (!end)
			continue;
		char *cl = strcasestr(buf, "\r\nContent-Length: ");
		size_t want = (size_t)(end + 4 - buf) + (cl && cl < end ? strtoul(cl + 18, NULL, 10) : 0);
		if (n < want)
			continue;
		char head[256];
		int hl = snprintf(head, sizeof(head),
				  "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n", n);
		if (write(fd, head, (size_t)hl) < 0 || write(fd, buf, n) < 0)
			break;
		break;
	}
	close(fd);
}

static pid_t start_server(uint16_t *port)
{
	struct sh_err e = { 0 };
	int lfd = sh_proxy_listen_loopback(0, port, &e);
	if (lfd < 0)
		return -1;
	fcntl(lfd, F_SETFL, 0);
	pid_t pid = fork();
	if (pid == 0) {
		setpgid(0, 0);
		signal(SIGCHLD, SIG_IGN);
		for (;;) {
			int fd = accept(lfd, NULL, NULL);
			if (fd < 0)
				continue;
			if (fork() == 0) {
				close(lfd);
				serve_one(fd);
				_exit(0);
			}
			close(fd);
		}
	}
	setpgid(pid, pid);
	close(lfd);
	return pid;
}

struct fx_opts {
	bool allow_private, allow_ip_literals;
	unsigned handshake_timeout_ms;
};

static bool fx_start(struct fx *f, const struct fx_opts *o)
{
	static const struct sh_proxy_rulespec allow[] = {
		{ "allowed.test:*", "--allow-domains" }, { "*.wild.test:*", "profile test.sb" },
		{ "meta.test:*", NULL }, { "private.test:*", NULL }, { "v4mapped.test:*", NULL },
	};
	static const struct sh_proxy_rulespec deny[] = { { "no.wild.test", "--deny-domains" } };
	struct sh_err e = { 0 };
	int stop[2];

	memset(f, 0, sizeof(*f));
	f->sh = mmap(NULL, sizeof(*f->sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (f->sh == MAP_FAILED)
		return false;
	memset(f->sh, 0, sizeof(*f->sh));
	g_sh = f->sh;
	f->dir = t_mkdtemp();
	snprintf(f->log_path, sizeof(f->log_path), "%s/network.log", f->dir);
	snprintf(f->summary_path, sizeof(f->summary_path), "%s/summary", f->dir);
	f->server = start_server(&f->server_port);
	int lfd = sh_proxy_listen_loopback(0, &f->proxy_port, &e);
	if (f->server < 0 || lfd < 0 || pipe(stop) < 0)
		return false;
	f->proxy = fork();
	if (f->proxy == 0) {
		close(stop[1]);
		FILE *logf = fopen(f->log_path, "w");
		struct sh_proxy_log *log = sh_proxy_log_new(logf);
		struct sh_proxy_config cfg = {
			.allow = allow, .n_allow = sizeof(allow) / sizeof(allow[0]),
			.deny = deny, .n_deny = 1,
			.allow_private = o->allow_private, .allow_ip_literals = o->allow_ip_literals,
			.resolve = t_resolve, .connect = t_connect, .log = log,
			.handshake_timeout_ms = o->handshake_timeout_ms,
		};
		int rc = sh_proxy_run(&cfg, &lfd, 1, stop[0], &e);
		FILE *s = fopen(f->summary_path, "w");
		if (s) {
			sh_proxy_log_summary(log, s);
			fclose(s);
		}
		sh_proxy_log_free(log);
		if (logf)
			fclose(logf);
		_exit(rc == 0 ? 0 : 1);
	}
	close(lfd);
	close(stop[0]);
	f->stop_w = stop[1];
	return f->proxy > 0;
}

/* Stop the proxy; returns its exit status (0 expected). */
static int fx_stop(struct fx *f)
{
	int st = -1;
	if (f->stop_w >= 0 && write(f->stop_w, "x", 1) != 1)
		kill(f->proxy, SIGKILL);
	close(f->stop_w);
	f->stop_w = -1;
	waitpid(f->proxy, &st, 0);
	if (f->server > 0) {
		kill(-f->server, SIGKILL);
		waitpid(f->server, NULL, 0);
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void fx_free(struct fx *f)
{
	if (f->dir) {
		t_rmtree(f->dir);
		free(f->dir);
	}
	munmap(f->sh, sizeof(*f->sh));
}

/* ---- client helpers (blocking, with timeouts) ---- */

static int cli(const struct fx *f)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(f->proxy_port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct timeval tv = { .tv_sec = 5 };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static bool send_all(int fd, const void *p, size_t n)
{
	return send(fd, p, n, MSG_NOSIGNAL) == (ssize_t)n;
}

/* Read until needle appears (needle NULL: until EOF), at most cap-1 bytes.
 * Returns the bytes read; buf is NUL-terminated. */
static size_t recv_until(int fd, char *buf, size_t cap, const char *needle)
{
	size_t n = 0;
	while (n + 1 < cap) {
		ssize_t r = recv(fd, buf + n, cap - 1 - n, 0);
		if (r <= 0)
			break;
		n += (size_t)r;
		buf[n] = '\0';
		if (needle && memmem(buf, n, needle, strlen(needle)))
			break;
	}
	buf[n] = '\0';
	return n;
}

/* One request, the whole answer until EOF. */
static size_t exchange(const struct fx *f, const char *req, char *out, size_t cap)
{
	int fd = cli(f);
	size_t n = 0;
	if (fd >= 0 && send_all(fd, req, strlen(req)))
		n = recv_until(fd, out, cap, NULL);
	else
		out[0] = '\0';
	if (fd >= 0)
		close(fd);
	return n;
}

static char *slurp(const char *path)
{
	FILE *fp = fopen(path, "r");
	char *s = calloc(1, 65536);
	if (fp) {
		size_t n = fread(s, 1, 65535, fp);
		s[n] = '\0';
		fclose(fp);
	}
	return s;
}

TEST_FORK(proxy_e2e_connect)
{
	struct fx f;
	char buf[8192], req[256];

	if (!CHECK(fx_start(&f, &(struct fx_opts){ .allow_private = true })))
		return;
	/* allowed: tunnel, bytes flow both ways */
	int fd = cli(&f);
	snprintf(req, sizeof(req), "CONNECT allowed.test:%u HTTP/1.1\r\nHost: allowed.test:%u\r\n\r\n",
		 f.server_port, f.server_port);
	CHECK(send_all(fd, req, strlen(req)));
	recv_until(fd, buf, sizeof(buf), "\r\n\r\n");
	CHECK_STR(buf, "HTTP/1.1 200 Connection established\r\n\r\n");
	CHECK(send_all(fd, "ping\n", 5));
	recv_until(fd, buf, sizeof(buf), "\n");
	CHECK_STR(buf, "ping\n");
	shutdown(fd, SHUT_WR);
	CHECK_INT(recv_until(fd, buf, sizeof(buf), NULL), ==, 0); /* FIN passed on */
	close(fd);

	/* request and first tunnel bytes in one segment; wildcard rule; uppercase + dot */
	fd = cli(&f);
	snprintf(req, sizeof(req), "CONNECT X.WILD.TEST.:%u HTTP/1.1\r\n\r\nearly", f.server_port);
	CHECK(send_all(fd, req, strlen(req)));
	recv_until(fd, buf, sizeof(buf), "early");
	CHECK_STR(buf, "HTTP/1.1 200 Connection established\r\n\r\nearly");
	close(fd);

	int calls = f.sh->resolver_calls;
	/* denied: 403 naming the flag, and no DNS lookup for it */
	snprintf(req, sizeof(req), "CONNECT evil.test:443 HTTP/1.1\r\n\r\n");
	exchange(&f, req, buf, sizeof(buf));
	CHECK_CONTAINS(buf, "HTTP/1.1 403 Forbidden\r\n");
	CHECK_CONTAINS(buf, "no allow rule matches evil.test:443");
	CHECK_CONTAINS(buf, "--allow-domains=evil.test\n");
	snprintf(req, sizeof(req), "CONNECT no.wild.test:443 HTTP/1.1\r\n\r\n");
	exchange(&f, req, buf, sizeof(buf));
	CHECK_CONTAINS(buf, "deny rule 'no.wild.test' (from --deny-domains)");
	static const char *const refused[] = { "allowed.test.evil", "wild.test", "evilwild.test",
					       "127.0.0.1", "2130706433", "[::1]", "[::ffff:127.0.0.1]",
					       "0x7f.1", "allowed.test..", "-x.allowed.test" };
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		snprintf(req, sizeof(req), "CONNECT %s:%u HTTP/1.1\r\n\r\n", refused[i], f.server_port);
		exchange(&f, req, buf, sizeof(buf));
		if (!CHECK_CONTAINS(buf, "HTTP/1.1 403 Forbidden\r\n"))
			fprintf(stderr, "# %s\n", refused[i]);
	}
	CHECK_INT(f.sh->resolver_calls, ==, calls);
	/* malformed requests: 400 */
	exchange(&f, "CONNECT allowed.test HTTP/1.1\r\n\r\n", buf, sizeof(buf));
	CHECK_CONTAINS(buf, "HTTP/1.1 400 Bad Request\r\n");
	CHECK_INT(f.sh->bad_connects, ==, 0);
	CHECK_INT(fx_stop(&f), ==, 0);
	fx_free(&f);
}

TEST_FORK(proxy_e2e_plain_http)
{
	struct fx f;
	char buf[16384], req[512];

	if (!CHECK(fx_start(&f, &(struct fx_opts){ .allow_private = true })))
		return;
	snprintf(req, sizeof(req),
		 "POST http://allowed.test:%u/up?token=abc HTTP/1.1\r\nHost: allowed.test:%u\r\n"
		 "Proxy-Authorization: Basic c2VjcmV0\r\nConnection: keep-alive\r\n"
		 "Content-Length: 10\r\n\r\nsecretbodyPIPELINED-EXTRA",
		 f.server_port, f.server_port);
	exchange(&f, req, buf, sizeof(buf));
	CHECK_CONTAINS(buf, "HTTP/1.1 200 OK\r\n");
	/* what the upstream received */
	char *got = strstr(buf, "\r\n\r\n");
	got = got ? got + 4 : buf;
	char want[256];
	snprintf(want, sizeof(want), "POST /up?token=abc HTTP/1.1\r\nHost: allowed.test:%u\r\n",
		 f.server_port);
	CHECK(strncmp(got, want, strlen(want)) == 0);
	CHECK_CONTAINS(got, "Connection: close\r\n\r\nsecretbody");
	CHECK(strstr(got, "Proxy-Authorization") == NULL);
	CHECK(strstr(got, "keep-alive") == NULL);
	CHECK(strstr(got, "PIPELINED") == NULL);

	/* NET-11: Host naming another host */
	snprintf(req, sizeof(req), "GET http://allowed.test:%u/ HTTP/1.1\r\nHost: evil.test\r\n\r\n",
		 f.server_port);
	exchange(&f, req, buf, sizeof(buf));
	CHECK_CONTAINS(buf, "HTTP/1.1 403 Forbidden\r\n");
	CHECK_CONTAINS(buf, "Host header names another host");
	/* not-allowed URL */
	exchange(&f, "GET http://not-allowed.example/?d=host HTTP/1.1\r\n\r\n", buf, sizeof(buf));
	CHECK_CONTAINS(buf, "HTTP/1.1 403 Forbidden\r\n");
	CHECK_CONTAINS(buf, "--allow-domains=not-allowed.example");
	exchange(&f, "GET http://allowed.test@evil.test/ HTTP/1.1\r\n\r\n", buf, sizeof(buf));
	CHECK_CONTAINS(buf, "HTTP/1.1 400 Bad Request\r\n");
	snprintf(req, sizeof(req),
		 "POST http://allowed.test:%u/ HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
		 f.server_port);
	exchange(&f, req, buf, sizeof(buf));
	CHECK_CONTAINS(buf, "HTTP/1.1 501 Not Implemented\r\n");
	CHECK_INT(f.sh->bad_connects, ==, 0);
	CHECK_INT(fx_stop(&f), ==, 0);

	/* the log: decisions and counts, never query strings, credentials or bodies */
	char *log = slurp(f.log_path), *sum = slurp(f.summary_path);
	char line[128];
	snprintf(line, sizeof(line), "allow http allowed.test:%u rule=allowed.test:*", f.server_port);
	CHECK_CONTAINS(log, line);
	CHECK_CONTAINS(log, "deny http not-allowed.example:80 reason=not-allowed");
	snprintf(line, sizeof(line), "deny http allowed.test:%u reason=host-mismatch", f.server_port);
	CHECK_CONTAINS(log, line);
	/* the 501 (Transfer-Encoding) is a protocol refusal, not a destination decision */
	CHECK_CONTAINS(sum, "network: allowed 1 destination (1 connection), denied 2 (2)");
	for (const char *s = log; s; s = s == log ? sum : NULL) {
		CHECK(strstr(s, "token") == NULL);
		CHECK(strstr(s, "c2VjcmV0") == NULL);
		CHECK(strstr(s, "secretbody") == NULL);
		CHECK(strstr(s, "/up") == NULL);
	}
	free(log);
	free(sum);
	fx_free(&f);
}

static size_t socks_connect(int fd, const unsigned char *req, size_t n, unsigned char *rep)
{
	static const unsigned char greet[] = { 5, 1, 0 };
	if (!send_all(fd, greet, sizeof(greet)) || recv(fd, rep, 2, MSG_WAITALL) != 2 ||
	    rep[0] != 5 || rep[1] != 0)
		return 0;
	if (!send_all(fd, req, n))
		return 0;
	ssize_t r = recv(fd, rep, 10, MSG_WAITALL);
	return r > 0 ? (size_t)r : 0;
}

static size_t socks_domain_req(unsigned char *out, const char *host, uint16_t port)
{
	size_t hl = strlen(host), n = 0;
	out[n++] = 5, out[n++] = 1, out[n++] = 0, out[n++] = 3, out[n++] = (unsigned char)hl;
	memcpy(out + n, host, hl);
	n += hl;
	out[n++] = (unsigned char)(port >> 8), out[n++] = (unsigned char)port;
	return n;
}

TEST_FORK(proxy_e2e_socks5)
{
	struct fx f;
	unsigned char req[300], rep[64];
	char buf[256];
	size_t n;

	if (!CHECK(fx_start(&f, &(struct fx_opts){ .allow_private = true })))
		return;
	int fd = cli(&f);
	n = socks_domain_req(req, "allowed.test", f.server_port);
	CHECK_INT(socks_connect(fd, req, n, rep), ==, 10);
	CHECK_INT(rep[1], ==, 0);
	CHECK(send_all(fd, "hello", 5));
	recv_until(fd, buf, sizeof(buf), "hello");
	CHECK_STR(buf, "hello");
	close(fd);

	int calls = f.sh->resolver_calls;
	fd = cli(&f);
	n = socks_domain_req(req, "evil.test", 443);
	CHECK_INT(socks_connect(fd, req, n, rep), ==, 10);
	CHECK_INT(rep[1], ==, 0x02); /* connection not allowed by ruleset */
	close(fd);
	/* a NUL inside the SOCKS domain: refused, not truncated to allowed.test */
	fd = cli(&f);
	n = socks_domain_req(req, "allowed.test", f.server_port);
	memcpy(req + 4, "\x11" "allowed.test\0.evil", 18);
	req[22] = (unsigned char)(f.server_port >> 8), req[23] = (unsigned char)f.server_port;
	CHECK_INT(socks_connect(fd, req, 24, rep), ==, 10);
	CHECK_INT(rep[1], ==, 0x02);
	close(fd);
	/* IPv4 target without allow_ip_literals */
	fd = cli(&f);
	const unsigned char v4[] = { 5, 1, 0, 1, 127, 0, 0, 1, (unsigned char)(f.server_port >> 8),
				     (unsigned char)f.server_port };
	CHECK_INT(socks_connect(fd, v4, sizeof(v4), rep), ==, 10);
	CHECK_INT(rep[1], ==, 0x02);
	close(fd);
	CHECK_INT(f.sh->resolver_calls, ==, calls);
	/* BIND and UDP ASSOCIATE are not supported */
	fd = cli(&f);
	const unsigned char bind[] = { 5, 2, 0, 1, 127, 0, 0, 1, 0, 80 };
	CHECK_INT(socks_connect(fd, bind, sizeof(bind), rep), ==, 10);
	CHECK_INT(rep[1], ==, 0x07);
	close(fd);
	/* username/password only: no acceptable method */
	fd = cli(&f);
	CHECK(send_all(fd, "\x05\x01\x02", 3));
	CHECK_INT(recv_until(fd, buf, sizeof(buf), NULL), ==, 2);
	CHECK_INT((unsigned char)buf[1], ==, 0xff);
	close(fd);
	CHECK_INT(f.sh->bad_connects, ==, 0);
	CHECK_INT(fx_stop(&f), ==, 0);
	fx_free(&f);
}

/* NET-12: the ClientHello's SNI must be the CONNECT host. */
TEST_FORK(proxy_e2e_sni)
{
	struct fx f;
	unsigned char hello[2048];
	char buf[4096], req[256];
	static const unsigned char alert[] = { 0x15, 3, 3, 0, 2, 2, 49 };

	if (!CHECK(fx_start(&f, &(struct fx_opts){ .allow_private = true })))
		return;
	snprintf(req, sizeof(req), "CONNECT allowed.test:%u HTTP/1.1\r\n\r\n", f.server_port);

	/* matching SNI: the hello reaches the server (which echoes it back) */
	size_t hl = t_proxy_hello(hello, "Allowed.Test.");
	int fd = cli(&f);
	CHECK(send_all(fd, req, strlen(req)));
	recv_until(fd, buf, sizeof(buf), "\r\n\r\n");
	CHECK_CONTAINS(buf, " 200 ");
	CHECK(send_all(fd, hello, hl));
	size_t n = 0;
	while (n < hl) {
		ssize_t r = recv(fd, buf + n, sizeof(buf) - n, 0);
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	CHECK_INT(n, ==, hl);
	CHECK(memcmp(buf, hello, hl) == 0);
	close(fd);

	/* fronting: CONNECT allowed.test, SNI evil.test: alert, close, nothing forwarded */
	static const char *const fronts[] = { "evil.test", "allowed.test.evil", "x.allowed.test" };
	for (size_t i = 0; i < 3; i++) {
		hl = t_proxy_hello(hello, fronts[i]);
		fd = cli(&f);
		CHECK(send_all(fd, req, strlen(req)));
		recv_until(fd, buf, sizeof(buf), "\r\n\r\n");
		CHECK(send_all(fd, hello, hl));
		n = recv_until(fd, buf, sizeof(buf), NULL);
		CHECK_INT(n, ==, sizeof(alert));
		CHECK(memcmp(buf, alert, sizeof(alert)) == 0);
		close(fd);
	}
	/* SOCKS5 tunnels get the same check */
	fd = cli(&f);
	unsigned char sreq[300], rep[16];
	n = socks_domain_req(sreq, "allowed.test", f.server_port);
	CHECK_INT(socks_connect(fd, sreq, n, rep), ==, 10);
	hl = t_proxy_hello(hello, "evil.test");
	CHECK(send_all(fd, hello, hl));
	CHECK_INT(recv_until(fd, buf, sizeof(buf), NULL), ==, sizeof(alert));
	close(fd);

	CHECK_INT(fx_stop(&f), ==, 0);
	char *log = slurp(f.log_path);
	snprintf(req, sizeof(req), "deny tls allowed.test:%u reason=sni-mismatch", f.server_port);
	CHECK_CONTAINS(log, req);
	CHECK_CONTAINS(log, "detail=sni evil.test");
	free(log);
	fx_free(&f);
}

/* NET-08/NET-16: after resolution, loopback/private/metadata are refused
 * before any connect() -- the connect hook is never reached. */
TEST_FORK(proxy_e2e_private_refused)
{
	struct fx f;
	char buf[4096], req[256];

	if (!CHECK(fx_start(&f, &(struct fx_opts){ .allow_ip_literals = true })))
		return;
	static const struct {
		const char *host, *why;
	} cases[] = {
		{ "allowed.test", "127.0.0.1 is loopback" },
		{ "v4mapped.test", "is loopback" },
		{ "meta.test", "cloud metadata" },
		{ "private.test", "10.0.0.1 is private" },
		{ "169.254.169.254", "cloud metadata" },
		{ "0xa9fea9fe", "cloud metadata" },
		{ "10.1.2.3", "10.1.2.3 is private" },
		{ "[::1]", "::1 is loopback" },
		{ "0", "0.0.0.0 is unspecified" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(req, sizeof(req), "CONNECT %s:%u HTTP/1.1\r\n\r\n", cases[i].host,
			 f.server_port);
		exchange(&f, req, buf, sizeof(buf));
		CHECK_CONTAINS(buf, "HTTP/1.1 403 Forbidden\r\n");
		if (!CHECK_CONTAINS(buf, cases[i].why))
			fprintf(stderr, "# %s\n", cases[i].host);
	}
	exchange(&f, "GET http://meta.test/latest/meta-data/ HTTP/1.1\r\n\r\n", buf, sizeof(buf));
	CHECK_CONTAINS(buf, "HTTP/1.1 403 Forbidden\r\n");
	CHECK_CONTAINS(buf, "No flag allows this by name");
	exchange(&f, "GET http://private.test/ HTTP/1.1\r\n\r\n", buf, sizeof(buf));
	CHECK_CONTAINS(buf, "HTTP/1.1 403 Forbidden\r\n");
	CHECK_CONTAINS(buf, "To allow it: --allow-private-network");
	CHECK_INT(f.sh->connects, ==, 0);
	CHECK_INT(f.sh->bad_connects, ==, 0);
	CHECK_INT(fx_stop(&f), ==, 0);
	fx_free(&f);
}

/* Regression: a CONNECT whose name is allowed but whose addresses are all
 * refused (or whose connect fails) used to get "200 Connection established"
 * first and the 403 (or 502) inside the "tunnel".  The 200 now waits for the
 * upstream connection, so the answer is the refusal itself. */
TEST_FORK(proxy_e2e_connect_status_after_decision)
{
	struct fx f;
	char buf[4096], req[256];

	if (!CHECK(fx_start(&f, &(struct fx_opts){ 0 })))
		return;
	static const char *const hosts[] = { "allowed.test", "meta.test", "private.test" };
	for (size_t i = 0; i < 3; i++) {
		snprintf(req, sizeof(req), "CONNECT %s:%u HTTP/1.1\r\n\r\n", hosts[i], f.server_port);
		exchange(&f, req, buf, sizeof(buf));
		if (!CHECK(strncmp(buf, "HTTP/1.1 403 Forbidden\r\n", 24) == 0))
			fprintf(stderr, "# %s: %.40s\n", hosts[i], buf);
		CHECK(strstr(buf, " 200 ") == NULL);
	}
	CHECK_INT(fx_stop(&f), ==, 0);
	fx_free(&f);

	/* allowed, but nothing listens there: 502, and no 200 before it */
	if (!CHECK(fx_start(&f, &(struct fx_opts){ .allow_private = true })))
		return;
	struct sh_err e = { 0 };
	uint16_t dead;
	int l = sh_proxy_listen_loopback(0, &dead, &e);
	CHECK(l >= 0);
	close(l); /* the port is free again: connections to it are refused */
	snprintf(req, sizeof(req), "CONNECT allowed.test:%u HTTP/1.1\r\n\r\n", dead);
	exchange(&f, req, buf, sizeof(buf));
	if (!CHECK(strncmp(buf, "HTTP/1.1 502 Bad Gateway\r\n", 26) == 0))
		fprintf(stderr, "# %.60s\n", buf);
	CHECK_CONTAINS(buf, "could not connect to allowed.test");
	CHECK(strstr(buf, " 200 ") == NULL);
	CHECK_INT(fx_stop(&f), ==, 0);
	fx_free(&f);
}

/* Many tunnels at once; then stop with connections still open. */
TEST_FORK(proxy_e2e_concurrent_and_stop)
{
	enum { N = 64 };
	struct fx f;
	int fds[N];
	char buf[256], req[256];

	if (!CHECK(fx_start(&f, &(struct fx_opts){ .allow_private = true })))
		return;
	snprintf(req, sizeof(req), "CONNECT allowed.test:%u HTTP/1.1\r\n\r\n", f.server_port);
	for (int i = 0; i < N; i++) {
		fds[i] = cli(&f);
		CHECK(send_all(fds[i], req, strlen(req)));
	}
	int ok = 0;
	for (int i = 0; i < N; i++) {
		recv_until(fds[i], buf, sizeof(buf), "\r\n\r\n");
		char msg[32];
		int ml = snprintf(msg, sizeof(msg), "conn %d\n", i);
		if (strstr(buf, " 200 ") && send_all(fds[i], msg, (size_t)ml)) {
			recv_until(fds[i], buf, sizeof(buf), "\n");
			ok += strcmp(buf, msg) == 0;
		}
	}
	CHECK_INT(ok, ==, N);
	/* all still open: the stop fd ends the run anyway */
	CHECK_INT(fx_stop(&f), ==, 0);
	for (int i = 0; i < N; i++) {
		CHECK_INT(recv_until(fds[i], buf, sizeof(buf), NULL), ==, 0);
		close(fds[i]);
	}
	char *sum = slurp(f.summary_path);
	snprintf(req, sizeof(req), "allow     %d  allowed.test:%u", N, f.server_port);
	CHECK_CONTAINS(sum, req);
	free(sum);
	fx_free(&f);
}

/* 8 MiB each way through a tunnel while both directions run: integrity,
 * back-pressure (the echo server only writes as fast as we read) and the
 * half-close at the end. */
TEST_FORK(proxy_e2e_bulk)
{
	enum { TOTAL = 8 << 20 };
	struct fx f;
	char buf[65536], req[256];

	if (!CHECK(fx_start(&f, &(struct fx_opts){ .allow_private = true })))
		return;
	int fd = cli(&f);
	snprintf(req, sizeof(req), "CONNECT allowed.test:%u HTTP/1.1\r\n\r\n", f.server_port);
	CHECK(send_all(fd, req, strlen(req)));
	recv_until(fd, buf, sizeof(buf), "\r\n\r\n");
	CHECK_CONTAINS(buf, " 200 ");
	pid_t w = fork();
	if (w == 0) {
		for (size_t off = 0; off < TOTAL; off += sizeof(buf)) {
			for (size_t i = 0; i < sizeof(buf); i++)
				buf[i] = (char)((off + i) * 7 % 251);
			if (!send_all(fd, buf, sizeof(buf)))
				_exit(1);
		}
		shutdown(fd, SHUT_WR);
		_exit(0);
	}
	size_t got = 0, bad = 0;
	for (;;) {
		ssize_t r = recv(fd, buf, sizeof(buf), 0);
		if (r <= 0)
			break;
		for (ssize_t i = 0; i < r; i++)
			bad += buf[i] != (char)((got + (size_t)i) * 7 % 251);
		got += (size_t)r;
	}
	int st = -1;
	waitpid(w, &st, 0);
	CHECK_INT(st, ==, 0);
	CHECK_INT(got, ==, TOTAL); /* then EOF: the FIN went through both ways */
	CHECK_INT(bad, ==, 0);
	close(fd);
	CHECK_INT(fx_stop(&f), ==, 0);
	fx_free(&f);
}

/* A client that connects and says nothing is dropped after the handshake timeout. */
TEST_FORK(proxy_e2e_handshake_timeout)
{
	struct fx f;
	char buf[64];

	if (!CHECK(fx_start(&f, &(struct fx_opts){ .handshake_timeout_ms = 300 })))
		return;
	int fd = cli(&f);
	CHECK(send_all(fd, "CONNECT allowed", 15)); /* never finished */
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	CHECK_INT(recv_until(fd, buf, sizeof(buf), NULL), ==, 0);
	clock_gettime(CLOCK_MONOTONIC, &b);
	long ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
	CHECK_INT(ms, >=, 250);
	CHECK_INT(ms, <, 3000);
	close(fd);
	CHECK_INT(fx_stop(&f), ==, 0);
	fx_free(&f);
}
