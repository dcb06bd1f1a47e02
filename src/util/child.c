#include "util/child.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

pid_t sh_helper_fork(const char *name, int *stop_r, int *stop_w)
{
	static const int ignored[] = { SIGINT, SIGQUIT, SIGTSTP, SIGTTOU, SIGTTIN, SIGHUP, SIGPIPE };
	pid_t parent = getpid(), pid;
	int sp[2];
	sigset_t none;

	if (pipe2(sp, O_CLOEXEC) < 0)
		return -1;
	fflush(NULL); /* no stdio buffer is written twice */
	pid = fork();
	if (pid < 0) {
		int err = errno;
		close(sp[0]);
		close(sp[1]);
		return errno = err, -1;
	}
	if (pid > 0) {
		close(sp[0]);
		*stop_w = sp[1];
		return pid;
	}
	close(sp[1]);
	/* Tied to the caller: if it died before this line, getppid() says so. */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0) < 0 || getppid() != parent)
		_exit(1);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	prctl(PR_SET_NAME, name, 0, 0, 0);
	for (size_t i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++)
		signal(ignored[i], SIG_IGN);
	signal(SIGTERM, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	*stop_r = sp[0];
	return 0;
}

void sh_helper_stop(pid_t *pid, int *stop_w)
{
	char c = 'q';

	if (*stop_w >= 0) {
		(void)!write(*stop_w, &c, 1); /* EPIPE: it is gone already */
		close(*stop_w);
		*stop_w = -1;
	}
	if (*pid > 0) {
		while (waitpid(*pid, NULL, 0) < 0 && errno == EINTR)
			;
		*pid = -1;
	}
}
