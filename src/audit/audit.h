/* Post-session persistence audit (threats.md §2, PERSIST-01..06).
 *
 * At launch, sh_audit_snapshot() records the metadata of every
 * persistence-relevant path in the workdir (see rules.c: .git hooks, config
 * and pointer files of the top-level and of nested repositories, .vscode/,
 * .idea/, .devcontainer/, agent config, .envrc, .npmrc, .yarnrc.yml,
 * .cargo/config.toml, *.pth in site-packages, ...) plus the identity and
 * change time of every directory.  After the command exits,
 * sh_audit_compare() walks the workdir again and reports what was created,
 * changed or removed.  Nothing else is read: file contents are opened only
 * for git config files (to list the keys that run programs) and for files
 * changed within the last seconds before the snapshot (to beat timestamp
 * granularity).
 *
 * Safety: the walk never follows a symlink.  The workdir is opened once
 * with O_DIRECTORY|O_NOFOLLOW; everything below is reached with openat() /
 * fstatat(AT_SYMLINK_NOFOLLOW) relative to directory descriptors, so a
 * symlink planted by the sandboxed side (to /, or a loop) is itself a finding
 * and is never traversed.  Files are opened O_NOFOLLOW|O_NONBLOCK and must be
 * regular, so a FIFO cannot stall the audit.  Names, link targets and
 * config values are escaped when printed (no terminal escapes).
 *
 * Speed: the snapshot reads every directory once with getdents64 and stats
 * only relevant names.  The compare re-reads only directories whose
 * (dev, ino, mtime, ctime) changed: adding, removing or renaming an entry
 * always updates its directory's ctime, which unprivileged code cannot set.
 * Directories changed within the last seconds before the snapshot, and
 * directories on file systems whose ctime is not trustworthy (network, FUSE),
 * are always re-read.
 *
 * Not thread-safe per object; distinct objects are independent.  Errors
 * follow util/err.h. */
#ifndef SH_AUDIT_H
#define SH_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "util/err.h"

/* --audit=off|warn|strict.  warn prints the report; strict also makes the
 * run exit non-zero when report.count > 0.  The default is the caller's
 * choice (warn is the intended one). */
enum sh_audit_mode { SH_AUDIT_OFF = 0, SH_AUDIT_WARN, SH_AUDIT_STRICT };

/* "off", "warn", "strict" -> *mode; -1 (SH_EXIT_USAGE) otherwise. */
int sh_audit_mode_parse(const char *s, enum sh_audit_mode *mode, struct sh_err *e);

/* The depth below the workdir beyond which directories are not walked (one
 * descriptor is held per level); deeper directories are reported as
 * "unaudited". */
#define SH_AUDIT_MAX_DEPTH 128
/* Findings kept in a report (the count goes on). */
#define SH_AUDIT_MAX_KEPT 1000
/* Findings printed by sh_audit_report_print (then "... and N more"). */
#define SH_AUDIT_MAX_PRINTED 100

/* Private to audit.c: treat as opaque.  Zero-initialise, fill with
 * sh_audit_snapshot, release with sh_audit_manifest_free. */
struct sh_audit_manifest {
	struct au_node *nodes; /* directories; nodes[0] is the workdir */
	size_t n_nodes, cap_nodes;
	struct au_ent *ents; /* relevant entries */
	size_t n_ents, cap_ents;
	char *names; /* arena of NUL-terminated names */
	size_t names_len, names_cap;
	int64_t racy_after_ns; /* ctime at or after this: timestamps cannot be trusted */
	bool valid;
};

enum sh_audit_change { SH_AUDIT_NEW, SH_AUDIT_CHANGED, SH_AUDIT_REMOVED, SH_AUDIT_UNREADABLE };

struct sh_audit_finding {
	enum sh_audit_change change;
	unsigned kind;    /* enum sh_audit_kind (audit/rules.h) */
	char *path;       /* relative to the workdir, raw bytes (escape to print) */
	char *detail;     /* NULL, or e.g. "symlink -> /x", "adds core.fsmonitor=..." */
};

struct sh_audit_report {
	struct sh_audit_finding *findings; /* sorted by rank (hooks and git config first), then
					    * path; at most SH_AUDIT_MAX_KEPT, the lesser dropped */
	size_t n_kept, cap;
	size_t count;  /* all findings, kept or not: strict mode fails when > 0 */
	size_t benign; /* changes to relevant files judged harmless, not counted
			* (a .git/config edit that adds no key running a program) */
};

/* Record the workdir (absolute path of a directory; a final symlink is
 * refused).  *m must be zeroed or freed; on failure it is left empty.
 * Unreadable subdirectories do not fail the snapshot (they are remembered,
 * and reported by the compare if they changed). */
int sh_audit_snapshot(const char *workdir, struct sh_audit_manifest *m, struct sh_err *e);

/* Walk the workdir again and fill *r (zeroed or freed by the caller) with
 * what changed since `before`.  Fails (-1) only when `before` is not a valid
 * snapshot.  A workdir that is gone, replaced or unreadable, and problems
 * below it (unreadable directories, too deep, descriptors exhausted), are
 * findings, so strict mode never passes a partial audit. */
int sh_audit_compare(const char *workdir, const struct sh_audit_manifest *before,
		     struct sh_audit_report *r, struct sh_err *e);

/* One line per finding (first SH_AUDIT_MAX_PRINTED, then a count), each
 *   safehouse: audit: new git-hook '.git/hooks/post-checkout': runs on ...
 * with every byte that is not printable UTF-8 escaped as \xNN.  Prints
 * nothing for an empty report. */
void sh_audit_report_print(const struct sh_audit_report *r, FILE *f);

/* "new", "changed", "removed", "unreadable". */
const char *sh_audit_change_name(enum sh_audit_change c);

void sh_audit_manifest_free(struct sh_audit_manifest *m);
void sh_audit_report_free(struct sh_audit_report *r);

#endif
