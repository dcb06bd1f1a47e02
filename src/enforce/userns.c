/* Namespaces and id maps (style.md P7: unprivileged user namespaces only,
 * never setuid). */
#include "enforce/userns.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "enforce/harden.h"

#ifndef SYS_clone3
#define SYS_clone3 435
#endif
#ifndef CLONE_NEWCGROUP
#define CLONE_NEWCGROUP 0x02000000
#endif

unsigned long sh_userns_flags(enum sh_net_mode net)
{
	unsigned long f = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC |
			  CLONE_NEWUTS | CLONE_NEWCGROUP;
	switch (net) {
	case SH_NETMODE_FULL:
		break;
	case SH_NETMODE_NONE:
	case SH_NETMODE_FILTERED:
		f |= CLONE_NEWNET;
		break;
	default:
		f |= CLONE_NEWNET; /* unknown mode: the safe choice */
		break;
	}
	return f;
}

/* Our own copy of struct clone_args (CLONE_ARGS_SIZE_VER0 = 64 bytes). */
struct sh_clone_args {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
};

static int userns_hint(struct sh_err *e, int err)
{
	FILE *f;
	int v = -1;

	if (err == ENOSPC)
		return sh_hint(e, "user namespaces are limited to 0 or exhausted: "
				  "sysctl -w user.max_user_namespaces=15000");
	if (err != EPERM && err != EACCES)
		return -1;
	if ((f = fopen("/proc/sys/kernel/unprivileged_userns_clone", "re"))) {
		if (fscanf(f, "%d", &v) != 1)
			v = -1;
		fclose(f);
		if (v == 0)
			return sh_hint(e, "unprivileged user namespaces are disabled: "
					  "sysctl -w kernel.unprivileged_userns_clone=1 "
					  "(or run 'safehouse doctor')");
	}
	return sh_hint(e, "user namespaces are blocked (container seccomp profile or AppArmor?); "
			  "run 'safehouse doctor' for the cause and the fix");
}

pid_t sh_userns_clone(unsigned long flags, struct sh_err *e)
{
	struct sh_clone_args a;
	long r;

	memset(&a, 0, sizeof(a));
	a.flags = flags;
	a.exit_signal = SIGCHLD;
	r = syscall(SYS_clone3, &a, sizeof(a));
	if (r < 0 && errno == ENOSYS)
		/* Pre-5.3: clone() with a NULL stack behaves like fork(); with
		 * every other argument 0 the per-arch argument order is moot. */
		r = syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);
	if (r < 0) {
		int err = errno;
		sh_fail(e, SH_EXIT_SETUP, err, SH_USERNS_FAIL_MSG);
		return userns_hint(e, err);
	}
	return (pid_t)r;
}

static int write_proc(const char *file, const char *data, struct sh_err *e)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/%s", file);
	int fd SH_AUTOCLOSE = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return sh_fail(e, SH_EXIT_SETUP, errno, "cannot open %s", path);
	if (sh_write_all(fd, data, strlen(data)) < 0)
		return sh_fail(e, SH_EXIT_SETUP, errno, "cannot write '%s' to %s", data, path);
	return 0;
}

int sh_userns_map_self(uid_t uid, gid_t gid, struct sh_err *e)
{
	char buf[64];
	int rc = 0;

	/* Our /proc files belong to root while we are not dumpable. */
	if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0)
		return sh_fail(e, SH_EXIT_SETUP, errno, "namespaces: cannot become dumpable");
	/* ENOENT: kernels before 3.19 have no setgroups file (and allow the
	 * map anyway). */
	if (write_proc("setgroups", "deny", e) < 0 && e->errnum != ENOENT)
		rc = -1;
	snprintf(buf, sizeof(buf), "%u %u 1\n", (unsigned)uid, (unsigned)uid);
	if (rc == 0 && write_proc("uid_map", buf, e) < 0)
		rc = -1;
	snprintf(buf, sizeof(buf), "%u %u 1\n", (unsigned)gid, (unsigned)gid);
	if (rc == 0 && write_proc("gid_map", buf, e) < 0)
		rc = -1;
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0 && rc == 0)
		return sh_fail(e, SH_EXIT_SETUP, errno, "namespaces: cannot become undumpable again");
	if (rc == 0)
		return 0;
	/* Denied: the namespace gave us no capability in it (an LSM such as
	 * Ubuntu's AppArmor restriction), so it is unusable, as if it could
	 * not be created at all: the message says so, and the caller falls
	 * back. */
	int err = e->errnum;
	char why[sizeof(e->msg)];
	snprintf(why, sizeof(why), "%s", e->msg);
	if (err != EPERM && err != EACCES)
		return sh_fail(e, SH_EXIT_SETUP, err, "namespaces: %s", why);
	sh_fail(e, SH_EXIT_SETUP, err, SH_USERNS_FAIL_MSG " (no capability in it: %s)", why);
	return userns_hint(e, err);
}

int sh_uts_set_hostname(const char *name, struct sh_err *e)
{
	if (sethostname(name, strlen(name)) < 0)
		return sh_fail(e, SH_EXIT_SETUP, errno, "hostname: cannot set '%s'", name);
	return 0;
}

int sh_netns_lo_up(struct sh_err *e)
{
	struct ifreq ifr;
	int s SH_AUTOCLOSE = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return sh_fail(e, SH_EXIT_SETUP, errno, "network: cannot create a socket");
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, "lo", 3);
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		return sh_fail(e, SH_EXIT_SETUP, errno, "network: cannot read the flags of lo");
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		return sh_fail(e, SH_EXIT_SETUP, errno, "network: cannot bring lo up");
	return 0;
}
