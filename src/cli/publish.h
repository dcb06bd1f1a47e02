/* --publish: loopback listeners inside the sandbox reachable on the host's
 * 127.0.0.1 (safehouse(1) --publish; docs/network.md "Port publishing").
 *
 * Sources, in order: the config layers' publish= keys and --publish (list
 * keys: they accumulate), then the selected agent profile's $$publish$$
 * (codex: 1455, for `codex login`'s browser callback).  "auto" turns on
 * automatic publishing of the loopback listeners the sandbox opens.
 *
 * Host listeners are bound before the sandbox starts: an explicit port that
 * is busy fails the run (exit 125, nothing started); a profile's port that is
 * busy is skipped with a warning (a convenience).  The forwarder process
 * (cli/pubfwd.c) serves them, from the first connection (or the start, for
 * auto) to the end of the session, and goes with it.  The
 * sandbox's side is init's socket factory (enforce/sockfactory.h). */
#ifndef SH_CLI_PUBLISH_H
#define SH_CLI_PUBLISH_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cli/context.h"
#include "enforce/init.h"
#include "plan/plan.h"
#include "policy/assemble.h"
#include "util/err.h"
#include "util/str.h"

#define SH_PUBLISH_AUTO "auto"

struct sh_pub_entry {
	uint16_t host, inside; /* 127.0.0.1:host on the host -> 127.0.0.1:inside in the sandbox */
	char *origin;          /* "--publish", "FILE:LINE", "profile 60-agents/codex.sb" */
	bool optional;         /* a profile's: skipped with a warning when the host port is busy */
};

struct sh_pubspec {
	struct sh_pub_entry *v;
	size_t n, cap;
	char *auto_origin;     /* non-NULL: automatic publishing is on, asked for there */
	struct sh_strv notes;  /* entries left out, and why (for --explain) */
};

/* Parse one value: a comma list of PORT, HOST:INSIDE (1..65535) and "auto".
 * Appends to *s; an identical entry is kept once.  Usage errors (exit 1)
 * name origin and the item: "--publish: 'x' is not a port (expected PORT or
 * HOST_PORT:SANDBOX_PORT, 1-65535, or auto)"; a host port mapped to two
 * different sandbox ports is an error too.  Pure. */
int sh_publish_parse(const char *list, const char *origin, bool optional, struct sh_pubspec *s,
		     struct sh_err *e);
void sh_pubspec_free(struct sh_pubspec *s);

/* The entries of this run: c->publish (config layers, --publish), then the
 * selected agent's $$publish$$ (optional; left out when an explicit entry
 * uses the same host port, or when the administrator forbids publishing).
 * net: the effective network mode; in filtered mode the proxy's port cannot
 * be a sandbox port.  -1: usage error. */
int sh_publish_collect(const struct sh_context *c, const struct sh_assembly *a, int net,
		       struct sh_pubspec *s, struct sh_err *e);

/* --explain lines (prefix already printed by the caller's X() macro style). */
void sh_publish_explain(FILE *f, const struct sh_context *c, const struct sh_assembly *a,
			int net);

struct sh_publisher {
	struct sh_pubspec spec;
	int *lfd;             /* per entry: the host listener, or -1 (skipped) */
	uint16_t *inside;     /* the sandbox ports (unique), for Landlock */
	size_t ninside;
	uint16_t proxy_port;  /* filtered: never auto-published */
	bool active;          /* a forwarder runs for this session */
	bool explain;         /* notices of automatic publishing on stderr */
	pid_t pid;            /* the forwarder, or -1 */
	int stop_w;           /* write end of its stop pipe, or -1 */
};

/* Collect, and bind the host listeners (127.0.0.1, before the sandbox
 * starts).  Full network or fallback mode: nothing to do (a warning for
 * explicit entries).  -1: usage error (1) or a host port that cannot be
 * bound (125, naming the port and its origin). */
int sh_publish_prepare(struct sh_publisher *pb, const struct sh_context *c,
		       const struct sh_assembly *a, const struct sh_plan *plan, struct sh_err *e);
/* The hooks for sh_sandbox_set_publish_hooks (valid while pb lives). */
void sh_publish_hooks(struct sh_publisher *pb, struct sh_publish_hooks *h);
/* Fork the forwarder (ctx: struct sh_publisher); the caller is
 * single-threaded.  The launcher's copies of the listeners are closed. */
int sh_publish_start(void *ctx, const struct sh_sockfactory_fds *fds, struct sh_err *e);
/* Stop the forwarder and wait for it: its listeners close with it. */
void sh_publish_stop(void *ctx);
void sh_publish_free(struct sh_publisher *pb);

#endif
