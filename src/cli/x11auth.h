/* The x11 integration's authority: the session gets the X cookie of its own
 * display and nothing else of the user's Xauthority.
 *
 * X clients find their cookie in $XAUTHORITY (default ~/.Xauthority) under
 * the machine's host name; inside the sandbox the host name is "safehouse",
 * so the user's own file would not match even if it were readable, and it
 * may hold cookies for other displays and hosts.  When the x11 integration
 * is included and DISPLAY names a local display (":N", "unix:N"), the
 * launcher reads the user's Xauthority on the host side, keeps the entries
 * for display N (the host's name or a wildcard), writes them as wildcard
 * entries to a file in a private session directory (cli/sessdir.h), binds
 * that file read-only into the sandbox and points XAUTHORITY at it.  Without
 * a matching cookie XAUTHORITY is unset (servers that trust the user's uid,
 * "xhost +si:localuser", still accept the connection).
 *
 * Nothing here fails the run: without a usable DISPLAY the session simply
 * has no display, and a warning says why. */
#ifndef SH_CLI_X11AUTH_H
#define SH_CLI_X11AUTH_H

#include <stddef.h>

#include "cli/context.h"
#include "cli/sessdir.h"
#include "plan/plan.h"
#include "policy/assemble.h"
#include "util/err.h"

struct sh_x11auth {
	struct sh_sessdir dir;
};

void sh_x11auth_init(struct sh_x11auth *x);
/* When the run includes the x11 integration: as above.  -1 only for an
 * error creating the session's file. */
int sh_x11auth_setup(struct sh_x11auth *x, const struct sh_context *c,
		     const struct sh_assembly *a, struct sh_plan *plan, struct sh_err *e);
void sh_x11auth_stop(struct sh_x11auth *x);

/* Parts, exposed for the unit tests. */

/* The display number of a local DISPLAY (":N", ":N.S", "unix:N[.S]"), or -1. */
long sh_x11_local_display(const char *display);

/* From an Xauthority file's contents, the entries for display `number`
 * whose family is FamilyWild or FamilyLocal with address `hostname`,
 * rewritten as FamilyWild entries.  Returns how many (out: malloc'd, *outlen
 * bytes), or -1 for a malformed file. */
int sh_x11_filter_auth(const unsigned char *in, size_t len, const char *hostname, long number,
		       unsigned char **out, size_t *outlen);

#endif
