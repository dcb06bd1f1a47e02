#include "enforce/limits.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/fdio.h"
#include "util/str.h"

static int write_file(const char *dir, const char *name, const char *val)
{
	char path[4096];
	int fd, rc;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	rc = sh_write_all(fd, val, strlen(val));
	if (close(fd) < 0)
		rc = -1;
	return rc;
}

/* Our cgroup path in a hierarchy: the line "N:CONTROLLERS:/path" whose
 * controller list contains ctl ("" for the v2 line "0::/path"). */
static char *own_cgroup(const char *ctl)
{
	FILE *f = fopen("/proc/self/cgroup", "re");
	char line[4096], *r = NULL;

	if (!f)
		return NULL;
	while (!r && fgets(line, sizeof(line), f)) {
		char *a = strchr(line, ':'), *b = a ? strchr(a + 1, ':') : NULL;
		if (!b)
			continue;
		*b = '\0';
		line[strcspn(line, "\n")] = '\0';
		b[1 + strcspn(b + 1, "\n")] = '\0';
		struct sh_strv ctls = { 0 };
		sh_strv_split(&ctls, a + 1, ',');
		if ((!*ctl && !a[1]) || (*ctl && sh_strv_contains(&ctls, ctl)))
			r = sh_xstrdup(b + 1);
		sh_strv_free(&ctls);
	}
	fclose(f);
	return r;
}

static bool has_word(const char *file, const char *word)
{
	FILE *f = fopen(file, "re");
	char buf[1024];
	bool hit = false;

	if (!f)
		return false;
	while (!hit && fscanf(f, "%1023s", buf) == 1)
		hit = strcmp(buf, word) == 0;
	fclose(f);
	return hit;
}

static char *make_child(const char *mount, const char *own)
{
	char *dir = sh_xasprintf("%s%s/safehouse-%d", mount, strcmp(own, "/") ? own : "",
				 (int)getpid());
	if (mkdir(dir, 0755) < 0) {
		free(dir);
		return NULL;
	}
	return dir;
}

static bool try_cgroup2(struct sh_limits *l)
{
	static const char *const mounts[] = { "/sys/fs/cgroup", "/sys/fs/cgroup/unified", NULL };
	char *own = own_cgroup("");

	for (size_t i = 0; own && mounts[i] && !l->dirs[0]; i++) {
		char *parent = sh_xasprintf("%s%s/cgroup.subtree_control", mounts[i],
					    strcmp(own, "/") ? own : "");
		bool ok = (!l->max_procs || has_word(parent, "pids")) &&
			  (!l->max_memory || has_word(parent, "memory"));
		free(parent);
		if (ok)
			l->dirs[0] = make_child(mounts[i], own);
	}
	free(own);
	if (!l->dirs[0])
		return false;
	char v[32];
	bool ok = true;
	if (l->max_procs) {
		snprintf(v, sizeof(v), "%ld", l->max_procs);
		ok = write_file(l->dirs[0], "pids.max", v) == 0;
	}
	if (ok && l->max_memory) {
		snprintf(v, sizeof(v), "%llu", (unsigned long long)l->max_memory);
		ok = write_file(l->dirs[0], "memory.max", v) == 0;
		(void)write_file(l->dirs[0], "memory.oom.group", "1");
	}
	if (!ok) {
		rmdir(l->dirs[0]);
		free(l->dirs[0]);
		l->dirs[0] = NULL;
	}
	return ok;
}

static bool try_cgroup1(struct sh_limits *l)
{
	char v[32];

	if (l->max_procs) {
		char *own = own_cgroup("pids");
		l->dirs[0] = own ? make_child("/sys/fs/cgroup/pids", own) : NULL;
		free(own);
		snprintf(v, sizeof(v), "%ld", l->max_procs);
		if (!l->dirs[0] || write_file(l->dirs[0], "pids.max", v) < 0)
			return false;
	}
	if (l->max_memory) {
		char *own = own_cgroup("memory");
		l->dirs[1] = own ? make_child("/sys/fs/cgroup/memory", own) : NULL;
		free(own);
		snprintf(v, sizeof(v), "%llu", (unsigned long long)l->max_memory);
		if (!l->dirs[1] || write_file(l->dirs[1], "memory.limit_in_bytes", v) < 0)
			return false;
	}
	return true;
}

int sh_limits_prepare(struct sh_limits *l, struct sh_err *e)
{
	if (!l->max_procs && !l->max_memory)
		return 0;
	if (try_cgroup2(l)) {
		l->kind = SH_LIMITS_CGROUP2;
		return 0;
	}
	if (try_cgroup1(l)) {
		l->kind = SH_LIMITS_CGROUP1;
		return 0;
	}
	sh_limits_cleanup(l);
	if (l->max_procs && geteuid() == 0)
		return sh_fail(e, SH_EXIT_SETUP, 0, "limits: --max-procs cannot be enforced for root "
			       "without a writable cgroup (RLIMIT_NPROC does not apply to uid 0)");
	l->kind = SH_LIMITS_RLIMIT;
	return 0;
}

int sh_limits_attach(const struct sh_limits *l, pid_t pid, struct sh_err *e)
{
	char v[32];

	snprintf(v, sizeof(v), "%d", (int)pid);
	for (size_t i = 0; i < 2; i++)
		if (l->dirs[i] && write_file(l->dirs[i], "cgroup.procs", v) < 0)
			return sh_fail(e, SH_EXIT_SETUP, errno, "limits: cannot move the sandbox into "
				       "'%s'", l->dirs[i]);
	return 0;
}

int sh_limits_apply_rlimits(const struct sh_limits *l, struct sh_err *e)
{
	if (l->kind != SH_LIMITS_RLIMIT)
		return 0;
	if (l->max_procs) {
		struct rlimit r = { (rlim_t)l->max_procs, (rlim_t)l->max_procs };
		if (setrlimit(RLIMIT_NPROC, &r) < 0)
			return sh_fail(e, SH_EXIT_SETUP, errno, "limits: setrlimit(RLIMIT_NPROC)");
	}
	if (l->max_memory) {
		struct rlimit r = { (rlim_t)l->max_memory, (rlim_t)l->max_memory };
		if (setrlimit(RLIMIT_AS, &r) < 0)
			return sh_fail(e, SH_EXIT_SETUP, errno, "limits: setrlimit(RLIMIT_AS)");
	}
	return 0;
}

void sh_limits_cleanup(struct sh_limits *l)
{
	for (size_t i = 0; i < 2; i++) {
		if (!l->dirs[i])
			continue;
		/* Normally empty already: the pid namespace died with its init. */
		(void)write_file(l->dirs[i], "cgroup.kill", "1");
		for (int tries = 0; tries < 100 && rmdir(l->dirs[i]) < 0 && errno == EBUSY; tries++)
			usleep(2000);
		free(l->dirs[i]);
		l->dirs[i] = NULL;
	}
}

const char *sh_limits_kind_name(enum sh_limits_kind k)
{
	switch (k) {
	case SH_LIMITS_NONE: return "none";
	case SH_LIMITS_CGROUP2: return "cgroup v2";
	case SH_LIMITS_CGROUP1: return "cgroup v1";
	case SH_LIMITS_RLIMIT: return "rlimits (RLIMIT_NPROC per uid, RLIMIT_AS)";
	default: return "?";
	}
}
