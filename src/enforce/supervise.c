/* The creation supervisor (threats.md LAUNCH-03, FS-09, KERN-14).
 *
 * PROBLEM.  A policy may deny a path that does not exist at launch inside a
 * tree bound read-write (~/.codex/config.toml, <workdir>/.safehouse,
 * <workdir>/.git/commondir).  The mount layer can only cover what exists,
 * Landlock cannot subtract a name from a granted tree, and we never create
 * placeholders on the host.  So every creation of a name is made to go
 * through a party that can refuse it: init.
 *
 * DESIGN.
 *  - The command, after no_new_privs and Landlock and before the main seccomp
 *    filter, loads a small filter with SECCOMP_FILTER_FLAG_NEW_LISTENER that
 *    answers SECCOMP_RET_USER_NOTIF for the calls that create a name, and
 *    ALLOW for everything else (the main filters are unchanged; across
 *    filters their ERRNO/KILL beat USER_NOTIF):
 *        open, openat         when flags & O_CREAT and not O_PATH (low 32
 *                             bits: the kernel takes an int; with O_PATH
 *                             the kernel ignores O_CREAT);
 *        creat, mkdir(at), mknod(at), symlink(at), link(at),
 *        rename(at), renameat2 always.
 *    openat2 fails with ENOSYS (its flags live behind a pointer; callers
 *    fall back to openat).  seccomp() cannot install a listener of the
 *    caller's own (EPERM): init's is the only one, and it stays open until
 *    everything inside has been killed and reaped.
 *    The listener goes to init over a socketpair (SCM_RIGHTS).  Only when the
 *    plan has protected names (plan->nprotect_create): no cost otherwise.
 *    SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (5.19+, used when known): once
 *    init has taken a request, only a fatal signal interrupts the caller, so
 *    a non-idempotent call (O_EXCL, mkdir) is never performed twice.
 *  - Init (pid 1, same mount view and uid, no capabilities, not under the
 *    command's seccomp) answers one request at a time.  It NEVER lets the
 *    call continue (SECCOMP_USER_NOTIF_FLAG_CONTINUE would make the kernel
 *    re-read the path, which another thread may have changed since: KERN-14).
 *    It copies the path(s) out of the caller's memory (process_vm_readv: the ptrace check of
 *    /proc/PID/mem, one call) into bounded private buffers
 *    (PATH_MAX, NUL-terminated, page by page), opens the caller's cwd or
 *    dirfd (/proc/PID/cwd, /proc/PID/fd/N), checks
 *    SECCOMP_IOCTL_NOTIF_ID_VALID (the pid still names the caller), then
 *    works only from its copy:
 *      parent = openat(base, dirname, O_PATH|O_DIRECTORY)
 *      canonical target = readlink(/proc/self/fd/parent) + "/" + basename
 *    and refuses (EACCES) a target equal to or below a protected path (also:
 *    same parent directory inode and same name, for parents that existed at
 *    launch).  For symlink, link and rename destinations, a target that is
 *    an ANCESTOR of a protected path is refused too (a symlink ~/.codex ->
 *    dir, a hard link of such a symlink, or a tree renamed onto ~/.codex,
 *    would carry content onto the name).  Every fd init opens for the
 *    caller is checked before it is handed over: if it is on procfs, it
 *    must be below the caller's own /proc/<pid> (a magic link
 *    /proc/<caller>/fd/N may name /proc/1/mem, which init could open).
 *    mkdir of an ancestor is allowed (it is empty; what is created in it
 *    later comes through here).  Otherwise init performs the call itself,
 *    relative to the parent fd it resolved (mkdirat, mknodat, symlinkat,
 *    linkat, renameat2, openat with the caller's umask read from
 *    /proc/PID/status, only by the calls that need it) and answers with
 *    its result; an opened fd is injected with SECCOMP_IOCTL_NOTIF_ADDFD +
 *    SECCOMP_ADDFD_FLAG_SEND (O_CLOEXEC if asked), which makes it the call's
 *    return value.  Memory that cannot be read: EFAULT as the kernel would;
 *    anything else unexpected: EPERM.
 *    Because every name creation, rename included, is serialised through
 *    this one loop, the directory checked is the directory written.
 *  - Final symlinks of O_CREAT opens are followed by init, by hand (open
 *    with O_NOFOLLOW, ELOOP -> readlinkat, resolve again, at most 40 hops),
 *    so the object really created is the one checked.  Procfs magic links
 *    (/proc/<caller>/fd/N, cwd, ...) are left to the kernel.
 *  - Init is not more powerful than the caller: same mount view (read-only
 *    binds stay read-only), same uid, no capabilities, and a Landlock
 *    domain with the plan's filesystem rules (sh_supervise_confine, applied
 *    before the command is forked: the command's own domain then nests in
 *    it, which Landlock requires for init to read /proc/PID/mem).  What
 *    resolves differently in init's context is /proc: "/proc/self",
 *    "/proc/thread-self" and "/dev/fd" prefixes are rewritten to the
 *    caller's pid (in the path and in every symlink init follows), and a
 *    parent directory on procfs is accepted only as /proc itself or below
 *    /proc/<caller's pid or tid> -- never /proc/1 (init's own fds, mem: that
 *    would hand the sandbox an unfiltered process).
 *  - Opens are made with O_NONBLOCK | O_NOCTTY added (init must never block
 *    nor gain a controlling tty); O_NONBLOCK is cleared again unless asked.
 *    A FIFO opened for writing without a reader is retried every 10 ms
 *    (sh_supervisor_tick) while the caller waits.  /dev/tty is the
 *    caller's controlling terminal, found through /proc/PID/stat and
 *    reopened through one of the caller's fds.
 *  - Bounded work: one request at a time, fixed buffers, 40 symlink hops, 16
 *    waiting FIFO opens.
 *
 * CAVEATS (fidelity, not safety: every created name is checked).
 *  - Only with a mount view (use_userns): fallback mode has no init.
 *  - A process that made itself non-dumpable (ssh-agent, gpg-agent) cannot
 *    have its memory read by init: its creations fail with EPERM.
 *  - Symlinks met in the MIDDLE of a path are resolved by the kernel in
 *    init's context, so one that leads to /proc/self means init (the result
 *    is still checked; /proc/1 is refused).
 *  - O_RDONLY|O_CREAT of a FIFO does not wait for a writer; openat2 is not
 *    available (ENOSYS); linkat AT_EMPTY_PATH is performed through
 *    /proc/PID/fd/N.
 *  - Init acts under the session's Landlock domain: a domain the caller
 *    nested inside it (an agent's own sandbox for its tools) does not
 *    restrict the creations init performs for it.
 *  - bind() of an AF_UNIX socket path also creates a name and is not
 *    intercepted: a socket there can deny service (opening it fails) but
 *    carries no content.
 *  - Names differing from a protected one only in ASCII case are refused. */
#include "enforce/supervise.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/magic.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <unistd.h>

#include "enforce/harden.h"
#include "enforce/landlock.h"
#include "util/fdio.h"

/* uapi that older headers may lack */
#ifndef SECCOMP_RET_USER_NOTIF
#define SECCOMP_RET_USER_NOTIF 0x7fc00000U
#endif
#ifndef SECCOMP_FILTER_FLAG_NEW_LISTENER
#define SECCOMP_FILTER_FLAG_NEW_LISTENER (1UL << 3)
#endif
#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif
#ifndef SECCOMP_GET_NOTIF_SIZES
#define SECCOMP_GET_NOTIF_SIZES 3
#endif
#ifndef SECCOMP_IOCTL_NOTIF_ADDFD
struct seccomp_notif_addfd {
	__u64 id;
	__u32 flags;
	__u32 srcfd;
	__u32 newfd;
	__u32 newfd_flags;
};
#define SECCOMP_IOCTL_NOTIF_ADDFD SECCOMP_IOW(3, struct seccomp_notif_addfd)
#endif
#ifndef SECCOMP_ADDFD_FLAG_SEND
#define SECCOMP_ADDFD_FLAG_SEND (1UL << 1)
#endif
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS /* 6.6 */
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif
#ifndef PROC_SUPER_MAGIC
#define PROC_SUPER_MAGIC 0x9fa0
#endif
#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

#define MAX_HOPS 40
#define MAX_PENDING 16
#define PENDING_MS 10

/* ------------------------------------------------------------------ pure */

/* a strictly below b (ASCII case ignored) */
static bool below(const char *a, const char *b)
{
	size_t n = strlen(b);
	if (n == 1 && b[0] == '/')
		return a[0] == '/' && a[1] != '\0';
	return strncasecmp(a, b, n) == 0 && a[n] == '/';
}

bool sh_supervise_refused(char *const *protect, size_t n, const char *path, bool ancestors)
{
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(path, protect[i]) == 0 || below(path, protect[i]) ||
		    (ancestors && below(protect[i], path)))
			return true;
	return false;
}

/* ---------------------------------------------------------- command side */

/* Every call that can create a name.  The filter itself is part of the
 * command's one seccomp program (enforce/seccomp.c). */
static const struct sh_supervise_call calls[] = {
#ifdef __NR_creat
	{ __NR_creat, -1 },
#endif
#ifdef __NR_mkdir
	{ __NR_mkdir, -1 },
#endif
#ifdef __NR_mknod
	{ __NR_mknod, -1 },
#endif
#ifdef __NR_symlink
	{ __NR_symlink, -1 },
#endif
#ifdef __NR_link
	{ __NR_link, -1 },
#endif
#ifdef __NR_rename
	{ __NR_rename, -1 },
#endif
#ifdef __NR_renameat
	{ __NR_renameat, -1 },
#endif
	{ __NR_mkdirat, -1 },
	{ __NR_mknodat, -1 },
	{ __NR_symlinkat, -1 },
	{ __NR_linkat, -1 },
	{ __NR_renameat2, -1 },
#ifdef __NR_open
	{ __NR_open, 1 },
#endif
	{ __NR_openat, 2 },
};

size_t sh_supervise_calls(const struct sh_supervise_call **out)
{
	*out = calls;
	return sizeof(calls) / sizeof(calls[0]);
}

int sh_supervise_handover(int sock, int listener, struct sh_err *e)
{
	int r = sh_send_fd(sock, listener);
	int en = errno;
	close(listener);
	if (r < 0)
		return sh_fail(e, SH_EXIT_SETUP, en, "seccomp: cannot pass the listener to init");
	return 0;
}

/* ------------------------------------------------------------- init side */

int sh_supervise_confine(const struct sh_plan *p, int min_abi, struct sh_err *e)
{
	if (sh_set_no_new_privs(e) < 0)
		return -1;
	struct sh_landlock_config ll = { .rules = p->ll, .nrules = p->nll, .min_abi = min_abi };
	if (sh_landlock_apply(&ll, e) < 0)
		return sh_err_prefix(e, "supervisor: landlock");
	return 0;
}

struct prot {
	char *base;  /* last component of the protected path */
	bool have_parent;
	dev_t pdev;
	ino_t pino;
};

struct pending {
	uint64_t id;
	int pfd;
	char name[NAME_MAX + 2];
	int oflags;
	bool cloexec;
};

struct sh_supervisor {
	int fd;
	char **names; /* protected paths, as given and canonical: 2 * nprot */
	size_t nnames;
	struct prot *prot;
	size_t nprot;
	struct seccomp_notif *req;
	size_t reqsz;
	struct seccomp_notif_resp *resp;
	size_t respsz;
	struct pending pend[MAX_PENDING];
	size_t npend;
	mode_t umask; /* ours, as last set for a caller (or ~0: not yet) */
};

/* What /proc/TID/status says of the caller, read when first needed. */
struct callstat {
	bool read, ok;
	pid_t tgid;
	mode_t umask;
};

/* One request being served. */
struct call {
	struct sh_supervisor *s;
	uint64_t id;
	pid_t tid;
	struct callstat *st;
};

static bool caller_status(const struct call *c);

/* The caller's thread group, or -1 when it cannot be told (gone). */
static pid_t caller_tgid(const struct call *c)
{
	return caller_status(c) ? c->st->tgid : -1;
}

struct result {
	int fd;       /* >= 0: inject */
	long val;
	int err;      /* positive errno */
	bool cloexec;
	bool deferred; /* a pending entry now owns the answer */
};

struct parent {
	int fd;
	char canon[PATH_MAX];
	char base[NAME_MAX + 1];
	char name[NAME_MAX + 2]; /* base, plus '/' if the path had trailing slashes */
	bool slash, dot, proc, magic;
};

static void closefd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* A protected path with its deepest existing ancestor resolved. */
static char *canonical(const char *path)
{
	char buf[PATH_MAX], rest[PATH_MAX] = "";
	if (strlen(path) >= sizeof(buf))
		return strdup(path);
	strcpy(buf, path);
	for (;;) {
		char *r = realpath(buf, NULL);
		if (r) {
			char *out = NULL;
			if (asprintf(&out, "%s%s", strcmp(r, "/") == 0 ? "" : r, rest) < 0)
				out = NULL;
			free(r);
			return out ? out : strdup(path);
		}
		char *sl = strrchr(buf, '/');
		if ((errno != ENOENT && errno != ENOTDIR) || !sl || sl == buf)
			return strdup(path);
		char tmp[PATH_MAX];
		snprintf(tmp, sizeof(tmp), "%s%s", sl, rest);
		strcpy(rest, tmp);
		*sl = '\0';
	}
}

/* The directory of the protected names being set up: its resolution and
 * identity, kept while the next names share it. */
struct prot_dir {
	char *dir, *canon;
	struct stat st;
	bool is_dir;
};

/* Make par describe p[0..len): 0, or -1 when out of memory. */
static int parent_of(struct prot_dir *par, const char *p, size_t len)
{
	if (par->dir && strlen(par->dir) == len && strncmp(par->dir, p, len) == 0)
		return 0;
	free(par->dir);
	free(par->canon);
	par->canon = NULL;
	par->dir = strndup(p, len);
	if (!par->dir)
		return -1;
	par->is_dir = stat(par->dir, &par->st) == 0 && S_ISDIR(par->st.st_mode);
	par->canon = canonical(par->dir);
	return 0;
}

struct sh_supervisor *sh_supervisor_new(char *const *protect, size_t n)
{
	struct sh_supervisor *s = calloc(1, sizeof(*s));
	struct seccomp_notif_sizes sz;
	if (!s)
		return NULL;
	s->fd = -1;
	s->umask = (mode_t)~0;
	if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sz) < 0)
		goto fail;
	s->reqsz = sz.seccomp_notif > sizeof(*s->req) ? sz.seccomp_notif : sizeof(*s->req);
	s->respsz = sz.seccomp_notif_resp > sizeof(*s->resp) ? sz.seccomp_notif_resp
							     : sizeof(*s->resp);
	s->req = calloc(1, s->reqsz);
	s->resp = calloc(1, s->respsz);
	s->names = calloc(2 * n + 1, sizeof(char *));
	s->prot = calloc(n + 1, sizeof(*s->prot));
	if (!s->req || !s->resp || !s->names || !s->prot)
		goto fail;
	/* Protected names come grouped by directory (~/.codex/..., .git/...):
	 * each directory is resolved and identified once.  A name that does
	 * not exist resolves to its directory's resolution plus itself, as
	 * canonical() would find, with one lstat instead of a realpath. */
	struct prot_dir par = { 0 };
	for (size_t i = 0; i < n; i++) {
		char *p = strdup(protect[i]);
		if (!p)
			goto fail;
		size_t l = strlen(p);
		while (l > 1 && p[l - 1] == '/')
			p[--l] = '\0';
		s->names[s->nnames++] = p;
		struct prot *pr = &s->prot[s->nprot++];
		char *sl = strrchr(p, '/');
		pr->base = strdup(sl ? sl + 1 : p);
		if (!pr->base)
			goto fail;
		char *c = NULL;
		if (sl && sl[1] && parent_of(&par, p, (size_t)(sl == p ? 1 : sl - p)) == 0) {
			pr->have_parent = par.is_dir;
			pr->pdev = par.st.st_dev;
			pr->pino = par.st.st_ino;
			struct stat st;
			if (par.canon && lstat(p, &st) < 0 && (errno == ENOENT || errno == ENOTDIR) &&
			    asprintf(&c, "%s/%s", strcmp(par.canon, "/") == 0 ? "" : par.canon,
				     pr->base) < 0)
				c = NULL;
		}
		if (!c)
			c = canonical(p);
		if (c)
			s->names[s->nnames++] = c;
	}
	free(par.dir);
	free(par.canon);
	return s;
fail:
	free(par.dir);
	free(par.canon);
	sh_supervisor_free(s);
	return NULL;
}

bool sh_supervisor_listen(struct sh_supervisor *s, int listener)
{
	closefd(&s->fd);
	s->fd = listener;
	/* The caller sleeps while init works for it: a synchronous wake-up
	 * runs init on the caller's CPU, and the caller again on init's when
	 * the answer is sent, instead of waking an idle CPU each way (tens
	 * of microseconds on a virtual machine whose idle CPUs halt).
	 * Linux 6.6; older kernels answer EINVAL (unknown command) and the
	 * wake-ups stay as they were. */
	return ioctl(listener, SECCOMP_IOCTL_NOTIF_SET_FLAGS,
		     (unsigned long)SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP) == 0;
}

void sh_supervisor_free(struct sh_supervisor *s)
{
	if (!s)
		return;
	closefd(&s->fd);
	for (size_t i = 0; i < s->npend; i++)
		closefd(&s->pend[i].pfd);
	for (size_t i = 0; i < s->nnames; i++)
		free(s->names[i]);
	for (size_t i = 0; i < s->nprot; i++)
		free(s->prot[i].base);
	free(s->names);
	free(s->prot);
	free(s->req);
	free(s->resp);
	free(s);
}

int sh_supervisor_fd(const struct sh_supervisor *s)
{
	return s ? s->fd : -1;
}

int sh_supervisor_timeout(const struct sh_supervisor *s)
{
	return s && s->npend ? PENDING_MS : -1;
}

static bool id_valid(const struct sh_supervisor *s, uint64_t id)
{
	return ioctl(s->fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0;
}

static void answer(struct sh_supervisor *s, uint64_t id, long val, int err)
{
	memset(s->resp, 0, s->respsz);
	s->resp->id = id;
	s->resp->val = val;
	s->resp->error = err ? -err : 0;
	(void)ioctl(s->fd, SECCOMP_IOCTL_NOTIF_SEND, s->resp); /* ENOENT: the caller is gone */
}

static void answer_result(struct sh_supervisor *s, uint64_t id, struct result *r)
{
	if (r->deferred)
		return;
	if (r->fd >= 0) {
		struct seccomp_notif_addfd a = {
			.id = id,
			.flags = SECCOMP_ADDFD_FLAG_SEND,
			.srcfd = (uint32_t)r->fd,
			.newfd = 0,
			.newfd_flags = r->cloexec ? O_CLOEXEC : 0,
		};
		int rc = (int)ioctl(s->fd, SECCOMP_IOCTL_NOTIF_ADDFD, &a);
		int en = errno;
		closefd(&r->fd);
		if (rc >= 0 || en == ENOENT)
			return;
		answer(s, id, 0, en); /* EMFILE in the caller, ... */
		return;
	}
	answer(s, id, r->val, r->err);
}

/* Copy len bytes of the caller's memory at addr (process_vm_readv: the same
 * ptrace check as /proc/PID/mem, one call).  Bytes read, or -errno. */
static ssize_t read_mem(const struct call *c, uint64_t addr, void *buf, size_t len)
{
	struct iovec l = { .iov_base = buf, .iov_len = len };
	struct iovec r = { .iov_base = (void *)(uintptr_t)addr, .iov_len = len };
	ssize_t n = process_vm_readv(c->tid, &l, 1, &r, 1, 0);
	return n < 0 ? -errno : n;
}

/* Copy a NUL-terminated string of at most PATH_MAX bytes (with the NUL) from
 * the caller, a page at a time (a string may end just before unmapped
 * memory).  0, or a positive errno. */
static int read_str(const struct call *c, uint64_t addr, char *buf)
{
	size_t got = 0;
	if (addr == 0)
		return EFAULT;
	while (got < PATH_MAX) {
		uint64_t at = addr + got;
		size_t chunk = 4096 - (size_t)(at & 4095);
		if (chunk > PATH_MAX - got)
			chunk = PATH_MAX - got;
		ssize_t r = read_mem(c, at, buf + got, chunk);
		if (r == -EPERM || r == -ESRCH)
			return EPERM; /* not dumpable, or gone: fail closed */
		if (r <= 0)
			return EFAULT;
		if (memchr(buf + got, '\0', (size_t)r))
			return 0;
		got += (size_t)r;
	}
	return ENAMETOOLONG;
}

/* "/proc/self", "/proc/thread-self" and "/dev/fd" mean init in init's
 * context: point them at the caller.  0 or ENAMETOOLONG. */
static int rewrite_self(const struct call *c, const char *in, char *out)
{
	static const char *const pfx[] = { "/proc/self", "/proc/thread-self", "/dev/fd" };
	int n = -1;
	for (size_t i = 0; i < 3 && n < 0; i++) {
		size_t l = strlen(pfx[i]);
		if (strncmp(in, pfx[i], l) != 0 || (in[l] != '/' && in[l] != '\0'))
			continue;
		pid_t tgid = caller_tgid(c);
		if (tgid <= 0)
			return EPERM; /* fail closed: gone */
		if (i == 0)
			n = snprintf(out, PATH_MAX, "/proc/%d%s", (int)tgid, in + l);
		else if (i == 1)
			n = snprintf(out, PATH_MAX, "/proc/%d/task/%d%s", (int)tgid, (int)c->tid,
				     in + l);
		else
			n = snprintf(out, PATH_MAX, "/proc/%d/fd%s", (int)tgid, in + l);
	}
	if (n < 0) {
		if (strlen(in) >= PATH_MAX)
			return ENAMETOOLONG;
		strcpy(out, in);
		return 0;
	}
	return n >= PATH_MAX ? ENAMETOOLONG : 0;
}

/* The directory a path relative to dfd starts from: AT_FDCWD for an absolute
 * path (init's root is the caller's), else an O_PATH fd of the caller's cwd
 * or dirfd.  *fd is owned when >= 0. 0 or a positive errno. */
static int open_base(const struct call *c, int dfd, const char *path, int *fd)
{
	char p[64];
	*fd = AT_FDCWD;
	if (path[0] == '/')
		return 0;
	if (dfd == AT_FDCWD)
		snprintf(p, sizeof(p), "/proc/%d/cwd", (int)c->tid);
	else if (dfd < 0)
		return EBADF;
	else
		snprintf(p, sizeof(p), "/proc/%d/fd/%d", (int)c->tid, dfd);
	*fd = open(p, O_PATH | O_CLOEXEC);
	if (*fd < 0)
		return errno == ENOENT ? (dfd == AT_FDCWD ? ENOENT : EBADF) : EPERM;
	return 0;
}

/* Is canon (on procfs) a place init may act in for the caller?  /proc itself
 * and below /proc/<caller's tgid or tid>; sets *magic for the latter (its
 * symlinks are magic links the kernel must follow). */
static bool proc_ok(const struct call *c, const char *canon, bool *magic)
{
	*magic = false;
	if (strncmp(canon, "/proc", 5) != 0 || (canon[5] != '/' && canon[5] != '\0'))
		return false;
	if (canon[5] == '\0' || canon[6] < '0' || canon[6] > '9')
		return true; /* /proc, /proc/sys, ...: same credentials, nothing per-process */
	char *end;
	long pid = strtol(canon + 6, &end, 10);
	if (*end != '/' && *end != '\0')
		return true; /* not a pid directory */
	if (pid != c->tid && pid != caller_tgid(c))
		return false;
	*magic = true;
	return true;
}

/* Split path into parent directory (opened O_PATH relative to basefd) and
 * last component.  0 or a positive errno.
 * steal (NULL, or &basefd when basefd is the caller's cwd): a bare name's
 * parent is basefd itself, which p then takes over (*steal = -1). */
static int open_parent(const struct call *c, int basefd, const char *path, struct parent *p,
		       int *steal)
{
	size_t len = strlen(path), end = len, s;
	char dir[PATH_MAX];

	memset(p, 0, offsetof(struct parent, canon));
	p->fd = -1;
	p->canon[0] = '\0';
	if (len == 0)
		return ENOENT;
	while (end > 1 && path[end - 1] == '/')
		end--;
	p->slash = end < len;
	for (s = end; s > 0 && path[s - 1] != '/'; s--)
		;
	if (end - s > NAME_MAX)
		return ENAMETOOLONG;
	if (end == 1 && path[0] == '/') { /* "/" itself */
		strcpy(p->base, ".");
		s = 1;
	} else {
		memcpy(p->base, path + s, end - s);
		p->base[end - s] = '\0';
	}
	p->dot = strcmp(p->base, ".") == 0 || strcmp(p->base, "..") == 0;
	snprintf(p->name, sizeof(p->name), "%s%s", p->base, p->slash ? "/" : "");
	if (s == 0) {
		strcpy(dir, ".");
	} else {
		memcpy(dir, path, s);
		dir[s] = '\0';
	}
	if (s == 0 && steal && *steal >= 0 && *steal == basefd) {
		p->fd = basefd; /* a directory: "." beneath it is itself */
		*steal = -1;
	} else {
		p->fd = openat(basefd, dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	}
	if (p->fd < 0)
		return errno;
	char link[64];
	snprintf(link, sizeof(link), "/proc/self/fd/%d", p->fd);
	ssize_t n = readlink(link, p->canon, sizeof(p->canon) - 1);
	if (n <= 0 || p->canon[0] != '/' || (size_t)n >= sizeof(p->canon) - 1) {
		closefd(&p->fd);
		return EACCES; /* fail closed: cannot tell where this is */
	}
	p->canon[n] = '\0';
	/* Asked of the directory itself, not told by its path: a bound host
	 * tree may hold a procfs of its own. */
	struct statfs sf;
	if (fstatfs(p->fd, &sf) < 0) {
		closefd(&p->fd);
		return EACCES;
	}
	if ((unsigned long)sf.f_type == PROC_SUPER_MAGIC) {
		p->proc = true;
		if (!proc_ok(c, p->canon, &p->magic)) {
			closefd(&p->fd);
			return EACCES;
		}
	}
	return 0;
}

static int join(char *out, const char *dir, const char *name)
{
	int n = snprintf(out, PATH_MAX, "%s/%s", strcmp(dir, "/") == 0 ? "" : dir, name);
	return n < 0 || n >= PATH_MAX ? ENAMETOOLONG : 0;
}

/* Would creating p's last component create (or, with ancestors, carry
 * content onto) a protected path? */
static bool refused(const struct sh_supervisor *s, const struct parent *p, bool ancestors)
{
	char full[PATH_MAX];
	if (join(full, p->canon, p->base) != 0)
		return true;
	if (sh_supervise_refused(s->names, s->nnames, full, ancestors))
		return true;
	struct stat st;
	bool have = false;
	for (size_t i = 0; i < s->nprot; i++) {
		const struct prot *pr = &s->prot[i];
		if (!pr->have_parent || strcasecmp(pr->base, p->base) != 0)
			continue;
		if (!have && fstat(p->fd, &st) < 0)
			return true;
		have = true;
		if (st.st_dev == pr->pdev && st.st_ino == pr->pino)
			return true;
	}
	return false;
}

/* Target of the symlink p's last component, as an absolute path with the
 * /proc/self forms rewritten.  0 or a positive errno. */
static int link_target(const struct call *c, const struct parent *p, char *out)
{
	char t[PATH_MAX], abs[PATH_MAX];
	ssize_t n = readlinkat(p->fd, p->base, t, sizeof(t) - 1);
	if (n < 0)
		return errno == EINVAL ? ELOOP : errno; /* no longer a symlink: raced */
	t[n] = '\0';
	if (t[0] != '/') {
		if (join(abs, p->canon, t) != 0)
			return ENAMETOOLONG;
	} else {
		strcpy(abs, t);
	}
	return rewrite_self(c, abs, out);
}

static void clear_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl >= 0 && (fl & O_NONBLOCK))
		(void)fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
}

/* The caller's controlling terminal (what /dev/tty means for it), reopened
 * through one of its fds. */
static int open_ctty(const struct call *c, int flags)
{
	char p[64], buf[1024];
	snprintf(p, sizeof(p), "/proc/%d/stat", (int)c->tid);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -ENXIO;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -ENXIO;
	buf[n] = '\0';
	char *q = strrchr(buf, ')');
	int ppid, pgrp, sid;
	unsigned tty_nr;
	char st;
	if (!q || sscanf(q + 1, " %c %d %d %d %u", &st, &ppid, &pgrp, &sid, &tty_nr) != 5 ||
	    tty_nr == 0)
		return -ENXIO;
	dev_t want = makedev((tty_nr >> 8) & 0xfff, (tty_nr & 0xff) | ((tty_nr >> 12) & 0xfff00));
	for (int k = 0; k < 64; k++) {
		struct stat sb;
		snprintf(p, sizeof(p), "/proc/%d/fd/%d", (int)c->tid, k);
		/* What the fd is now, held (the caller may swap it): checked,
		 * then reopened from our own hold, never blocking (a FIFO
		 * swapped in would stop init, and with it the session). */
		int h = open(p, O_PATH | O_CLOEXEC);
		if (h < 0)
			continue;
		if (fstat(h, &sb) < 0 || !S_ISCHR(sb.st_mode) || sb.st_rdev != want) {
			close(h);
			continue;
		}
		char self[64];
		snprintf(self, sizeof(self), "/proc/self/fd/%d", h);
		fd = open(self, (flags & ~(O_CREAT | O_EXCL | O_TRUNC | O_NOFOLLOW | O_DIRECTORY)) |
					O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
		int err = errno;
		close(h);
		if (fd >= 0 && !(flags & O_NONBLOCK))
			clear_nonblock(fd);
		return fd < 0 ? -err : fd;
	}
	return -ENXIO;
}


/* The caller's fd, opened for it: O_NONBLOCK only if it asked (init adds
 * it so that it never blocks), its O_CLOEXEC as asked. */
static void opened(struct result *r, int fd, uint64_t flags, uint64_t added)
{
	if ((added & O_NONBLOCK) && !(flags & O_NONBLOCK))
		clear_nonblock(fd);
	r->fd = fd;
	r->cloexec = flags & O_CLOEXEC;
}

/* Creations made for the caller get its umask of the moment (a system call
 * only when it differs from the one set for the call before); false when it
 * cannot be read (the caller is gone). */
static bool use_umask(const struct call *c)
{
	if (!caller_status(c))
		return false;
	if (c->s->umask != c->st->umask) {
		umask(c->st->umask);
		c->s->umask = c->st->umask;
	}
	return true;
}

/* Is fd, which init opened for the caller, something the caller may have?
 * Init's rights differ from the caller's only in /proc (its own entries, and
 * ptrace access to the caller's peers): an open that ended there through a
 * magic link or a symlink (/proc/<caller>/fd/N naming /proc/1/mem) must
 * stay below the caller's own /proc/<pid>, or on procfs outside any pid.
 * A FIFO waited for must still be one.  0, or a positive errno (fd closed). */
static int check_opened(const struct call *c, int fd, bool want_fifo) /* c: NULL, no /proc */
{
	struct statfs sf;
	struct stat st;
	if (fstatfs(fd, &sf) < 0 || fstat(fd, &st) < 0)
		goto refuse;
	if (want_fifo && !S_ISFIFO(st.st_mode))
		goto refuse;
	if ((unsigned long)sf.f_type == PROC_SUPER_MAGIC) {
		char link[64], path[PATH_MAX];
		if (!c)
			goto refuse;
		bool magic;
		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		ssize_t n = readlink(link, path, sizeof(path) - 1);
		if (n <= 0 || path[0] != '/')
			goto refuse;
		path[n] = '\0';
		if (!proc_ok(c, path, &magic))
			goto refuse;
	}
	return 0;
refuse:
	close(fd);
	return EACCES;
}

/* open/openat/creat with O_CREAT (and without O_PATH: the filter sends no
 * other): flags as the kernel will see them. */
static void op_open(struct call *c, int dfd, uint64_t addr, uint64_t flags, mode_t mode,
		    struct result *r)
{
	char raw[PATH_MAX], cur[PATH_MAX];
	int base = AT_FDCWD, e;
	struct parent p = { .fd = -1 };
	bool creating = (flags & O_CREAT) && !(flags & O_PATH);
	/* O_NONBLOCK so that init never blocks (on a FIFO); not needed for
	 * O_CREAT|O_EXCL, which makes a new regular file or fails. */
	bool excl = creating && (flags & O_EXCL);
	uint64_t extra = O_CLOEXEC | O_NOCTTY | ((flags & O_PATH) || excl ? 0 : O_NONBLOCK);

	if ((e = read_str(c, addr, raw)) || (e = rewrite_self(c, raw, cur)))
		goto out;
	if (!cur[0]) {
		e = ENOENT;
		goto out;
	}
	if ((e = open_base(c, dfd, cur, &base)))
		goto out;
	if (!id_valid(c->s, c->id)) {
		e = EPERM;
		goto out;
	}
	if (!creating) { /* not sent by the filter: never opened in init's stead */
		e = EPERM;
		goto out;
	}
	for (int hops = 0;; hops++) {
		if ((e = open_parent(c, base, cur, &p, dfd == AT_FDCWD ? &base : NULL)))
			goto out;
		if (p.dot) {
			e = EISDIR;
			goto out;
		}
		if (refused(c->s, &p, false)) {
			e = EACCES;
			goto out;
		}
		bool follow = !(flags & O_NOFOLLOW) && !(flags & O_EXCL) && !p.magic && !p.slash;
		uint64_t of = flags | extra;
		if (follow)
			of |= O_NOFOLLOW;
		if (!use_umask(c)) {
			e = EPERM; /* fail closed: gone */
			goto out;
		}
		int fd = openat(p.fd, p.name, (int)of, mode);
		if (fd < 0 && errno == ELOOP && follow) {
			if (hops >= MAX_HOPS || (e = link_target(c, &p, cur)))
				goto out;
			closefd(&p.fd);
			continue; /* cur is absolute now */
		}
		if (fd < 0 && errno == ENXIO) {
			struct stat st;
			if (fstatat(p.fd, p.name, &st, 0) == 0 && S_ISCHR(st.st_mode) &&
			    st.st_rdev == makedev(5, 0)) {
				fd = open_ctty(c, (int)flags);
				if (fd < 0) {
					e = -fd;
					goto out;
				}
			} else if (fstatat(p.fd, p.name, &st, 0) == 0 && S_ISFIFO(st.st_mode) &&
				   (flags & O_ACCMODE) == O_WRONLY && !(flags & O_NONBLOCK) &&
				   c->s->npend < MAX_PENDING) {
				struct pending *q = &c->s->pend[c->s->npend++];
				q->id = c->id;
				q->pfd = p.fd;
				p.fd = -1;
				snprintf(q->name, sizeof(q->name), "%s", p.name);
				q->oflags = (int)(of & ~(uint64_t)O_CREAT);
				q->cloexec = flags & O_CLOEXEC;
				r->deferred = true;
				goto out;
			} else {
				errno = ENXIO;
			}
		}
		if (fd < 0) {
			e = errno;
			goto out;
		}
		if ((e = check_opened(c, fd, false)))
			goto out;
		opened(r, fd, flags, extra);
		goto out;
	}
out:
	closefd(&p.fd);
	closefd(&base);
	r->err = e;
}

enum mk { MK_DIR, MK_NOD, MK_SYMLINK };

static void op_make(struct call *c, enum mk kind, int dfd, uint64_t addr, uint64_t target,
		    mode_t mode, dev_t dev, struct result *r)
{
	char raw[PATH_MAX], cur[PATH_MAX], tgt[PATH_MAX];
	int base = AT_FDCWD, e;
	struct parent p = { .fd = -1 };

	if ((e = read_str(c, addr, raw)) || (kind == MK_SYMLINK && (e = read_str(c, target, tgt))) ||
	    (e = rewrite_self(c, raw, cur)) || (e = open_base(c, dfd, cur, &base)))
		goto out;
	if (!id_valid(c->s, c->id)) {
		e = EPERM;
		goto out;
	}
	if (kind == MK_SYMLINK && !tgt[0]) {
		e = ENOENT;
		goto out;
	}
	if ((e = open_parent(c, base, cur, &p, dfd == AT_FDCWD ? &base : NULL)))
		goto out;
	if (p.dot) {
		e = EEXIST;
		goto out;
	}
	if (refused(c->s, &p, kind == MK_SYMLINK)) {
		e = EACCES;
		goto out;
	}
	if (!use_umask(c)) {
		e = EPERM; /* fail closed: gone */
		goto out;
	}
	int rc = kind == MK_DIR ? mkdirat(p.fd, p.name, mode)
		 : kind == MK_NOD ? mknodat(p.fd, p.name, mode, dev)
				  : symlinkat(tgt, p.fd, p.name);
	e = rc < 0 ? errno : 0;
out:
	closefd(&p.fd);
	closefd(&base);
	r->err = e;
}

/* link/linkat and rename/renameat/renameat2. */
static void op_two(struct call *c, bool is_link, int odfd, uint64_t oaddr, int ndfd, uint64_t naddr,
		   unsigned flags, struct result *r)
{
	char oraw[PATH_MAX], ocur[PATH_MAX], nraw[PATH_MAX], ncur[PATH_MAX];
	int obase = AT_FDCWD, nbase = AT_FDCWD, e;
	struct parent op = { .fd = -1 }, np = { .fd = -1 };
	bool empty_src = false;

	if (is_link && (flags & ~(unsigned)(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH))) {
		e = EINVAL;
		goto out;
	}
	if ((e = read_str(c, oaddr, oraw)) || (e = read_str(c, naddr, nraw)) ||
	    (e = rewrite_self(c, oraw, ocur)) || (e = rewrite_self(c, nraw, ncur)))
		goto out;
	if (is_link && !ocur[0] && (flags & AT_EMPTY_PATH)) {
		/* the file odfd refers to: through the caller's magic link */
		empty_src = true;
		if (odfd == AT_FDCWD)
			snprintf(ocur, sizeof(ocur), "/proc/%d/cwd", (int)c->tid);
		else
			snprintf(ocur, sizeof(ocur), "/proc/%d/fd/%d", (int)c->tid, odfd);
		flags = AT_SYMLINK_FOLLOW;
	}
	if ((e = open_base(c, odfd, ocur, &obase)) || (e = open_base(c, ndfd, ncur, &nbase)))
		goto out;
	if (!id_valid(c->s, c->id)) {
		e = EPERM;
		goto out;
	}
	if ((e = open_parent(c, obase, ocur, &op, NULL)) ||
	    (e = open_parent(c, nbase, ncur, &np, NULL)))
		goto out;
	if (op.dot || np.dot) {
		e = is_link ? (op.dot ? EPERM : EEXIST) : EBUSY;
		goto out;
	}
	/* A destination that is an ancestor of a protected path is refused for
	 * links too: a hard link of a symlink is a symlink there. */
	if (refused(c->s, &np, true) ||
	    (!is_link && (flags & RENAME_EXCHANGE) && refused(c->s, &op, true))) {
		e = EACCES;
		goto out;
	}
	if (is_link && (flags & AT_SYMLINK_FOLLOW) && !op.magic && !empty_src) {
		/* follow the source's final symlinks here, not in init's context */
		for (int hops = 0;; hops++) {
			struct stat st;
			if (fstatat(op.fd, op.base, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISLNK(st.st_mode))
				break;
			if (hops >= MAX_HOPS) {
				e = ELOOP;
				goto out;
			}
			if ((e = link_target(c, &op, ocur)))
				goto out;
			closefd(&op.fd);
			if ((e = open_parent(c, AT_FDCWD, ocur, &op, NULL)))
				goto out;
			if (op.dot) {
				e = EPERM;
				goto out;
			}
			if (op.magic)
				break;
		}
	}
	int rc;
	if (is_link)
		rc = linkat(op.fd, op.name, np.fd, np.name, (int)(flags & AT_SYMLINK_FOLLOW));
	else
		rc = (int)syscall(SYS_renameat2, op.fd, op.name, np.fd, np.name, flags);
	e = rc < 0 ? errno : 0;
out:
	closefd(&op.fd);
	closefd(&np.fd);
	closefd(&obase);
	closefd(&nbase);
	r->err = e;
}

/* Umask and thread group of the caller, from /proc/TID/status (once per
 * request, when first needed: generating that file is the costliest step
 * of a request). */
static bool caller_status(const struct call *c)
{
	struct callstat *st = c->st;
	char p[64], buf[4096];
	if (st->read)
		return st->ok;
	st->read = true;
	snprintf(p, sizeof(p), "/proc/%d/status", (int)c->tid);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	char *u = strstr(buf, "\nUmask:"), *t = strstr(buf, "\nTgid:");
	if (!u || !t)
		return false;
	st->umask = (mode_t)strtoul(u + 7, NULL, 8) & 0777;
	st->tgid = (pid_t)strtol(t + 6, NULL, 10);
	st->ok = st->tgid > 0;
	return st->ok;
}

static void dispatch(struct call *c, const struct seccomp_data *d, struct result *r)
{
	const __u64 *a = d->args;
	switch (d->nr) {
#ifdef __NR_open
	case __NR_open:
		op_open(c, AT_FDCWD, a[0], (uint32_t)a[1], (mode_t)a[2], r);
		break;
#endif
#ifdef __NR_creat
	case __NR_creat:
		op_open(c, AT_FDCWD, a[0], O_CREAT | O_WRONLY | O_TRUNC, (mode_t)a[1], r);
		break;
#endif
	case __NR_openat:
		op_open(c, (int)a[0], a[1], (uint32_t)a[2], (mode_t)a[3], r);
		break;
#ifdef __NR_mkdir
	case __NR_mkdir:
		op_make(c, MK_DIR, AT_FDCWD, a[0], 0, (mode_t)a[1], 0, r);
		break;
#endif
	case __NR_mkdirat:
		op_make(c, MK_DIR, (int)a[0], a[1], 0, (mode_t)a[2], 0, r);
		break;
#ifdef __NR_mknod
	case __NR_mknod:
		op_make(c, MK_NOD, AT_FDCWD, a[0], 0, (mode_t)a[1], (dev_t)(uint32_t)a[2], r);
		break;
#endif
	case __NR_mknodat:
		op_make(c, MK_NOD, (int)a[0], a[1], 0, (mode_t)a[2], (dev_t)(uint32_t)a[3], r);
		break;
#ifdef __NR_symlink
	case __NR_symlink:
		op_make(c, MK_SYMLINK, AT_FDCWD, a[1], a[0], 0, 0, r);
		break;
#endif
	case __NR_symlinkat:
		op_make(c, MK_SYMLINK, (int)a[1], a[2], a[0], 0, 0, r);
		break;
#ifdef __NR_link
	case __NR_link:
		op_two(c, true, AT_FDCWD, a[0], AT_FDCWD, a[1], 0, r);
		break;
#endif
	case __NR_linkat:
		op_two(c, true, (int)a[0], a[1], (int)a[2], a[3], (unsigned)a[4], r);
		break;
#ifdef __NR_rename
	case __NR_rename:
		op_two(c, false, AT_FDCWD, a[0], AT_FDCWD, a[1], 0, r);
		break;
#endif
#ifdef __NR_renameat
	case __NR_renameat:
		op_two(c, false, (int)a[0], a[1], (int)a[2], a[3], 0, r);
		break;
#endif
	case __NR_renameat2:
		op_two(c, false, (int)a[0], a[1], (int)a[2], a[3], (unsigned)a[4], r);
		break;
	default:
		r->err = EPERM;
		break;
	}
}

int sh_supervisor_handle(struct sh_supervisor *s)
{
	struct result r = { .fd = -1 };
	struct callstat st = { 0 };
	struct call c = { .s = s, .st = &st };

	memset(s->req, 0, s->reqsz);
	if (ioctl(s->fd, SECCOMP_IOCTL_NOTIF_RECV, s->req) < 0)
		return errno == EINTR || errno == ENOENT ? 0 : -1; /* ENOENT: the caller died */
	c.id = s->req->id;
	c.tid = (pid_t)s->req->pid;
	if (c.tid <= 0)
		r.err = EPERM;
	else
		dispatch(&c, &s->req->data, &r);
	answer_result(s, c.id, &r);
	return 0;
}

void sh_supervisor_tick(struct sh_supervisor *s)
{
	for (size_t i = 0; s && i < s->npend;) {
		struct pending *q = &s->pend[i];
		struct result r = { .fd = -1, .cloexec = q->cloexec };
		if (!id_valid(s, q->id)) {
			closefd(&q->pfd);
			s->pend[i] = s->pend[--s->npend];
			continue;
		}
		int fd = openat(q->pfd, q->name, q->oflags);
		if (fd < 0 && errno == ENXIO) {
			i++;
			continue;
		}
		if (fd < 0) {
			r.err = errno;
		} else if ((r.err = check_opened(NULL, fd, true)) == 0) {
			clear_nonblock(fd); /* the name may no longer be the FIFO seen */
			r.fd = fd;
		}
		uint64_t id = q->id;
		closefd(&q->pfd);
		s->pend[i] = s->pend[--s->npend];
		answer_result(s, id, &r);
	}
}
