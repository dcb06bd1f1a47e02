/* sh_sandbox_exec(): the one place that performs the irreversible steps, in
 * one documented order (style.md P7).
 *
 * Processes:
 *   launcher (the caller) --clone(new user/mnt/pid/ipc/uts/cgroup[/net])--> init
 *   init (pid 1 inside) builds the view, then forks --> command
 * In fallback mode (plan->use_userns false) the launcher forks the command
 * directly and there is no namespace and no mount view.
 *
 * Errors before execve travel as a struct sh_err over an O_CLOEXEC pipe
 * (atomic: smaller than PIPE_BUF); EOF on it means execve succeeded. */
#include "enforce/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <time.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "enforce/harden.h"
#include "enforce/init.h"
#include "enforce/landlock.h"
#include "enforce/mountns.h"
#include "enforce/pty.h"
#include "enforce/seccomp.h"
#include "enforce/sockfactory.h"
#include "enforce/supervise.h"
#include "enforce/limits.h"
#include "enforce/userns.h"
#include "libc/alloc.h"
#include "proxy/proxy.h"
#include "util/arena.h"
#include "util/fdio.h"
#include "util/tpoint.h"

static struct sh_net_hooks net_hooks; /* sh_sandbox_set_net_hooks() */
static struct sh_publish_hooks pub_hooks; /* sh_sandbox_set_publish_hooks() */

void sh_sandbox_set_publish_hooks(const struct sh_publish_hooks *h)
{
	if (h)
		pub_hooks = *h;
	else
		memset(&pub_hooks, 0, sizeof(pub_hooks));
}

static struct {
	int (*fn)(void *ctx, int status);
	void *ctx;
} end_hook; /* sh_sandbox_set_end_hook() */

void sh_sandbox_set_end_hook(int (*fn)(void *ctx, int status), void *ctx)
{
	end_hook.fn = fn;
	end_hook.ctx = ctx;
}

void sh_sandbox_set_net_hooks(const struct sh_net_hooks *h)
{
	if (h)
		net_hooks = *h;
	else
		memset(&net_hooks, 0, sizeof(net_hooks));
}

_Static_assert(sizeof(struct sh_err) < 4096, "status record must fit in PIPE_BUF");

/* Signals the launcher takes over while the command runs. */
static const int relay_sigs[] = { SIGINT,  SIGTERM,  SIGHUP, SIGQUIT, SIGUSR1,
				  SIGUSR2, SIGWINCH, SIGCHLD, SIGCONT, SIGTSTP };
/* Of those, forwarded to the command (via init). */
static const int fwd_sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH };
#define NFWD (sizeof(fwd_sigs) / sizeof(fwd_sigs[0]))

struct run {
	const struct sh_plan *plan;
	const struct sh_sandbox_opts *opts;
	struct sh_term *term;
	sigset_t oldmask;              /* the caller's mask, given back to the command */
	bool fwd_ignored[NFWD];        /* the caller ignored fwd_sigs[i]: keep it ignored */
	bool pipe_ignored;
	pid_t launcher;
	bool pty_inside;               /* init allocates the pty in the sandbox's devpts */
	bool proxy;                    /* filtered with net hooks: init makes the listener */
	bool publish;                  /* publish hooks, private netns: init's socket factory */
	int pubfd;                     /* init's end of the socket factory channel */
	int errfd;                     /* write end of the status pipe (O_CLOEXEC) */
	int syncfd;                    /* init's end of the handshake socket */
	int donefd;                    /* init's end of the report pipe (i13) */
	int sup[2];                    /* listener socket: init's end, the command's end */
	const uint16_t *pub_ports;     /* publish: the sandbox-side ports (Landlock bind/connect) */
	size_t pub_nports;
	bool pub_bind_any;             /* auto publishing: any port may be bound */
};

__attribute__((noreturn)) static void child_die(const struct run *r, struct sh_err *e)
{
	if (e->exit_code == 0)
		e->exit_code = SH_EXIT_SETUP;
	(void)sh_write_all(r->errfd, e, sizeof(*e));
	_exit(e->exit_code);
}

static const char *env_get(char *const *envp, const char *name)
{
	size_t n = strlen(name);
	for (; envp && *envp; envp++)
		if (strncmp(*envp, name, n) == 0 && (*envp)[n] == '=')
			return *envp + n + 1;
	return NULL;
}

/* Init performs the command's creations of absent protected names
 * (enforce/supervise.c), under the plan's Landlock rules: it confines
 * itself with them (i10b), and the command inherits that domain (c5). */
static bool init_confines(const struct sh_plan *p)
{
	return p->use_userns && p->nprotect_create > 0;
}

__attribute__((noreturn)) static void exec_failed(const struct run *r, int err, const char *cmd)
{
	struct sh_err e;
	memset(&e, 0, sizeof(e));
	switch (err) {
	case ENOENT:
	case ENOTDIR:
		if (strchr(cmd, '/'))
			sh_fail(&e, SH_EXIT_NOTFOUND, err, "exec: cannot run '%s'", cmd);
		else
			sh_fail(&e, SH_EXIT_NOTFOUND, 0, "exec: '%s': command not found", cmd);
		break;
	case EACCES:
	case EPERM:
	case ENOEXEC:
	case EISDIR:
	case ETXTBSY:
		sh_fail(&e, SH_EXIT_NOEXEC, err, "exec: cannot run '%s'", cmd);
		break;
	default:
		sh_fail(&e, SH_EXIT_SETUP, err, "exec: cannot run '%s'", cmd);
		break;
	}
	child_die(r, &e);
}

/* execve, with a PATH search (from the command's own environment, in the
 * sandbox's view) when argv[0] has no '/'.  Empty PATH elements are skipped
 * rather than meaning ".": the cwd is the attacker-writable workdir. */
__attribute__((noreturn)) static void exec_command(const struct run *r)
{
	char *const *argv = r->plan->argv;
	char *const *envp = r->plan->envp;
	const char *cmd = argv[0];

	if (strchr(cmd, '/')) {
		execve(cmd, argv, envp);
		exec_failed(r, errno, cmd);
	}
	const char *path = env_get(envp, "PATH");
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	int seen = 0;
	for (const char *p = path; *p;) {
		const char *end = strchrnul(p, ':');
		char buf[4096];
		int n = snprintf(buf, sizeof(buf), "%.*s/%s", (int)(end - p), p, cmd);
		if (end > p && n > 0 && (size_t)n < sizeof(buf)) {
			execve(buf, argv, envp);
			switch (errno) {
			case ENOENT:
			case ENOTDIR:
			case ENAMETOOLONG:
				break;
			case EACCES:
				/* EACCES also comes from a PATH directory we may not
				 * search; only a file that exists makes it "not
				 * executable" rather than "not found". */
				if (faccessat(AT_FDCWD, buf, F_OK, AT_EACCESS) == 0)
					seen = EACCES; /* keep looking, as execvp does */
				break;
			default:
				exec_failed(r, errno, cmd);
			}
		}
		p = *end ? end + 1 : end;
	}
	exec_failed(r, seen ? seen : ENOENT, cmd);
}

/* The command process: the last steps, in order, then execve.  Never
 * returns; failures go to the status pipe. */
__attribute__((noreturn)) static void command_main(struct run *r)
{
	const struct sh_plan *p = r->plan;
	struct sh_err e;
	memset(&e, 0, sizeof(e));

	/* Signal state as the caller had it (ignored stays ignored), not as
	 * init or the launcher set it up. */
	for (size_t i = 0; i < NFWD; i++)
		signal(fwd_sigs[i], r->fwd_ignored[i] ? SIG_IGN : SIG_DFL);
	signal(SIGPIPE, r->pipe_ignored ? SIG_IGN : SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	sigprocmask(SIG_SETMASK, &r->oldmask, NULL);

	SH_TP("C-start");
	/* c1. New session; the pty slave (if any) is its controlling tty. */
	if (setsid() < 0) {
		sh_fail(&e, SH_EXIT_SETUP, errno, "session: setsid failed");
		child_die(r, &e);
	}
	if (sh_term_attach(r->term) < 0) {
		sh_fail(&e, SH_EXIT_SETUP, errno, "pty: cannot make the pty the controlling terminal");
		child_die(r, &e);
	}
	/* c2. Working directory, resolved in the final view. */
	const char *cwd = p->cwd ? p->cwd : "/";
	if (chdir(cwd) < 0) {
		sh_fail(&e, SH_EXIT_SETUP, errno, "chdir: cannot enter '%s'", cwd);
		child_die(r, &e);
	}
	/* c3. No capabilities (in our user namespace init still holds them;
	 * for a root caller exec would otherwise keep them).  Resource limits
	 * by rlimit (when no cgroup was available) are set first, while we
	 * may still raise them. */
	if (p->limits && sh_limits_apply_rlimits(p->limits, &e) < 0)
		child_die(r, &e);
	if (sh_drop_caps(&e) < 0)
		child_die(r, &e);
	/* c4. no_new_privs: required by c5 and c7 without CAP_SYS_ADMIN, and
	 * makes setuid/file capabilities inert (PRIV-01). */
	if (sh_set_no_new_privs(&e) < 0)
		child_die(r, &e);
	SH_TP("C-caps");
	/* c5. Landlock, from the same plan (second layer; the only one in
	 * fallback mode).  When init confined itself with the plan's rules
	 * (i10b) the command is in that domain already: its own layer adds
	 * only TCP ports and scopes. */
	int abi = sh_landlock_abi(NULL);
	/* TCP connect: the proxy (filtered) and the published ports inside;
	 * bind: the published ports (or any, for auto publishing). */
	uint16_t ports[1 + SH_PUBLISH_MAX_PORTS];
	size_t nports = 0;
	if (p->net == SH_NETMODE_FILTERED)
		ports[nports++] = p->proxy_port;
	for (size_t i = 0; r->publish && i < r->pub_nports && nports < 1 + SH_PUBLISH_MAX_PORTS; i++)
		ports[nports++] = r->pub_ports[i];
	/* Fallback: the host's devpts holds the user's other terminals, so
	 * only the session's own pty is granted, by its name. */
	struct sh_ll_rule *rules = p->ll;
	size_t nrules = p->nll;
	char pts[64];
	if (!p->use_userns && r->term->active && ttyname_r(r->term->slave, pts, sizeof(pts)) == 0) {
		rules = sh_xcalloc(p->nll + 1, sizeof(*rules));
		memcpy(rules, p->ll, p->nll * sizeof(*rules));
		rules[nrules++] = (struct sh_ll_rule){ pts, SH_ACC_READ | SH_ACC_WRITE };
	}
	struct sh_landlock_config ll = {
		.rules = rules,
		.nrules = nrules,
		.min_abi = r->opts->landlock_min_abi,
		.restrict_tcp = p->net == SH_NETMODE_FILTERED || (r->publish && abi >= 4),
		.connect_ports = ports,
		.nports = nports,
		.bind_ports = r->publish ? r->pub_ports : NULL,
		.nbind_ports = r->publish ? r->pub_nports : 0,
		.bind_any = r->publish && r->pub_bind_any,
		/* ABI 6+.  Below that the pid/net namespaces are what keep
		 * signals and abstract sockets in; doctor reports it. */
		.scope_abstract_unix = abi >= 6,
		.scope_signal = abi >= 6,
		.fs_inherited = init_confines(p),
	};
	if (sh_landlock_apply(&ll, &e) < 0) {
		if (strncmp(e.msg, "landlock", 8) != 0)
			sh_err_prefix(&e, "landlock");
		child_die(r, &e);
	}
	SH_TP("C-landlock");
	/* c6. Nothing but 0, 1, 2 crosses execve (LAUNCH-02); the status pipe
	 * is O_CLOEXEC and so reports until the exec itself. */
	if (sh_cloexec_from(3, &e) < 0)
		child_die(r, &e);
	SH_TP("C-cloexec");
	/* c7. seccomp last: it may forbid calls the steps above needed.
	 * Publishing in mode none: TCP/UDP sockets for listeners on the private
	 * loopback (the namespace has no other interface).  When the plan
	 * protects absent names, the calls that create names go to init
	 * (enforce/supervise.c): the listener travels over sup[1]. */
	struct sh_seccomp_config sc = {
		.net = r->publish && p->net == SH_NETMODE_NONE ? SH_NETMODE_FILTERED : p->net,
		.notify = r->sup[1] >= 0,
		.deny_unix = !p->use_userns && !p->grants_socket,
	};
	int listener = -1;
	if (sh_seccomp_apply(&sc, &listener, &e) < 0) {
		if (strncmp(e.msg, "seccomp", 7) != 0)
			sh_err_prefix(&e, "seccomp");
		child_die(r, &e);
	}
	if (listener >= 0 && sh_supervise_handover(r->sup[1], listener, &e) < 0)
		child_die(r, &e);
	SH_TP("C-seccomp");
	/* c8. */
	exec_command(r);
}

static int command_entry(void *arg)
{
	command_main(arg);
}

/* The command starts the way posix_spawn starts a program: on a stack of
 * its own, in init's memory (CLONE_VM) until its execve, init waiting
 * meanwhile (CLONE_VFORK).  So no copy of init's address space is made,
 * only to be torn down again by the exec.  Before its execve the command
 * makes system calls that act on its own task alone (signal dispositions
 * and mask, session, cwd, rlimits, capabilities, no_new_privs, Landlock,
 * seccomp, its own fd table) and writes nothing init reads; when clone
 * returns here, the command has exec'd or died, and its stack is free. */
#define CMD_STACK (256u << 10)
static pid_t spawn_command(struct run *r, struct sh_err *e)
{
	long pg = sysconf(_SC_PAGESIZE);
	size_t guard = pg > 0 ? (size_t)pg : 4096;
	char *stk = mmap(NULL, guard + CMD_STACK, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (stk == MAP_FAILED)
		return sh_fail(e, SH_EXIT_SETUP, errno, "init: cannot map the command's stack");
	if (mprotect(stk, guard, PROT_NONE) < 0) { /* an overflow faults */
		sh_fail(e, SH_EXIT_SETUP, errno, "init: cannot protect the command's stack");
		munmap(stk, guard + CMD_STACK);
		return -1;
	}
#ifdef __SANITIZE_ADDRESS__
	/* AddressSanitizer cannot follow the switch to another stack: the
	 * sanitizer build forks (same steps, one more copy). */
	pid_t pid = fork();
	if (pid == 0)
		command_main(r);
	(void)command_entry;
#else
	pid_t pid = clone(command_entry, stk + guard + CMD_STACK, CLONE_VM | CLONE_VFORK | SIGCHLD,
			  r);
#endif
	int err = errno;
	munmap(stk, guard + CMD_STACK);
	if (pid < 0)
		return sh_fail(e, SH_EXIT_SETUP, err, "init: cannot start the command");
	return pid;
}

/* What init receives once the plan exists: the run, the plan and what they
 * point to, laid out in the hand-off region (mapped before the clone, so at
 * the same address in both processes: the launcher's pointers are init's). */
struct handoff {
	struct run r;
	struct sh_plan plan;
	struct sh_sandbox_opts opts;
	struct sh_limits limits;
	uint16_t ports[SH_PUBLISH_MAX_PORTS];
	bool slave_follows; /* the pty slave (allocated outside) follows over the socket */
};
#define HANDOFF_MAX (64u << 20) /* address space only: pages are touched as used */
_Static_assert(offsetof(struct sh_term, active) < offsetof(struct sh_term, inbuf) &&
		       offsetof(struct sh_term, slave) < offsetof(struct sh_term, inbuf) &&
		       offsetof(struct sh_term, is_tty) < offsetof(struct sh_term, inbuf),
	       "init gets the terminal's head only (send_handoff)");

/* The early start (sh_sandbox_prestart, below). */
static struct prestart {
	pid_t pid;               /* init waiting for its plan, or -1 */
	bool net_sent;           /* init was released with the network mode net */
	bool private_net;        /* init makes its own network namespace at once (the
				    likely mode at the start; a mode that turns out to
				    differ gets another init) */
	enum sh_net_mode net;
	int errfd, syncfd;       /* launcher's ends: status pipe, handshake socket */
	int donefd;              /* launcher's end of the report pipe */
	int bell;                /* eventfd init waits on (bell_wait) */
	int child_errfd, child_syncfd, child_donefd; /* init's ends (closed here; init has them) */
	void *region;            /* HANDOFF_MAX bytes, or NULL */
	cpu_set_t mask;          /* our CPU affinity at the clone (init's again later) */
	uid_t uid;               /* our ids at the clone, which init maps to themselves */
	gid_t gid;
	bool have_mask;
	bool failed;             /* the attempt failed: err says why */
	struct sh_err err;
} pre = { .pid = -1, .errfd = -1, .syncfd = -1, .donefd = -1, .bell = -1 };

/* Pid 1 of the new pid namespace, created before the plan exists (see
 * sh_sandbox_prestart).  Never returns. */
/* Init waits for the launcher on an eventfd (a semaphore: one read per
 * ring) rather than on the socket that carries the data: a socket write
 * wakes the reader on the writer's CPU (a "sync" wake-up, for a writer
 * about to sleep), where it would queue behind the launcher, which goes on
 * planning; an eventfd wakes it where it can run now. */
static int bell_sync = -1; /* the launcher's socket: its hang-up ends the wait */

static int bell_wait(int fd)
{
	uint64_t v;
	ssize_t n;
	/* The launcher may be gone before init could ask for the parent-death
	 * signal (it exited during the clone): an eventfd never hangs up, so
	 * the socket to the launcher is watched with it. */
	struct pollfd pf[2] = { { .fd = fd, .events = POLLIN },
				{ .fd = bell_sync, .events = POLLRDHUP } };
	for (;;) {
		int r = poll(pf, bell_sync >= 0 ? 2 : 1, -1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (pf[0].revents & POLLIN)
			break;
		if (pf[1].revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL))
			return -1;
	}
	while ((n = read(fd, &v, sizeof(v))) < 0 && errno == EINTR)
		;
	return n == (ssize_t)sizeof(v) ? 0 : -1;
}

/* The same, but first spinning for a while: the plan usually comes within
 * half a millisecond of init being ready for it, and waking a sleeping CPU
 * (an IPI, an exit from idle; on a virtual machine a VM exit and the host's
 * scheduler) costs tens of microseconds on the launch's critical path.
 * Bounded (SPIN_NS), and sched_yield() lets anything else on this CPU run. */
#define SPIN_NS 1000000
static int bell_wait_spin(int fd)
{
	struct timespec t0, t;
	struct pollfd pf = { .fd = fd, .events = POLLIN };
	if (clock_gettime(CLOCK_MONOTONIC, &t0) == 0) {
		for (;;) {
			int n = poll(&pf, 1, 0);
			if (n > 0)
				break;
			if (n < 0 && errno != EINTR)
				break;
			if (clock_gettime(CLOCK_MONOTONIC, &t) < 0 ||
			    (t.tv_sec - t0.tv_sec) * 1000000000L + (t.tv_nsec - t0.tv_nsec) > SPIN_NS)
				break;
			sched_yield();
		}
	}
	return bell_wait(fd);
}

static int bell_ring(int fd)
{
	uint64_t v = 1;
	return write(fd, &v, sizeof(v)) == (ssize_t)sizeof(v) ? 0 : -1;
}

/* The launcher's 0, 1, 2 as they were when it sent the plan (those init
 * inherited are from the early start); a closed one stays closed. */
static int take_stdio(int syncfd, struct sh_err *e)
{
	int fds[3];
	char m = 0;
	int n = sh_recv_fds(syncfd, &m, fds, 3, 0);
	if (n < 0)
		return sh_fail(e, SH_EXIT_SETUP, errno, "init: cannot receive the standard streams");
	m = (char)(m - '0');
	int k = 0;
	for (int i = 0; i < 3; i++) {
		if (!(m & (1 << i))) {
			close(i);
			continue;
		}
		if (k >= n)
			return sh_fail(e, SH_EXIT_SETUP, EPROTO, "init: standard streams missing");
		int fd = fds[k++];
		if (fd == i ? fcntl(i, F_SETFD, 0) < 0 : dup2(fd, i) < 0)
			return sh_fail(e, SH_EXIT_SETUP, errno, "init: cannot install stream %d", i);
		if (fd != i)
			close(fd);
	}
	return 0;
}

__attribute__((noreturn)) static void init_main(int errfd, int syncfd, int donefd, int bell,
						void *region)
{
	struct run early = { .errfd = errfd, .syncfd = syncfd, .donefd = donefd, .pubfd = -1 };
	struct run *r = &early;
	struct sh_err e;
	char c = 0;
	uint64_t size = 0;
	char net = 0;
	SH_TP("I-start");
	memset(&e, 0, sizeof(e));

	/* i1. Die with the launcher: init's exit then kills the whole
	 * namespace (PROC-06, TERM-04). */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) {
		sh_fail(&e, SH_EXIT_SETUP, errno, "init: cannot set the parent-death signal");
		child_die(r, &e);
	}
	/* i1b. Nothing of the launcher's beyond what we need (what init gets
	 * later comes by message). */
	int keep[] = { 0, 1, 2, errfd, syncfd, donefd, bell };
	if (sh_close_fds_except(keep, sizeof(keep) / sizeof(keep[0]), &e) < 0)
		child_die(r, &e);
	bell_sync = syncfd;
	/* i2. Our uid/gid maps, written by ourselves (while the launcher
	 * reads its configuration). */
	if (sh_userns_map_self(pre.uid, pre.gid, &e) < 0)
		child_die(r, &e);
	SH_TP("I-maps");
	/* i3. Signals as the launcher has them while it relays (the relayed
	 * ones stay blocked from the clone on: sh_init_sigset() is a superset):
	 * a write to a closed socket is an error, not death. */
	signal(SIGPIPE, SIG_IGN);
	signal(SIGCHLD, SIG_DFL);
	/* i4. Our own network namespace, when the launcher expects a private
	 * one (none, filtered): made here rather than by the clone so that its
	 * cost is paid while the launcher reads its configuration and plans;
	 * lo up.  Then the network mode ('p' private, 'f' the host's), once
	 * the launcher knows it: never another than expected (the launcher
	 * replaces us first).  Private: the socket factory channel (and the
	 * namespace's identity and /proc/net/tcp{,6}) to the launcher, for
	 * publishing: init keeps its end and answers requests while the
	 * command runs (the launcher closes its copy if nothing is
	 * published). */
	if (pre.private_net) {
		if (unshare(CLONE_NEWNET) < 0) {
			sh_fail(&e, SH_EXIT_SETUP, errno, "network: cannot create a network namespace");
			child_die(r, &e);
		}
		if (sh_netns_lo_up(&e) < 0)
			child_die(r, &e);
	}
	if (bell_wait(bell) < 0 || sh_read_full(syncfd, &net, 1) != 1 ||
	    net != (pre.private_net ? 'p' : 'f'))
		_exit(SH_EXIT_SETUP); /* the launcher gave up, and says why */
	if (net == 'p') {
		r->pubfd = sh_sockfactory_open(syncfd, &e);
		if (r->pubfd < 0)
			child_die(r, &e);
	}
	/* i4b. The start of the view, which no plan changes: private
	 * propagation, the new root, its /dev and /proc (i9 finishes it). */
	struct sh_mountns *view = sh_mountns_begin(true, &e);
	if (!view)
		child_die(r, &e);
	SH_TP("I-lo");
	/* i5. The plan: its size, then its bytes, into the hand-off region. */
	if (bell_wait_spin(bell) < 0 || sh_read_full(syncfd, &size, sizeof(size)) != (ssize_t)sizeof(size) ||
	    size < sizeof(struct handoff) || size > HANDOFF_MAX ||
	    sh_read_full(syncfd, region, (size_t)size) != (ssize_t)size)
		_exit(SH_EXIT_SETUP); /* the launcher gave up, and says why */
	/* Back on every CPU the launcher had (pre is our copy of its state at
	 * the clone): the launcher kept us off its own until now. */
	if (pre.have_mask)
		(void)sched_setaffinity(0, sizeof(pre.mask), &pre.mask);
	struct handoff *h = region;
	int pubfd = r->pubfd;
	r = &h->r;
	r->pubfd = r->publish ? pubfd : -1;
	if (!r->publish && pubfd >= 0)
		close(pubfd);
	if (take_stdio(syncfd, &e) < 0)
		child_die(r, &e);
	if (h->slave_follows && (r->term->slave = sh_recv_fd(syncfd)) < 0) {
		sh_fail(&e, SH_EXIT_SETUP, errno, "pty: cannot receive the terminal");
		child_die(r, &e);
	}
	const struct sh_plan *p = r->plan;
	bool pty_later = r->term->active && r->pty_inside;
	bool filtered = r->proxy;
	if (!pty_later && !filtered)
		sh_closep(&r->syncfd);

	/* i6. (everything else init has came by message since i1b) */
	close(bell);
	/* i7. Init never holds the real terminal: its tty fds become the pty
	 * slave too, and it leaves the launcher's session. */
	for (int i = 0; i < 3; i++)
		if (r->term->active && !pty_later && r->term->is_tty[i] &&
		    dup2(r->term->slave, i) < 0) {
			sh_fail(&e, SH_EXIT_SETUP, errno, "pty: dup2 failed");
			child_die(r, &e);
		}
	if (setsid() < 0) {
		sh_fail(&e, SH_EXIT_SETUP, errno, "session: setsid failed");
		child_die(r, &e);
	}
	SH_TP("I-closed");
	/* i8. uts namespace. */
	if (sh_uts_set_hostname(p->hostname ? p->hostname : "safehouse", &e) < 0)
		child_die(r, &e);
	/* i8b. Filtered: the proxy's listener on our own loopback, created
	 * here (O_CLOEXEC) and served by the launcher's proxy process in the
	 * host's namespace; init keeps no copy. */
	if (filtered) {
		int l = sh_proxy_listen_loopback(p->proxy_port, NULL, &e);
		if (l < 0) {
			sh_err_prefix(&e, "network: proxy listener on 127.0.0.1:%u",
				      (unsigned)p->proxy_port);
			child_die(r, &e);
		}
		if (sh_send_fd(r->syncfd, l) < 0) {
			sh_fail(&e, SH_EXIT_SETUP, errno, "network: cannot pass the proxy listener "
							  "to the launcher");
			child_die(r, &e);
		}
		close(l);
		if (!pty_later)
			sh_closep(&r->syncfd);
	}
	SH_TP("I-listen");
	/* i9. The view: private propagation, new root, the plan's mounts,
	 * read-only skeleton, pivot_root, old root detached. */
	if (sh_mountns_finish(view, p->mounts, p->nmounts, &e) < 0)
		child_die(r, &e);
	SH_TP("I-mounts");
	/* i9b. The pty, from the sandbox's own devpts (so /dev/pts/N inside
	 * is really it); the master goes to the launcher, and init's tty fds
	 * become the slave (init never keeps the real terminal). */
	if (pty_later) {
		int m = -1, s = -1;
		if (sh_term_open_pair("/dev/pts/ptmx", &m, &s) < 0) {
			sh_fail(&e, SH_EXIT_SETUP, errno, "pty: cannot allocate a pseudo-terminal in "
							  "the sandbox's /dev/pts");
			child_die(r, &e);
		}
		r->term->slave = s;
		for (int i = 0; i < 3; i++)
			if (r->term->is_tty[i] && dup2(s, i) < 0) {
				sh_fail(&e, SH_EXIT_SETUP, errno, "pty: dup2 failed");
				child_die(r, &e);
			}
		if (sh_send_fd(r->syncfd, m) < 0) {
			sh_fail(&e, SH_EXIT_SETUP, errno, "pty: cannot pass the pty to the launcher");
			child_die(r, &e);
		}
		close(m);
		/* the launcher configured it (settings, window size) */
		if (sh_read_full(r->syncfd, &c, 1) != 1 || c != 'g')
			_exit(SH_EXIT_SETUP);
		sh_closep(&r->syncfd);
	}
	/* i10. Init needs no capability from here on (signals and wait work
	 * within the same uid). */
	if (sh_drop_caps(&e) < 0)
		child_die(r, &e);
	/* i10b. Absent protected names: init will perform the command's
	 * creations, confined by the same Landlock rules (its domain is the
	 * parent of the command's). */
	if (init_confines(p)) {
		if (sh_supervise_confine(p, r->opts->landlock_min_abi, &e) < 0)
			child_die(r, &e);
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, r->sup) < 0) {
			sh_fail(&e, SH_EXIT_SETUP, errno, "init: cannot create the supervisor socket");
			child_die(r, &e);
		}
	}
	SH_TP("I-caps");
	/* i11. The command.  Init's signals are blocked before the fork so no
	 * SIGCHLD or forwarded signal is lost. */
	sigset_t set;
	sh_init_sigset(&set);
	sigprocmask(SIG_BLOCK, &set, NULL);
	pid_t cmd = spawn_command(r, &e);
	if (cmd < 0)
		child_die(r, &e);
	SH_TP("I-forked");
	close(r->errfd);
	struct sh_supervisor *sv = NULL;
	if (r->sup[0] >= 0) {
		sh_closep(&r->sup[1]);
		/* The supervisor's own set-up before waiting: on the command's CPU
		 * the wake-up at c7 would otherwise run it ahead of the command. */
		sv = sh_supervisor_new(p->protect_create, p->nprotect_create);
		int l = sh_recv_fd(r->sup[0]); /* EOF: the command failed before c7 */
		sh_closep(&r->sup[0]);
		if (l >= 0 && sv) {
			(void)sh_supervisor_listen(sv, l); /* false: slower wake-ups */
		} else {
			/* l < 0: the command failed before loading its filter.  No
			 * supervisor (out of memory) for a filtered command: end the
			 * session, and keep l open until our exit (closed, it would
			 * let a process inside load a listener of its own). */
			if (l >= 0)
				(void)kill(-1, SIGKILL);
			sh_supervisor_free(sv);
			sv = NULL;
		}
	}
	if (r->term->active)
		sh_term_close_slave(r->term);
	int status = sh_init_run_ex(cmd, sv, r->pubfd);
	SH_TP("I-reaped");
	/* i12. The session is over.  Nothing started inside outlives the
	 * report below: what the kernel would kill at our exit is killed and
	 * reaped now (a fork racing the kill fails: SIGKILL is pending). */
	for (;;) {
		(void)kill(-1, SIGKILL);
		if (waitpid(-1, NULL, 0) < 0 && errno != EINTR)
			break; /* ECHILD: nobody left */
	}
	sh_supervisor_free(sv); /* only now: no filtered process is left */
	/* i13. The status to the launcher, which can finish (its terminal,
	 * the workdir's audit) while our exit tears the namespaces down. */
	unsigned char rep[2] = { 'x', (unsigned char)status };
	(void)sh_write_all(r->donefd, rep, sizeof(rep));
	_exit(status);
}

/* Fallback mode: the command is the launcher's direct child. */
__attribute__((noreturn)) static void fallback_main(struct run *r)
{
	struct sh_err e;
	memset(&e, 0, sizeof(e));
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || getppid() != r->launcher) {
		sh_fail(&e, SH_EXIT_SETUP, errno, "session: cannot tie the command to the launcher");
		child_die(r, &e);
	}
	int keep[] = { 0, 1, 2, r->errfd, r->term->slave };
	if (sh_close_fds_except(keep, sizeof(keep) / sizeof(keep[0]), &e) < 0)
		child_die(r, &e);
	command_main(r);
}

static void drain_signalfd(int sfd)
{
	struct signalfd_siginfo si;
	while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		;
}

/* The publish forwarder, started on the first connection (6a'). */
struct lazy_pub {
	bool pending;                /* f is held until a listener is readable */
	struct sh_sockfactory_fds f;
	bool *started;               /* set once start() succeeded */
};

static void lazy_pub_start(struct lazy_pub *lp)
{
	struct sh_err e = { 0 };
	if (pub_hooks.start(pub_hooks.ctx, &lp->f, &e) < 0)
		sh_warn("%s (published ports stay unanswered)", e.msg);
	else
		*lp->started = true;
	sh_sockfactory_fds_close(&lp->f);
	lp->pending = false;
}

/* Relay the terminal and signals until the child exits; returns its
 * status code. */
static int supervise(pid_t pid, int sfd, int donefd, struct sh_term *t, struct lazy_pub *lp,
		     bool *reported)
{
	enum { NPUB = SH_PUBLISH_MAX_PORTS, DONE = 1 + SH_TERM_NPOLL + NPUB };
	struct pollfd pfd[DONE + 1];
	size_t npub = lp->pending ? pub_hooks.nlisten : 0;
	int status = -1;

	if (npub > NPUB)
		npub = NPUB;
	while (status < 0) {
		pfd[0] = (struct pollfd){ .fd = sfd, .events = POLLIN };
		sh_term_poll_prepare(t, pfd + 1);
		for (size_t i = 0; i < NPUB; i++)
			pfd[1 + SH_TERM_NPOLL + i] = (struct pollfd){
				.fd = lp->pending && i < npub ? pub_hooks.listen_fds[i] : -1,
				.events = POLLIN };
		pfd[DONE] = (struct pollfd){ .fd = donefd, .events = POLLIN };
		if (poll(pfd, DONE + 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			break; /* cannot happen with valid fds; fall through to a blocking wait */
		}
		for (size_t i = 0; lp->pending && i < npub; i++)
			if (pfd[1 + SH_TERM_NPOLL + i].revents)
				lazy_pub_start(lp);
		if (donefd >= 0 && pfd[DONE].revents) {
			/* init's report (i13); EOF: it died without one, and
			 * its own exit status says what happened */
			unsigned char m[2];
			if (sh_read_full(donefd, m, sizeof(m)) == (ssize_t)sizeof(m) && m[0] == 'x') {
				status = m[1];
				*reported = true;
			}
			donefd = -1;
		}
		struct signalfd_siginfo si;
		static int ends; /* termination signals taken so far */
		while (pfd[0].revents && read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
			int st;
			switch (si.ssi_signo) {
			case SIGCHLD:
				if (waitpid(pid, &st, WNOHANG) == pid)
					status = sh_status_code(st);
				break;
			case SIGCONT: /* our shell may have reset the terminal while we were stopped */
				if (t->active) {
					struct sh_err ignored;
					(void)sh_term_raw(t, &ignored);
					sh_term_sync_winsize(t);
				}
				break;
			case SIGTSTP:
				sh_term_restore(t);
				kill(getpid(), SIGSTOP);
				break;
			case SIGWINCH:
				if (t->active) {
					sh_term_sync_winsize(t);
					break;
				}
				kill(pid, SIGWINCH);
				break;
			case SIGTERM:
			case SIGHUP:
			case SIGINT:
			case SIGQUIT:
				/* Forwarded; a second one means it: a command that
				 * ignores them (or stopped itself) must not keep the
				 * session, or the terminal, until kill -9. */
				kill(pid, ++ends > 1 ? SIGKILL : (int)si.ssi_signo);
				break;
			default:
				kill(pid, (int)si.ssi_signo); /* init forwards to the command */
				break;
			}
		}
		sh_term_poll_handle(t, pfd + 1);
	}
	if (status < 0) {
		int st;
		while (waitpid(pid, &st, 0) < 0)
			if (errno != EINTR)
				return 255;
		status = sh_status_code(st);
	}
	sh_term_drain(t);
	return status;
}

/* Fallback mode: nothing started inside may outlive the session (PROC-06,
 * TERM-04).  Orphans were re-parented to us (subreaper); kill and reap them
 * until none is left.  Each round kills the current children; their own
 * children are re-parented to us and caught by the next round. */
static void kill_orphans(void)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/task/%d/children", (int)getpid());
	/* Bounded: at most about 5 s of rounds even if something keeps forking
	 * (each round kills everything it sees, so that cannot last). */
	for (int round = 0; round < 5000; round++) {
		FILE *f = fopen(path, "re");
		long child;
		int n = 0, reaped = 0;
		if (!f)
			break;
		while (fscanf(f, "%ld", &child) == 1) {
			kill((pid_t)child, SIGKILL);
			n++;
		}
		fclose(f);
		/* Never block: a killed daemon's own children are re-parented to
		 * us while still alive, and are killed in the next round. */
		while (waitpid(-1, NULL, WNOHANG) > 0)
			reaped++;
		if (n == 0)
			break;
		if (!reaped)
			usleep(1000);
	}
}

/* ---- Early start ----
 * Init (with its namespaces) is created before the plan exists: the
 * kernel's namespace set-up and init's plan-independent steps (network
 * namespace, lo, socket factory) then run on another CPU while the launcher
 * is still planning.  Init waits for the plan, which arrives by value into
 * the hand-off region, a private mapping both processes have at the same
 * address since the clone; nothing is shared afterwards. */

static void pre_reset(void)
{
	sh_closep(&pre.errfd);
	sh_closep(&pre.syncfd);
	sh_closep(&pre.donefd);
	sh_closep(&pre.bell);
	if (pre.region)
		munmap(pre.region, HANDOFF_MAX);
	memset(&pre, 0, sizeof(pre));
	pre.pid = pre.errfd = pre.syncfd = pre.donefd = pre.bell = -1;
}

static void reap(pid_t pid)
{
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

void sh_sandbox_prestart_cancel(void)
{
	if (pre.pid > 0) {
		kill(pre.pid, SIGKILL);
		reap(pre.pid);
	}
	pre_reset();
}

/* Remember a failed attempt (init gone): reported by the launch. */
static int pre_fail(const struct sh_err *e)
{
	sh_sandbox_prestart_cancel();
	pre.failed = true;
	pre.err = *e;
	return -1;
}

/* Before any child: the launcher is single-threaded (clone and fork copy
 * one thread) and hardened (step 1: not dumpable, no core files). */
static int launcher_ready(struct sh_err *e)
{
	if (sh_thread_count() > 1)
		return sh_fail(e, SH_EXIT_SETUP, 0, "launch: internal error: the launcher must be "
						   "single-threaded (run helpers such as the proxy "
						   "in their own process)");
	return sh_harden_self(e);
}

/* Which of 0, 1, 2 the caller had closed: they stay closed for the
 * command, and /dev/null holds their place here so that none of our own
 * fds (status pipe, sockets) lands on them and passes for a stream. */
static int std_closed;

static void hold_closed_stdio(void)
{
	for (int i = 0; i < 3; i++)
		if (fcntl(i, F_GETFD) < 0 && errno == EBADF) {
			int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
			if (fd == i)
				std_closed |= 1 << i;
			else if (fd >= 0)
				close(fd); /* cannot happen: the lowest free fd is i */
		}
}

/* The status pipe: 0 at EOF (the command's execve succeeded, or nothing
 * was written before init went away), else -1 with *e filled from init's
 * record (or saying that the sandbox died). */
static int read_record(int fd, struct sh_err *e)
{
	struct sh_err rec;
	ssize_t n = sh_read_full(fd, &rec, sizeof(rec));
	if (n == 0)
		return 0;
	if (n == (ssize_t)sizeof(rec))
		*e = rec;
	else
		sh_fail(e, SH_EXIT_SETUP, n < 0 ? errno : 0, "launch: the sandbox died during setup");
	return -1;
}

/* 1., 4., 5. of THE ORDER, before anything is known about the run but
 * its likely network mode. */
int sh_sandbox_prestart(enum sh_net_mode likely, struct sh_err *e)
{
	int errp[2] = { -1, -1 }, sync[2] = { -1, -1 }, done[2] = { -1, -1 };
	sigset_t set, old;

	sh_sandbox_prestart_cancel();
	if (launcher_ready(e) < 0)
		return pre_fail(e);
	hold_closed_stdio();
	pre.region = mmap(NULL, HANDOFF_MAX, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (pre.region == MAP_FAILED) {
		pre.region = NULL;
		sh_fail(e, SH_EXIT_SETUP, errno, "launch: cannot map the plan hand-off region");
		return pre_fail(e);
	}
	/* 4. */
	if (pipe2(errp, O_CLOEXEC) < 0) {
		sh_fail(e, SH_EXIT_SETUP, errno, "launch: cannot create the status pipe");
		return pre_fail(e);
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sync) < 0) {
		sh_fail(e, SH_EXIT_SETUP, errno, "launch: cannot create the handshake socket");
		goto fail;
	}
	if (pipe2(done, O_CLOEXEC) < 0) {
		sh_fail(e, SH_EXIT_SETUP, errno, "launch: cannot create the report pipe");
		goto fail;
	}
	pre.bell = eventfd(0, EFD_CLOEXEC | EFD_SEMAPHORE);
	if (pre.bell < 0) {
		sh_fail(e, SH_EXIT_SETUP, errno, "launch: cannot create an eventfd");
		goto fail;
	}
	/* 5. The relayed signals stay blocked in init from its first
	 * instruction (it is in our process group until its setsid).  No
	 * CLONE_NEWNET: init makes its network namespace itself (i4). */
	sigemptyset(&set);
	for (size_t i = 0; i < sizeof(relay_sigs) / sizeof(relay_sigs[0]); i++)
		sigaddset(&set, relay_sigs[i]);
	sigprocmask(SIG_BLOCK, &set, &old);
	fflush(NULL); /* no stdio buffer gets flushed twice by a child */
	pre.have_mask = sched_getaffinity(0, sizeof(pre.mask), &pre.mask) == 0;
	pre.uid = geteuid();
	pre.gid = getegid();
	pre.private_net = likely != SH_NETMODE_FULL;
	SH_TP("L-clone0");
	pid_t pid = sh_userns_clone(sh_userns_flags(SH_NETMODE_FULL), e);
	SH_TP("L-clone1");
	if (pid == 0)
		init_main(errp[1], sync[1], done[1], pre.bell, pre.region);
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (pid < 0)
		goto fail;
	/* Our heap pages are now shared copy-on-write with init: what we
	 * allocate from here (the configuration, the plan) comes from fresh
	 * pages, not a fault and a copy per page (static build; else a no-op). */
	sh_mem_after_fork();
	pre.pid = pid;
	if (pre.have_mask) { /* init runs beside us, not queued behind us */
		cpu_set_t other = pre.mask;
		int me = sched_getcpu();
		if (me >= 0 && CPU_ISSET(me, &other) && CPU_COUNT(&other) > 1) {
			CPU_CLR(me, &other);
			(void)sched_setaffinity(pid, sizeof(other), &other);
		}
	}
	pre.errfd = errp[0];
	pre.syncfd = sync[0];
	pre.donefd = done[0];
	pre.child_errfd = errp[1];
	pre.child_syncfd = sync[1];
	pre.child_donefd = done[1];
	close(errp[1]);
	close(sync[1]);
	close(done[1]);
	return 0;
fail:
	sh_closep(&errp[0]);
	sh_closep(&errp[1]);
	sh_closep(&sync[0]);
	sh_closep(&sync[1]);
	sh_closep(&done[0]);
	sh_closep(&done[1]);
	return pre_fail(e);
}

/* 6. (first part) The network mode, which releases init's network set-up
 * (init has written its own maps meanwhile).  Starts init first if there
 * is none. */
int sh_sandbox_prestart_net(enum sh_net_mode net, struct sh_err *e)
{
	if (pre.failed)
		return -1;
	if (pre.pid > 0 && ((pre.net_sent && pre.net != net) ||
			    pre.private_net != (net != SH_NETMODE_FULL)))
		sh_sandbox_prestart_cancel(); /* made for another mode */
	if (pre.pid < 0 && sh_sandbox_prestart(net, e) < 0)
		return -1;
	if (pre.net_sent)
		return 0;
	char m = net == SH_NETMODE_FULL ? 'f' : 'p';
	/* MSG_NOSIGNAL: init may have died already (its record says why),
	 * and SIGPIPE is not ignored yet. */
	if (send(pre.syncfd, &m, 1, MSG_NOSIGNAL) != 1 || bell_ring(pre.bell) < 0) {
		if (read_record(pre.errfd, e) == 0)
			sh_fail(e, SH_EXIT_SETUP, 0, "launch: the sandbox died during setup");
		return pre_fail(e);
	}
	pre.net_sent = true;
	pre.net = net;
	SH_TP("L-net");
	return 0;
}

/* The prestarted init for this plan (starting and releasing it now if
 * need be): fills r's fds; returns its pid, or -1 with *e filled. */
static pid_t take_prestart(const struct sh_plan *plan, struct run *r, int *errfd, int *syncfd,
			   int *donefd, int *bell, void **region, struct sh_err *e)
{
	if (!pre.failed)
		(void)sh_sandbox_prestart_net(plan->net, e); /* a failure is in pre.err */
	if (pre.failed) {
		*e = pre.err;
		pre_reset();
		return -1;
	}
	pid_t pid = pre.pid;
	*errfd = sh_take_fd(&pre.errfd);
	*syncfd = sh_take_fd(&pre.syncfd);
	*donefd = sh_take_fd(&pre.donefd);
	*bell = sh_take_fd(&pre.bell);
	r->errfd = pre.child_errfd;
	r->syncfd = pre.child_syncfd;
	r->donefd = pre.child_donefd;
	*region = pre.region;
	pre.region = NULL;
	pre_reset();
	return pid;
}

/* 6. The plan (and the run) to init, into its hand-off region. */
static int send_handoff(const struct run *r, const struct sh_term *term, void *region, int sync,
			int bell, struct sh_err *e)
{
	struct sh_arena a;
	sh_arena_init(&a, region, HANDOFF_MAX);
	struct handoff *h = sh_arena_alloc(&a, sizeof(*h));
	if (!h)
		return sh_fail(e, SH_EXIT_SETUP, E2BIG, "launch: the plan is too large");
	h->r = *r;
	h->opts = *r->opts;
	h->r.opts = &h->opts;
	h->slave_follows = term->slave >= 0;
	if (sh_plan_copy_to(r->plan, &h->plan, &a) < 0)
		return sh_fail(e, SH_EXIT_SETUP, E2BIG, "launch: the plan is too large (over %u MiB)",
			       HANDOFF_MAX >> 20);
	if (r->plan->limits) {
		h->limits = *r->plan->limits;
		memset(h->limits.dirs, 0, sizeof(h->limits.dirs)); /* the launcher's business */
		h->plan.limits = &h->limits;
	}
	h->r.plan = &h->plan;
	if (r->pub_nports > SH_PUBLISH_MAX_PORTS)
		return sh_fail(e, SH_EXIT_SETUP, E2BIG, "launch: too many published ports");
	if (r->pub_nports)
		memcpy(h->ports, r->pub_ports, r->pub_nports * sizeof(h->ports[0]));
	h->r.pub_ports = h->ports;
	/* Our 0, 1, 2 as they are now (init has those of the early start). */
	int std[3];
	size_t nstd = 0;
	char open_mask = 0;
	for (int i = 0; i < 3; i++)
		if (!(std_closed & (1 << i)) && fcntl(i, F_GETFD) >= 0) {
			std[nstd++] = i;
			open_mask |= (char)(1 << i);
		}
	/* The terminal goes last, and only its head: init and the command use
	 * active, slave and is_tty; the relay state (most of its 29 KB) is
	 * the launcher's alone, and init's region is zeros there. */
	size_t at = (a.used + 15) & ~(size_t)15, head = offsetof(struct sh_term, inbuf);
	if (at > HANDOFF_MAX || HANDOFF_MAX - at < sizeof(struct sh_term))
		return sh_fail(e, SH_EXIT_SETUP, E2BIG, "launch: the plan is too large");
	struct sh_term *t = (struct sh_term *)((char *)region + at);
	memcpy(t, term, head);
	h->r.term = t;
	uint64_t size = at + head;
	if (sh_write_all(sync, &size, sizeof(size)) < 0 || sh_write_all(sync, region, size) < 0 ||
	    sh_send_fds(sync, (char)('0' + open_mask), std, nstd, 0) < 0 ||
	    (h->slave_follows && sh_send_fd(sync, term->slave) < 0) || bell_ring(bell) < 0)
		return 1; /* init died: its record says why */
	return 0;
}

void sh_sandbox_opts_init(struct sh_sandbox_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->landlock_min_abi = 1;
}

int sh_sandbox_exec(const struct sh_plan *plan, struct sh_err *e)
{
	struct sh_sandbox_opts o;
	sh_sandbox_opts_init(&o);
	return sh_sandbox_exec_opts(plan, &o, e);
}

/* THE ORDER.  Each step relies on the ones before it.
 *
 * Launcher (steps 1, 4-6 may have run earlier, in sh_sandbox_prestart,
 * before the plan existed):
 *   1. harden itself: not dumpable, no core files (sh_harden_self)
 *   2. terminal: if any of 0/1/2 is a tty, we use our own pty (settings
 *      and window size copied; allocated here from the host's devpts, or
 *      by init in the sandbox's /dev/pts when the plan has one, see 6b),
 *      stdin to raw mode (restored on every path out of here;
 *      SIGTSTP/SIGCONT handled)
 *   3. block the relayed signals (before any child exists, so none is lost)
 *      and take them through a signalfd; SIGPIPE ignored while relaying
 *   4. status pipe (O_CLOEXEC) and, with namespaces, a handshake socket
 *   5. clone into new user+mount+pid+ipc+uts+cgroup namespaces, the
 *      relayed signals blocked in the child (fallback: plain fork)
 *   6. release init with the network mode (init has mapped the caller's
 *      ids to themselves, i2); (later) cgroup limits, then the plan to init
 *   6a'. (private network) receive init's socket factory; if ports are
 *       published (publish hooks), start the forwarder (automatic
 *       publishing) or keep the factory until a host listener has a
 *       connection (8 starts it then); else close it
 *   6a. (filtered) receive the proxy listener init created in the new
 *       network namespace; start the proxy process (net hooks)
 *   6b. (pty inside) receive the pty master from init, configure it
 *   7. read the status pipe to EOF (= execve succeeded) or an error record
 *   8. relay pty and signals (and start a pending forwarder) (SIGINT/TERM/HUP/QUIT/USR1/USR2 to init, which
 *      forwards them) until init reports the status (or exits); restore the
 *      terminal, run the end hook, reap init, return the status
 * Init (pid 1, see init_main):
 *   i1 PR_SET_PDEATHSIG(SIGKILL)  i1b close inherited fds  i2 its own uid/gid
 *   maps (setgroups "deny")  i3 SIGPIPE ignored
 *   i4 (private network) unshare(CLONE_NEWNET), lo up, socket factory
 *   channel sent to the launcher  i4b the view's root, /dev, /proc
 *   i5 wait for the plan  i6 close the
 *   eventfd  i7 pty slave on its tty fds, setsid  i8 hostname
 *   i8b (filtered) listener on 127.0.0.1:proxy_port, sent to the launcher
 *   i9 mount view + pivot_root  i9b pty from /dev/pts/ptmx, master to the
 *   launcher  i10 drop its capabilities
 *   i11 start the command (clone: CLONE_VM|CLONE_VFORK, its own stack), then
 *   reap/forward until it exits  i12 kill and reap
 *   everything else inside  i13 report the status to the launcher, exit
 * Command (see command_main):
 *   c1 setsid + TIOCSCTTY on the pty slave  c2 chdir(cwd)  c3 drop caps
 *   c4 PR_SET_NO_NEW_PRIVS  c5 Landlock  c6 close_range(3, ~0U, CLOEXEC)
 *   c7 seccomp (last)  c8 execve, PATH searched inside the view */
int sh_sandbox_exec_opts(const struct sh_plan *plan, const struct sh_sandbox_opts *opts,
			 struct sh_err *e)
{
	struct sh_term term;
	struct run r;
	sigset_t set;
	struct sigaction sa_pipe_old, sa_chld_old, sa;
	int errp[2] = { -1, -1 }, sync[2] = { -1, -1 }, sfd = -1, ret = -1;
	void *region = NULL;
	int bell = -1, donefd = -1;
	pid_t pid = -1, exiting = -1; /* exiting: init after its report (8) */
	bool proxy_started = false, pub_started = false;
	struct lazy_pub lazy = { .started = &pub_started };

	if (!plan || !plan->argv || !plan->argv[0] || !plan->envp) {
		sh_sandbox_prestart_cancel();
		return sh_fail(e, SH_EXIT_SETUP, EINVAL, "launch: the plan has no command");
	}
	memset(&r, 0, sizeof(r));
	r.plan = plan;
	r.opts = opts;
	r.term = &term;
	r.launcher = getpid();
	r.errfd = r.syncfd = r.donefd = -1;
	r.sup[0] = r.sup[1] = -1;
	r.pubfd = -1;

	/* Filtered without hooks (the library used without the CLI): the
	 * private namespace and Landlock as usual, and no proxy at all. */
	if (plan->net == SH_NETMODE_FILTERED && !plan->use_userns) {
		sh_sandbox_prestart_cancel();
		return sh_fail(e, SH_EXIT_SETUP, 0, "launch: filtered network needs a private "
						   "network namespace");
	}
	r.proxy = plan->net == SH_NETMODE_FILTERED && net_hooks.start;
	r.publish = plan->use_userns && plan->net != SH_NETMODE_FULL && pub_hooks.start;
	if (r.publish) {
		r.pub_ports = pub_hooks.ports;
		r.pub_nports = pub_hooks.nports;
		r.pub_bind_any = pub_hooks.bind_any;
	}
	/* 1., 4.-6. with namespaces (init may exist already, waiting) */
	if (plan->use_userns) {
		pid = take_prestart(plan, &r, &errp[0], &sync[0], &donefd, &bell, &region, e);
		if (pid < 0)
			return -1;
	} else {
		sh_sandbox_prestart_cancel();
		if (launcher_ready(e) < 0)
			return -1;
	}
	/* 2. */
	for (size_t i = 0; plan->use_userns && i < plan->nmounts; i++)
		if (plan->mounts[i].kind == SH_MNT_DEV && strcmp(plan->mounts[i].path, "/dev") == 0)
			r.pty_inside = true;
	if (sh_term_setup(&term, !r.pty_inside, e) < 0)
		goto out_noterm;
	if (sh_term_raw(&term, e) < 0) {
		sh_term_close(&term);
		goto out_noterm;
	}
	/* 3. */
	sigemptyset(&set);
	for (size_t i = 0; i < sizeof(relay_sigs) / sizeof(relay_sigs[0]); i++)
		sigaddset(&set, relay_sigs[i]);
	sigprocmask(SIG_BLOCK, &set, &r.oldmask);
	for (size_t i = 0; i < NFWD; i++) {
		struct sigaction old;
		r.fwd_ignored[i] = sigaction(fwd_sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN;
	}
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, &sa_pipe_old);
	r.pipe_ignored = sa_pipe_old.sa_handler == SIG_IGN;
	sa.sa_handler = SIG_DFL; /* an ignored SIGCHLD would auto-reap and lose the status */
	sigaction(SIGCHLD, &sa, &sa_chld_old);
	sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sfd < 0) {
		sh_fail(e, SH_EXIT_SETUP, errno, "launch: signalfd failed");
		goto out;
	}
	/* 4., 5. (fallback: no namespaces, the command is our child) */
	if (!plan->use_userns) {
		if (pipe2(errp, O_CLOEXEC) < 0) {
			sh_fail(e, SH_EXIT_SETUP, errno, "launch: cannot create the status pipe");
			goto out;
		}
		r.errfd = errp[1];
		fflush(NULL); /* no stdio buffer gets flushed twice by a child */
		/* No pid namespace in fallback: become the subreaper so that
		 * daemons started inside are re-parented to us, not to the
		 * host's init, and can be killed when the command ends. */
		if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) {
			sh_fail(e, SH_EXIT_SETUP, errno, "launch: cannot become a child subreaper");
			goto out;
		}
		pid = fork();
		if (pid < 0)
			sh_fail(e, SH_EXIT_SETUP, errno, "launch: fork failed");
		if (pid == 0)
			fallback_main(&r);
		if (pid < 0)
			goto out;
		sh_closep(&errp[1]);
		sh_term_close_slave(&term);
	}

	/* 6. */
	if (plan->limits && sh_limits_attach(plan->limits, pid, e) < 0)
		goto out;
	if (plan->use_userns) {
		int w = send_handoff(&r, &term, region, sync[0], bell, e);
		sh_term_close_slave(&term);
		sh_closep(&bell);
		if (w == 0 && plan->net != SH_NETMODE_FULL) {
			/* 6a'. The socket factory; EOF: init failed.  The
			 * forwarder starts now for automatic publishing, else
			 * with the first connection (supervise). */
			struct sh_sockfactory_fds f;
			if (sh_sockfactory_recv(sync[0], &f) < 0)
				w = 1;
			else if (r.publish && !pub_hooks.bind_any && pub_hooks.nlisten > 0) {
				lazy.f = f;
				lazy.pending = true;
				f.chan = f.tcp4 = f.tcp6 = f.netns = -1;
			} else if (r.publish && pub_hooks.start(pub_hooks.ctx, &f, e) < 0)
				w = -1;
			else
				pub_started = r.publish;
			sh_sockfactory_fds_close(&f);
		}
		if (w == 0 && r.proxy) {
			/* 6a. The proxy listener; EOF instead means init
			 * failed, and its record says why. */
			int l = sh_recv_fd(sync[0]);
			if (l < 0)
				w = 1;
			else {
				if (net_hooks.start(net_hooks.ctx, l, e) < 0)
					w = -1;
				else
					proxy_started = true;
				close(l);
			}
		}
		if (w == 0 && r.pty_inside && term.active) {
			/* 6b. Init sends the master once the view exists; EOF
			 * instead means it failed, and its record says why. */
			int m = sh_recv_fd(sync[0]);
			char c = 'g';
			if (m >= 0 && (sh_term_adopt(&term, m, e) < 0 || sh_write_all(sync[0], &c, 1) < 0))
				w = -1;
		}
		sh_closep(&sync[0]);
		if (w < 0) {
			kill(pid, SIGKILL);
			reap(pid);
			pid = -1;
			goto out;
		}
	}
	SH_TP("L-7");
	/* 7. */
	if (read_record(errp[0], e) < 0) {
		reap(pid);
		pid = -1;
		goto out;
	}
	SH_TP("L-8");
	/* 8. */
	bool reported = false;
	ret = supervise(pid, sfd, donefd, &term, &lazy, &reported);
	/* Reported: everything inside is dead and init is exiting (i13);
	 * it is reaped last, below, so its exit overlaps our own end. */
	exiting = reported ? pid : -1;
	pid = -1;
	if (!plan->use_userns)
		kill_orphans();
out:
	if (!plan->use_userns)
		(void)prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);
	if (pid > 0) { /* set-up failed after the clone */
		kill(pid, SIGKILL);
		reap(pid);
	}
	SH_TP("L-out");
	sh_term_close(&term);
	if (proxy_started && net_hooks.stop)
		net_hooks.stop(net_hooks.ctx); /* prints its summary: after the terminal */
	if (pub_started && pub_hooks.stop)
		pub_hooks.stop(pub_hooks.ctx);
	if (lazy.pending)
		sh_sockfactory_fds_close(&lazy.f); /* never needed: init's end sees EOF */
	if (sfd >= 0)
		drain_signalfd(sfd); /* consumed here, not delivered to the caller */
	sh_closep(&sfd);
	sh_closep(&errp[0]);
	sh_closep(&errp[1]);
	sh_closep(&sync[0]);
	sh_closep(&sync[1]);
	sh_closep(&donefd);
	sh_closep(&bell);
	if (region)
		munmap(region, HANDOFF_MAX);
	/* The session is over and nothing inside runs: the caller's end of
	 * it (the workdir's audit), while init's exit goes on. */
	if (ret >= 0 && end_hook.fn)
		ret = end_hook.fn(end_hook.ctx, ret);
	if (exiting > 0)
		reap(exiting);
	sigaction(SIGPIPE, &sa_pipe_old, NULL);
	sigaction(SIGCHLD, &sa_chld_old, NULL);
	sigprocmask(SIG_SETMASK, &r.oldmask, NULL);
	SH_TP("L-ret");
	return ret;
out_noterm:
	if (pid > 0) {
		kill(pid, SIGKILL);
		reap(pid);
	}
	sh_closep(&errp[0]);
	sh_closep(&sync[0]);
	sh_closep(&donefd);
	sh_closep(&bell);
	if (region)
		munmap(region, HANDOFF_MAX);
	return -1;
}

bool sh_sandbox_err_is_userns(const struct sh_err *e)
{
	return e->exit_code == SH_EXIT_SETUP &&
	       strncmp(e->msg, SH_USERNS_FAIL_MSG, strlen(SH_USERNS_FAIL_MSG)) == 0;
}
