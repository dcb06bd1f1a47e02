/* The publishing forwarder (see pubfwd.h).  One thread, poll(): the
 * connections are few (a browser's OAuth callback, a dev server's page and
 * its assets), so each iteration rebuilds the poll set and relays through a
 * fixed buffer per direction. */
#include "cli/pubfwd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "util/str.h"

#define ACCEPT_BURST 16
#define PROC_MAX (1024 * 1024) /* /proc/net/tcp text read per scan (~7000 sockets) */
#define SCAN_MAX 1024          /* listening ports considered per scan */
#define NOTED_MAX 256

enum cstate { C_WAIT, C_CONNECTING, C_RELAY };

struct dir {
	char *buf;
	size_t len, off;
	bool eof, shut; /* EOF read from the source; FIN passed to the destination */
};

struct conn {
	int fd[2];        /* 0: the host's client, 1: the sandbox side (or -1) */
	int pi[2];        /* their index in the poll set, or -1 */
	uint16_t inside;
	int family;       /* asked for / connected with */
	enum cstate st;
	bool asked;       /* a socket request is outstanding */
	bool dead;
	struct dir d[2];  /* d[0]: client -> sandbox, d[1]: sandbox -> client */
	uint64_t deadline;
};

struct lst {
	int fd;
	uint16_t host, inside;
	bool is_auto, seen;
	int pi;
};

struct fwd {
	const struct sh_pubfwd_config *cfg;
	struct sh_netns_id sandbox_ns;
	int chan;
	struct lst *l;
	size_t nl, lcap;
	struct conn **c;
	size_t nc, ccap;
	struct pollfd *pfd;
	size_t pcap;
	uint16_t noted[NOTED_MAX]; /* auto ports already reported busy on the host */
	size_t nnoted;
	uint64_t next_scan;
	char *proc;                /* scan buffer */
};

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

__attribute__((format(printf, 2, 3))) static void notice(const struct fwd *f, const char *fmt, ...)
{
	va_list ap;

	if (!f->cfg->notices)
		return;
	fputs("safehouse: explain: publish: automatic: ", f->cfg->notices);
	va_start(ap, fmt);
	vfprintf(f->cfg->notices, fmt, ap);
	va_end(ap);
	fputc('\n', f->cfg->notices);
	fflush(f->cfg->notices);
}

int sh_pubfwd_listen(uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);

	if (fd < 0)
		return -1;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	/* Not SO_REUSEPORT: a port someone listens on stays theirs. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 64) < 0) {
		int err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

/* ---- /proc/net/tcp{,6} ---- */

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

/* n hex digits at *p (advanced) into *out; false if not all hex. */
static bool hex_n(const char **p, const char *end, size_t n, uint32_t *out)
{
	uint32_t v = 0;
	if ((size_t)(end - *p) < n)
		return false;
	for (size_t i = 0; i < n; i++) {
		int h = hexval((*p)[i]);
		if (h < 0)
			return false;
		v = v << 4 | (uint32_t)h;
	}
	*p += n;
	*out = v;
	return true;
}

/* The kernel prints each 32-bit word of the address as the integer its
 * bytes make in host order, so the parsed value is the word as stored. */
static bool v4_local(uint32_t word)
{
	uint32_t host = ntohl(word);
	return host == 0 || host >> 24 == 127;
}

static bool v6_local(const uint32_t w[4])
{
	struct in6_addr a;
	memcpy(&a, w, sizeof(a));
	if (IN6_IS_ADDR_LOOPBACK(&a) || IN6_IS_ADDR_UNSPECIFIED(&a))
		return true;
	return IN6_IS_ADDR_V4MAPPED(&a) && v4_local(w[3]);
}

size_t sh_pubfwd_parse_listeners(const char *text, size_t len, bool v6, uint16_t *ports,
				 size_t max)
{
	const char *p = text, *end = text + len;
	size_t n = 0;

	while (p < end && n < max) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *q = p, *le = eol ? eol : end;
		uint32_t w[4] = { 0 }, port, rw, st;
		bool ok = true;

		p = eol ? eol + 1 : end;
		while (q < le && *q == ' ')
			q++;
		if (q == le || *q < '0' || *q > '9')
			continue; /* the header, or garbage */
		while (q < le && *q >= '0' && *q <= '9')
			q++;
		if (q + 2 > le || q[0] != ':' || q[1] != ' ')
			continue;
		q += 2;
		for (int i = 0; ok && i < (v6 ? 4 : 1); i++)
			ok = hex_n(&q, le, 8, &w[i]);
		ok = ok && q < le && *q++ == ':' && hex_n(&q, le, 4, &port);
		ok = ok && q < le && *q++ == ' ';
		for (int i = 0; ok && i < (v6 ? 4 : 1); i++)
			ok = hex_n(&q, le, 8, &rw);
		ok = ok && q < le && *q++ == ':' && hex_n(&q, le, 4, &rw);
		ok = ok && q < le && *q++ == ' ' && hex_n(&q, le, 2, &st);
		if (!ok || st != 0x0A /* TCP_LISTEN */ || port == 0)
			continue;
		if (v6 ? v6_local(w) : v4_local(w[0]))
			ports[n++] = (uint16_t)port;
	}
	return n;
}

/* ---- connections ---- */

static void conn_kill(struct conn *c)
{
	c->dead = true;
}

static void conn_free(struct conn *c)
{
	for (int i = 0; i < 2; i++) {
		if (c->fd[i] >= 0)
			close(c->fd[i]);
		free(c->d[i].buf);
	}
	free(c);
}

static void ask(struct fwd *f, struct conn *c)
{
	c->st = C_WAIT;
	if (f->chan < 0 || sh_sockfactory_request(f->chan, c->family) < 0) {
		conn_kill(c);
		return;
	}
	c->asked = true;
}

static void go_relay(struct conn *c)
{
	c->st = C_RELAY;
	c->deadline = 0; /* established: no timeout (dev servers keep websockets idle) */
}

/* Refused on 127.0.0.1: try [::1] (a listener bound to "localhost" may be
 * IPv6 only); anything else ends the connection (the client sees it close). */
static void connect_failed(struct fwd *f, struct conn *c, int err)
{
	close(c->fd[1]);
	c->fd[1] = -1;
	if (c->family == AF_INET && err == ECONNREFUSED) {
		c->family = AF_INET6;
		ask(f, c);
		return;
	}
	conn_kill(c);
}

static void start_connect(struct fwd *f, struct conn *c, int s)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fl = fcntl(s, F_GETFL);

	memset(&ss, 0, sizeof(ss));
	c->fd[1] = s;
	if (fl < 0 || fcntl(s, F_SETFL, fl | O_NONBLOCK) < 0) {
		conn_kill(c);
		return;
	}
	if (c->family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		a->sin_family = AF_INET;
		a->sin_port = htons(c->inside);
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof(*a);
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons(c->inside);
		a->sin6_addr = in6addr_loopback;
		len = sizeof(*a);
	}
	if (connect(s, (struct sockaddr *)&ss, len) == 0)
		go_relay(c);
	else if (errno == EINPROGRESS)
		c->st = C_CONNECTING;
	else
		connect_failed(f, c, errno);
}

static void connecting(struct fwd *f, struct conn *c, short ev)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (!(ev & (POLLOUT | POLLERR | POLLHUP)))
		return;
	if (getsockopt(c->fd[1], SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err == 0)
		go_relay(c);
	else
		connect_failed(f, c, err);
}

/* One pass over both directions: read into an empty buffer, write what is
 * buffered, pass a FIN on once its direction is drained. */
static void relay(struct conn *c, const short ev[2])
{
	if ((ev[0] | ev[1]) & (POLLERR | POLLNVAL)) {
		conn_kill(c);
		return;
	}
	for (int k = 0; k < 2; k++) {
		struct dir *d = &c->d[k];
		int src = c->fd[k], dst = c->fd[1 - k];
		if (!d->eof && d->len == 0 && (ev[k] & (POLLIN | POLLHUP))) {
			ssize_t n = recv(src, d->buf, SH_PUBFWD_BUF, 0);
			if (n > 0) {
				d->len = (size_t)n;
				d->off = 0;
			} else if (n == 0)
				d->eof = true;
			else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
				conn_kill(c);
				return;
			}
		}
		if (d->len > d->off) {
			ssize_t n = send(dst, d->buf + d->off, d->len - d->off, MSG_NOSIGNAL);
			if (n > 0) {
				d->off += (size_t)n;
				if (d->off == d->len)
					d->len = d->off = 0;
			} else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
				conn_kill(c);
				return;
			}
		}
		if (d->eof && d->len == 0 && !d->shut) {
			(void)shutdown(dst, SHUT_WR);
			d->shut = true;
		}
	}
	if (c->d[0].shut && c->d[1].shut)
		conn_kill(c);
}

static void accept_some(struct fwd *f, const struct lst *l)
{
	for (int i = 0; i < ACCEPT_BURST; i++) {
		int cfd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd < 0)
			return; /* EAGAIN; EMFILE and the like: try again later */
		if (f->nc >= SH_PUBFWD_MAX_CONNS || f->chan < 0) {
			close(cfd);
			continue;
		}
		struct conn *c = sh_xcalloc(1, sizeof(*c));
		c->fd[0] = cfd;
		c->fd[1] = -1;
		c->pi[0] = c->pi[1] = -1;
		c->inside = l->inside;
		c->family = AF_INET;
		c->deadline = now_ms() + SH_PUBFWD_SETUP_MS;
		c->d[0].buf = sh_xcalloc(1, SH_PUBFWD_BUF);
		c->d[1].buf = sh_xcalloc(1, SH_PUBFWD_BUF);
		sh_xgrow(&f->c, &f->ccap, f->nc + 1, sizeof(*f->c));
		f->c[f->nc++] = c;
		ask(f, c);
	}
}

/* Answers from init: each goes to a connection waiting for that family. */
static void take_answers(struct fwd *f)
{
	for (;;) {
		int family = 0;
		int s = sh_sockfactory_take(f->chan, &family);
		if (s == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				return;
			if (errno == EPROTO)
				continue; /* a malformed answer: ignored (its request times out) */
			close(f->chan); /* closed: init is gone, the session is ending */
			f->chan = -1;
			for (size_t i = 0; i < f->nc; i++)
				if (f->c[i]->st == C_WAIT)
					conn_kill(f->c[i]);
			return;
		}
		struct conn *c = NULL;
		for (size_t i = 0; !c && i < f->nc; i++)
			if (!f->c[i]->dead && f->c[i]->st == C_WAIT && f->c[i]->asked &&
			    f->c[i]->family == family)
				c = f->c[i];
		if (!c) {
			if (s >= 0)
				close(s); /* its connection timed out meanwhile */
			continue;
		}
		c->asked = false;
		if (s == -2) { /* init could not create one */
			conn_kill(c);
			continue;
		}
		const char *why = NULL;
		if (!sh_sockfactory_check(s, family, &f->sandbox_ns, &why)) {
			fprintf(stderr, "safehouse: publish: refused a socket from the sandbox's "
					"init: %s\n", why);
			close(s);
			conn_kill(c);
			continue;
		}
		start_connect(f, c, s);
	}
}

/* ---- automatic publishing ---- */

static size_t read_proc(struct fwd *f, int fd)
{
	size_t n = 0;
	if (fd < 0 || lseek(fd, 0, SEEK_SET) < 0)
		return 0;
	while (n < PROC_MAX) {
		ssize_t r = read(fd, f->proc + n, PROC_MAX - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	return n;
}

static bool excluded(const struct fwd *f, uint16_t port)
{
	if (port < SH_PUBFWD_AUTO_MIN_PORT)
		return true;
	for (size_t i = 0; i < f->cfg->nexclude; i++)
		if (f->cfg->exclude[i] == port)
			return true;
	return false;
}

static bool noted(const struct fwd *f, uint16_t port)
{
	for (size_t i = 0; i < f->nnoted; i++)
		if (f->noted[i] == port)
			return true;
	return false;
}

static void scan(struct fwd *f)
{
	static uint16_t found[SCAN_MAX];
	size_t n = 0, nauto = 0;

	n += sh_pubfwd_parse_listeners(f->proc, read_proc(f, f->cfg->fds.tcp4), false, found,
				       SCAN_MAX);
	n += sh_pubfwd_parse_listeners(f->proc, read_proc(f, f->cfg->fds.tcp6), true, found + n,
				       SCAN_MAX - n);
	for (size_t i = 0; i < f->nl; i++) {
		f->l[i].seen = false;
		nauto += f->l[i].is_auto;
	}
	for (size_t i = 0; i < n; i++) {
		uint16_t p = found[i];
		bool have = false;
		if (excluded(f, p))
			continue;
		for (size_t k = 0; k < f->nl; k++)
			if (f->l[k].inside == p || f->l[k].host == p) {
				f->l[k].seen = true;
				have = true;
			}
		if (have || nauto >= SH_PUBFWD_MAX_AUTO)
			continue;
		int fd = sh_pubfwd_listen(p);
		if (fd < 0) {
			if (!noted(f, p) && f->nnoted < NOTED_MAX) {
				f->noted[f->nnoted++] = p;
				notice(f, "sandbox port %u not published: host port %u is in use",
				       (unsigned)p, (unsigned)p);
			}
			continue;
		}
		sh_xgrow(&f->l, &f->lcap, f->nl + 1, sizeof(*f->l));
		f->l[f->nl++] = (struct lst){ fd, p, p, true, true, -1 };
		nauto++;
		notice(f, "host 127.0.0.1:%u -> sandbox 127.0.0.1:%u (a listener opened inside)",
		       (unsigned)p, (unsigned)p);
	}
	/* Listeners gone inside: their host port is given back. */
	for (size_t i = 0; i < f->nl;) {
		if (f->l[i].is_auto && !f->l[i].seen) {
			notice(f, "host 127.0.0.1:%u closed (the listener on sandbox port %u is gone)",
			       (unsigned)f->l[i].host, (unsigned)f->l[i].inside);
			close(f->l[i].fd);
			f->l[i] = f->l[--f->nl];
			continue;
		}
		i++;
	}
	/* A busy port is reported again if it comes back later. */
	for (size_t i = 0; i < f->nnoted;) {
		bool still = false;
		for (size_t k = 0; k < n && !still; k++)
			still = found[k] == f->noted[i];
		if (!still)
			f->noted[i] = f->noted[--f->nnoted];
		else
			i++;
	}
}

/* ---- the loop ---- */

static struct pollfd *slot(struct fwd *f, size_t *np, int fd, short events, int *pi)
{
	sh_xgrow(&f->pfd, &f->pcap, *np + 1, sizeof(*f->pfd));
	*pi = (int)*np;
	f->pfd[*np] = (struct pollfd){ .fd = fd, .events = events };
	return &f->pfd[(*np)++];
}

static size_t build(struct fwd *f, int stop_fd)
{
	size_t np = 0;
	int ignored;

	slot(f, &np, stop_fd, POLLIN, &ignored);
	slot(f, &np, f->chan, POLLIN, &ignored);
	for (size_t i = 0; i < f->nl; i++)
		slot(f, &np, f->l[i].fd, f->nc < SH_PUBFWD_MAX_CONNS ? POLLIN : 0, &f->l[i].pi);
	for (size_t i = 0; i < f->nc; i++) {
		struct conn *c = f->c[i];
		short e0 = 0, e1 = 0;
		c->pi[0] = c->pi[1] = -1;
		if (c->st == C_RELAY) {
			e0 = (short)((!c->d[0].eof && !c->d[0].len ? POLLIN : 0) |
				     (c->d[1].len > c->d[1].off ? POLLOUT : 0));
			e1 = (short)((!c->d[1].eof && !c->d[1].len ? POLLIN : 0) |
				     (c->d[0].len > c->d[0].off ? POLLOUT : 0));
		} else if (c->st == C_CONNECTING)
			e1 = POLLOUT;
		slot(f, &np, c->fd[0], e0, &c->pi[0]);
		if (c->fd[1] >= 0)
			slot(f, &np, c->fd[1], e1, &c->pi[1]);
	}
	return np;
}

static int timeout_ms(const struct fwd *f, uint64_t now)
{
	uint64_t next = UINT64_MAX;
	for (size_t i = 0; i < f->nc; i++)
		if (f->c[i]->deadline && f->c[i]->deadline < next)
			next = f->c[i]->deadline;
	if (f->cfg->auto_publish && f->next_scan < next)
		next = f->next_scan;
	if (next == UINT64_MAX)
		return -1;
	return next <= now ? 0 : (int)(next - now);
}

static void reap(struct fwd *f)
{
	size_t w = 0;
	for (size_t i = 0; i < f->nc; i++) {
		if (f->c[i]->dead)
			conn_free(f->c[i]);
		else
			f->c[w++] = f->c[i];
	}
	f->nc = w;
}

static int check_namespaces(struct fwd *f, struct sh_err *e)
{
	struct sh_netns_id own;
	int fd;

	if (f->cfg->fds.netns < 0 || sh_netns_id_of(f->cfg->fds.netns, &f->sandbox_ns) < 0)
		return sh_fail(e, SH_EXIT_SETUP, errno, "cannot identify the sandbox's network "
							"namespace");
	fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || sh_netns_id_of(fd, &own) < 0) {
		int err = errno;
		if (fd >= 0)
			close(fd);
		return sh_fail(e, SH_EXIT_SETUP, err, "cannot identify the host's network namespace");
	}
	close(fd);
	/* The whole point: never connect anything in the host's namespace. */
	if (own.dev == f->sandbox_ns.dev && own.ino == f->sandbox_ns.ino)
		return sh_fail(e, SH_EXIT_SETUP, 0, "the sandbox shares the host's network namespace: "
				  "nothing is published");
	return 0;
}

int sh_pubfwd_run(const struct sh_pubfwd_config *cfg, int stop_fd, struct sh_err *e)
{
	struct fwd f;
	int rc = 0;

	memset(&f, 0, sizeof(f));
	f.cfg = cfg;
	f.chan = cfg->fds.chan;
	if (check_namespaces(&f, e) < 0)
		return -1;
	for (size_t i = 0; i < cfg->nports; i++) {
		sh_xgrow(&f.l, &f.lcap, f.nl + 1, sizeof(*f.l));
		f.l[f.nl++] = (struct lst){ cfg->ports[i].lfd, cfg->ports[i].host,
					    cfg->ports[i].inside, false, false, -1 };
	}
	if (cfg->auto_publish && (cfg->fds.tcp4 >= 0 || cfg->fds.tcp6 >= 0))
		f.proc = sh_xcalloc(1, PROC_MAX);
	for (;;) {
		uint64_t now = now_ms();
		if (f.proc && now >= f.next_scan) {
			scan(&f);
			f.next_scan = now + SH_PUBFWD_SCAN_MS;
		}
		size_t np = build(&f, stop_fd);
		size_t nl = f.nl, nc = f.nc;
		if (poll(f.pfd, np, timeout_ms(&f, now)) < 0) {
			if (errno == EINTR)
				continue;
			rc = sh_fail(e, SH_EXIT_SETUP, errno, "poll failed");
			break;
		}
		if (f.pfd[0].revents)
			break; /* stop: the session is over */
		if (f.chan >= 0 && f.pfd[1].revents)
			take_answers(&f);
		for (size_t i = 0; i < nl; i++)
			if (f.l[i].pi >= 0 && (f.pfd[f.l[i].pi].revents & POLLIN))
				accept_some(&f, &f.l[i]);
		for (size_t i = 0; i < nc; i++) {
			struct conn *c = f.c[i];
			short ev[2] = { c->pi[0] >= 0 ? f.pfd[c->pi[0]].revents : 0,
					c->pi[1] >= 0 ? f.pfd[c->pi[1]].revents : 0 };
			if (c->dead)
				continue;
			if (c->st != C_RELAY && (ev[0] & (POLLERR | POLLHUP | POLLNVAL)))
				conn_kill(c); /* the client left before we were connected */
			else if (c->st == C_CONNECTING && c->pi[1] >= 0)
				connecting(&f, c, ev[1]);
			else if (c->st == C_RELAY && c->pi[1] >= 0)
				relay(c, ev);
		}
		now = now_ms();
		for (size_t i = 0; i < f.nc; i++)
			if (f.c[i]->deadline && f.c[i]->deadline <= now)
				conn_kill(f.c[i]);
		reap(&f);
	}
	for (size_t i = 0; i < f.nc; i++)
		conn_free(f.c[i]);
	for (size_t i = 0; i < f.nl; i++)
		close(f.l[i].fd);
	if (f.chan >= 0)
		close(f.chan);
	free(f.c);
	free(f.l);
	free(f.pfd);
	free(f.proc);
	return rc;
}
