/* The built-in filtering proxy: HTTP (CONNECT and plain forwarding) and
 * SOCKS5 (CONNECT, domain names) on the same listening sockets, told apart
 * by the first byte.  See docs/network.md.
 *
 * Order of a decision, for every protocol:
 *   1. canonicalise the requested host (malformed, control bytes: refused);
 *   2. deny list, then allow list, on the name as requested (deny wins;
 *      an empty allow list refuses everything) -- before any DNS lookup, so a
 *      refused name never reaches a resolver (NET-14);
 *   3. IP literals: only when listed exactly or allow_ip_literals (NET-09);
 *   4. the proxy resolves the name itself and drops loopback, private,
 *      link-local, metadata, ... addresses unless allowed (NET-08, NET-16);
 *   5. it connects to what it resolved (never to an address the client named
 *      in a Host header or SNI: NET-12b);
 *   6. tunnels: if the client's first bytes are a TLS ClientHello, its SNI
 *      must be the CONNECT host (NET-12a); plain HTTP: absolute-URI and Host
 *      must agree (NET-11), and one request per connection.
 * Refusals answer 403 (HTTP) or reply 0x02 (SOCKS5), with a body naming the
 * rule and the flag that would allow the destination. */
#ifndef SH_PROXY_PROXY_H
#define SH_PROXY_PROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "util/err.h"

/* Flags named in refusal messages; the CLI must use the same spelling. */
#define SH_PROXY_FLAG_ALLOW "--allow-domains"
#define SH_PROXY_FLAG_PRIVATE "--allow-private-network"

/* Limits (see docs/network.md). */
#define SH_PROXY_IDLE_TIMEOUT_MS (10 * 60 * 1000) /* established tunnel with no traffic */
#define SH_PROXY_HANDSHAKE_TIMEOUT_MS (30 * 1000) /* request head / SOCKS / ClientHello */
#define SH_PROXY_MAX_CONNS 1024
#define SH_PROXY_MAX_ADDRS 8 /* resolved addresses tried per request */

struct sh_proxy_rulespec {
	const char *pattern; /* "a.com", "*.b.com", "a.com:443", "*.b.com:*", "1.2.3.4:8080" */
	const char *origin;  /* shown in refusals and logs ("--allow-domains", "profile x.sb"); may be NULL */
};

/* Resolve name (canonical, lowercase, never an IP literal, already allowed)
 * into at most max addresses (ports are ignored).  Returns the count (0: no
 * address) or -1.  The default uses getaddrinfo() and blocks the loop. */
typedef int (*sh_proxy_resolve_fn)(void *ctx, const char *name, struct sockaddr_storage *out,
				   size_t max);
/* Start a non-blocking TCP connect to sa; return the socket (connected or
 * EINPROGRESS) or -1 with errno set.  The default is socket()+connect(). */
typedef int (*sh_proxy_connect_fn)(void *ctx, const struct sockaddr *sa, socklen_t len);

struct sh_proxy_log;

struct sh_proxy_config {
	const struct sh_proxy_rulespec *allow;
	size_t n_allow;
	const struct sh_proxy_rulespec *deny;
	size_t n_deny;
	bool allow_ip_literals; /* any IP literal may be requested (still subject to the address checks) */
	bool allow_private;     /* loopback, private, link-local, CGNAT, ULA, reserved destinations */
	bool allow_metadata;    /* cloud metadata addresses (169.254.169.254, ...) */
	sh_proxy_resolve_fn resolve;
	void *resolve_ctx;
	sh_proxy_connect_fn connect;
	void *connect_ctx;
	struct sh_proxy_log *log; /* decisions and counts (caller-owned); may be NULL */
	unsigned idle_timeout_ms, handshake_timeout_ms; /* 0: the defaults above */
	size_t max_conns;                               /* 0: SH_PROXY_MAX_CONNS */
};

/* Serve the listening sockets listen_fds[0..n) (TCP or Unix stream; made
 * non-blocking; not closed) until stop_fd becomes readable, in one thread.
 * Ignores SIGPIPE for the process while running.  Every accepted connection
 * is closed before returning.  Returns 0, or -1 with *e filled when the
 * configuration is invalid or the event loop fails. */
int sh_proxy_run(const struct sh_proxy_config *cfg, const int *listen_fds, size_t n, int stop_fd,
		 struct sh_err *e);

/* A listening TCP socket on 127.0.0.1:port (0: any free port), for tests and
 * for a proxy run inside a network namespace.  *bound (if non-NULL) receives
 * the port.  Returns the fd or -1 with *e filled. */
__attribute__((warn_unused_result))
int sh_proxy_listen_loopback(uint16_t port, uint16_t *bound, struct sh_err *e);

/* ---- decision log (src/proxy/log.c) ----
 * One line per decision to stream as it happens ("allow"/"deny", protocol,
 * destination, rule or reason); never paths, queries, headers or bodies.
 * Counts per (destination, decision) for the session summary.  At most
 * SH_PROXY_LOG_MAX_DESTS distinct destinations are counted one by one; the
 * rest are added to an "other destinations" line, so a flood of unique names
 * cannot grow the proxy's memory. */
#define SH_PROXY_LOG_MAX_DESTS 1024
#define SH_PROXY_LOG_SUMMARY_LINES 40 /* per decision; the rest is one "other" line */

struct sh_proxy_log *sh_proxy_log_new(FILE *stream);
void sh_proxy_log_free(struct sh_proxy_log *log);
/* "network: allowed 3 destinations (12 connections), denied 1 (4)" then one
 * line per destination, allowed first, by count (at most
 * SH_PROXY_LOG_SUMMARY_LINES of each, then one line for the rest). */
void sh_proxy_log_summary(const struct sh_proxy_log *log, FILE *out);
/* Count of decisions for the destination "host:port" (canonical). */
unsigned long sh_proxy_log_count(const struct sh_proxy_log *log, const char *dest, bool allowed);
unsigned long sh_proxy_log_total(const struct sh_proxy_log *log, bool allowed);

#endif
