/* Feature probing with reasons and fixes. */
#include "enforce/hostcheck.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "enforce/harden.h"
#include "enforce/landlock.h"

static bool set(struct sh_check *c, const char *name, enum sh_check_status st, const char *hint,
		const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static bool set(struct sh_check *c, const char *name, enum sh_check_status st, const char *hint,
		const char *fmt, ...)
{
	va_list ap;
	c->name = name;
	c->status = st;
	va_start(ap, fmt);
	vsnprintf(c->detail, sizeof(c->detail), fmt, ap);
	va_end(ap);
	snprintf(c->hint, sizeof(c->hint), "%s", hint ? hint : "");
	return st != SH_CHECK_FAIL;
}

const char *sh_check_status_name(enum sh_check_status s)
{
	switch (s) {
	case SH_CHECK_OK:
		return "ok";
	case SH_CHECK_WARN:
		return "warn";
	case SH_CHECK_FAIL:
		return "FAIL";
	default:
		return "?";
	}
}

/* Reads an integer sysctl; -1 if absent or unreadable. */
static long sysctl_long(const char *path)
{
	long v = -1;
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	if (fscanf(f, "%ld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

struct probe_result {
	int step; /* 0 ok, else which step failed */
	int err;
};

static const char *const userns_steps[] = {
	"ok", "unshare(CLONE_NEWUSER)", "writing uid_map/gid_map",
	"unshare(mount/pid/net/ipc/uts)", "mounting a tmpfs", "fork",
};

static void probe_child(int fd)
{
	struct probe_result r = { 0, 0 };
	char buf[64];
	uid_t uid = geteuid();
	gid_t gid = getegid();

#define STEP(n, cond)                     \
	do {                              \
		if (!(cond)) {            \
			r.step = (n);     \
			r.err = errno;    \
			goto out;         \
		}                         \
	} while (0)
	prctl(PR_SET_DUMPABLE, 1, 0, 0, 0); /* our own /proc files must stay writable */
	STEP(1, unshare(CLONE_NEWUSER) == 0);
	int f = open("/proc/self/setgroups", O_WRONLY | O_CLOEXEC);
	if (f >= 0) {
		(void)sh_write_all(f, "deny", 4);
		close(f);
	}
	snprintf(buf, sizeof(buf), "%u %u 1", (unsigned)uid, (unsigned)uid);
	f = open("/proc/self/uid_map", O_WRONLY | O_CLOEXEC);
	STEP(2, f >= 0 && sh_write_all(f, buf, strlen(buf)) == 0);
	close(f);
	snprintf(buf, sizeof(buf), "%u %u 1", (unsigned)gid, (unsigned)gid);
	f = open("/proc/self/gid_map", O_WRONLY | O_CLOEXEC);
	STEP(2, f >= 0 && sh_write_all(f, buf, strlen(buf)) == 0);
	close(f);
	STEP(3, unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS) == 0);
	STEP(4, mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0);
	/* Stacked on "/" of our private namespace: invisible to anyone else. */
	STEP(4, mount("none", "/", "tmpfs", MS_NOSUID | MS_NODEV, "size=4k") == 0);
	pid_t p = fork(); /* first child in the new pid namespace */
	STEP(5, p >= 0);
	if (p == 0)
		_exit(0);
	waitpid(p, NULL, 0);
#undef STEP
out:
	(void)sh_write_all(fd, &r, sizeof(r));
	_exit(0);
}

bool sh_hostcheck_userns(struct sh_check *c)
{
	const char *name = "user namespaces";
	int p[2];
	struct probe_result r = { -1, 0 };

	if (pipe2(p, O_CLOEXEC) < 0)
		return set(c, name, SH_CHECK_FAIL, NULL, "cannot probe: %s", strerror(errno));
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return set(c, name, SH_CHECK_FAIL, NULL, "cannot probe: %s", strerror(errno));
	}
	if (pid == 0) {
		close(p[0]);
		probe_child(p[1]);
	}
	close(p[1]);
	if (sh_read_full(p[0], &r, sizeof(r)) != (ssize_t)sizeof(r))
		r.step = -1;
	close(p[0]);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	if (r.step == 0)
		return set(c, name, SH_CHECK_OK, NULL, "unprivileged user namespaces work");
	if (r.step < 0)
		return set(c, name, SH_CHECK_FAIL, NULL, "the probe died");

	const char *step = userns_steps[r.step];
	if (sysctl_long("/proc/sys/kernel/unprivileged_userns_clone") == 0)
		return set(c, name, SH_CHECK_FAIL,
			   "sudo sysctl -w kernel.unprivileged_userns_clone=1 (persist it in "
			   "/etc/sysctl.d/99-safehouse.conf)",
			   "%s: %s; kernel.unprivileged_userns_clone=0", step, strerror(r.err));
	if (sysctl_long("/proc/sys/user/max_user_namespaces") == 0)
		return set(c, name, SH_CHECK_FAIL,
			   "sudo sysctl -w user.max_user_namespaces=15000 (persist it in "
			   "/etc/sysctl.d/99-safehouse.conf)",
			   "%s: %s; user.max_user_namespaces=0", step, strerror(r.err));
	if (sysctl_long("/proc/sys/kernel/apparmor_restrict_unprivileged_userns") == 1)
		return set(c, name, SH_CHECK_FAIL,
			   "AppArmor restricts unprivileged user namespaces (Ubuntu 23.10+). Allow "
			   "safehouse only: create /etc/apparmor.d/safehouse with\n"
			   "  abi <abi/4.0>,\n  include <tunables/global>\n"
			   "  profile safehouse /usr/local/bin/safehouse flags=(unconfined) {\n"
			   "    userns,\n  }\n"
			   "then: sudo apparmor_parser -r /etc/apparmor.d/safehouse "
			   "(adjust the path to the installed binary)",
			   "%s: %s; kernel.apparmor_restrict_unprivileged_userns=1", step,
			   strerror(r.err));
	if (r.err == EPERM && access("/.dockerenv", F_OK) == 0)
		return set(c, name, SH_CHECK_FAIL,
			   "inside Docker the default seccomp profile blocks unshare: run the "
			   "container with --security-opt seccomp=unconfined (or a profile allowing "
			   "unshare/clone with CLONE_NEWUSER), or use the Landlock-only fallback",
			   "%s: %s (container seccomp profile)", step, strerror(r.err));
	return set(c, name, SH_CHECK_FAIL,
		   "a seccomp filter (container runtime?) or an LSM denies it; safehouse falls "
		   "back to Landlock + seccomp only (weaker: no mount view, no pid/net isolation)",
		   "%s: %s", step, strerror(r.err));
}

bool sh_hostcheck_landlock(struct sh_check *c, int *abi_out)
{
	int err = 0;
	int abi = sh_landlock_abi(&err);
	if (abi_out)
		*abi_out = abi;
	if (abi < 0) {
		const char *hint =
			err == EOPNOTSUPP
				? "Landlock is built but disabled: add \"landlock\" to the lsm= kernel "
				  "parameter (e.g. lsm=landlock,lockdown,yama,integrity,apparmor,bpf)"
				: "the kernel lacks Landlock (CONFIG_SECURITY_LANDLOCK, Linux >= 5.13), or "
				  "a container's seccomp filter blocks it";
		return set(c, "landlock", SH_CHECK_FAIL, hint, "unavailable: %s", strerror(err));
	}
	if (abi < 6)
		return set(c, "landlock", SH_CHECK_WARN,
			   "Linux >= 6.12 adds signal and abstract-socket scoping (ABI 6); 6.7 adds "
			   "TCP rules (ABI 4), needed by --network=filtered without a namespace",
			   "ABI %d", abi);
	return set(c, "landlock", SH_CHECK_OK, NULL, "ABI %d", abi);
}

bool sh_hostcheck_seccomp(struct sh_check *c)
{
	int p[2], st = 0;
	int err = 0;

	if (pipe2(p, O_CLOEXEC) < 0)
		return set(c, "seccomp", SH_CHECK_FAIL, NULL, "cannot probe: %s", strerror(errno));
	pid_t pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return set(c, "seccomp", SH_CHECK_FAIL, NULL, "cannot probe: %s", strerror(errno));
	}
	if (pid == 0) {
		struct sock_filter allow[] = { BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW) };
		struct sock_fprog prog = { 1, allow };
		int r = 0;
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
		    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog) < 0)
			r = errno;
		(void)sh_write_all(p[1], &r, sizeof(r));
		_exit(0);
	}
	close(p[1]);
	if (sh_read_full(p[0], &err, sizeof(err)) != (ssize_t)sizeof(err))
		err = EIO;
	close(p[0]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (err)
		return set(c, "seccomp", SH_CHECK_FAIL,
			   "the kernel needs CONFIG_SECCOMP_FILTER; inside a container, the runtime "
			   "may forbid nested filters",
			   "cannot load a filter: %s", strerror(err));
	return set(c, "seccomp", SH_CHECK_OK, NULL, "filters with TSYNC work");
}

bool sh_hostcheck_kernel(struct sh_check *c, int *major, int *minor)
{
	struct utsname u;
	int ma = 0, mi = 0;
	if (uname(&u) < 0 || sscanf(u.release, "%d.%d", &ma, &mi) != 2)
		return set(c, "kernel", SH_CHECK_FAIL, NULL, "cannot read the kernel version");
	if (major)
		*major = ma;
	if (minor)
		*minor = mi;
	int v = ma * 1000 + mi;
	if (v < 5013)
		return set(c, "kernel", SH_CHECK_FAIL,
			   "Linux >= 5.13 is needed (Landlock); >= 6.12 recommended",
			   "%s: too old (no Landlock)", u.release);
	if (v < 6012)
		return set(c, "kernel", SH_CHECK_WARN,
			   "Linux >= 6.12 recommended (Landlock scoping of signals and abstract "
			   "sockets)", "%s", u.release);
	return set(c, "kernel", SH_CHECK_OK, NULL, "%s", u.release);
}

bool sh_hostcheck_tiocsti(struct sh_check *c)
{
	long v = sysctl_long("/proc/sys/dev/tty/legacy_tiocsti");
	const char *hint = "sudo sysctl -w dev.tty.legacy_tiocsti=0 (safehouse already blocks "
			   "TIOCSTI inside: own pty, new session, seccomp)";
	if (v == 0)
		return set(c, "TIOCSTI", SH_CHECK_OK, NULL, "dev.tty.legacy_tiocsti=0");
	if (v < 0)
		return set(c, "TIOCSTI", SH_CHECK_WARN,
			   "Linux >= 6.2 can disable TIOCSTI for everyone (dev.tty.legacy_tiocsti=0)",
			   "no dev.tty.legacy_tiocsti sysctl (kernel before 6.2): TIOCSTI allowed");
	return set(c, "TIOCSTI", SH_CHECK_WARN, hint,
		   "dev.tty.legacy_tiocsti=1: terminal input injection allowed host-wide");
}

size_t sh_hostcheck_all(struct sh_check *out, size_t max)
{
	size_t n = 0;
	if (n < max)
		sh_hostcheck_kernel(&out[n++], NULL, NULL);
	if (n < max)
		sh_hostcheck_userns(&out[n++]);
	if (n < max)
		sh_hostcheck_landlock(&out[n++], NULL);
	if (n < max)
		sh_hostcheck_seccomp(&out[n++]);
	if (n < max)
		sh_hostcheck_tiocsti(&out[n++]);
	return n;
}
