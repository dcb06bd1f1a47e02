/* Workdir configuration (<workdir>/.safehouse), the trusted-workdirs store,
 * and the decision whether to trust the former.
 *
 * The workdir is agent-writable and possibly a cloned repository, so its
 * .safehouse is attacker-controlled: it is only read when trusted, it is
 * opened with O_NOFOLLOW (a symlink planted in its place is refused, not
 * followed to some other file) and it must be a regular file. */
#ifndef SH_WDCONFIG_H
#define SH_WDCONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"
#include "util/str.h"

#define SH_WDCONFIG_NAME ".safehouse"
#define SH_WDCONFIG_MAX_SIZE (256 * 1024)

/* ---- <workdir>/.safehouse ---- */

struct sh_wdentry {
	char *key;     /* one of the accepted keys below */
	char *value;   /* trimmed, may be empty; never contains control chars
			* other than tab */
	unsigned line; /* 1-based line in the file */
};

struct sh_wdconfig {
	char *origin; /* the name used in messages (the file path) */
	struct sh_wdentry *ent;
	size_t n, cap;
};

/* Accepted keys, NULL-terminated: add-dirs, add-dirs-ro, enable,
 * append-profile, network, allow-domains, deny-domains, publish, env-pass,
 * sandbox. */
extern const char *const sh_wdconfig_keys[];

/* Parse "key=value" lines from buf[0..len): '#' comment lines and blank
 * lines skipped, blanks around key and value trimmed, CRLF accepted.
 * Entries are appended to *c in file order (repeated keys are kept: the
 * caller decides whether they accumulate).  Errors (SH_EXIT_USAGE):
 *   "ORIGIN:LINE: expected key=value"
 *   "ORIGIN:LINE: unknown key 'k'" (hint lists the valid keys)
 *   "ORIGIN:LINE: control character in line"
 *   "ORIGIN:LINE: NUL byte in file"
 * On error *c may hold earlier entries; free it with sh_wdconfig_free. */
int sh_wdconfig_parse(struct sh_wdconfig *c, const char *buf, size_t len, const char *origin,
		      struct sh_err *e);

/* The same "key=value" parser with another table of accepted keys
 * (NULL-terminated): used for the system and user config files and the
 * requirements file. */
int sh_kv_parse(struct sh_wdconfig *c, const char *buf, size_t len, const char *origin,
		const char *const *keys, struct sh_err *e);

/* Load <workdir>/.safehouse (O_NOFOLLOW, regular files only, at most
 * SH_WDCONFIG_MAX_SIZE).  Returns 1 if loaded, 0 if there is no such file
 * (*c untouched), -1 on error ("'P' is a symbolic link; refusing to follow
 * it", "'P' is not a regular file", parse errors, ...). */
int sh_wdconfig_load(struct sh_wdconfig *c, const char *workdir, struct sh_err *e);

/* Does <workdir>/.safehouse exist (as anything, symlinks not followed)?
 * For --explain's "present but ignored (untrusted)". */
bool sh_wdconfig_present(const char *workdir);

void sh_wdconfig_free(struct sh_wdconfig *c);

/* ---- trusted-workdirs store ---- */

/* $XDG_CONFIG_HOME/safehouse/trusted-workdirs, where a relative or empty
 * XDG_CONFIG_HOME is ignored (XDG spec) in favour of $HOME/.config, and an
 * unset HOME falls back to the passwd entry.  *out is caller-owned.
 * Error (SH_EXIT_USAGE): "cannot locate the trusted-workdirs file: ...". */
int sh_trust_store_path(char **out, struct sh_err *e);

/* One canonical absolute path per line; blank lines and '#' comment lines
 * are ignored.  A missing store means nothing is trusted.
 * sh_trust_is_trusted sets *trusted to whether workdir (already canonical)
 * is listed, by exact string match.  Returns 0 or -1 (unreadable store,
 * not a regular file, larger than 1 MiB). */
int sh_trust_is_trusted(const char *store, const char *workdir, bool *trusted,
			struct sh_err *e);

/* Add / remove workdir (canonical absolute path, no control characters).
 * The store is rewritten atomically: a 0600 temporary file in the same
 * directory, fsync, rename over the old one; its directory is created 0700
 * (with missing parents) when absent.  Other lines, comments included, are
 * preserved.  Return 1 if the file changed, 0 if it already said so
 * (add of a listed path, remove of an unlisted one; no write happens),
 * -1 on error. */
int sh_trust_add(const char *store, const char *workdir, struct sh_err *e);
int sh_trust_remove(const char *store, const char *workdir, struct sh_err *e);

/* ---- trust decision ---- */

/* "1/0, true/false, yes/no, on/off", case-insensitive.  what names the
 * flag or variable in the error: "invalid value 'x' for WHAT (expected
 * 1/0, true/false, yes/no, on/off)" (SH_EXIT_USAGE; the value is not echoed
 * when it holds control characters). */
int sh_parse_bool(const char *s, bool *out, const char *what, struct sh_err *e);

/* A flag that may be absent, "--flag" (true) or "--flag=BOOL". */
enum sh_tri { SH_TRI_UNSET = 0, SH_TRI_FALSE, SH_TRI_TRUE };

enum sh_trust_source {
	SH_TRUST_SRC_ALWAYS_FLAG, /* --always-trust-workdir-config[=BOOL] */
	SH_TRUST_SRC_FLAG,        /* --trust-workdir-config[=BOOL] */
	SH_TRUST_SRC_ENV,         /* SAFEHOUSE_TRUST_WORKDIR_CONFIG */
	SH_TRUST_SRC_STORE,       /* listed in trusted-workdirs */
	SH_TRUST_SRC_DEFAULT      /* nothing said: not trusted */
};

struct sh_trust_input {
	enum sh_tri always;  /* --always-trust-workdir-config */
	enum sh_tri once;    /* --trust-workdir-config */
	const char *env;     /* SAFEHOUSE_TRUST_WORKDIR_CONFIG value; NULL or ""
			      * means unset */
	bool listed;         /* result of sh_trust_is_trusted */
};

struct sh_trust_decision {
	bool trusted;
	enum sh_trust_source source;
	const char *reason; /* static string for --explain, e.g.
			     * "trusted: --trust-workdir-config" or
			     * "not trusted: default (use --trust-workdir-config)" */
};

/* Highest first: always flag, flag, env, store, default.  The env value is
 * validated even when a flag decides (an invalid value is always an
 * error).  Pure: updating the store for --always-trust-workdir-config is the
 * caller's job (sh_trust_add / sh_trust_remove). */
int sh_trust_decide(const struct sh_trust_input *in, struct sh_trust_decision *out,
		    struct sh_err *e);

#endif
