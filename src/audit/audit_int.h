/* Internals shared by the audit's snapshot, compare and report code.  Not
 * part of the module's interface (audit.h). */
#ifndef SH_AUDIT_INT_H
#define SH_AUDIT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "audit/audit.h"
#include "audit/rules.h"
#include "util/str.h"

/* Largest file read whole: git config files and recently changed files
 * whose bytes are kept (see AU_E_COPY). */
#define AU_READ_MAX (1u << 20)
/* Timestamps this close to the snapshot (or later) cannot prove that a
 * later change would alter them: file systems store coarse times (a kernel
 * tick; whole seconds or two on some), so the same value can be written
 * again.  Such directories are always re-read and such files keep a copy. */
#define AU_RACY_NS (3LL * 1000000000LL)
/* getdents64 buffer. */
#define AU_DENTS_BUF (64u * 1024u)

struct au_stat {
	uint64_t dev, ino;
	int64_t size, mtime_ns, ctime_ns;
	uint32_t mode; /* type and permission bits */
};

enum {
	AU_N_RACY = 1,       /* always re-read this directory */
	AU_N_UNREADABLE = 2, /* could not be opened or read at snapshot time */
	AU_N_TOODEEP = 4,    /* beyond SH_AUDIT_MAX_DEPTH: not walked */
	AU_N_UNTRUSTED = 8,  /* on a file system whose ctime is not trusted */
};

enum {
	AU_E_COPY = 1,         /* content holds the file's bytes */
	AU_E_UNVERIFIABLE = 2, /* racy, but too big or unreadable to copy */
	AU_E_GITCONFIG = 4,    /* git-config syntax; keys holds its risky keys */
	AU_E_BADCONFIG = 8,    /* ... but it did not parse */
};

struct au_node {
	struct au_stat st;
	uint32_t name;           /* offset in the names arena */
	uint32_t child0, nchild; /* subdirectories: nodes[child0..+nchild), sorted by name */
	uint32_t ent0, nent;     /* relevant entries: ents[ent0..+nent), sorted by name */
	uint8_t zone, zone_kind;
	uint8_t flags; /* AU_N_* */
	int err;       /* errno when AU_N_UNREADABLE */
};

struct au_ent {
	struct au_stat st;
	uint32_t name;
	uint8_t kind;  /* enum sh_audit_kind */
	uint8_t flags; /* AU_E_* */
	char *content; /* AU_E_COPY */
	size_t content_len;
	struct sh_strv keys; /* AU_E_GITCONFIG */
};

/* One entry of a directory that the rules care about. */
struct au_item {
	const char *name; /* in au_items.names */
	size_t name_off;
	enum sh_audit_etype etype;
	struct sh_audit_class cls;
};

struct au_items {
	struct au_item *v;
	size_t n, cap;
	struct sh_buf names;
};

/* walk.c */
void au_stat_from(struct au_stat *a, const struct stat *st);
/* Read every entry of directory fd, keep those the rules record or descend
 * into, sorted by name.  Returns 0 or an errno. */
int au_read_dir(int fd, uint8_t zone, uint8_t zone_kind, bool at_root, char *buf,
		struct au_items *it);
void au_items_free(struct au_items *it);
/* Open directory `name` below dirfd without following symlinks.  fd or -1
 * with errno. */
int au_open_dir(int dirfd, const char *name);
/* Read regular file `name` below dirfd (no symlink, no FIFO), at most
 * AU_READ_MAX bytes.  0 with *out (NUL-terminated, caller frees) or an errno
 * (EFBIG when larger, EINVAL when not a regular file). */
int au_read_file(int dirfd, const char *name, char **out, size_t *len);
/* Parse git-config syntax into risky keys (sorted): 0, or -1 when it is not
 * valid. */
int au_gitconfig_keys(const char *buf, size_t len, unsigned kind, struct sh_strv *keys);
/* Is key in keys (as au_gitconfig_keys() left them: sorted)? */
bool au_keys_contain(const struct sh_strv *sorted, const char *key);
/* True when st_dev's file system does not keep trustworthy ctimes. */
bool au_fs_untrusted(int fd);
int64_t au_now_ns(void);
int au_name_cmp(const void *a, const void *b);

/* snapshot.c: sh_audit_snapshot with the racy threshold given (tests pass
 * INT64_MAX to trust every timestamp and exercise the fast path). */
int au_snapshot(const char *workdir, int64_t racy_after_ns, struct sh_audit_manifest *m,
		struct sh_err *e);

/* report.c */
/* Takes ownership of path and detail (either may be freed at once when the
 * report is full). */
void au_report_add(struct sh_audit_report *r, enum sh_audit_change change, unsigned kind,
		   char *path, char *detail);
void au_report_sort(struct sh_audit_report *r);

#endif
