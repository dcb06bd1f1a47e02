/* The macOS renderer: an assembly -> one complete SBPL policy for
 * sandbox-exec(1).
 *
 * Pure code (no file system access); runs on any host, so
 * `safehouse --target=macos --stdout -- CMD` works on Linux too.
 *
 * Real sandbox-exec knows nothing of safehouse's extensions, so the output is
 *   1. a prelude: (version 1), exactly one (deny default), HOME_DIR, WORK_DIR
 *      (when the workdir is enabled) and TARGET as (define ...) forms with the
 *      real, SBPL-quoted paths, and the home-* / workdir-* helpers written
 *      as ordinary SBPL functions;
 *   2. every source of the assembly, in layer order, verbatim, except that
 *      - (version ...) and (deny default) forms of the sources are commented
 *        out (the prelude has them once),
 *      - (remote domain "NAME:PORT") filters are removed (SBPL cannot name a
 *        host; the filtering proxy enforces them): a rule left without
 *        filters is commented out, never widened to "everything";
 *      - the generated definitions source is replaced by the prelude;
 *   3. the network rule for the mode, right after the 20-network layer:
 *      full -> (allow network-outbound); filtered -> outbound only to the
 *      local proxy's TCP port; none -> nothing.
 * The result re-parses with sh_profile_compile (tests/unit/test_macos.c). */
#ifndef SH_RENDER_MACOS_H
#define SH_RENDER_MACOS_H

#include <stdint.h>

#include "plan/plan.h"
#include "policy/assemble.h"
#include "policy/policy.h"
#include "util/err.h"

struct sh_macos_render_in {
	const struct sh_assembly *a;
	const char *home;    /* canonical $HOME */
	const char *workdir; /* canonical workdir, or NULL when disabled */
	enum sh_net_mode net;
	uint16_t proxy_port; /* SH_NETMODE_FILTERED: the proxy's port on localhost;
			      * 0 = unknown (no outbound rule at all, as "none") */
};

/* Render; *out is a new string.  -1 with *e filled (SH_EXIT_PROFILE) if a
 * source does not parse, which cannot happen for an assembly that compiled. */
int sh_macos_render(const struct sh_macos_render_in *in, char **out, struct sh_err *e);

/* The network mode the compiled policy asks for, decided as on Linux
 * (policy/net.h): FULL when sh_policy_full_network(); FILTERED when an
 * allow rule names (remote domain ...) destinations; NONE otherwise. */
enum sh_net_mode sh_macos_net_mode(const struct sh_policy *p);

#endif
