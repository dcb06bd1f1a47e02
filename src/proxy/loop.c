/* The proxy's event loop: one thread, epoll (level-triggered), non-blocking
 * sockets, one state machine per connection.
 *
 * Memory is bounded per connection: a negotiation buffer that grows from
 * NEG_BUF_INITIAL to NEG_BUF_MAX only while a request head, SOCKS exchange or
 * TLS ClientHello is being read, and is handed over (then freed) when the
 * relay starts.  The relay itself moves bytes with splice() through two pipes
 * per connection, so an established tunnel holds no user-space buffer.
 *
 * Connections closed while handling a batch of events are only freed after
 * the batch: later events of the same batch may still point at them. */
#include "proxy/proxy.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "proxy/filter.h"
#include "proxy/http.h"
#include "proxy/log.h"
#include "proxy/socks5.h"
#include "proxy/tls.h"
#include "util/str.h"

#define NEG_BUF_INITIAL 4096
#define NEG_BUF_MAX (SH_HTTP_MAX_HEAD + 1024) /* a 16 KiB head, or a ClientHello in one record */
#define PIPE_BULK (1024 * 1024) /* pipe size once a direction moves bulk data */
/* SO_SNDBUF toward a local client (the kernel doubles it: 256 KiB).  See
 * limit_client_sndbuf(). */
#define CLIENT_SNDBUF (128 * 1024)
#define PUMP_ROUNDS 8                         /* splice rounds per wakeup: fairness */
#define MAX_EVENTS 128
#define ACCEPT_BURST 64
#define DRAIN_MAX 65536 /* request bytes discarded after an error reply, before close */
#define DRAIN_TIMEOUT_MS 2000
#define TICK_MS 1000
#define FDS_PER_CONN 6 /* client, upstream, two pipes */
#define FDS_RESERVED 32

/* TLS alert record: fatal access_denied(49), sent when the SNI is refused. */
static const unsigned char tls_alert_access_denied[] = { 0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x31 };

enum conn_state {
	CS_SNIFF,       /* first byte: 0x05 is SOCKS5, anything else HTTP */
	CS_HTTP_HEAD,   /* reading an HTTP request head */
	CS_SOCKS_GREET, /* reading the SOCKS5 greeting */
	CS_SOCKS_REQ,   /* reading the SOCKS5 request */
	CS_CONNECTING,  /* non-blocking connect to the upstream in progress */
	CS_INSPECT,     /* tunnel up; holding the client's first bytes for the TLS check */
	CS_RELAY,       /* splicing both ways */
	CS_REPLY_CLOSE, /* flushing a final reply to the client */
	CS_DRAIN,       /* reply sent, write side shut; discarding input until EOF */
	CS_CLOSED,      /* waiting to be freed after the current batch */
};

enum conn_proto {
	PROTO_UNKNOWN,
	PROTO_CONNECT, /* HTTP CONNECT tunnel */
	PROTO_HTTP,    /* plain HTTP forwarding, one request */
	PROTO_SOCKS5,
};

struct conn;
struct proxy;

/* One fd registered in epoll: a connection's client or upstream socket, a
 * listener, or the stop fd (c == NULL for the last two). */
struct side {
	struct conn *c;
	int fd;
	uint32_t want;   /* interest computed from the state */
	uint32_t reg;    /* interest registered */
	bool registered;
	bool hup;        /* epoll reported HUP/ERR: unregister when nothing is wanted */
};

struct pend {
	char *p;
	size_t len, off;
};

/* One direction of the relay. */
struct dir {
	int pipe[2];
	size_t inpipe, cap; /* bytes in the pipe, pipe capacity */
	bool full;          /* splice into the pipe said EAGAIN with bytes in it */
	bool grown;
	struct pend pend;  /* bytes to write before anything from the pipe */
	uint64_t budget;   /* bytes still to read from the source */
	bool eof;          /* read nothing more from the source */
	bool shut_on_eof;  /* shutdown(dst, SHUT_WR) once drained after eof */
	bool done;         /* drained after eof */
};

struct conn {
	struct proxy *px;
	struct side cs, us;
	enum conn_state st;
	enum conn_proto proto;
	char *buf; /* negotiation bytes from the client */
	size_t len, cap;
	struct dir c2u, u2c;
	struct sh_proxy_verdict v;
	struct sockaddr_storage addrs[SH_PROXY_MAX_ADDRS];
	size_t naddrs, next_addr;
	int connect_errno;
	uint64_t last_active;
	size_t drained;
	struct conn *prev, *next;
};

struct proxy {
	const struct sh_proxy_config *cfg;
	struct sh_proxy_filter filter;
	int ep;
	struct conn *conns, *dead;
	size_t nconns, max_conns;
	unsigned idle_ms, hs_ms;
	struct side *lsides; /* listeners, then the stop fd */
	size_t nl;
	bool accept_paused;
};

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void side_sync(struct proxy *px, struct side *s)
{
	struct epoll_event ev = { .events = s->want, .data.ptr = s };

	if (s->fd < 0)
		return;
	if (s->want == 0 && s->hup) {
		/* HUP/ERR are reported even with no interest: unregister, or
		 * level-triggered epoll would spin on them. */
		if (s->registered)
			epoll_ctl(px->ep, EPOLL_CTL_DEL, s->fd, NULL);
		s->registered = false;
		return;
	}
	if (s->registered && s->reg == s->want)
		return;
	if (epoll_ctl(px->ep, s->registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, s->fd, &ev) == 0) {
		s->registered = true;
		s->reg = s->want;
	}
}

static void pend_add(struct pend *p, const void *d, size_t n)
{
	if (p->off > 0) {
		memmove(p->p, p->p + p->off, p->len - p->off);
		p->len -= p->off;
		p->off = 0;
	}
	p->p = sh_xrealloc(p->p, p->len + n);
	memcpy(p->p + p->len, d, n);
	p->len += n;
}

static void pend_free(struct pend *p)
{
	free(p->p);
	*p = (struct pend){ 0 };
}

static bool pend_left(const struct pend *p)
{
	return p->off < p->len;
}

/* Write pending bytes to fd.  Returns 1 when all written, 0 on EAGAIN, -1 on error. */
static int pend_flush(struct pend *p, int fd)
{
	while (pend_left(p)) {
		ssize_t n = send(fd, p->p + p->off, p->len - p->off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
		}
		p->off += (size_t)n;
	}
	pend_free(p);
	return 1;
}

static void dir_close(struct dir *d)
{
	for (int i = 0; i < 2; i++)
		if (d->pipe[i] >= 0)
			close(d->pipe[i]);
	d->pipe[0] = d->pipe[1] = -1;
	pend_free(&d->pend);
}

static void conn_close(struct conn *c)
{
	struct proxy *px = c->px;

	if (c->st == CS_CLOSED)
		return;
	c->st = CS_CLOSED;
	if (c->cs.fd >= 0)
		close(c->cs.fd);
	if (c->us.fd >= 0)
		close(c->us.fd);
	c->cs.fd = c->us.fd = -1;
	dir_close(&c->c2u);
	dir_close(&c->u2c);
	free(c->buf);
	c->buf = NULL;
	/* move from the live list to the dead list */
	if (c->prev)
		c->prev->next = c->next;
	else
		px->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->prev = NULL;
	c->next = px->dead;
	px->dead = c;
	px->nconns--;
	if (px->accept_paused) {
		px->accept_paused = false;
		for (size_t i = 0; i < px->nl; i++) {
			px->lsides[i].want = EPOLLIN;
			side_sync(px, &px->lsides[i]);
		}
	}
}

/* ---- replies ---- */

static void reply_client(struct conn *c, const void *d, size_t n)
{
	pend_add(&c->u2c.pend, d, n);
}

static void close_upstream(struct conn *c)
{
	if (c->us.fd >= 0)
		close(c->us.fd); /* close() also removes it from the epoll set */
	c->us = (struct side){ .c = c, .fd = -1 };
}

/* Answer and close: the client gets its reply, then the connection drains. */
static void finish(struct conn *c, const void *d, size_t n)
{
	close_upstream(c);
	dir_close(&c->c2u);
	for (int i = 0; i < 2; i++)
		if (c->u2c.pipe[i] >= 0)
			close(c->u2c.pipe[i]);
	c->u2c.pipe[0] = c->u2c.pipe[1] = -1;
	c->u2c.inpipe = 0;
	if (n)
		reply_client(c, d, n);
	c->st = CS_REPLY_CLOSE;
	c->last_active = now_ms();
}

static void finish_http(struct conn *c, int status, const char *body)
{
	char out[4096];
	ssize_t n = sh_http_response(status, body, out, sizeof(out));
	if (n < 0)
		n = sh_http_response(status, "safehouse: refused\n", out, sizeof(out));
	finish(c, out, n > 0 ? (size_t)n : 0);
}

static void finish_socks(struct conn *c, enum sh_socks5_rep rep)
{
	unsigned char out[SH_SOCKS5_REPLY_MAX];
	finish(c, out, sh_socks5_reply(out, rep, NULL));
}

static const char *proto_name(const struct conn *c)
{
	switch (c->proto) {
	case PROTO_CONNECT: return "http-connect";
	case PROTO_HTTP: return "http";
	case PROTO_SOCKS5: return "socks5";
	case PROTO_UNKNOWN: return "unknown";
	default: break;
	}
	return "unknown";
}

/* Refuse with the verdict: logged, then 403 or SOCKS "not allowed". */
static void refuse(struct conn *c)
{
	sh_proxy_log_decision(c->px->cfg->log, proto_name(c), &c->v);
	if (c->proto == PROTO_SOCKS5) {
		finish_socks(c, c->v.reason == SH_PR_RESOLVE ? SH_SOCKS5_HOST_UNREACHABLE
							     : SH_SOCKS5_NOT_ALLOWED);
		return;
	}
	char body[2048];
	sh_proxy_verdict_explain(&c->v, body, sizeof(body));
	finish_http(c, 403, body);
}

/* ---- upstream ---- */

static int connect_default(void *ctx, const struct sockaddr *sa, socklen_t len)
{
	(void)ctx;
	int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, sa, len) < 0 && errno != EINPROGRESS) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static void connect_failed(struct conn *c)
{
	char dest[SH_HOST_BUFSZ + 16];
	int e = c->connect_errno;

	sh_proxy_verdict_dest(&c->v, dest, sizeof(dest));
	sh_proxy_log_event(c->px->cfg->log, "error %s %s connect: %s", proto_name(c), dest,
			   strerror(e ? e : EIO));
	if (c->proto == PROTO_SOCKS5) {
		finish_socks(c, e == ECONNREFUSED		      ? SH_SOCKS5_REFUSED
				: e == ENETUNREACH		      ? SH_SOCKS5_NET_UNREACHABLE
				: e == EHOSTUNREACH || e == ETIMEDOUT ? SH_SOCKS5_HOST_UNREACHABLE
								      : SH_SOCKS5_GENERAL_FAILURE);
		return;
	}
	char body[512];
	snprintf(body, sizeof(body), "safehouse: could not connect to %s: %s\n", dest,
		 strerror(e ? e : EIO));
	finish_http(c, 502, body);
}

/* Try the next resolved address.  On success the state is CS_CONNECTING. */
static void start_connect(struct conn *c)
{
	const struct sh_proxy_config *cfg = c->px->cfg;
	sh_proxy_connect_fn fn = cfg->connect ? cfg->connect : connect_default;

	close_upstream(c);
	while (c->next_addr < c->naddrs) {
		const struct sockaddr_storage *ss = &c->addrs[c->next_addr++];
		socklen_t sl = ss->ss_family == AF_INET ? sizeof(struct sockaddr_in)
							: sizeof(struct sockaddr_in6);
		int fd = fn(cfg->connect_ctx, (const struct sockaddr *)ss, sl);
		if (fd < 0) {
			c->connect_errno = errno;
			continue;
		}
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
		fcntl(fd, F_SETFD, FD_CLOEXEC);
		c->us.fd = fd;
		c->st = CS_CONNECTING;
		c->last_active = now_ms(); /* the connect timeout starts */
		return;
	}
	connect_failed(c);
}

/* The decision after a parsed request: check, resolve, log, connect. */
static void decide_and_connect(struct conn *c)
{
	struct proxy *px = c->px;

	if (!c->v.allow) {
		refuse(c);
		return;
	}
	c->naddrs = sh_proxy_filter_addrs(&px->filter, px->cfg->resolve, px->cfg->resolve_ctx,
					  &c->v, c->addrs, SH_PROXY_MAX_ADDRS);
	if (c->naddrs == 0) {
		refuse(c);
		return;
	}
	sh_proxy_log_decision(px->cfg->log, proto_name(c), &c->v);
	c->next_addr = 0;
	start_connect(c);
}

/* ---- negotiation ---- */

static void consume(struct conn *c, size_t n)
{
	memmove(c->buf, c->buf + n, c->len - n);
	c->len -= n;
}

/* Read what the client sent into buf.  Returns 1 if the connection is still
 * usable (data or EAGAIN), 0 on EOF, -1 on error. */
static int read_client(struct conn *c)
{
	if (!c->buf) {
		c->cap = NEG_BUF_INITIAL;
		c->buf = sh_xmalloc(c->cap);
	}
	if (c->len == c->cap && c->cap < NEG_BUF_MAX) {
		c->cap = c->cap * 2 > NEG_BUF_MAX ? NEG_BUF_MAX : c->cap * 2;
		c->buf = sh_xrealloc(c->buf, c->cap);
	}
	if (c->len == c->cap)
		return 1; /* full: the parser decides */
	for (;;) {
		ssize_t n = recv(c->cs.fd, c->buf + c->len, c->cap - c->len, MSG_DONTWAIT);
		if (n > 0) {
			/* No last_active here: the handshake timeout is a deadline
			 * for the whole phase, not an idle timeout a client could
			 * stretch by sending a byte at a time. */
			c->len += (size_t)n;
			return 1;
		}
		if (n == 0)
			return 0;
		if (errno == EINTR)
			continue;
		return errno == EAGAIN || errno == EWOULDBLOCK ? 1 : -1;
	}
}

static void http_request(struct conn *c)
{
	struct proxy *px = c->px;
	struct sh_http_req req;
	char body[256];
	int r = sh_http_parse(c->buf, c->len, &req);

	if (r == 0)
		return;
	if (r < 0) {
		sh_proxy_log_event(px->cfg->log, "reject http: %s", req.error);
		snprintf(body, sizeof(body), "safehouse proxy: %s\n", req.error);
		finish_http(c, req.status, body);
		return;
	}
	c->proto = req.connect ? PROTO_CONNECT : PROTO_HTTP;
	sh_proxy_filter_check(&px->filter, c->buf + req.host.off, req.host.len, req.port, &c->v);
	if (!req.connect && sh_http_host_consistent(c->buf, &req) < 0 && c->v.host_valid) {
		c->v.allow = false;
		c->v.reason = SH_PR_HOST_MISMATCH;
		c->v.rule = NULL;
	}
	if (!req.connect && c->v.allow && req.has_transfer_encoding) {
		sh_proxy_log_event(px->cfg->log, "reject http: Transfer-Encoding request body");
		finish_http(c, 501, "safehouse proxy: request bodies with Transfer-Encoding are "
				    "not supported for plain http:// requests\n");
		return;
	}
	if (req.connect) {
		/* Anything after the head is tunnel data.  The 200 waits for the
		 * upstream connection (connecting()): a refusal after resolution
		 * or a failed connect must be the answer, not bytes inside a
		 * tunnel the client believes is open. */
		consume(c, req.head_len);
	} else if (c->v.allow) {
		char auth[SH_HOST_BUFSZ + 16], *out = sh_xmalloc(SH_HTTP_MAX_HEAD + 512);
		sh_host_authority(&c->v.host, c->v.port, auth, sizeof(auth));
		if (c->v.port == 80)
			*strrchr(auth, ':') = '\0'; /* default port: "Host: name" */
		ssize_t n = sh_http_build_upstream(c->buf, &req, auth, out, SH_HTTP_MAX_HEAD + 512);
		if (n < 0) {
			free(out);
			finish_http(c, 431, "safehouse proxy: request head too large\n");
			return;
		}
		pend_add(&c->c2u.pend, out, (size_t)n);
		free(out);
		/* One request per connection: its body (Content-Length) and nothing after. */
		uint64_t body_len = req.has_content_length ? req.content_length : 0;
		size_t have = c->len - req.head_len;
		if (have > body_len)
			have = (size_t)body_len;
		pend_add(&c->c2u.pend, c->buf + req.head_len, have);
		c->c2u.budget = body_len - have;
		c->c2u.shut_on_eof = false;
		c->len = 0;
	}
	decide_and_connect(c);
}

static void socks_greeting(struct conn *c)
{
	bool noauth = false;
	int r = sh_socks5_parse_greeting((const unsigned char *)c->buf, c->len, &noauth);
	static const unsigned char ok[2] = { SH_SOCKS5_VERSION, SH_SOCKS5_AUTH_NONE };
	static const unsigned char no[2] = { SH_SOCKS5_VERSION, SH_SOCKS5_AUTH_NOT_ACCEPTABLE };

	if (r == 0)
		return;
	if (r < 0 || !noauth) {
		finish(c, no, sizeof(no));
		return;
	}
	consume(c, (size_t)r);
	reply_client(c, ok, sizeof(ok));
	c->st = CS_SOCKS_REQ;
}

static void socks_request(struct conn *c)
{
	struct proxy *px = c->px;
	struct sh_socks5_req req;
	char text[INET6_ADDRSTRLEN];
	int r = sh_socks5_parse_request((const unsigned char *)c->buf, c->len, &req);

	if (r == 0)
		return;
	if (r < 0) {
		sh_proxy_log_event(px->cfg->log, "reject socks5: request refused (reply %d)",
				   req.rep);
		finish_socks(c, req.rep);
		return;
	}
	consume(c, (size_t)r);
	if (req.atyp == SH_SOCKS5_ATYP_DOMAIN) {
		sh_proxy_filter_check(&px->filter, req.host, req.host_len, req.port, &c->v);
	} else {
		int af = req.atyp == SH_SOCKS5_ATYP_IPV4 ? AF_INET : AF_INET6;
		inet_ntop(af, req.addr, text, sizeof(text));
		sh_proxy_filter_check(&px->filter, text, strlen(text), req.port, &c->v);
	}
	decide_and_connect(c);
}

static void negotiate(struct conn *c)
{
	int r = read_client(c);

	if (r < 0 || (r == 0 && c->len == 0)) {
		conn_close(c);
		return;
	}
	if (c->st == CS_SNIFF && c->len > 0) {
		c->st = (unsigned char)c->buf[0] == SH_SOCKS5_VERSION ? CS_SOCKS_GREET : CS_HTTP_HEAD;
		c->proto = c->st == CS_SOCKS_GREET ? PROTO_SOCKS5 : PROTO_UNKNOWN;
	}
	switch (c->st) {
	case CS_HTTP_HEAD:
		http_request(c);
		break;
	case CS_SOCKS_GREET:
		socks_greeting(c);
		break;
	case CS_SOCKS_REQ:
		socks_request(c);
		break;
	case CS_SNIFF:
	case CS_CONNECTING:
	case CS_INSPECT:
	case CS_RELAY:
	case CS_REPLY_CLOSE:
	case CS_DRAIN:
	case CS_CLOSED:
	default:
		break;
	}
	/* EOF in the middle of a request: nothing more will come. */
	if (r == 0 && (c->st == CS_SNIFF || c->st == CS_HTTP_HEAD || c->st == CS_SOCKS_GREET ||
		       c->st == CS_SOCKS_REQ))
		conn_close(c);
	else if (c->st != CS_CLOSED && c->st < CS_INSPECT && pend_left(&c->u2c.pend) &&
		 pend_flush(&c->u2c.pend, c->cs.fd) < 0)
		conn_close(c);
}

/* ---- connected ---- */

static int make_pipes(struct dir *d)
{
	if (d->pipe[0] >= 0)
		return 0;
	if (pipe2(d->pipe, O_NONBLOCK | O_CLOEXEC) < 0)
		return -1;
	int cap = fcntl(d->pipe[0], F_GETPIPE_SZ);
	d->cap = cap > 0 ? (size_t)cap : 4096;
	return 0;
}

/* A direction that filled its pipe is moving bulk data: a bigger pipe means
 * fewer splice() calls and wakeups.  Idle and interactive tunnels keep the
 * default size, so a thousand of them do not exhaust the per-user pipe
 * budget (fs.pipe-user-pages-soft).  Failure is harmless. */
static void grow_pipe(struct dir *d)
{
	d->grown = true;
	if (fcntl(d->pipe[1], F_SETPIPE_SZ, PIPE_BULK) > 0) {
		int cap = fcntl(d->pipe[0], F_GETPIPE_SZ);
		if (cap > 0)
			d->cap = (size_t)cap;
	}
}

static void connecting(struct conn *c)
{
	int err = 0;
	socklen_t el = sizeof(err);
	struct sockaddr_storage peer;
	socklen_t pl = sizeof(peer);

	if (pend_left(&c->u2c.pend) && pend_flush(&c->u2c.pend, c->cs.fd) < 0) {
		conn_close(c);
		return;
	}
	if (getsockopt(c->us.fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
		err = errno;
	if (err == 0 && getpeername(c->us.fd, (struct sockaddr *)&peer, &pl) < 0) {
		if (errno == ENOTCONN && !c->us.hup)
			return; /* still in progress */
		err = errno == ENOTCONN ? ECONNREFUSED : errno;
	}
	if (err) {
		c->connect_errno = err;
		start_connect(c);
		return;
	}
	int one = 1;
	setsockopt(c->us.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (make_pipes(&c->c2u) < 0 || make_pipes(&c->u2c) < 0) {
		c->connect_errno = errno;
		c->naddrs = c->next_addr; /* no retry */
		connect_failed(c);
		return;
	}
	c->c2u.shut_on_eof = c->proto != PROTO_HTTP;
	c->u2c.shut_on_eof = true;
	c->u2c.budget = UINT64_MAX;
	c->last_active = now_ms();
	if (c->proto == PROTO_HTTP) {
		c->c2u.eof = c->c2u.budget == 0;
		c->st = CS_RELAY;
		return;
	}
	c->c2u.budget = UINT64_MAX;
	if (c->proto == PROTO_CONNECT) {
		static const char ok[] = "HTTP/1.1 200 Connection established\r\n\r\n";
		reply_client(c, ok, sizeof(ok) - 1);
	} else if (c->proto == PROTO_SOCKS5) {
		unsigned char rep[SH_SOCKS5_REPLY_MAX];
		/* BND.ADDR 0.0.0.0:0: the proxy's outbound address is the host's,
		 * which the sandbox has no business learning. */
		reply_client(c, rep, sh_socks5_reply(rep, SH_SOCKS5_OK, NULL));
	}
	c->st = CS_INSPECT;
}

/* Move bytes along d: pending user bytes first, then src -> pipe -> dst with
 * splice().  Reading into the pipe overlaps with writing out of it.  splice()
 * into a pipe says EAGAIN both when src is empty and when the pipe is full;
 * with bytes in the pipe it is taken as "full" (d->full) until some leave, so
 * epoll never spins on a readable src that cannot be read.
 * Returns -1 when the connection must close. */
static int pump(struct conn *c, struct dir *d, int src, int dst, bool may_read)
{
	for (int round = 0; round < PUMP_ROUNDS; round++) {
		bool progress = false;
		if (pend_left(&d->pend)) {
			int r = pend_flush(&d->pend, dst);
			if (r <= 0)
				return r;
		}
		if (may_read && !d->eof && !d->full && d->inpipe < d->cap && d->budget > 0) {
			size_t room = d->cap - d->inpipe;
			size_t want = d->budget < room ? (size_t)d->budget : room;
			ssize_t n = splice(src, NULL, d->pipe[1], NULL, want,
					   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
			if (n > 0) {
				d->inpipe += (size_t)n;
				d->budget -= (uint64_t)n;
				if (d->budget == 0)
					d->eof = true;
				if (d->inpipe >= d->cap && !d->grown)
					grow_pipe(d);
				progress = true;
			} else if (n == 0) {
				d->eof = true;
				d->shut_on_eof = true; /* the source closed: pass the FIN on */
			} else if (errno == EAGAIN) {
				d->full = d->inpipe > 0;
			} else if (errno != EINTR) {
				return -1;
			}
		}
		if (d->inpipe > 0) {
			ssize_t n = splice(d->pipe[0], NULL, dst, NULL, d->inpipe,
					   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
			if (n > 0) {
				d->inpipe -= (size_t)n;
				d->full = false;
				progress = true;
			} else if (n < 0 && errno != EAGAIN && errno != EINTR) {
				return -1;
			}
		}
		if (d->eof && d->inpipe == 0) {
			if (!d->done && d->shut_on_eof)
				shutdown(dst, SHUT_WR);
			d->done = true;
			return 0;
		}
		if (!progress)
			return 0;
		c->last_active = now_ms();
	}
	return 0;
}

static void go_relay(struct conn *c)
{
	if (c->len > 0)
		pend_add(&c->c2u.pend, c->buf, c->len);
	free(c->buf);
	c->buf = NULL;
	c->len = c->cap = 0;
	c->st = CS_RELAY;
}

static void tls_refuse(struct conn *c)
{
	sh_proxy_log_decision(c->px->cfg->log, "tls", &c->v);
	finish(c, tls_alert_access_denied, sizeof(tls_alert_access_denied));
}

static void inspect(struct conn *c)
{
	char sni[SH_TLS_SNI_MAX + 1];
	size_t sni_len = 0;
	int r = read_client(c);

	if (r < 0) {
		conn_close(c);
		return;
	}
	if (pump(c, &c->u2c, c->us.fd, c->cs.fd, true) < 0) {
		conn_close(c);
		return;
	}
	if (c->len == 0) {
		if (r == 0) { /* client closed before sending anything */
			c->c2u.eof = true;
			go_relay(c);
		}
		return;
	}
	switch (sh_tls_client_hello_sni((const unsigned char *)c->buf, c->len, sni, &sni_len)) {
	case SH_TLS_NOT_TLS:
	case SH_TLS_NO_SNI:
		go_relay(c);
		return;
	case SH_TLS_SNI:
		if (sh_proxy_filter_sni(&c->v, sni, sni_len))
			go_relay(c);
		else
			tls_refuse(c);
		return;
	case SH_TLS_NEED_MORE:
		if (c->len < NEG_BUF_MAX && r != 0)
			return;
		break;
	case SH_TLS_MALFORMED:
	default:
		break;
	}
	c->v.allow = false;
	c->v.reason = SH_PR_TLS_MALFORMED;
	tls_refuse(c);
}

static void relay(struct conn *c)
{
	if (!c->c2u.done && pump(c, &c->c2u, c->cs.fd, c->us.fd, true) < 0) {
		/* The upstream stopped reading (reset, or closed after answering):
		 * drop what the client still sends, deliver what the upstream said. */
		c->c2u.eof = c->c2u.done = true;
		c->c2u.inpipe = 0;
		pend_free(&c->c2u.pend);
	}
	if (!c->u2c.done && pump(c, &c->u2c, c->us.fd, c->cs.fd, true) < 0) {
		conn_close(c);
		return;
	}
	/* A plain HTTP exchange ends with the response; a tunnel with both sides. */
	if (c->u2c.done && (c->c2u.done || c->proto == PROTO_HTTP))
		conn_close(c);
}

static void reply_close(struct conn *c)
{
	int r = pend_flush(&c->u2c.pend, c->cs.fd);
	if (r < 0) {
		conn_close(c);
		return;
	}
	if (r == 0)
		return;
	/* Shut our side and read the rest of the request, so that closing with
	 * unread input does not turn into an RST that eats the reply. */
	shutdown(c->cs.fd, SHUT_WR);
	free(c->buf);
	c->buf = NULL;
	c->len = c->cap = 0;
	c->st = CS_DRAIN;
	c->last_active = now_ms();
}

static void drain(struct conn *c)
{
	char junk[4096];
	for (;;) {
		ssize_t n = recv(c->cs.fd, junk, sizeof(junk), MSG_DONTWAIT);
		if (n > 0) {
			c->drained += (size_t)n;
			if (c->drained < DRAIN_MAX)
				continue;
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			return;
		}
		conn_close(c);
		return;
	}
}

/* ---- interest ---- */

static bool dir_wants_src(const struct dir *d)
{
	return !d->eof && !d->full && d->inpipe < d->cap && !pend_left(&d->pend) &&
	       d->budget > 0 && d->pipe[0] >= 0;
}

static bool dir_has_out(const struct dir *d)
{
	return pend_left(&d->pend) || d->inpipe > 0;
}

static void update_interest(struct conn *c)
{
	uint32_t cw = 0, uw = 0;

	switch (c->st) {
	case CS_SNIFF:
	case CS_HTTP_HEAD:
	case CS_SOCKS_GREET:
	case CS_SOCKS_REQ:
		cw = c->len < NEG_BUF_MAX ? EPOLLIN : 0;
		break;
	case CS_CONNECTING:
		uw = EPOLLOUT;
		break;
	case CS_INSPECT:
		cw = c->len < NEG_BUF_MAX ? EPOLLIN : 0;
		uw = dir_wants_src(&c->u2c) ? EPOLLIN : 0;
		break;
	case CS_RELAY:
		cw = dir_wants_src(&c->c2u) ? EPOLLIN : 0;
		uw = (dir_wants_src(&c->u2c) ? EPOLLIN : 0) | (dir_has_out(&c->c2u) ? EPOLLOUT : 0);
		break;
	case CS_DRAIN:
		cw = EPOLLIN;
		break;
	case CS_REPLY_CLOSE:
	case CS_CLOSED:
	default:
		break;
	}
	if (dir_has_out(&c->u2c))
		cw |= EPOLLOUT;
	c->cs.want = cw;
	c->us.want = uw;
	side_sync(c->px, &c->cs);
	side_sync(c->px, &c->us);
}

static void conn_step(struct conn *c)
{
	for (int guard = 0; guard < 8; guard++) {
		enum conn_state before = c->st;
		switch (c->st) {
		case CS_SNIFF:
		case CS_HTTP_HEAD:
		case CS_SOCKS_GREET:
		case CS_SOCKS_REQ:
			negotiate(c);
			break;
		case CS_CONNECTING:
			connecting(c);
			break;
		case CS_INSPECT:
			inspect(c);
			break;
		case CS_RELAY:
			relay(c);
			break;
		case CS_REPLY_CLOSE:
			reply_close(c);
			break;
		case CS_DRAIN:
			drain(c);
			break;
		case CS_CLOSED:
		default:
			return;
		}
		if (c->st == before || c->st == CS_CLOSED)
			break;
	}
	if (c->st != CS_CLOSED)
		update_interest(c);
}

/* ---- accept, timeouts, run ---- */

/* The client is local by design (a listener on the sandbox's loopback, or
 * a Unix socket): its round trip is microseconds, so a small send buffer
 * toward it costs no throughput.  It makes the relay hand bulk data to the
 * client in small steps instead of the megabytes an autotuned buffer
 * allows; the client then copies data that is still in cache.  Measured on
 * a 1 GiB loopback download (bench/net-bench.c): 55% of direct with the
 * autotuned buffer, about 95% with this one, and half the proxy's CPU per
 * GiB.  Only for local peers: a remote client (none today) would need the
 * autotuned buffer to fill a long path. */
static void limit_client_sndbuf(int fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int sz = CLIENT_SNDBUF;
	bool local = false;

	if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0)
		return;
	if (ss.ss_family == AF_UNIX) {
		local = true;
	} else if (ss.ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)&ss;
		local = (ntohl(s4->sin_addr.s_addr) >> 24) == 127;
	} else if (ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&ss;
		local = IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr) ||
			(IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr) && s6->sin6_addr.s6_addr[12] == 127);
	}
	if (local) /* failure only leaves the default buffer */
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
}

static void accept_some(struct proxy *px, int lfd)
{
	for (int i = 0; i < ACCEPT_BURST; i++) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
				/* Stop accepting until a connection closes; level-triggered
				 * epoll would otherwise spin on the pending connection. */
				px->accept_paused = true;
				for (size_t j = 0; j < px->nl; j++) {
					px->lsides[j].want = 0;
					side_sync(px, &px->lsides[j]);
				}
			}
			return;
		}
		if (px->nconns >= px->max_conns) {
			close(fd);
			continue;
		}
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		limit_client_sndbuf(fd);
		struct conn *c = sh_xcalloc(1, sizeof(*c));
		c->px = px;
		c->cs = (struct side){ .c = c, .fd = fd, .want = EPOLLIN };
		c->us = (struct side){ .c = c, .fd = -1 };
		c->c2u.pipe[0] = c->c2u.pipe[1] = c->u2c.pipe[0] = c->u2c.pipe[1] = -1;
		c->c2u.budget = c->u2c.budget = UINT64_MAX;
		c->st = CS_SNIFF;
		c->last_active = now_ms();
		c->next = px->conns;
		if (px->conns)
			px->conns->prev = c;
		px->conns = c;
		px->nconns++;
		side_sync(px, &c->cs);
		if (!c->cs.registered)
			conn_close(c);
	}
}

static void expire(struct proxy *px, uint64_t now)
{
	for (struct conn *c = px->conns, *next; c; c = next) {
		next = c->next;
		uint64_t limit = c->st == CS_RELAY ? px->idle_ms
				 : c->st == CS_DRAIN || c->st == CS_REPLY_CLOSE ? DRAIN_TIMEOUT_MS
										 : px->hs_ms;
		if (now - c->last_active >= limit)
			conn_close(c);
	}
}

static void free_dead(struct proxy *px)
{
	while (px->dead) {
		struct conn *c = px->dead;
		px->dead = c->next;
		free(c);
	}
}

static size_t fd_budget(size_t want)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		if (rl.rlim_cur < rl.rlim_max) {
			rl.rlim_cur = rl.rlim_max;
			setrlimit(RLIMIT_NOFILE, &rl);
			getrlimit(RLIMIT_NOFILE, &rl);
		}
		size_t cap = rl.rlim_cur > FDS_RESERVED ? (size_t)(rl.rlim_cur - FDS_RESERVED) / FDS_PER_CONN : 1;
		if (cap < want)
			want = cap ? cap : 1;
	}
	return want;
}

static int loop(struct proxy *px, int stop_fd, struct sh_err *e)
{
	struct epoll_event evs[MAX_EVENTS];
	uint64_t last_tick = now_ms();

	for (;;) {
		int n = epoll_wait(px->ep, evs, MAX_EVENTS, px->nconns ? TICK_MS : -1);
		if (n < 0) {
			if (errno == EINTR)
				n = 0;
			else
				return sh_fail(e, SH_EXIT_SETUP, errno, "proxy: epoll_wait");
		}
		for (int i = 0; i < n; i++) {
			struct side *s = evs[i].data.ptr;
			if (!s->c) {
				if (s->fd == stop_fd)
					return 0;
				accept_some(px, s->fd);
				continue;
			}
			if (s->c->st == CS_CLOSED)
				continue;
			if (evs[i].events & (EPOLLHUP | EPOLLERR))
				s->hup = true;
			conn_step(s->c);
		}
		free_dead(px);
		uint64_t now = now_ms();
		if (now - last_tick >= TICK_MS) {
			last_tick = now;
			expire(px, now);
			free_dead(px);
		}
	}
}

int sh_proxy_run(const struct sh_proxy_config *cfg, const int *listen_fds, size_t n, int stop_fd,
		 struct sh_err *e)
{
	struct proxy px = { .cfg = cfg, .ep = -1 };
	struct sigaction ign = { .sa_handler = SIG_IGN }, old;
	int rc = -1;

	if (stop_fd < 0 || (n > 0 && !listen_fds))
		return sh_fail(e, SH_EXIT_SETUP, EINVAL, "proxy: bad arguments");
	if (sh_proxy_filter_init(&px.filter, cfg, e) < 0)
		return -1;
	/* splice() into a socket whose peer has gone raises SIGPIPE. */
	sigemptyset(&ign.sa_mask);
	sigaction(SIGPIPE, &ign, &old);
	px.idle_ms = cfg->idle_timeout_ms ? cfg->idle_timeout_ms : SH_PROXY_IDLE_TIMEOUT_MS;
	px.hs_ms = cfg->handshake_timeout_ms ? cfg->handshake_timeout_ms
					     : SH_PROXY_HANDSHAKE_TIMEOUT_MS;
	px.max_conns = fd_budget(cfg->max_conns ? cfg->max_conns : SH_PROXY_MAX_CONNS);
	px.ep = epoll_create1(EPOLL_CLOEXEC);
	if (px.ep < 0) {
		sh_fail(e, SH_EXIT_SETUP, errno, "proxy: epoll_create1");
		goto out;
	}
	px.nl = n;
	px.lsides = sh_xcalloc(n + 1, sizeof(*px.lsides));
	for (size_t i = 0; i <= n; i++) {
		struct side *s = &px.lsides[i];
		*s = (struct side){ .fd = i < n ? listen_fds[i] : stop_fd, .want = EPOLLIN };
		if (i < n)
			fcntl(s->fd, F_SETFL, fcntl(s->fd, F_GETFL) | O_NONBLOCK);
		side_sync(&px, s);
		if (!s->registered) {
			sh_fail(e, SH_EXIT_SETUP, errno, "proxy: epoll_ctl on fd %d", s->fd);
			goto out;
		}
	}
	rc = loop(&px, stop_fd, e);
out:
	while (px.conns)
		conn_close(px.conns);
	free_dead(&px);
	free(px.lsides);
	if (px.ep >= 0)
		close(px.ep);
	sh_proxy_filter_free(&px.filter);
	sigaction(SIGPIPE, &old, NULL);
	return rc;
}

int sh_proxy_listen_loopback(uint16_t port, uint16_t *bound, struct sh_err *e)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	int one = 1;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return sh_fail(e, SH_EXIT_SETUP, errno, "proxy: socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, SOMAXCONN) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl) < 0) {
		int err = errno;
		close(fd);
		return sh_fail(e, SH_EXIT_SETUP, err, "proxy: listen on 127.0.0.1:%u", port);
	}
	if (bound)
		*bound = ntohs(sa.sin_port);
	return fd;
}
