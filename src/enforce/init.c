/* Our pid 1: forward, reap, exit with the command's status. */
#include "enforce/init.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "enforce/supervise.h"
#include "enforce/sockfactory.h"

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

/* A signal taken by init: forwarded, or SIGCHLD (reap).  1 when cmd was
 * reaped (*status set). */
static int on_signal(pid_t cmd, int sig, int *status)
{
	if (sig != SIGCHLD) {
		(void)kill(cmd, sig); /* ESRCH: already gone, SIGCHLD follows */
		return 0;
	}
	for (;;) {
		int st;
		pid_t p = waitpid(-1, &st, WNOHANG);
		if (p < 0 && errno == EINTR)
			continue;
		if (p <= 0)
			return 0; /* 0: others still running; ECHILD: none left */
		if (p == cmd) {
			*status = sh_status_code(st);
			return 1;
		}
	}
}

/* The loop with the creation supervisor and/or the publishing socket
 * factory: signals through a signalfd, polled with their fds; one
 * supervisor request answered per wake-up.
 *
 * The listener is never closed here: the caller frees sv once everything
 * inside has been killed and reaped.  Closed while a process inside still
 * runs, it would leave the filtered calls failing with ENOSYS -- and let
 * that process load a listener of its own (seccomp refuses a second one
 * only while the first is open), which wins a tie of USER_NOTIF and could
 * let creations run unchecked.  So a supervisor that cannot serve ends the
 * session instead (fail closed). */
static int run_polled(pid_t cmd, const sigset_t *set, struct sh_supervisor *sv, int pubfd)
{
	int status = 255;
	int sfd = signalfd(-1, set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sfd < 0) {
		if (sv)
			(void)kill(-1, SIGKILL); /* nobody would answer: end the session */
		if (pubfd >= 0)
			close(pubfd); /* nothing is published: connections are closed */
		return -1;
	}
	for (;;) {
		struct pollfd pf[3] = { { .fd = sfd, .events = POLLIN },
					{ .fd = sv ? sh_supervisor_fd(sv) : -1, .events = POLLIN },
					{ .fd = pubfd, .events = POLLIN } };
		if (poll(pf, 3, sh_supervisor_timeout(sv)) < 0 && errno != EINTR)
			continue;
		bool broken = sv && (pf[1].revents & POLLIN) && sh_supervisor_handle(sv) < 0;
		if (broken)
			(void)kill(-1, SIGKILL); /* unusable: end the session */
		if (sv && (broken || ((pf[1].revents & (POLLHUP | POLLERR | POLLNVAL)) &&
				      !(pf[1].revents & POLLIN))))
			sv = NULL; /* not polled any more (HUP: nothing filtered is left) */
		sh_supervisor_tick(sv);
		/* The forwarder asks for sockets; gone (session ending): stop. */
		if (pubfd >= 0 && pf[2].revents &&
		    ((pf[2].revents & (POLLHUP | POLLERR | POLLNVAL)) ||
		     sh_sockfactory_serve(pubfd) < 0)) {
			close(pubfd);
			pubfd = -1;
		}
		/* Only when poll said so: a supervised creation is a few system
		 * calls, one more read each would show. */
		struct signalfd_siginfo si;
		while ((pf[0].revents & POLLIN) && read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
			if (on_signal(cmd, (int)si.ssi_signo, &status)) {
				if (pubfd >= 0)
					close(pubfd);
				close(sfd);
				return status;
			}
	}
}

int sh_init_run(pid_t cmd)
{
	return sh_init_run_supervised(cmd, NULL);
}

int sh_init_run_supervised(pid_t cmd, struct sh_supervisor *sv)
{
	return sh_init_run_ex(cmd, sv, -1);
}

int sh_init_run_ex(pid_t cmd, struct sh_supervisor *sv, int pubfd)
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
	if (sv || pubfd >= 0) {
		int st = run_polled(cmd, &set, sv, pubfd);
		if (st >= 0)
			return st;
	}

	for (;;) {
		siginfo_t si;
		int sig = sigwaitinfo(&set, &si), status;
		if (sig < 0)
			continue; /* EINTR only: the set is valid */
		if (on_signal(cmd, sig, &status))
			return status;
	}
}
