/* The sandbox's filesystem view (reference.md section 4; threats.md
 * LAUNCH-01, FS-06, FS-10, IPC-07/08).
 *
 * Shape of the work:
 *   - / becomes recursively private: nothing we mount reaches the host and
 *     nothing the host mounts later appears inside;
 *   - the new root is a small tmpfs stacked on the old root's "/": host paths
 *     still resolve (from an fd of the old root taken before) until the
 *     pivot, and no directory is ever made on the host;
 *   - each plan entry is applied by fd: sources and targets are opened one
 *     component at a time with openat2(RESOLVE_NO_SYMLINKS), binds are cloned
 *     with open_tree, made read-only/nosuid/nodev on the detached copy with
 *     mount_setattr (so there is no window where a "read-only" bind is
 *     writable), and attached with move_mount;
 *   - our own tmpfs instances (skeleton, masks, /dev) are made read-only at
 *     the end, the staging empty file is unlinked, then pivot_root(".", ".")
 *     and a lazy detach of the old root. */
#include "enforce/mountns.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "enforce/harden.h"
#include "util/str.h"

/* ---- Vendored UAPI: glibc 2.36 declares part of the new mount API, older
 * ones none of it; values are from include/uapi/linux/{mount,openat2}.h. */
#ifndef SYS_open_tree
#define SYS_open_tree 428
#endif
#ifndef SYS_move_mount
#define SYS_move_mount 429
#endif
#ifndef SYS_fsopen
#define SYS_fsopen 430
#endif
#ifndef SYS_fsconfig
#define SYS_fsconfig 431
#endif
#ifndef SYS_fsmount
#define SYS_fsmount 432
#endif
#ifndef SYS_openat2
#define SYS_openat2 437
#endif
#ifndef SYS_open_tree_attr
#define SYS_open_tree_attr 467
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif
#ifndef OPEN_TREE_CLOEXEC
#define OPEN_TREE_CLOEXEC O_CLOEXEC
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif
#ifndef MOVE_MOUNT_F_EMPTY_PATH
#define MOVE_MOUNT_F_EMPTY_PATH 0x00000004
#endif
#ifndef MOVE_MOUNT_T_EMPTY_PATH
#define MOVE_MOUNT_T_EMPTY_PATH 0x00000040
#endif
#ifndef MOUNT_ATTR_RDONLY
#define MOUNT_ATTR_RDONLY 0x00000001
#define MOUNT_ATTR_NOSUID 0x00000002
#define MOUNT_ATTR_NODEV 0x00000004
#define MOUNT_ATTR_NOEXEC 0x00000008
#endif
#ifndef FSOPEN_CLOEXEC
#define FSOPEN_CLOEXEC 0x00000001
#endif
#ifndef FSMOUNT_CLOEXEC
#define FSMOUNT_CLOEXEC 0x00000001
#endif
/* enum fsconfig_command: enumerators in glibc, so under our own names. */
#define SH_FSCONFIG_SET_FLAG 0
#define SH_FSCONFIG_SET_STRING 1
#define SH_FSCONFIG_CMD_CREATE 6
#define SH_RESOLVE_NO_MAGICLINKS 0x02
#define SH_RESOLVE_NO_SYMLINKS 0x04
#define SH_RESOLVE_BENEATH 0x08

struct sh_mount_attr {
	uint64_t attr_set, attr_clr, propagation, userns_fd;
};
struct sh_open_how {
	uint64_t flags, mode, resolve;
};

#define EMPTY_NAME ".safehouse-empty" /* staging file, unlinked before the pivot */
#define MIB (1024ull * 1024ull)

static bool force_legacy;

static void free_strp(char **p)
{
	free(*p);
}
#define _cleanup_str __attribute__((cleanup(free_strp)))

void sh_mountns_force_legacy(bool on)
{
	force_legacy = on;
}

static int sys_open_tree(int dfd, const char *path, unsigned flags)
{
	if (force_legacy)
		return errno = ENOSYS, -1;
	return (int)syscall(SYS_open_tree, dfd, path, flags);
}

/* open_tree(OPEN_TREE_CLONE) and mount_setattr() in one call (6.15+);
 * -1 with errno ENOSYS when this kernel has no such call (then it is not
 * tried again). */
static int sys_open_tree_attr(int dfd, unsigned flags, uint64_t set)
{
	static bool missing;
	if (force_legacy || missing)
		return errno = ENOSYS, -1;
	struct sh_mount_attr a = { .attr_set = set };
	int fd = (int)syscall(SYS_open_tree_attr, dfd, "", flags, &a, sizeof(a));
	if (fd < 0 && errno == ENOSYS)
		missing = true;
	return fd;
}

static int sys_move_mount(int from, int to)
{
	return (int)syscall(SYS_move_mount, from, "", to, "",
			    MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
}

static int sys_mount_setattr(int fd, unsigned flags, uint64_t set)
{
	struct sh_mount_attr a = { .attr_set = set };
	if (force_legacy)
		return errno = ENOSYS, -1;
	return (int)syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | flags, &a, sizeof(a));
}

static int sys_fsopen(const char *type)
{
	return (int)syscall(SYS_fsopen, type, FSOPEN_CLOEXEC);
}

struct ctx {
	int hostroot; /* the old root, where bind sources are resolved */
	int newroot;  /* root of the skeleton tmpfs */
	int top;      /* what "/" of the new view is now (newroot, or a bind onto "/") */
	int empty;    /* O_PATH fd of the staging empty file (file masks) */
	dev_t *own;   /* st_dev of our tmpfs instances: the only places we create in */
	size_t nown, own_cap;
	int *ro;      /* our fs mounts to make read-only once everything is attached */
	size_t nro, ro_cap;
	/* The directory of our own tmpfs where the last mount point was made
	 * (the plan lists siblings together: /etc/a, /etc/b, ...): new mount
	 * points in it are created directly.  Dropped by any mount at or
	 * above it, which would hide it. */
	char *dir_path;
	int dir_fd;
	/* sh_mountns_begin made /dev and /proc already (on the skeleton root):
	 * the plan's own entries for them are then skipped. */
	struct early {
		const char *name;   /* "dev", "proc": in the new root */
		enum sh_mount_kind kind;
		int fd;             /* the mount's root, or -1 when not made ahead */
		size_t ro_lo, ro_hi; /* its entries in ro[] */
		bool used;          /* the plan's entry for it was skipped */
	} early[2];
	bool top_moved; /* something was mounted onto "/" (set_top) */
	mode_t umask_before;
	struct sh_err *e;
};

/* An option for a new filesystem instance; v == NULL means a flag. */
struct kv {
	const char *k, *v;
};

static int fail(struct ctx *c, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(struct ctx *c, int err, const char *fmt, ...)
{
	char msg[sizeof(c->e->msg)];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return sh_fail(c->e, SH_EXIT_SETUP, err, "mount: %s", msg);
}

/* Like fail(), for messages that already say what the errno would: the
 * errno is recorded (callers test e->errnum) but not appended. */
static int fail_said(struct ctx *c, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail_said(struct ctx *c, int err, const char *fmt, ...)
{
	char msg[sizeof(c->e->msg)];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sh_fail(c->e, SH_EXIT_SETUP, 0, "mount: %s", msg);
	c->e->errnum = err;
	return -1;
}

static void own_add(struct ctx *c, int fd)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return; /* not ours then: creation inside it is refused, which is safe */
	sh_xgrow(&c->own, &c->own_cap, c->nown + 1, sizeof(*c->own));
	c->own[c->nown++] = st.st_dev;
}

static bool is_ours(const struct ctx *c, int fd)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return false;
	for (size_t i = 0; i < c->nown; i++)
		if (c->own[i] == st.st_dev)
			return true;
	return false;
}

static int ro_add(struct ctx *c, int fd)
{
	int d = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (d < 0)
		return fail(c, errno, "cannot duplicate a mount fd");
	sh_xgrow(&c->ro, &c->ro_cap, c->nro + 1, sizeof(*c->ro));
	c->ro[c->nro++] = d;
	return 0;
}

/* Open ONE path component beneath dirfd as O_PATH, following no symlink
 * (ELOOP if it is one).  openat2 on 5.6+, else openat(O_NOFOLLOW) plus a
 * type check. */
static int open_comp(int dirfd, const char *name)
{
	static bool no_openat2;
	if (!no_openat2 && !force_legacy) {
		struct sh_open_how how = {
			.flags = O_PATH | O_CLOEXEC,
			.resolve = SH_RESOLVE_BENEATH | SH_RESOLVE_NO_SYMLINKS | SH_RESOLVE_NO_MAGICLINKS,
		};
		int fd = (int)syscall(SYS_openat2, dirfd, name, &how, sizeof(how));
		if (fd >= 0 || errno != ENOSYS)
			return fd;
		no_openat2 = true;
	}
	int fd = openat(dirfd, name, O_PATH | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;
	if (fd >= 0 && fstat(fd, &st) == 0 && S_ISLNK(st.st_mode)) {
		close(fd);
		return errno = ELOOP, -1;
	}
	return fd;
}

/* A whole relative path beneath dirfd as O_PATH, no symlink in any
 * component: openat2 only (-1 without it; the caller then walks). */
static int open_beneath(int dirfd, const char *rel)
{
	struct sh_open_how how = {
		.flags = O_PATH | O_CLOEXEC,
		.resolve = SH_RESOLVE_BENEATH | SH_RESOLVE_NO_SYMLINKS | SH_RESOLVE_NO_MAGICLINKS,
	};
	return (int)syscall(SYS_openat2, dirfd, rel, &how, sizeof(how));
}

enum walk_mode {
	W_EXISTING, /* everything must exist (bind sources) */
	W_DIR,      /* create missing components as directories (in our tmpfs only) */
	W_FILE,     /* ... and the last one as an empty file */
};

/* Resolve the absolute canonical path p beneath start, one component at a
 * time.  Returns an O_PATH fd; -1 with c->e filled (e->errnum is the errno
 * of the failing step, so callers can tell ENOENT apart). */
static int walk(struct ctx *c, int start, const char *p, enum walk_mode mode)
{
	char buf[PATH_MAX];
	size_t len = strlen(p);

	if (p[0] != '/')
		return fail(c, EINVAL, "'%s' is not an absolute path", p);
	if (len >= sizeof(buf))
		return fail(c, ENAMETOOLONG, "cannot resolve '%.64s...'", p);
	int parent = -1;   /* fd of p's parent when only the last component is missing */
	size_t last_at = 1; /* offset of that last component in p */
	/* Fast path: one openat2 for the whole path, with the same rules as
	 * the walk below (no symlink in any component, nothing outside start,
	 * every component but the last a directory).  When the path is whole
	 * and canonical it opens exactly what the walk would; anything else
	 * (missing components to create, a symlink, "..", errors) takes the
	 * walk, which also words the error. */
	if (len > 1 && !force_legacy && !strstr(p, "//") && !strstr(p, "/./") &&
	    !strstr(p, "/../")) {
		size_t l = len;
		while (l > 1 && p[l - 1] == '/')
			l--;
		bool dots = (l >= 2 && p[l - 1] == '.' && p[l - 2] == '/') ||
			    (l >= 3 && p[l - 1] == '.' && p[l - 2] == '.' && p[l - 3] == '/');
		if (!dots) {
			memcpy(buf, p + 1, l - 1);
			buf[l - 1] = '\0';
			int fd = open_beneath(start, buf);
			if (fd >= 0)
				return fd;
			/* Only the last component missing (the usual mount point
			 * in the skeleton: the plan lists parents first): the walk
			 * continues from the parent. */
			char *ls = strrchr(buf, '/');
			if (errno == ENOENT && mode != W_EXISTING && ls) {
				*ls = '\0';
				parent = open_beneath(start, buf);
				if (parent >= 0)
					last_at = (size_t)(ls - buf) + 2; /* in p: after its '/' */
			}
		}
	}
	memcpy(buf, p, len + 1);

	int cur SH_AUTOCLOSE = parent >= 0 ? parent : fcntl(start, F_DUPFD_CLOEXEC, 3);
	if (cur < 0)
		return fail(c, errno, "cannot duplicate a directory fd");
	char *s = buf + (parent >= 0 ? last_at : 1);
	while (*s) {
		char *slash = strchr(s, '/');
		if (slash)
			*slash = '\0';
		int upto = (int)(s - buf + (ptrdiff_t)strlen(s)); /* p[0..upto) names this component */
		if (!*s)
			goto next; /* "//" */
		if (strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
			return fail(c, EINVAL, "'%s' is not a canonical path", p);
		bool last = !slash || !slash[1];
		int fd = open_comp(cur, s);
		if (fd < 0 && errno == ENOENT && mode != W_EXISTING) {
			if (!is_ours(c, cur))
				return fail_said(c, ENOENT,
					    "cannot mount on '%s': '%.*s' does not exist on the host "
					    "(refusing to create it there)", p, upto, p);
			if (last && mode == W_FILE) {
				int f = openat(cur, s, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW,
					       0644);
				if (f < 0)
					return fail(c, errno, "cannot create mount point '%s'", p);
				close(f);
			} else if (mkdirat(cur, s, 0755) < 0) {
				return fail(c, errno, "cannot create directory '%.*s'", upto, p);
			}
			fd = open_comp(cur, s);
		}
		if (fd < 0) {
			if (errno == ELOOP)
				return fail_said(c, ELOOP,
					    "refusing to mount '%s': a path component is a symlink ('%.*s')",
					    p, upto, p);
			if (errno == ENOENT)
				return fail_said(c, ENOENT, "'%s' does not exist ('%.*s' is missing)", p, upto,
					    p);
			return fail(c, errno, "cannot open '%.*s'", upto, p);
		}
		close(cur);
		cur = fd;
		if (!last) {
			struct stat st;
			if (fstat(cur, &st) < 0)
				return fail(c, errno, "cannot stat '%.*s'", upto, p);
			if (!S_ISDIR(st.st_mode))
				return fail(c, ENOTDIR, "cannot resolve '%s': '%.*s' is not a directory",
					    p, upto, p);
		}
	next:
		if (!slash)
			break;
		s = slash + 1;
	}
	return sh_take_fd(&cur);
}

static void dir_forget(struct ctx *c)
{
	free(c->dir_path);
	c->dir_path = NULL;
	sh_closep(&c->dir_fd);
}

/* A mount was attached at path: the remembered directory goes if the
 * mount hides it (path is it or one of its ancestors). */
static void dir_mounted(struct ctx *c, const char *path)
{
	size_t n = strlen(path);
	if (c->dir_path && (strcmp(path, "/") == 0 ||
			    (strncmp(c->dir_path, path, n) == 0 &&
			     (c->dir_path[n] == '\0' || c->dir_path[n] == '/'))))
		dir_forget(c);
}

/* The mount point for path in the new view (created in our own tmpfs when
 * missing, as walk() does), by the remembered directory when path is in it:
 * one syscall or two instead of walk()'s dozen. */
/* *fresh: the mount point was just created here, as the mode asks (its
 * type needs no check). */
static int mount_point_ex(struct ctx *c, const char *path, enum walk_mode mode, bool *fresh)
{
	*fresh = false;
	const char *slash = strrchr(path, '/');
	const char *leaf = slash ? slash + 1 : "";
	size_t dn = slash ? (size_t)(slash - path) : 0;
	if (c->dir_path && slash && dn && *leaf && strcmp(leaf, ".") != 0 && strcmp(leaf, "..") != 0 &&
	    strlen(c->dir_path) == dn && strncmp(c->dir_path, path, dn) == 0) {
		if (mode == W_FILE) {
			int fd = openat(c->dir_fd, leaf,
					O_CREAT | O_EXCL | O_RDONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
			if (fd >= 0) {
				*fresh = true;
				return fd;
			}
		} else if (mkdirat(c->dir_fd, leaf, 0755) == 0) {
			int fd = open_comp(c->dir_fd, leaf);
			if (fd >= 0) {
				*fresh = true; /* open_comp opens no symlink: what we made */
				return fd;
			}
			return fail(c, errno, "cannot open '%s'", path);
		}
		if (errno != EEXIST)
			return fail(c, errno, "cannot create mount point '%s'", path);
		/* it exists: walk() checks what it is */
	}
	int fd = walk(c, c->top, path, mode);
	if (fd < 0 || !slash || !dn || (c->dir_path && strlen(c->dir_path) == dn &&
					strncmp(c->dir_path, path, dn) == 0))
		return fd;
	/* Remember path's directory if it is ours (never a host bind). */
	char rel[PATH_MAX];
	if (dn >= sizeof(rel))
		return fd;
	memcpy(rel, path + 1, dn - 1);
	rel[dn - 1] = '\0';
	int d = open_beneath(c->top, rel);
	if (d < 0)
		return fd;
	if (!is_ours(c, d)) {
		close(d);
		return fd;
	}
	dir_forget(c);
	c->dir_fd = d;
	c->dir_path = sh_xstrndup(path, dn);
	return fd;
}

static int mount_point(struct ctx *c, const char *path, enum walk_mode mode)
{
	bool fresh;
	return mount_point_ex(c, path, mode, &fresh);
}

static int check_type(struct ctx *c, int fd, bool want_dir, const char *path, const char *what)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return fail(c, errno, "cannot stat '%s'", path);
	if (!!S_ISDIR(st.st_mode) != want_dir)
		return fail(c, want_dir ? ENOTDIR : EISDIR,
			    "%s '%s' is %s, the plan expects %s (changed since the plan was built?)",
			    what, path, S_ISDIR(st.st_mode) ? "a directory" : "not a directory",
			    want_dir ? "a directory" : "a file");
	return 0;
}

static unsigned long attrs_to_ms(unsigned attrs)
{
	unsigned long f = 0;
	if (attrs & MOUNT_ATTR_RDONLY)
		f |= MS_RDONLY;
	if (attrs & MOUNT_ATTR_NOSUID)
		f |= MS_NOSUID;
	if (attrs & MOUNT_ATTR_NODEV)
		f |= MS_NODEV;
	if (attrs & MOUNT_ATTR_NOEXEC)
		f |= MS_NOEXEC;
	return f;
}

/* Classic per-mount flag change (fallback for mount_setattr): a bind
 * remount must repeat the flags the kernel locked (nosuid, nodev, ...) or
 * it fails with EPERM in a user namespace. */
static int legacy_remount(struct ctx *c, int fd, unsigned attrs, const char *path)
{
	struct statvfs sv;
	char proc[64];
	unsigned long f = MS_REMOUNT | MS_BIND | attrs_to_ms(attrs);

	if (fstatvfs(fd, &sv) == 0) {
		if (sv.f_flag & ST_RDONLY)
			f |= MS_RDONLY;
		if (sv.f_flag & ST_NOSUID)
			f |= MS_NOSUID;
		if (sv.f_flag & ST_NODEV)
			f |= MS_NODEV;
		if (sv.f_flag & ST_NOEXEC)
			f |= MS_NOEXEC;
		if (sv.f_flag & ST_NOATIME)
			f |= MS_NOATIME;
		if (sv.f_flag & ST_NODIRATIME)
			f |= MS_NODIRATIME;
		if (sv.f_flag & ST_RELATIME)
			f |= MS_RELATIME;
	}
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if (mount(NULL, proc, NULL, f, NULL) < 0)
		return fail(c, errno, "cannot remount '%s'", path);
	return 0;
}

/* Bind src onto tgt (both O_PATH fds); attrs apply to the whole cloned tree
 * before it becomes visible.  Returns an fd of the attached mount's root. */
static int bind_at(struct ctx *c, int src, int tgt, bool recursive, unsigned attrs,
		   const char *path)
{
	unsigned rec = recursive ? AT_RECURSIVE : 0;
	unsigned clone = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | rec;
	int t SH_AUTOCLOSE = attrs ? sys_open_tree_attr(src, clone, attrs) : -1;
	bool attrs_done = t >= 0;
	if (t < 0 && attrs && errno != ENOSYS)
		return fail(c, errno, "cannot clone '%s'", path);
	if (t < 0)
		t = sys_open_tree(src, "", clone);
	if (t < 0 && errno == ENOSYS) {
		/* Before 5.2.  Non-recursive flags only: the classic API cannot
		 * change a whole tree at once. */
		char s[64], d[64];
		snprintf(s, sizeof(s), "/proc/self/fd/%d", src);
		snprintf(d, sizeof(d), "/proc/self/fd/%d", tgt);
		if (mount(s, d, NULL, MS_BIND | (recursive ? MS_REC : 0), NULL) < 0)
			return fail(c, errno, "cannot bind '%s'", path);
		int top SH_AUTOCLOSE = walk(c, c->top, path, W_EXISTING);
		if (top < 0)
			return -1;
		if (attrs && legacy_remount(c, top, attrs, path) < 0)
			return -1;
		return sh_take_fd(&top);
	}
	if (t < 0)
		return fail(c, errno, "cannot clone '%s'", path);
	bool late = false;
	if (attrs && !attrs_done && sys_mount_setattr(t, rec, attrs) < 0) {
		if (errno != ENOSYS)
			return fail(c, errno, "cannot set the attributes of '%s'", path);
		late = true; /* 5.2 .. 5.11: remount after attaching */
	}
	if (sys_move_mount(t, tgt) < 0)
		return fail(c, errno, "cannot attach '%s'", path);
	if (late && legacy_remount(c, t, attrs, path) < 0)
		return -1;
	return sh_take_fd(&t);
}

/* A new filesystem instance attached on tgt.  Returns an fd of its root. */
static int fs_attach(struct ctx *c, const char *type, const struct kv *opts, unsigned attrs,
		     int tgt, const char *path)
{
	int fs SH_AUTOCLOSE = sys_fsopen(type);
	if (fs < 0 && errno == ENOSYS) {
		char o[256] = "", d[64];
		size_t used = 0;
		for (const struct kv *kv = opts; kv && kv->k; kv++) {
			int n = snprintf(o + used, sizeof(o) - used, "%s%s%s%s", used ? "," : "", kv->k,
					 kv->v ? "=" : "", kv->v ? kv->v : "");
			if (n < 0 || (size_t)n >= sizeof(o) - used)
				return fail(c, E2BIG, "options for '%s' too long", path);
			used += (size_t)n;
		}
		if (strcmp(path, "/") == 0)
			return fail(c, ENOSYS, "building the new root needs the new mount API (Linux 5.2)");
		snprintf(d, sizeof(d), "/proc/self/fd/%d", tgt);
		if (mount(type, d, type, attrs_to_ms(attrs), o) < 0)
			return fail(c, errno, "cannot mount %s on '%s'", type, path);
		return walk(c, c->top, path, W_EXISTING);
	}
	if (fs < 0)
		return fail(c, errno, "cannot create a %s instance for '%s'", type, path);
	for (const struct kv *kv = opts; kv && kv->k; kv++) {
		long r = kv->v ? syscall(SYS_fsconfig, fs, SH_FSCONFIG_SET_STRING, kv->k, kv->v, 0)
			       : syscall(SYS_fsconfig, fs, SH_FSCONFIG_SET_FLAG, kv->k, NULL, 0);
		if (r < 0)
			return fail(c, errno, "%s option '%s%s%s' for '%s'", type, kv->k,
				    kv->v ? "=" : "", kv->v ? kv->v : "", path);
	}
	if (syscall(SYS_fsconfig, fs, SH_FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return fail(c, errno, "cannot create the %s for '%s'", type, path);
	int m SH_AUTOCLOSE = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, attrs);
	if (m < 0)
		return fail(c, errno, "cannot mount the %s for '%s'", type, path);
	if (sys_move_mount(m, tgt) < 0)
		return fail(c, errno, "cannot attach the %s on '%s'", type, path);
	return sh_take_fd(&m);
}

static int tmpfs_at(struct ctx *c, int tgt, const char *path, const char *mode, uint64_t size,
		    uint64_t inodes, unsigned attrs, bool readonly_later)
{
	char sz[32], ino[32];
	snprintf(sz, sizeof(sz), "%llu", (unsigned long long)size);
	snprintf(ino, sizeof(ino), "%llu", (unsigned long long)inodes);
	const struct kv o[] = { { "mode", mode }, { "size", sz }, { "nr_inodes", ino }, { NULL, NULL } };
	int fd SH_AUTOCLOSE = fs_attach(c, "tmpfs", o, attrs, tgt, path);
	if (fd < 0)
		return -1;
	own_add(c, fd);
	if (readonly_later && ro_add(c, fd) < 0)
		return -1;
	return sh_take_fd(&fd);
}

static char *join(const char *dir, const char *name)
{
	return sh_xasprintf("%s%s%s", dir, strcmp(dir, "/") == 0 ? "" : "/", name);
}

/* Fresh procfs entries that leak host state or reach the kernel (IPC-07
 * keys, KASLR/timing side channels, sysrq).  kallsyms: addresses are already
 * zeroed without CAP_SYSLOG in the initial namespace, but nothing inside
 * needs the symbol list either, so it goes. */
static const char *const proc_mask_files[] = {
	"kcore", "keys", "key-users", "kallsyms", "timer_list", "sched_debug",
	"latency_stats", "timer_stats", "sysrq-trigger", "kpagecount", "kpageflags",
	"kpagecgroup", NULL,
};
static const char *const proc_mask_dirs[] = { "acpi", "scsi", NULL };
/* Writable sysctls and driver knobs: read-only. */
static const char *const proc_readonly[] = { "sys", "irq", "bus", "fs", "driver", NULL };

enum proc_fix { PROC_EMPTY, PROC_TMPFS, PROC_RO };

/* The entry name of the fresh /proc at p: hidden behind an empty file, an
 * empty read-only tmpfs, or made read-only.  Absent entries are skipped. */
static int proc_fix_one(struct ctx *c, int p, const char *path, const char *name,
			enum proc_fix how)
{
	const unsigned att = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
	_cleanup_str char *full = join(path, name);
	int fd SH_AUTOCLOSE = open_comp(p, name);
	int m SH_AUTOCLOSE = -1;

	if (fd < 0)
		return errno == ENOENT ? 0 : fail(c, errno, "cannot open '%s'", full);
	switch (how) {
	case PROC_EMPTY:
		m = bind_at(c, c->empty, fd, false, MOUNT_ATTR_RDONLY | att, full);
		break;
	case PROC_TMPFS:
		m = tmpfs_at(c, fd, full, "0555", 4096, 16, att, true);
		break;
	case PROC_RO:
		m = bind_at(c, fd, fd, true, MOUNT_ATTR_RDONLY | att, full);
		break;
	default:
		return fail(c, EINVAL, "unknown /proc fix for '%s'", full);
	}
	return m < 0 ? -1 : 0;
}

static int proc_at(struct ctx *c, int tgt, const char *path)
{
	static const struct {
		const char *const *names;
		enum proc_fix how;
	} fixes[] = {
		{ proc_mask_files, PROC_EMPTY },
		{ proc_mask_dirs, PROC_TMPFS },
		{ proc_readonly, PROC_RO },
	};
	const unsigned att = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
	int p SH_AUTOCLOSE = fs_attach(c, "proc", NULL, att, tgt, path);
	if (p < 0)
		return -1;
	for (size_t i = 0; i < sizeof(fixes) / sizeof(fixes[0]); i++)
		for (const char *const *n = fixes[i].names; *n; n++)
			if (proc_fix_one(c, p, path, *n, fixes[i].how) < 0)
				return -1;
	return 0;
}

static int symlink_in(struct ctx *c, int dirfd, const char *name, const char *target,
		      const char *path)
{
	char cur[PATH_MAX];
	ssize_t n = readlinkat(dirfd, name, cur, sizeof(cur) - 1);
	if (n >= 0) {
		cur[n] = '\0';
		if (strcmp(cur, target) == 0)
			return 0;
		return fail(c, EEXIST, "cannot create symlink '%s': it exists and points to '%s'",
			    path, cur);
	}
	if (errno != ENOENT)
		return fail(c, errno == EINVAL ? EEXIST : errno, "cannot create symlink '%s'", path);
	if (!is_ours(c, dirfd))
		return fail_said(c, ENOENT, "refusing to create symlink '%s' inside a host bind mount",
			    path);
	if (symlinkat(target, dirfd, name) < 0)
		return fail(c, errno, "cannot create symlink '%s'", path);
	return 0;
}

/* Minimal /dev (threats.md KERN-13, FS-10, IPC-08): a few host device
 * nodes bound in (read-only mounts: chmod/chown of the node would otherwise
 * reach the host inode), a private devpts, a private size-limited /dev/shm. */
static int dev_at(struct ctx *c, int tgt, const char *path)
{
	static const char *const nodes[] = { "null", "zero", "full", "random", "urandom", "tty", NULL };
	static const struct {
		const char *name, *target;
	} links[] = {
		{ "ptmx", "pts/ptmx" },        { "fd", "/proc/self/fd" },
		{ "stdin", "/proc/self/fd/0" }, { "stdout", "/proc/self/fd/1" },
		{ "stderr", "/proc/self/fd/2" },
	};
	int d SH_AUTOCLOSE = tmpfs_at(c, tgt, path, "0755", 64 * 1024, 64,
				      MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, true);
	if (d < 0)
		return -1;
	for (const char *const *n = nodes; *n; n++) {
		_cleanup_str char *full = join(path, *n);
		_cleanup_str char *host = join("/dev", *n);
		int src SH_AUTOCLOSE = walk(c, c->hostroot, host, W_EXISTING);
		if (src < 0 && c->e->errnum == ENOENT && strcmp(*n, "tty") == 0)
			continue; /* some containers have no /dev/tty */
		if (src < 0)
			return -1;
		struct stat st;
		if (fstat(src, &st) < 0 || !S_ISCHR(st.st_mode))
			return fail(c, ENODEV, "host '%s' is not a character device", host);
		int f = openat(d, *n, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0666);
		if (f < 0)
			return fail(c, errno, "cannot create '%s'", full);
		close(f);
		int t SH_AUTOCLOSE = open_comp(d, *n);
		if (t < 0)
			return fail(c, errno, "cannot open '%s'", full);
		int m SH_AUTOCLOSE = bind_at(c, src, t, false,
					     MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC,
					     full);
		if (m < 0)
			return -1;
	}

	_cleanup_str char *pts = join(path, "pts");
	if (mkdirat(d, "pts", 0755) < 0)
		return fail(c, errno, "cannot create '%s'", pts);
	int pt SH_AUTOCLOSE = open_comp(d, "pts");
	if (pt < 0)
		return fail(c, errno, "cannot open '%s'", pts);
	/* "newinstance" is implied since Linux 4.7; no gid= because the tty
	 * group is not mapped in our user namespace. */
	const struct kv po[] = { { "ptmxmode", "0666" }, { "mode", "0620" }, { NULL, NULL } };
	int ptm SH_AUTOCLOSE = fs_attach(c, "devpts", po, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC,
					 pt, pts);
	if (ptm < 0)
		return -1;

	_cleanup_str char *shm = join(path, "shm");
	if (mkdirat(d, "shm", 0755) < 0)
		return fail(c, errno, "cannot create '%s'", shm);
	int sh SH_AUTOCLOSE = open_comp(d, "shm");
	if (sh < 0)
		return fail(c, errno, "cannot open '%s'", shm);
	int shm_m SH_AUTOCLOSE = tmpfs_at(c, sh, shm, "1777", 64 * MIB, 4096,
					  MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC,
					  false);
	if (shm_m < 0)
		return -1;

	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		_cleanup_str char *full = join(path, links[i].name);
		if (symlink_in(c, d, links[i].name, links[i].target, full) < 0)
			return -1;
	}
	return 0;
}

static bool is_sticky_tmp(const char *p)
{
	return strcmp(p, "/tmp") == 0 || strcmp(p, "/var/tmp") == 0 || strcmp(p, "/dev/shm") == 0;
}

/* A mount onto "/" itself replaces what the following walks start from. */
static void set_top(struct ctx *c, const char *path, int *fd)
{
	if (strcmp(path, "/") != 0)
		return;
	if (c->top >= 0)
		close(c->top);
	c->top = sh_take_fd(fd);
	c->top_moved = true;
}

/* The directory holding path's last component in the view (walked with
 * mode, never through a symlink), and that component in *name (a pointer
 * into path).  An fd, or -1. */
static int parent_dir(struct ctx *c, const char *path, enum walk_mode mode, const char **name)
{
	const char *slash = strrchr(path, '/');
	*name = slash ? slash + 1 : "";
	if (!slash || !**name || strcmp(*name, ".") == 0 || strcmp(*name, "..") == 0)
		return fail(c, EINVAL, "bad symlink path '%s'", path);
	_cleanup_str char *parent = slash == path ? sh_xstrdup("/")
						  : sh_xstrndup(path, (size_t)(slash - path));
	return walk(c, c->top, parent, mode);
}

static int apply_one_inner(struct ctx *c, const struct sh_mount *m)
{
	const unsigned nsd = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;

	switch (m->kind) {
	case SH_MNT_BIND: {
		int src SH_AUTOCLOSE = walk(c, c->hostroot, m->path, W_EXISTING);
		if (src < 0)
			return -1;
		bool fresh;
		int tgt SH_AUTOCLOSE = mount_point_ex(c, m->path, m->is_dir ? W_DIR : W_FILE, &fresh);
		if (tgt < 0 || (!fresh && check_type(c, tgt, m->is_dir, m->path, "mount point") < 0))
			return -1;
		/* The source's type is the kernel's to check (a directory never
		 * goes onto a file, nor a file onto a directory: EINVAL, or
		 * ENOTDIR on older kernels); we only word the error. */
		int t SH_AUTOCLOSE = bind_at(c, src, tgt, true,
					     nsd | (m->writable ? 0 : MOUNT_ATTR_RDONLY), m->path);
		if (t < 0) {
			struct sh_err first = *c->e;
			if ((first.errnum == EINVAL || first.errnum == ENOTDIR || first.errnum == EISDIR) &&
			    check_type(c, src, m->is_dir, m->path, "bind source") < 0)
				return -1; /* the source changed since the plan: that message */
			*c->e = first;
			return -1;
		}
		set_top(c, m->path, &t);
		return 0;
	}
	case SH_MNT_MASK: {
		int tgt SH_AUTOCLOSE = mount_point(c, m->path, m->is_dir ? W_DIR : W_FILE);
		if (tgt < 0 || check_type(c, tgt, m->is_dir, m->path, "masked path") < 0)
			return -1;
		int t SH_AUTOCLOSE = -1;
		if (m->is_dir) /* writable until the end: later entries may mount inside */
			t = tmpfs_at(c, tgt, m->path, "0755", 4096, 256, nsd | MOUNT_ATTR_NOEXEC, true);
		else
			t = bind_at(c, c->empty, tgt, false, nsd | MOUNT_ATTR_NOEXEC | MOUNT_ATTR_RDONLY,
				    m->path);
		return t < 0 ? -1 : 0;
	}
	case SH_MNT_DIR: {
		int tgt SH_AUTOCLOSE = mount_point(c, m->path, W_DIR);
		if (tgt < 0 || check_type(c, tgt, true, m->path, "directory") < 0)
			return -1;
		return 0;
	}
	case SH_MNT_TMPFS: {
		uint64_t size = m->size ? m->size : 512 * MIB;
		uint64_t inodes = size / 16384;
		if (inodes < 1024)
			inodes = 1024;
		if (inodes > 1u << 20)
			inodes = 1u << 20;
		int tgt SH_AUTOCLOSE = mount_point(c, m->path, W_DIR);
		if (tgt < 0 || check_type(c, tgt, true, m->path, "mount point") < 0)
			return -1;
		int t SH_AUTOCLOSE = tmpfs_at(c, tgt, m->path, is_sticky_tmp(m->path) ? "1777" : "0755",
					      size, inodes, nsd, false);
		if (t < 0)
			return -1;
		set_top(c, m->path, &t);
		return 0;
	}
	case SH_MNT_PROC: {
		int tgt SH_AUTOCLOSE = mount_point(c, m->path, W_DIR);
		if (tgt < 0 || check_type(c, tgt, true, m->path, "mount point") < 0)
			return -1;
		return proc_at(c, tgt, m->path);
	}
	case SH_MNT_DEV: {
		int tgt SH_AUTOCLOSE = mount_point(c, m->path, W_DIR);
		if (tgt < 0 || check_type(c, tgt, true, m->path, "mount point") < 0)
			return -1;
		return dev_at(c, tgt, m->path);
	}
	case SH_MNT_SYMLINK: {
		if (!m->target)
			return fail(c, EINVAL, "symlink '%s' has no target", m->path);
		const char *name;
		int dir SH_AUTOCLOSE = parent_dir(c, m->path, W_DIR, &name);
		if (dir < 0)
			return -1;
		return symlink_in(c, dir, name, m->target, m->path);
	}
	case SH_MNT_PINLINK: {
		/* The link as the view shows it (inside a writable bind of the
		 * host's tree), never followed: bound onto itself. */
		const char *name;
		int dir SH_AUTOCLOSE = parent_dir(c, m->path, W_EXISTING, &name);
		if (dir < 0)
			return -1;
		int l SH_AUTOCLOSE = openat(dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		struct stat st;
		if (l < 0)
			return fail(c, errno, "cannot open the symlink '%s'", m->path);
		if (fstat(l, &st) < 0 || !S_ISLNK(st.st_mode))
			return fail(c, ENOTSUP, "'%s' is no longer a symlink (it changed since the "
					       "plan)", m->path);
		int t SH_AUTOCLOSE = bind_at(c, l, l, false, nsd | MOUNT_ATTR_RDONLY, m->path);
		return t < 0 ? -1 : 0;
	}
	default:
		return fail(c, EINVAL, "unknown mount kind %d for '%s'", (int)m->kind, m->path);
	}
}

/* /dev or /proc as sh_mountns_begin made them (marked used): the same builder, the same
 * path, and still reachable (no mount onto "/" has replaced the root the
 * walks start from). */
static bool prebuilt(struct ctx *c, const struct sh_mount *m)
{
	if (c->top_moved || m->path[0] != '/')
		return false;
	for (size_t i = 0; i < 2; i++) {
		struct early *x = &c->early[i];
		if (x->fd >= 0 && m->kind == x->kind && strcmp(m->path + 1, x->name) == 0)
			return x->used = true;
	}
	return false;
}

/* One made ahead that the plan has no entry for: detached with everything
 * in it, its directory removed.  (After a mount onto "/" the skeleton and
 * what is in it are out of reach, and that recursive bind holds copies of
 * them: those are left as they are.) */
static int early_discard(struct ctx *c, struct early *x)
{
	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", x->fd);
	if (umount2(proc, MNT_DETACH) < 0)
		return fail(c, errno, "cannot detach the early /%s", x->name);
	sh_closep(&x->fd);
	for (size_t i = x->ro_lo; i < x->ro_hi; i++)
		sh_closep(&c->ro[i]);
	if (unlinkat(c->newroot, x->name, AT_REMOVEDIR) < 0)
		return fail(c, errno, "cannot remove the early /%s", x->name);
	return 0;
}

static int apply_one(struct ctx *c, const struct sh_mount *m)
{
	if (prebuilt(c, m))
		return 0;
	if (apply_one_inner(c, m) < 0)
		return -1;
	if (m->kind != SH_MNT_DIR && m->kind != SH_MNT_SYMLINK)
		dir_mounted(c, m->path);
	return 0;
}

/* Steps 1 and 2, and /dev and /proc (which no plan changes) made ahead. */
static int begin(struct ctx *c, bool dev_proc)
{
	/* 1. Private propagation, before any mount. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return fail(c, errno, "cannot make / private");
	c->hostroot = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (c->hostroot < 0)
		return fail(c, errno, "cannot open /");

	/* 2. The skeleton root.  Stacked on the old "/" dentry: lookups that
	 * start from hostroot (or the process root) never step onto it, so
	 * host paths keep resolving until the pivot. */
	c->newroot = tmpfs_at(c, c->hostroot, "/", "0755", 4 * MIB, 16384,
			      MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, true);
	if (c->newroot < 0)
		return -1;
	c->top = fcntl(c->newroot, F_DUPFD_CLOEXEC, 3);
	if (c->top < 0)
		return fail(c, errno, "cannot duplicate the new root fd");
	int f = openat(c->newroot, EMPTY_NAME, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0444);
	if (f < 0)
		return fail(c, errno, "cannot create the staging empty file");
	close(f);
	c->empty = open_comp(c->newroot, EMPTY_NAME);
	if (c->empty < 0)
		return fail(c, errno, "cannot open the staging empty file");

	/* 2b. /dev and /proc, as the plan's entries for them would make them. */
	if (!dev_proc)
		return 0;
	static const struct sh_mount early[] = {
		{ .kind = SH_MNT_DEV, .path = "/dev", .is_dir = true },
		{ .kind = SH_MNT_PROC, .path = "/proc", .is_dir = true },
	};
	for (size_t i = 0; i < 2; i++) {
		struct early *x = &c->early[i];
		x->ro_lo = c->nro;
		if (apply_one(c, &early[i]) < 0)
			return -1;
		x->ro_hi = c->nro;
		x->fd = open_comp(c->newroot, x->name);
		if (x->fd < 0)
			return fail(c, errno, "cannot open the early %s", early[i].path);
	}
	return 0;
}

/* Steps 3 to 5. */
static int finish(struct ctx *c, const struct sh_mount *mounts, size_t n)
{
	/* 3. The plan, in order; what was made ahead and not used goes. */
	for (size_t i = 0; i < n; i++)
		if (apply_one(c, &mounts[i]) < 0)
			return -1;
	for (size_t i = 0; i < 2 && !c->top_moved; i++)
		if (c->early[i].fd >= 0 && !c->early[i].used && early_discard(c, &c->early[i]) < 0)
			return -1;

	/* 4. Seal our own instances: unlink the staging file (the masks keep
	 * their reference), then read-only, non-recursively (binds inside stay
	 * as they are). */
	if (unlinkat(c->newroot, EMPTY_NAME, 0) < 0)
		return fail(c, errno, "cannot remove the staging empty file");
	for (size_t i = 0; i < c->nro; i++) {
		if (c->ro[i] < 0)
			continue; /* discarded */
		if (sys_mount_setattr(c->ro[i], 0, MOUNT_ATTR_RDONLY) == 0)
			continue;
		if (errno != ENOSYS)
			return fail(c, errno, "cannot make the skeleton read-only");
		if (legacy_remount(c, c->ro[i], MOUNT_ATTR_RDONLY, "(skeleton)") < 0)
			return -1;
	}

	/* 5. Enter it: pivot_root(".", ".") stacks the old root on top of the
	 * new one, and the lazy detach removes it (with every host mount)
	 * from this namespace. */
	if (fchdir(c->top) < 0)
		return fail(c, errno, "cannot enter the new root");
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return fail(c, errno, "pivot_root failed");
	if (umount2(".", MNT_DETACH) < 0)
		return fail(c, errno, "cannot detach the old root");
	if (chdir("/") < 0)
		return fail(c, errno, "cannot chdir to the new root");
	return 0;
}

struct sh_mountns {
	struct ctx c;
};

void sh_mountns_free(struct sh_mountns *m)
{
	if (!m)
		return;
	struct ctx *c = &m->c;
	umask(c->umask_before);
	sh_closep(&c->hostroot);
	sh_closep(&c->newroot);
	sh_closep(&c->top);
	sh_closep(&c->empty);
	dir_forget(c);
	for (size_t i = 0; i < 2; i++)
		sh_closep(&c->early[i].fd);
	for (size_t i = 0; i < c->nro; i++)
		sh_closep(&c->ro[i]);
	free(c->ro);
	free(c->own);
	free(m);
}

struct sh_mountns *sh_mountns_begin(bool dev_proc, struct sh_err *e)
{
	struct sh_mountns *m = sh_xcalloc(1, sizeof(*m));
	m->c = (struct ctx){ .hostroot = -1, .newroot = -1, .top = -1, .empty = -1, .dir_fd = -1,
			     .e = e,
			     .early = { { .name = "dev", .kind = SH_MNT_DEV, .fd = -1 },
					{ .name = "proc", .kind = SH_MNT_PROC, .fd = -1 } } };
	/* Modes are given explicitly (0755, 1777): the caller's umask must not
	 * turn /dev/shm into 1755. */
	m->c.umask_before = umask(0);
	if (begin(&m->c, dev_proc) < 0) {
		sh_mountns_free(m);
		return NULL;
	}
	return m;
}

int sh_mountns_finish(struct sh_mountns *m, const struct sh_mount *mounts, size_t n,
		      struct sh_err *e)
{
	m->c.e = e;
	int r = finish(&m->c, mounts, n);
	sh_mountns_free(m);
	return r;
}

int sh_mountns_build(const struct sh_mount *mounts, size_t n, struct sh_err *e)
{
	struct sh_mountns *m = sh_mountns_begin(false, e);
	return m ? sh_mountns_finish(m, mounts, n, e) : -1;
}
