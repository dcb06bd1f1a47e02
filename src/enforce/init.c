/* Our pid 1: forward, reap, exit with the command's status. */
#include "enforce/init.h"

#include <errno.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

static const int forwarded[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH };

void sh_init_sigset(sigset_t *set)
{
	sigemptyset(set);
	for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		sigaddset(set, forwarded[i]);
	sigaddset(set, SIGCHLD);
}

int sh_status_code(int wstatus)
{
	if (WIFEXITED(wstatus))
		return WEXITSTATUS(wstatus);
	if (WIFSIGNALED(wstatus))
		return 128 + WTERMSIG(wstatus);
	return 255;
}

static void nop(int sig)
{
	(void)sig;
}

int sh_init_run(pid_t cmd)
{
	sigset_t set;
	struct sigaction sa = { .sa_handler = nop };

	sh_init_sigset(&set);
	/* Blocked signals are queued even for init, but a handler also makes
	 * the kernel deliver them to pid 1 from inside the namespace; the
	 * handler never runs since we only take them with sigwaitinfo. */
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		sigaction(forwarded[i], &sa, NULL);
	sigprocmask(SIG_BLOCK, &set, NULL);
	prctl(PR_SET_NAME, "safehouse-init", 0, 0, 0);

	for (;;) {
		siginfo_t si;
		int sig = sigwaitinfo(&set, &si);
		if (sig < 0)
			continue; /* EINTR only: the set is valid */
		if (sig != SIGCHLD) {
			(void)kill(cmd, sig); /* ESRCH: already gone, SIGCHLD follows */
			continue;
		}
		for (;;) {
			int st;
			pid_t p = waitpid(-1, &st, WNOHANG);
			if (p < 0 && errno == EINTR)
				continue;
			if (p <= 0)
				break; /* 0: others still running; ECHILD: none left */
			if (p == cmd)
				return sh_status_code(st);
		}
	}
}
