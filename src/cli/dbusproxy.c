/* The keychain integration's filtered D-Bus proxy (see dbusproxy.h). */
#include "cli/dbusproxy.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "enforce/harden.h"
#include "util/path.h"
#include "util/str.h"

#define SECRETS_NAME "org.freedesktop.secrets"
#define SECRETS_PATH "@/org/freedesktop/secrets/*" /* the path and everything below */
#define READY_TIMEOUT_MS 5000
#define PROXY_FD 3 /* the proxy's --fd in its own table */

/* What the sandbox may do on the bus.  xdg-dbus-proxy's default policy
 * (with --filter) already limits calls to the bus driver to the harmless
 * ones (Hello, AddMatch, GetNameOwner of visible names...; not
 * UpdateActivationEnvironment, BecomeMonitor, RequestName...) and hides
 * every other name.  On org.freedesktop.secrets only the Secret Service
 * interfaces under /org/freedesktop/secrets are reachable: not the
 * daemons' private extensions on the same name (GNOME Keyring's
 * InternalUnsupportedGuiltRiddenInterface changes the master password),
 * not Introspect.  "IFACE.*" means every member of IFACE. */
#define CALL(i) "--call=" SECRETS_NAME "=" i ".*" SECRETS_PATH
#define BCAST(i) "--broadcast=" SECRETS_NAME "=" i ".*" SECRETS_PATH
static const char *const filter_args[] = {
	"--filter",
	CALL("org.freedesktop.Secret.Service"),
	CALL("org.freedesktop.Secret.Collection"),
	CALL("org.freedesktop.Secret.Item"),
	CALL("org.freedesktop.Secret.Session"),
	CALL("org.freedesktop.Secret.Prompt"),
	CALL("org.freedesktop.DBus.Properties"),
	BCAST("org.freedesktop.Secret.Service"),
	BCAST("org.freedesktop.Secret.Collection"),
	BCAST("org.freedesktop.Secret.Prompt"),
	BCAST("org.freedesktop.DBus.Properties"),
	NULL,
};

const char *const *sh_dbus_filter_args(void)
{
	return filter_args;
}

void sh_dbusproxy_init(struct sh_dbusproxy *d)
{
	memset(d, 0, sizeof(*d));
	sh_sessdir_init(&d->dir);
	d->pid = -1;
	d->ready_r = -1;
}

/* ---- addresses ---- */

static bool addr_plain(unsigned char ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       ch == '-' || ch == '_' || ch == '/' || ch == '.' || ch == '\\' || ch == '*';
}

char *sh_dbus_unix_address(const char *path)
{
	struct sh_buf b = { 0 };

	sh_buf_puts(&b, "unix:path=");
	for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
		if (addr_plain(*p))
			sh_buf_putc(&b, (char)*p);
		else
			sh_buf_printf(&b, "%%%02x", *p);
	}
	return sh_buf_take(&b);
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* The unescaped value of "path=" in one "unix:k=v,k=v" entry [s, end):
 * 1 with *out (malloc'd), 0 when the entry is not a unix:path= one, -1 when
 * its path is badly escaped (or holds a NUL). */
static int unix_path_of(const char *s, const char *end, char **out)
{
	struct sh_buf b = { 0 };
	const char *k;

	*out = NULL;
	if ((size_t)(end - s) < 5 || strncmp(s, "unix:", 5) != 0)
		return 0;
	for (k = s + 5; k < end;) {
		const char *comma = memchr(k, ',', (size_t)(end - k));
		const char *kend = comma ? comma : end;
		if ((size_t)(kend - k) > 5 && strncmp(k, "path=", 5) == 0) {
			for (const char *p = k + 5; p < kend; p++) {
				if (*p != '%') {
					sh_buf_putc(&b, *p);
					continue;
				}
				int hi = kend - p > 2 ? hexval(p[1]) : -1;
				int lo = hi >= 0 ? hexval(p[2]) : -1;
				if (lo < 0 || (hi == 0 && lo == 0)) {
					sh_buf_free(&b);
					return -1;
				}
				sh_buf_putc(&b, (char)(hi * 16 + lo));
				p += 2;
			}
			*out = sh_buf_take(&b);
			return 1;
		}
		k = comma ? comma + 1 : end;
	}
	return 0;
}

static bool is_socket(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISSOCK(st.st_mode);
}

int sh_dbus_session_bus(const char *env_addr, const char *runtime_dir, char **addr, char **why)
{
	*addr = *why = NULL;
	if (!env_addr || !*env_addr) {
		char *p = runtime_dir && runtime_dir[0] == '/' ? sh_path_join(runtime_dir, "bus") : NULL;
		if (p && !sh_has_ctl(p) && is_socket(p)) {
			*addr = sh_dbus_unix_address(p);
			free(p);
			return 1;
		}
		*why = sh_xasprintf("no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is unset%s%s%s)",
				    p ? " and " : " and XDG_RUNTIME_DIR is not set", p ? p : "",
				    p ? " is not a socket" : "");
		free(p);
		return 0;
	}
	/* A transport name first: never something xdg-dbus-proxy would
	 * read as an option. */
	if (sh_has_ctl(env_addr) || env_addr[0] < 'a' || env_addr[0] > 'z') {
		*why = sh_xstrdup("no usable D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is malformed)");
		return 0;
	}
	/* Entries are tried in order: usable if one is a unix:path= socket
	 * that exists, or of another kind (abstract, tcp: checked by the
	 * proxy when a client connects). */
	char *missing = NULL;
	for (const char *s = env_addr; *s;) {
		const char *semi = strchr(s, ';');
		const char *end = semi ? semi : s + strlen(s);
		char *p = NULL;
		int kind = end > s ? unix_path_of(s, end, &p) : -1;
		bool ok = kind == 0 || (kind == 1 && is_socket(p));
		if (kind == 1 && !ok && !missing)
			missing = sh_xstrdup(p);
		free(p);
		if (ok) {
			free(missing);
			*addr = sh_xstrdup(env_addr);
			return 1;
		}
		s = semi ? semi + 1 : end;
	}
	*why = sh_xasprintf("no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS names %s, which is not "
			    "a socket)", missing ? missing : "nothing usable");
	free(missing);
	return 0;
}

/* ---- the proxy's processes ---- */

/* xdg-dbus-proxy from the host's PATH (absolute entries only: a relative
 * entry would resolve in the current, agent-writable directory). */
static char *find_proxy(void)
{
	const char *path = getenv("PATH");
	struct sh_strv dirs = { 0 };
	char *found = NULL;

	sh_strv_split(&dirs, path ? path : "/usr/local/bin:/usr/bin:/bin", ':');
	for (size_t i = 0; i < dirs.n && !found; i++) {
		struct stat st;
		char *p;
		if (dirs.v[i][0] != '/')
			continue;
		p = sh_path_join(dirs.v[i], "xdg-dbus-proxy");
		if (stat(p, &st) == 0 && S_ISREG(st.st_mode) && access(p, X_OK) == 0)
			found = p;
		else
			free(p);
	}
	sh_strv_free(&dirs);
	return found;
}

/* The proxy, a child of the launcher.  Never returns. */
__attribute__((noreturn)) static void exec_proxy(const char *exe, const char *bus,
						 const char *sock, int ready_w, pid_t launcher)
{
	struct sh_err e = { 0 };
	char fdarg[32];
	const char *argv[64];
	char *const envp[] = { NULL };
	sigset_t none;
	size_t n = 0;

	/* Dies with the launcher; in its own session, so the terminal's ^C
	 * and hang-up (the command's business) never reach it. */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0) < 0 || getppid() != launcher)
		_exit(127);
	(void)setsid();
	for (int s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP)
			signal(s, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* Only stderr (if the launcher has one) and the pipe, as PROXY_FD;
	 * 0 and 1 (and a missing 2) on /dev/null. */
	int r = fcntl(ready_w, F_DUPFD_CLOEXEC, 10);
	int keep[] = { ready_w == 2 ? -1 : 2, r };
	if (r < 0 || sh_close_fds_except(keep, 2, &e) < 0 || dup2(r, PROXY_FD) != PROXY_FD)
		_exit(127);
	close(r);
	for (int fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) != fd)
			_exit(127);
	snprintf(fdarg, sizeof(fdarg), "--fd=%d", PROXY_FD);
	argv[n++] = exe;
	argv[n++] = fdarg;
	argv[n++] = bus;
	argv[n++] = sock;
	for (const char *const *f = filter_args; *f && n < 63; f++)
		argv[n++] = *f;
	argv[n] = NULL;
	execve(exe, (char *const *)argv, envp);
	_exit(127);
}

static void reap_bounded(pid_t pid)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };

	kill(pid, SIGTERM);
	for (int i = 0; i < 200; i++) { /* 2 s, then SIGKILL */
		pid_t r = waitpid(pid, NULL, WNOHANG);
		if (r == pid || (r < 0 && errno != EINTR))
			return;
		nanosleep(&ts, NULL);
	}
	kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

/* Wait for the proxy's ready byte on its --fd pipe. */
static int wait_ready(int fd, struct sh_err *e)
{
	struct timespec t0, t1;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char ch;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		long spent;
		int r;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		spent = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
		if (spent >= READY_TIMEOUT_MS)
			return sh_fail(e, SH_EXIT_SETUP, 0, "xdg-dbus-proxy did not become ready "
				       "within %d s", READY_TIMEOUT_MS / 1000);
		r = poll(&p, 1, (int)(READY_TIMEOUT_MS - spent));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return sh_fail(e, SH_EXIT_SETUP, errno, "waiting for xdg-dbus-proxy");
		if (r == 0)
			continue;
		ssize_t n = read(fd, &ch, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 1)
			return 0;
		return sh_fail(e, SH_EXIT_SETUP, n < 0 ? errno : 0,
			       "xdg-dbus-proxy exited before it was ready");
	}
}

static int start(struct sh_dbusproxy *d, const char *exe, const char *bus, struct sh_err *e)
{
	int rp[2];
	pid_t launcher = getpid(), pid;

	if (sh_sessdir_create(&d->dir, "dbus", e) < 0)
		return -1;
	d->sock = sh_sessdir_file(&d->dir, "bus");
	if (pipe2(rp, O_CLOEXEC) < 0)
		return sh_fail(e, SH_EXIT_SETUP, errno, "cannot create a pipe");
	fflush(NULL);
	pid = fork();
	if (pid == 0)
		exec_proxy(exe, bus, d->sock, rp[1], launcher);
	close(rp[1]);
	d->ready_r = rp[0];
	if (pid < 0)
		return sh_fail(e, SH_EXIT_SETUP, errno, "cannot start xdg-dbus-proxy");
	d->pid = pid;
	if (wait_ready(d->ready_r, e) < 0)
		return -1;
	if (!is_socket(d->sock))
		return sh_fail(e, SH_EXIT_SETUP, 0, "xdg-dbus-proxy is ready but '%s' is not a socket",
			       d->sock);
	return 0;
}

/* Cannot be done: an error when asked for explicitly, else one warning. */
static int unavailable(bool explicit_, const struct sh_assembly *a, const char *why,
		       const char *hint, struct sh_err *e)
{
	static bool warned;

	if (explicit_) {
		sh_fail(e, SH_EXIT_SETUP, 0, "--enable=keychain: %s; the session bus is never "
			"given to the sandbox directly", why);
		return sh_hint(e, "%s", hint ? hint : "run without keychain in --enable (no keyring "
				  "access inside)");
	}
	if (!warned)
		sh_warn("keychain (required by %s): %s; the session runs without keyring access",
			a->agent ? a->agent : "an included profile", why);
	warned = true;
	return 0;
}

int sh_dbusproxy_setup(struct sh_dbusproxy *d, const struct sh_context *c,
		       const struct sh_assembly *a, struct sh_plan *plan, struct sh_err *e)
{
	bool explicit_ = sh_strv_contains(&a->features_enabled, "keychain");
	char *bus = NULL, *why = NULL, *exe = NULL;
	int rc = 0;

	if (!explicit_ && !sh_strv_contains(&a->features_implied, "keychain"))
		return 0;
	if (!sh_dbus_session_bus(getenv("DBUS_SESSION_BUS_ADDRESS"), getenv("XDG_RUNTIME_DIR"),
				 &bus, &why)) {
		rc = unavailable(explicit_, a, why, NULL, e);
		goto out;
	}
	if (!(exe = find_proxy())) {
		rc = unavailable(explicit_, a, "xdg-dbus-proxy is not installed (not found in PATH)",
				 "install it (Debian/Ubuntu: apt install xdg-dbus-proxy; Fedora: dnf "
				 "install xdg-dbus-proxy), or run without keychain in --enable", e);
		goto out;
	}
	if (start(d, exe, bus, e) < 0) {
		char msg[sizeof(e->msg)];
		snprintf(msg, sizeof(msg), "%s", e->msg);
		sh_dbusproxy_stop(d);
		memset(e, 0, sizeof(*e));
		rc = unavailable(explicit_, a, msg, NULL, e);
		goto out;
	}
	sh_sessdir_bind(plan, d->sock, true, "<keychain: D-Bus proxy socket>");
	plan->grants_socket = true; /* fallback mode: socket(AF_UNIX) stays allowed */
	{
		char *addr = sh_dbus_unix_address(d->sock);
		sh_plan_env_put(plan, "DBUS_SESSION_BUS_ADDRESS", addr);
		free(addr);
	}
	if (c->opt->explain)
		fprintf(stderr, "safehouse: explain: keychain: the session bus through %s, filtered "
				"to the Secret Service (org.freedesktop.secrets: "
				"org.freedesktop.Secret.*, Properties); only its socket %s is in the "
				"sandbox (DBUS_SESSION_BUS_ADDRESS)\n", exe, d->sock);
out:
	free(bus);
	free(why);
	free(exe);
	return rc;
}

void sh_dbusproxy_stop(struct sh_dbusproxy *d)
{
	/* Closing its --fd pipe stops the proxy; SIGTERM in case it hangs. */
	if (d->ready_r >= 0)
		close(d->ready_r);
	d->ready_r = -1;
	if (d->pid > 0)
		reap_bounded(d->pid);
	d->pid = -1;
	sh_sessdir_remove(&d->dir);
	free(d->sock);
	d->sock = NULL;
}
