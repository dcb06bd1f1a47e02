/* macOS execution: sandbox-exec with the rendered policy (see exec.h).
 * Only POSIX calls are used; the whole file is compiled on macOS only.
 * SH_MACOS_EXEC_CHECK lets a Linux developer compile it (and point
 * SH_SANDBOX_EXEC at a stand-in) to check it builds; it is never set by the
 * Makefile. */
#if defined(__APPLE__) || defined(SH_MACOS_EXEC_CHECK)

#include "macos/exec.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config/envbuild.h"
#include "util/fdio.h"
#include "util/str.h"

#ifndef SH_SANDBOX_EXEC
#define SH_SANDBOX_EXEC "/usr/bin/sandbox-exec"
#endif

extern char **environ;

static volatile sig_atomic_t child_pid;

static void forward_signal(int sig)
{
	if (child_pid > 0)
		kill((pid_t)child_pid, sig);
}

/* A 0600 file only the user can read, in the host's $TMPDIR (on macOS a
 * per-user directory under /var/folders), not the shared /tmp. */
static char *write_policy_file(const char *policy, struct sh_err *e)
{
	const char *tmp = getenv("TMPDIR");
	char *path = sh_xasprintf("%s/safehouse-policy.XXXXXX.sb",
				  tmp && tmp[0] == '/' ? tmp : "/tmp");
	int fd = mkstemps(path, 3);

	if (fd < 0) {
		sh_fail(e, SH_EXIT_SETUP, errno, "cannot create the policy file '%s'", path);
		free(path);
		return NULL;
	}
	(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
	if (fchmod(fd, 0600) < 0 || sh_write_all(fd, policy, strlen(policy)) < 0 || close(fd) < 0) {
		int err = errno;
		unlink(path);
		sh_fail(e, SH_EXIT_SETUP, err, "cannot write the policy file '%s'", path);
		free(path);
		return NULL;
	}
	return path;
}

int sh_macos_exec(const char *policy, char *const *argv, char *const *envp, struct sh_err *e)
{
	struct sigaction ign = { 0 }, fwd = { 0 }, dfl = { 0 }, old_int, old_quit, old_term, old_hup;
	size_t argc = 0;
	char *path, **args;
	pid_t pid;
	int status = 0, rc;

	while (argv[argc])
		argc++;
	if (argc == 0)
		return sh_fail(e, SH_EXIT_USAGE, 0, "no command to run");
	if (!(path = write_policy_file(policy, e)))
		return -1;
	args = sh_xcalloc(argc + 5, sizeof(*args));
	args[0] = "sandbox-exec";
	args[1] = "-f";
	args[2] = path;
	args[3] = "--";
	for (size_t i = 0; i < argc; i++)
		args[4 + i] = argv[i];

	ign.sa_handler = SIG_IGN;
	fwd.sa_handler = forward_signal;
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&ign.sa_mask);
	sigemptyset(&fwd.sa_mask);
	sigemptyset(&dfl.sa_mask);
	sigaction(SIGINT, &ign, &old_int);
	sigaction(SIGQUIT, &ign, &old_quit);
	sigaction(SIGTERM, &fwd, &old_term);
	sigaction(SIGHUP, &fwd, &old_hup);

	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		/* Ignored dispositions survive exec: give the command the defaults. */
		sigaction(SIGINT, &dfl, NULL);
		sigaction(SIGQUIT, &dfl, NULL);
		sigaction(SIGTERM, &dfl, NULL);
		sigaction(SIGHUP, &dfl, NULL);
		execve(SH_SANDBOX_EXEC, args, envp);
		int err = errno;
		dprintf(STDERR_FILENO, "safehouse: cannot run %s: %s\n", SH_SANDBOX_EXEC,
			strerror(err));
		_exit(err == ENOENT ? SH_EXIT_NOTFOUND : SH_EXIT_NOEXEC);
	}
	if (pid < 0) {
		rc = sh_fail(e, SH_EXIT_SETUP, errno, "fork");
		goto out;
	}
	child_pid = pid;
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			rc = sh_fail(e, SH_EXIT_SETUP, errno, "waitpid");
			goto out;
		}
	}
	if (WIFEXITED(status))
		rc = WEXITSTATUS(status);
	else if (WIFSIGNALED(status))
		rc = 128 + WTERMSIG(status);
	else
		rc = SH_EXIT_SETUP;
out:
	child_pid = 0;
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGQUIT, &old_quit, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	sigaction(SIGHUP, &old_hup, NULL);
	unlink(path);
	free(path);
	free(args);
	return rc;
}

int sh_macos_run(const struct sh_context *c, const struct sh_assembly *a, const char *policy,
		 struct sh_err *e)
{
	const struct sh_options *o = c->opt;
	struct sh_strv assign = { 0 }, env = { 0 };
	struct sh_env_opts eo = { 0 };
	int i = 0, rc;

	while (i < o->argc && sh_env_assignment_valid(o->argv[i]))
		sh_strv_push(&assign, o->argv[i++]);
	if (i >= o->argc) {
		sh_strv_free(&assign);
		return sh_fail(e, SH_EXIT_USAGE, 0, "no command after the NAME=VALUE words");
	}
	eo.mode = o->env_mode;
	eo.host = environ;
	eo.pwd = c->cwd;
	eo.file = &c->env_file;
	eo.pass = &c->env_pass;
	eo.defaults = &a->env_defaults;
	eo.assign = &assign;
	eo.runtime_dir = false; /* no XDG_RUNTIME_DIR on macOS */
	rc = sh_env_build(&eo, &env, NULL, e);
	if (rc == 0)
		rc = sh_macos_exec(policy, o->argv + i, env.v, e);
	sh_strv_free(&env);
	sh_strv_free(&assign);
	return rc;
}

#endif /* __APPLE__ || SH_MACOS_EXEC_CHECK */
