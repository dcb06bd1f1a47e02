/* The keychain integration's D-Bus proxy: the sandbox reaches the freedesktop
 * Secret Service, and nothing else on the session bus.
 *
 * The session bus itself never enters the sandbox: through it, `systemd-run
 * --user` (org.freedesktop.systemd1), flatpak-spawn, terminals and portals
 * run anything outside (threats.md IPC-01).  When the keychain integration is
 * included (--enable=keychain, or required by an agent profile such as
 * goose), the launcher starts Debian's xdg-dbus-proxy on the host side for
 * the session, filtered to the Secret Service interfaces of
 * org.freedesktop.secrets, with its socket in a private directory
 * (mkdtemp, 0700) under $XDG_RUNTIME_DIR (or /tmp).  That socket alone is
 * bound into the sandbox at the same path, and DBUS_SESSION_BUS_ADDRESS
 * points at it.
 *
 * Lifetime: the proxy is a child of the launcher in its own session
 * (PR_SET_PDEATHSIG; and its --fd pipe, held by the launcher, closes), so it
 * ends with the session or when the launcher dies, even by SIGKILL; the
 * directory's guardian (cli/sessdir.h) then removes the socket and the
 * directory.
 *
 * When it cannot be done (no session bus, xdg-dbus-proxy not installed, the
 * proxy failing to start): an explicit --enable=keychain is an error; a
 * keychain only implied by another profile gives one warning and the
 * session runs without any keyring access.  Never the raw bus. */
#ifndef SH_CLI_DBUSPROXY_H
#define SH_CLI_DBUSPROXY_H

#include <stdbool.h>
#include <sys/types.h>

#include "cli/context.h"
#include "cli/sessdir.h"
#include "plan/plan.h"
#include "policy/assemble.h"
#include "util/err.h"

struct sh_dbusproxy {
	struct sh_sessdir dir; /* holds the socket */
	char *sock;            /* dir + "/bus", or NULL */
	pid_t pid;             /* xdg-dbus-proxy, or -1 */
	int ready_r;           /* its --fd pipe (closing it stops the proxy), or -1 */
};

void sh_dbusproxy_init(struct sh_dbusproxy *d);

/* When the run includes the keychain integration: start the proxy, bind its
 * socket into *plan (mount + Landlock rule) and set DBUS_SESSION_BUS_ADDRESS
 * in plan->envp.  0 when done or not needed (or, for an implied keychain,
 * not possible: warned); -1 when an explicit keychain cannot be provided.
 * The caller must be single-threaded.  sh_dbusproxy_stop() in every case. */
int sh_dbusproxy_setup(struct sh_dbusproxy *d, const struct sh_context *c,
		       const struct sh_assembly *a, struct sh_plan *plan, struct sh_err *e);

/* End of the session: stop the proxy, remove its socket and directory. */
void sh_dbusproxy_stop(struct sh_dbusproxy *d);

/* Parts, exposed for the unit tests. */

/* The host's session bus: DBUS_SESSION_BUS_ADDRESS (env_addr) if set, else
 * unix:path=$XDG_RUNTIME_DIR/bus when that is a socket (libdbus' default).
 * A unix:path= address must name an existing socket.  Returns 1 with *addr
 * (malloc'd), or 0 with *why (malloc'd) saying why there is none. */
int sh_dbus_session_bus(const char *env_addr, const char *runtime_dir, char **addr, char **why);

/* "unix:path=" + path with the D-Bus address escaping (%XX for bytes other
 * than [-0-9A-Za-z_/.\*]). */
char *sh_dbus_unix_address(const char *path);

/* The xdg-dbus-proxy arguments after ADDRESS and PATH: the filter
 * (NULL-terminated, static). */
const char *const *sh_dbus_filter_args(void);

#endif
