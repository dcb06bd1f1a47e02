/* Launcher hardening and capability/fd hygiene (style.md P5, P6, P9). */
#include "enforce/harden.h"

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif

int sh_harden_self(struct sh_err *e)
{
	struct rlimit rl = { 0, 0 };

	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return sh_fail(e, SH_EXIT_SETUP, errno, "harden: cannot clear the dumpable flag");
	if (setrlimit(RLIMIT_CORE, &rl) < 0)
		return sh_fail(e, SH_EXIT_SETUP, errno, "harden: cannot disable core dumps");
	return 0;
}

static int caps_get(struct __user_cap_data_struct d[2])
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	return (int)syscall(SYS_capget, &h, d);
}

static int caps_set_zero(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	memset(d, 0, sizeof(d));
	return (int)syscall(SYS_capset, &h, d);
}

int sh_drop_caps(struct sh_err *e)
{
	struct __user_cap_data_struct d[2];

	if (caps_get(d) < 0)
		return sh_fail(e, SH_EXIT_SETUP, errno, "drop capabilities: capget failed");
	bool have_setpcap = d[0].effective & (1u << CAP_SETPCAP);

	/* Bounding set first: dropping it needs CAP_SETPCAP, which capset(0)
	 * below removes.  A root uid that keeps a full bounding set would get
	 * every capability back at execve, so that case fails closed. */
	for (int cap = 0; cap < 64; cap++) {
		if (have_setpcap) { /* drop without asking first: half the calls */
			if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0)
				continue;
			if (errno == EINVAL)
				break; /* past CAP_LAST_CAP */
			return sh_fail(e, SH_EXIT_SETUP, errno,
				       "drop capabilities: cannot drop capability %d from the bounding set",
				       cap);
		}
		int r = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
		if (r < 0)
			break; /* EINVAL: past CAP_LAST_CAP */
		if (r == 0)
			continue;
		/* one left that we cannot drop */
		if (geteuid() == 0 || getuid() == 0)
			return sh_fail(e, SH_EXIT_SETUP, EPERM,
				       "drop capabilities: cannot drop the bounding set as root");
		break;
	}
	/* EINVAL: kernel before 4.3 has no ambient set, nothing to clear. */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return sh_fail(e, SH_EXIT_SETUP, errno, "drop capabilities: cannot clear the ambient set");
	if (caps_set_zero() < 0)
		return sh_fail(e, SH_EXIT_SETUP, errno, "drop capabilities: capset failed");
	if (caps_get(d) < 0)
		return sh_fail(e, SH_EXIT_SETUP, errno, "drop capabilities: capget failed");
	for (int i = 0; i < 2; i++)
		if (d[i].effective || d[i].permitted || d[i].inheritable)
			return sh_fail(e, SH_EXIT_SETUP, 0,
				       "drop capabilities: capabilities still present after capset");
	return 0;
}

int sh_set_no_new_privs(struct sh_err *e)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return sh_fail(e, SH_EXIT_SETUP, errno, "no_new_privs: prctl failed");
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		return sh_fail(e, SH_EXIT_SETUP, 0, "no_new_privs: flag not set after prctl");
	return 0;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

int sh_close_fds_except(const int *keep, size_t nkeep, struct sh_err *e)
{
	int sorted[16];
	size_t n = 0;

	if (nkeep > sizeof(sorted) / sizeof(sorted[0]))
		return sh_fail(e, SH_EXIT_SETUP, EINVAL, "close fds: keep list too long");
	for (size_t i = 0; i < nkeep; i++)
		if (keep[i] >= 0)
			sorted[n++] = keep[i];
	qsort(sorted, n, sizeof(int), cmp_int);
	unsigned lo = 0;
	for (size_t i = 0; i <= n; i++) {
		unsigned hi = i < n ? (unsigned)sorted[i] : ~0U;
		if (hi > lo && syscall(SYS_close_range, lo, hi - 1, 0) < 0)
			return sh_fail(e, SH_EXIT_SETUP, errno, "close fds: close_range failed");
		if (i < n)
			lo = (unsigned)sorted[i] + 1;
	}
	return 0;
}

int sh_cloexec_from(int from, struct sh_err *e)
{
	if (syscall(SYS_close_range, (unsigned)from, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return sh_fail(e, SH_EXIT_SETUP, errno, "close fds: close_range failed");
	/* Before 5.11: walk the whole table (bounded by RLIMIT_NOFILE). */
	long max = sysconf(_SC_OPEN_MAX);
	if (max < 0 || max > 1 << 20)
		max = 1 << 20;
	for (int fd = from; fd < max; fd++) {
		int fl = fcntl(fd, F_GETFD);
		if (fl >= 0 && !(fl & FD_CLOEXEC) && fcntl(fd, F_SETFD, fl | FD_CLOEXEC) < 0)
			return sh_fail(e, SH_EXIT_SETUP, errno, "close fds: cannot mark fd %d", fd);
	}
	return 0;
}

int sh_thread_count(void)
{
	DIR *d = opendir("/proc/self/task");
	int n = 0;
	if (!d)
		return -1;
	for (struct dirent *de; (de = readdir(d));)
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}
