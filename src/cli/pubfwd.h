/* The publishing forwarder: one process on the host side for the session
 * (cli/publish.c starts it).  For each connection accepted on a host
 * listener it asks init for a fresh TCP socket of the sandbox's network
 * namespace (enforce/sockfactory.h), checks it, connects it to the sandbox's
 * 127.0.0.1:PORT ([::1]:PORT when that is refused) and relays both ways.
 *
 * It only ever connects sockets that are in the sandbox's namespace, to the
 * sandbox's own loopback; nothing the sandbox sends can make it connect
 * anywhere on the host.  A compromised sandbox can at most accept the
 * connections that arrive on the published ports (and, with automatic
 * publishing, choose which host ports are published while free). */
#ifndef SH_CLI_PUBFWD_H
#define SH_CLI_PUBFWD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "enforce/sockfactory.h"
#include "util/err.h"

#define SH_PUBFWD_MAX_CONNS 256       /* relayed connections at once; more are closed */
#define SH_PUBFWD_BUF (32 * 1024)     /* per direction */
#define SH_PUBFWD_SETUP_MS 10000      /* socket from init + connect inside */
#define SH_PUBFWD_SCAN_MS 500         /* automatic publishing: /proc/net/tcp{,6} poll */
#define SH_PUBFWD_AUTO_MIN_PORT 1024  /* lower ports are never auto-published */
#define SH_PUBFWD_MAX_AUTO 64         /* automatically published ports at once */

struct sh_pubfwd_port {
	int lfd;               /* listening on the host's 127.0.0.1:host */
	uint16_t host, inside;
};

struct sh_pubfwd_config {
	const struct sh_pubfwd_port *ports;
	size_t nports;
	struct sh_sockfactory_fds fds; /* from init; all owned by the forwarder */
	bool auto_publish;
	const uint16_t *exclude;       /* sandbox ports never auto-published (the proxy's,
					* the explicitly published ones) */
	size_t nexclude;
	FILE *notices;                 /* automatic publishing events, or NULL */
};

/* Serve until stop_fd is readable.  0, or -1 with *e filled when the
 * namespaces do not check out or the loop fails. */
int sh_pubfwd_run(const struct sh_pubfwd_config *c, int stop_fd, struct sh_err *e);

/* A listening TCP socket on the host's 127.0.0.1:port (SO_REUSEADDR,
 * non-blocking, O_CLOEXEC).  fd, or -1 (errno: EADDRINUSE when busy). */
int sh_pubfwd_listen(uint16_t port);

/* Pure: the ports of the LISTEN sockets on loopback or the wildcard address
 * in /proc/net/tcp (v6 false) or tcp6 text.  Writes at most max ports
 * (unsorted, possibly repeated) and returns how many. */
size_t sh_pubfwd_parse_listeners(const char *text, size_t len, bool v6, uint16_t *ports,
				 size_t max);

#endif
