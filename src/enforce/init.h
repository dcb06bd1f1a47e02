/* The sandbox's pid 1.  Linux-only.
 *
 * A pid namespace's init must reap every orphan (or zombies pile up), and
 * ignores signals it has no handler for; when it exits the kernel SIGKILLs
 * everything else in the namespace, which is how nothing of a session
 * outlives it (threats.md PROC-06, TERM-04). */
#ifndef SH_INIT_H
#define SH_INIT_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Signals init forwards to the command: SIGINT, SIGTERM, SIGHUP, SIGQUIT,
 * SIGUSR1, SIGUSR2, SIGWINCH.  Fills *set with those plus SIGCHLD. */
void sh_init_sigset(sigset_t *set);

/* Shell-style status: exit code, or 128+N when killed by signal N. */
int sh_status_code(int wstatus);

/* Run as init until the command (pid cmd, our child) exits, then return its
 * status (sh_status_code).  The caller must have blocked sh_init_sigset()
 * BEFORE forking cmd (so no SIGCHLD is lost) and must not hold anything the
 * command should not see.  Every other child is reaped as it exits. */
int sh_init_run(pid_t cmd);

/* sh_init_run(), also answering the creation supervisor's requests (sv may be
 * NULL).  sv stays the caller's: free it only once everything inside has
 * been killed and reaped (its listener must outlive every filtered
 * process).  If it cannot serve, everything inside is killed. */
struct sh_supervisor;
int sh_init_run_supervised(pid_t cmd, struct sh_supervisor *sv);
/* The same, also answering the publishing socket factory's requests on
 * pubfd (enforce/sockfactory.h; -1: none; closed here). */
int sh_init_run_ex(pid_t cmd, struct sh_supervisor *sv, int pubfd);

/* --network=filtered (set by the CLI before sh_sandbox_exec; cleared with
 * NULL).  Init creates a listening TCP socket on 127.0.0.1:plan->proxy_port
 * inside the new network namespace, after lo is up, and passes it to the
 * launcher, which calls start(ctx, fd) once (fd is closed by the launcher
 * afterwards; start forks the proxy).  stop(ctx) runs at session end after
 * the terminal is restored, also when set-up failed after start.  Without
 * hooks a filtered plan runs with no proxy at all (nothing listens); without
 * namespaces it is refused. */
struct sh_err;
struct sh_net_hooks {
	int (*start)(void *ctx, int listen_fd, struct sh_err *e);
	void (*stop)(void *ctx);
	void *ctx;
};
void sh_sandbox_set_net_hooks(const struct sh_net_hooks *h);

/* --publish (set by the CLI before sh_sandbox_exec; cleared with NULL).
 * Only with a private network namespace (none, filtered; never full or
 * fallback).  Init opens the socket factory (enforce/sockfactory.h) after lo
 * is up and passes its fds to the launcher, which calls start(ctx, fds)
 * once, at most (the fds are closed by the launcher afterwards; start forks
 * the forwarder): at once for bind_any, else when one of listen_fds first
 * has a connection waiting, so a session nobody connects to has none.  stop(ctx) runs at session end, also when set-up failed after
 * start.  The command's Landlock TCP rules let it bind (and connect to) the
 * listed ports inside, or bind any port when bind_any (auto publishing); in
 * mode none it gets AF_INET/AF_INET6 sockets (no raw, no ICMP), which only
 * ever reach its own loopback. */
#define SH_PUBLISH_MAX_PORTS 64 /* explicit published ports per session */
struct sh_sockfactory_fds;
struct sh_publish_hooks {
	int (*start)(void *ctx, const struct sh_sockfactory_fds *fds, struct sh_err *e);
	void (*stop)(void *ctx);
	void *ctx;
	const uint16_t *ports; /* the sandbox-side ports published */
	size_t nports;
	bool bind_any;
	/* The host listeners (-1 entries ignored), nlisten <= SH_PUBLISH_MAX_PORTS:
	 * unless bind_any, start() is called only once one of them has a
	 * connection waiting (most sessions never get one: no forwarder). */
	const int *listen_fds;
	size_t nlisten;
};
void sh_sandbox_set_publish_hooks(const struct sh_publish_hooks *h);

/* The caller's end of a session (set before sh_sandbox_exec; cleared with
 * NULL): fn(ctx, status) runs once the command has exited and nothing
 * started inside runs any more (killed and reaped), after the terminal is
 * restored, while init's own exit (the namespaces' teardown) goes on; it
 * returns the session's status, possibly changed.  Not called when the
 * launch failed.  (The CLI audits the workdir there.) */
void sh_sandbox_set_end_hook(int (*fn)(void *ctx, int status), void *ctx);

#endif
