/* Per-session private host directory with a guardian (see sessdir.h). */
#include "cli/sessdir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "enforce/harden.h"
#include "util/path.h"
#include "util/str.h"

/* Longest name put in the directory (socket paths are limited). */
#define SESSDIR_MAX_NAME 16

void sh_sessdir_init(struct sh_sessdir *s)
{
	s->path = NULL;
	s->guardian = -1;
	s->life_w = -1;
}

/* $XDG_RUNTIME_DIR when it is really the user's own (a directory owned by
 * us, writable by nobody else) and short enough for a socket path below
 * it; else /tmp.  Canonical: the bind refuses symlinks. */
static char *base_dir(const char *tag)
{
	const char *rt = getenv("XDG_RUNTIME_DIR");
	struct sockaddr_un ua;
	struct stat st;
	char *canon = NULL;
	struct sh_err ignored;
	size_t extra = strlen("/safehouse-") + strlen(tag) + strlen("-XXXXXX/") + SESSDIR_MAX_NAME;

	if (rt && rt[0] == '/' && !sh_has_ctl(rt) && sh_path_canon(rt, &canon, &ignored) == 0 &&
	    strlen(canon) + extra < sizeof(ua.sun_path) && lstat(canon, &st) == 0 &&
	    S_ISDIR(st.st_mode) && st.st_uid == geteuid() && !(st.st_mode & 022))
		return canon;
	free(canon);
	canon = NULL;
	if (sh_path_canon("/tmp", &canon, &ignored) < 0)
		return sh_xstrdup("/tmp");
	return canon;
}

/* Unlink every entry of the directory dfd (no subdirectories are ever
 * created), then the directory.  Quiet: used by the guardian too. */
static void empty_and_remove(int dfd, const char *path)
{
	int d2 = dfd >= 0 ? fcntl(dfd, F_DUPFD_CLOEXEC, 3) : -1;
	DIR *dir = d2 >= 0 ? fdopendir(d2) : NULL;
	struct dirent *de;

	if (d2 >= 0 && !dir)
		close(d2);
	while (dir && (de = readdir(dir))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		(void)unlinkat(dfd, de->d_name, 0);
	}
	if (dir)
		closedir(dir);
	(void)rmdir(path);
}

__attribute__((noreturn)) static void guardian_main(const char *path, int dfd, int life_r)
{
	struct sh_err e = { 0 };
	sigset_t none;
	char ch;

	/* Its own session: the terminal's ^C and hang-up are the command's. */
	(void)setsid();
	prctl(PR_SET_NAME, "safehouse-guard", 0, 0, 0);
	for (int s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP)
			signal(s, s == SIGHUP || s == SIGINT || s == SIGQUIT || s == SIGPIPE ||
					  s == SIGTSTP || s == SIGTTIN || s == SIGTTOU
				  ? SIG_IGN
				  : SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	int keep[] = { dfd, life_r };
	if (sh_close_fds_except(keep, 2, &e) < 0)
		_exit(1);
	/* EOF: the launcher closed its end, or is gone. */
	for (;;) {
		ssize_t n = read(life_r, &ch, 1);
		if (n == 0 || (n < 0 && errno != EINTR))
			break;
	}
	empty_and_remove(dfd, path);
	_exit(0);
}

int sh_sessdir_create(struct sh_sessdir *s, const char *tag, struct sh_err *e)
{
	char *base = base_dir(tag);
	int lp[2], dfd;
	pid_t pid;

	s->path = sh_xasprintf("%s/safehouse-%s-XXXXXX", base, tag);
	free(base);
	if (!mkdtemp(s->path)) {
		int err = errno;
		sh_fail(e, SH_EXIT_SETUP, err, "cannot create a private directory '%s'", s->path);
		free(s->path);
		s->path = NULL;
		return -1;
	}
	dfd = open(s->path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0 || pipe2(lp, O_CLOEXEC) < 0) {
		int err = errno;
		if (dfd >= 0)
			close(dfd);
		return sh_fail(e, SH_EXIT_SETUP, err, "private directory '%s'", s->path);
	}
	fflush(NULL);
	pid = fork();
	if (pid == 0)
		guardian_main(s->path, dfd, lp[0]);
	close(dfd);
	close(lp[0]);
	s->life_w = lp[1];
	if (pid < 0)
		return sh_fail(e, SH_EXIT_SETUP, errno, "cannot start the guardian of '%s'", s->path);
	s->guardian = pid;
	return 0;
}

char *sh_sessdir_file(const struct sh_sessdir *s, const char *name)
{
	return sh_path_join(s->path, name);
}

void sh_sessdir_remove(struct sh_sessdir *s)
{
	if (s->life_w >= 0)
		close(s->life_w);
	s->life_w = -1;
	if (s->guardian > 0)
		while (waitpid(s->guardian, NULL, 0) < 0 && errno == EINTR)
			;
	s->guardian = -1;
	if (s->path) {
		int dfd = open(s->path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (dfd >= 0) {
			empty_and_remove(dfd, s->path);
			close(dfd);
		}
		if (access(s->path, F_OK) == 0)
			sh_warn("cannot remove the session directory '%s'", s->path);
	}
	free(s->path);
	s->path = NULL;
}

void sh_sessdir_bind(struct sh_plan *plan, const char *path, bool writable, const char *why)
{
	struct sh_origin o = { why, 0, 0 };

	if (plan->use_userns) /* appended: after /tmp's tmpfs and every skeleton */
		sh_plan_add_mount(plan, SH_MNT_BIND, path, writable, false, &o);
	sh_plan_add_ll(plan, path, SH_ACC_READ | (writable ? SH_ACC_WRITE : 0));
}

void sh_plan_env_put(struct sh_plan *plan, const char *name, const char *value)
{
	size_t n = 0, w = 0, len = strlen(name);
	char **v;

	while (plan->envp && plan->envp[n])
		n++;
	v = sh_xcalloc(n + 2, sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		if (strncmp(plan->envp[i], name, len) == 0 && plan->envp[i][len] == '=')
			free(plan->envp[i]);
		else
			v[w++] = plan->envp[i];
	}
	if (value)
		v[w++] = sh_xasprintf("%s=%s", name, value);
	v[w] = NULL;
	free(plan->envp);
	plan->envp = v;
}
