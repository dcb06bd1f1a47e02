/* The launcher, end to end: plans built by hand, run for real, observed from
 * inside (through the command's output and exit status) and from the host.
 * Every case forks (TEST_FORK): sh_sandbox_exec hardens the calling process.
 * Works as root and as an unprivileged user (user namespaces required for
 * all but the fallback cases). */
#include "fixture_plan.h"
#include "harness.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/sysmacros.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "enforce/hostcheck.h"
#include "enforce/landlock.h"
#include "enforce/mountns.h"
#include "enforce/sandbox.h"
#include "util/str.h"

#define RX (SH_ACC_READ | SH_ACC_EXEC)
#define RW (SH_ACC_READ | SH_ACC_WRITE)
#define RWX (SH_ACC_READ | SH_ACC_WRITE | SH_ACC_EXEC)

static char out[65536];

static bool need_sandbox(bool userns)
{
	struct sh_check c;
	if (sh_landlock_abi(NULL) < 1) {
		t_skip("landlock unavailable on this kernel");
		return false;
	}
	if (userns && !sh_hostcheck_userns(&c)) {
		t_skip("user namespaces unavailable: %s", c.detail);
		return false;
	}
	return true;
}

static void set_cmd(struct sh_plan *p, const char *script)
{
	p->argv = sh_xcalloc(4, sizeof(char *));
	p->argv[0] = sh_xstrdup("/bin/sh");
	p->argv[1] = sh_xstrdup("-c");
	p->argv[2] = sh_xstrdup(script);
	p->envp = sh_xcalloc(3, sizeof(char *));
	p->envp[0] = sh_xstrdup("PATH=/usr/bin:/bin");
	p->envp[1] = sh_xstrdup("LC_ALL=C");
	p->cwd = sh_xstrdup("/");
}

/* A small agent-like view: system dirs read-only, fresh /proc and /dev,
 * private /tmp. */
static void base_plan(struct sh_plan *p, enum sh_net_mode net, const char *script)
{
	t_plan_base_view(p, net);
	set_cmd(p, script);
}

/* Run with stdout+stderr captured in a memfd (nothing on disk). */
static int run(struct sh_plan *p, struct sh_err *e)
{
	int m = memfd_create("out", MFD_CLOEXEC);
	int s1 = dup(1), s2 = dup(2);
	fflush(stdout);
	fflush(stderr);
	dup2(m, 1);
	dup2(m, 2);
	memset(e, 0, sizeof(*e));
	int r = sh_sandbox_exec(p, e);
	fflush(stdout);
	fflush(stderr);
	dup2(s1, 1);
	dup2(s2, 2);
	close(s1);
	close(s2);
	ssize_t n = pread(m, out, sizeof(out) - 1, 0);
	out[n > 0 ? n : 0] = '\0';
	close(m);
	if (r < 0)
		printf("#   launch failed (%d): %s\n", e->exit_code, e->msg);
	return r;
}

static void show_out(void)
{
	printf("#   output: %s\n", out);
}

/* The host's mount table, for "nothing changed" checks. */
static char *mounts_snapshot(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	FILE *m = fopen("/proc/self/mountinfo", "re");
	int ch;
	while (m && (ch = fgetc(m)) != EOF)
		fputc(ch, f);
	if (m)
		fclose(m);
	fclose(f);
	return buf;
}

static char *path_in(const char *dir, const char *name)
{
	return sh_xasprintf("%s/%s", dir, name);
}

static bool exists(const char *p)
{
	struct stat st;
	return lstat(p, &st) == 0;
}

/* ---- status and errors ---- */

TEST_FORK(sandbox_exit_status_propagates)
{
	struct sh_plan p;
	struct sh_err e;
	if (!need_sandbox(true))
		return;
	base_plan(&p, SH_NETMODE_NONE, "exit 7");
	CHECK_INT(run(&p, &e), ==, 7);
	sh_plan_free(&p);
}

TEST_FORK(sandbox_signal_becomes_128_plus_n)
{
	struct sh_plan p;
	struct sh_err e;
	if (!need_sandbox(true))
		return;
	base_plan(&p, SH_NETMODE_NONE, "kill -TERM $$");
	CHECK_INT(run(&p, &e), ==, 128 + SIGTERM);
	sh_plan_free(&p);
}

TEST_FORK(sandbox_command_not_found_127)
{
	struct sh_plan p;
	struct sh_err e;
	if (!need_sandbox(true))
		return;
	base_plan(&p, SH_NETMODE_NONE, "");
	free(p.argv[0]);
	p.argv[0] = sh_xstrdup("no-such-command-xyz");
	CHECK_INT(run(&p, &e), ==, -1);
	CHECK_INT(e.exit_code, ==, 127);
	CHECK_CONTAINS(e.msg, "no-such-command-xyz");
	CHECK_CONTAINS(e.msg, "not found");
	sh_plan_free(&p);
}

TEST_FORK(sandbox_not_executable_126)
{
	struct sh_plan p;
	struct sh_err e;
	if (!need_sandbox(true))
		return;
	char *d = t_mkdtemp();
	char *f = path_in(d, "script");
	t_write_file(f, "#!/bin/sh\necho hi\n");
	chmod(f, 0644);
	base_plan(&p, SH_NETMODE_NONE, "");
	sh_plan_add_mount(&p, SH_MNT_BIND, d, false, true, NULL);
	sh_plan_add_ll(&p, d, RX);
	free(p.argv[0]);
	p.argv[0] = sh_xstrdup(f);
	CHECK_INT(run(&p, &e), ==, -1);
	CHECK_INT(e.exit_code, ==, 126);
	CHECK_CONTAINS(e.msg, "exec:");
	sh_plan_free(&p);
	t_rmtree(d);
	free(f);
	free(d);
}

TEST_FORK(sandbox_setup_error_names_the_step)
{
	struct sh_plan p;
	struct sh_err e;
	if (!need_sandbox(true))
		return;
	char *before = mounts_snapshot();
	base_plan(&p, SH_NETMODE_NONE, "exit 0");
	sh_plan_add_mount(&p, SH_MNT_BIND, "/no/such/dir-xyz", false, true, NULL);
	CHECK_INT(run(&p, &e), ==, -1);
	CHECK_INT(e.exit_code, ==, 125);
	CHECK_CONTAINS(e.msg, "mount: ");
	CHECK_CONTAINS(e.msg, "/no/such/dir-xyz");
	sh_plan_free(&p);

	base_plan(&p, SH_NETMODE_NONE, "exit 0");
	free(p.cwd);
	p.cwd = sh_xstrdup("/not-in-the-view");
	CHECK_INT(run(&p, &e), ==, -1);
	CHECK_INT(e.exit_code, ==, 125);
	CHECK_CONTAINS(e.msg, "chdir: ");
	char *after = mounts_snapshot();
	CHECK_STR(after, before);
	sh_plan_free(&p);
	free(before);
	free(after);
}

/* ---- the mount view ---- */

TEST_FORK(sandbox_ro_bind_readable_not_writable)
{
	struct sh_plan p;
	struct sh_err e;
	if (!need_sandbox(true))
		return;
	char *d = t_mkdtemp();
	char *f = path_in(d, "f");
	t_write_file(f, "hello\n");
	base_plan(&p, SH_NETMODE_NONE, "");
	sh_plan_add_mount(&p, SH_MNT_BIND, d, false, true, NULL);
	sh_plan_add_ll(&p, d, RW); /* Landlock allows: the mount layer must refuse */
	free(p.argv[2]);
	p.argv[2] = sh_xasprintf("cat %s/f; echo x > %s/f || echo NOWRITE; touch %s/g || echo NOCREATE",
				 d, d, d);
	CHECK_INT(run(&p, &e), ==, 0);
	CHECK_CONTAINS(out, "hello");
	CHECK_CONTAINS(out, "NOWRITE");
	CHECK_CONTAINS(out, "NOCREATE");
	CHECK_CONTAINS(out, "Read-only file system");
	char *g = path_in(d, "g");
	CHECK(!exists(g));
	sh_plan_free(&p);
	t_rmtree(d);
	free(g);
	free(f);
	free(d);
}

TEST_FORK(sandbox_rw_bind_visible_on_host)
{
	struct sh_plan p;
	struct sh_err e;
	if (!need_sandbox(true))
		return;
	char *d = t_mkdtemp();
	base_plan(&p, SH_NETMODE_NONE, "");
	sh_plan_add_mount(&p, SH_MNT_BIND, d, true, true, NULL);
	sh_plan_add_ll(&p, d, RW);
	free(p.argv[2]);
	p.argv[2] = sh_xasprintf("echo written-inside > %s/new", d);
	CHECK_INT(run(&p, &e), ==, 0);
	char *f = path_in(d, "new");
	char buf[64] = "";
	FILE *fp = fopen(f, "r");
	CHECK(fp != NULL);
	if (fp) {
		CHECK(fgets(buf, sizeof(buf), fp) != NULL);
		fclose(fp);
	}
	CHECK_STR(buf, "written-inside\n");
	sh_plan_free(&p);
	t_rmtree(d);
	free(f);
	free(d);
}

TEST_FORK(sandbox_masks_hide_file_and_dir)
{
	struct sh_plan p;
	struct sh_err e;
	if (!need_sandbox(true))
		return;
	char *before = mounts_snapshot();
	char *d = t_mkdtemp();
	char *secret = path_in(d, "secret"), *sdir = path_in(d, "sdir");
	char *inner = path_in(sdir, "key");
	t_write_file(secret, "s3cret\n");
	mkdir(sdir, 0700);
	t_write_file(inner, "k3y\n");
	base_plan(&p, SH_NETMODE_NONE, "");
	sh_plan_add_mount(&p, SH_MNT_BIND, d, true, true, NULL);
	sh_plan_add_mount(&p, SH_MNT_MASK, secret, false, false, NULL);
	sh_plan_add_mount(&p, SH_MNT_MASK, sdir, false, true, NULL);
	sh_plan_add_ll(&p, d, RW);
	free(p.argv[2]);
	p.argv[2] = sh_xasprintf("echo \"[$(cat %s)]\"; echo \"<$(ls -A %s)>\"; "
				 "echo x > %s || echo NOWRITE1; touch %s/new || echo NOWRITE2",
				 secret, sdir, secret, sdir);
	CHECK_INT(run(&p, &e), ==, 0);
	CHECK_CONTAINS(out, "[]");
	CHECK_CONTAINS(out, "<>");
	CHECK_CONTAINS(out, "NOWRITE1");
	CHECK_CONTAINS(out, "NOWRITE2");
	if (strstr(out, "s3cret") || strstr(out, "key"))
		show_out();
	CHECK(!strstr(out, "s3cret"));
	/* the host is untouched */
	FILE *fp = fopen(secret, "r");
	char buf[32] = "";
	if (fp) {
		CHECK(fgets(buf, sizeof(buf), fp) != NULL);
		fclose(fp);
	}
	CHECK_STR(buf, "s3cret\n");
	CHECK(exists(inner));
	char *after = mounts_snapshot();
	CHECK_STR(after, before);
	sh_plan_free(&p);
	t_rmtree(d);
	free(before);
	free(after);
	free(secret);
	free(sdir);
	free(inner);
	free(d);
}

TEST_FORK(sandbox_unplanned_paths_do_not_exist)
{
	struct sh_plan p;
	struct sh_err e;
	if (!need_sandbox(true))
		return;
	base_plan(&p, SH_NETMODE_NONE,
		  "for x in /root /home /etc /var /run /sys /.safehouse-empty; do "
		  "test -e $x && echo PRESENT:$x; done; touch /newfile || echo ROOT-RO");
	CHECK_INT(run(&p, &e), ==, 0);
	if (strstr(out, "PRESENT"))
		show_out();
	CHECK(!strstr(out, "PRESENT"));
	CHECK_CONTAINS(out, "ROOT-RO");
	sh_plan_free(&p);
}

/* Init makes /dev and /proc before the plan arrives (mountns begin): a
 * plan without them gets neither, and mounts below them still work. */
TEST_FORK(sandbox_early_dev_proc_follow_the_plan)
{
	struct sh_plan p;
	struct sh_err e;
	if (!need_sandbox(true))
		return;
	sh_plan_init(&p);
	p.use_userns = true;
	p.net = SH_NETMODE_NONE;
	sh_plan_add_mount(&p, SH_MNT_BIND, "/usr", false, true, NULL);
	sh_plan_add_ll(&p, "/usr", SH_ACC_READ | SH_ACC_EXEC);
	t_plan_add_root_entry(&p, "/bin");
	t_plan_add_root_entry(&p, "/lib");
	t_plan_add_root_entry(&p, "/lib64");
	sh_plan_add_ll(&p, "/", SH_ACC_READ);
	set_cmd(&p, "for x in /dev /proc; do test -e $x && echo PRESENT:$x; done; "
		    "grep -c . /proc/self/mountinfo 2>/dev/null; echo DONE");
	CHECK_INT(run(&p, &e), ==, 0);
	CHECK_CONTAINS(out, "DONE");
	CHECK(!strstr(out, "PRESENT"));
	sh_plan_free(&p);
	/* With them, a tmpfs below /dev lands in the early /dev. */
	base_plan(&p, SH_NETMODE_NONE, "test -c /dev/null && test -d /dev/shm && "
				       "grep -q ' /dev/shm ' /proc/self/mountinfo && echo OK");
	sh_plan_add_mount(&p, SH_MNT_TMPFS, "/dev/shm", false, true, NULL);
	CHECK_INT(run(&p, &e), ==, 0);
	CHECK_CONTAINS(out, "OK");
	sh_plan_free(&p);
	/* Under a bind of "/" (danger-full-access), the plan's own /dev and
	 * /proc are made on it; the early ones are out of reach. */
	sh_plan_init(&p);
	p.use_userns = true;
	p.net = SH_NETMODE_NONE;
	sh_plan_add_mount(&p, SH_MNT_BIND, "/", false, true, NULL);
	sh_plan_add_mount(&p, SH_MNT_DEV, "/dev", false, true, NULL);
	sh_plan_add_mount(&p, SH_MNT_PROC, "/proc", false, true, NULL);
	sh_plan_add_ll(&p, "/", SH_ACC_READ | SH_ACC_EXEC);
	sh_plan_add_ll(&p, "/dev", SH_ACC_READ | SH_ACC_WRITE);
	set_cmd(&p, "test -c /dev/null && test \"$(cat /proc/1/comm)\" = safehouse-init && "
		    "test -e /usr/bin && echo OK");
	CHECK_INT(run(&p, &e), ==, 0);
	CHECK_CONTAINS(out, "OK");
	sh_plan_free(&p);
}

TEST_FORK(sandbox_proc_pid_namespace_init)
{
	struct sh_plan p;
	struct sh_err e;
	if (!need_sandbox(true))
		return;
	base_plan(&p, SH_NETMODE_NONE,
		  "cat /proc/1/comm; echo pids=$(ls /proc | grep -c '^[0-9]'); "
		  "echo \"keys=[$(cat /proc/keys)]\"; echo 1 > /proc/sys/kernel/domainname || "
		  "echo SYSRO");
	CHECK_INT(run(&p, &e), ==, 0);
	CHECK_CONTAINS(out, "safehouse-init");
	CHECK_CONTAINS(out, "keys=[]");
	CHECK_CONTAINS(out, "SYSRO");
	const char *s = strstr(out, "pids=");
	CHECK(s && atoi(s + 5) >= 2 && atoi(s + 5) <= 5);
	sh_plan_free(&p);
}

TEST_FORK(sandbox_tmp_is_private)
{
	struct sh_plan p;
	struct sh_err e;
	if (!need_sandbox(true))
		return;
	char *name = sh_xasprintf("/tmp/sh-private-%d", (int)getpid());
	base_plan(&p, SH_NETMODE_NONE, "");
	free(p.argv[2]);
	p.argv[2] = sh_xasprintf("echo x > %s && test -f %s && echo MADE; ls -A /tmp | wc -l", name,
				 name);
	CHECK_INT(run(&p, &e), ==, 0);
	CHECK_CONTAINS(out, "MADE\n1\n");
	CHECK(!exists(name));
	sh_plan_free(&p);
	free(name);
}

TEST_FORK(sandbox_hostname)
{
	struct sh_plan p;
	struct sh_err e;
	if (!need_sandbox(true))
		return;
	base_plan(&p, SH_NETMODE_NONE, "cat /proc/sys/kernel/hostname");
	CHECK_INT(run(&p, &e), ==, 0);
	CHECK_STR(out, "safehouse\n");
	p.hostname = sh_xstrdup("box-2");
	CHECK_INT(run(&p, &e), ==, 0);
	CHECK_STR(out, "box-2\n");
	sh_plan_free(&p);
}

/* ---- network ---- */

static int listener(int *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t l = sizeof(a);
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s, 8) < 0 ||
	    getsockname(s, (struct sockaddr *)&a, &l) < 0)
		return -1;
	*port = ntohs(a.sin_port);
	return s;
}

TEST_FORK(sandbox_network_modes)
{
	struct sh_plan p;
	struct sh_err e;
	int port = 0;
	if (!need_sandbox(true))
		return;
	if (access("/usr/bin/bash", X_OK) != 0)
		SKIP("needs /usr/bin/bash for /dev/tcp");
	int s = listener(&port);
	if (!CHECK(s >= 0))
		return;
	char *script = sh_xasprintf("exec /usr/bin/bash -c 'echo > /dev/tcp/127.0.0.1/%d && "
				    "echo CONNECTED'", port);

	base_plan(&p, SH_NETMODE_NONE, script); /* own netns: nobody listens there */
	run(&p, &e);
	CHECK(!strstr(out, "CONNECTED"));
	sh_plan_free(&p);

	base_plan(&p, SH_NETMODE_FULL, script);
	CHECK_INT(run(&p, &e), ==, 0);
	CHECK_CONTAINS(out, "CONNECTED");
	sh_plan_free(&p);

	/* Filtered: private netns whose lo is up (refused, not unreachable),
	 * and Landlock allows only the proxy port. */
	base_plan(&p, SH_NETMODE_FILTERED,
		  "exec /usr/bin/bash -c 'echo > /dev/tcp/127.0.0.1/1; echo > /dev/tcp/127.0.0.1/2'");
	p.proxy_port = 1;
	run(&p, &e);
	CHECK_CONTAINS(out, "Connection refused");
	CHECK_CONTAINS(out, "Permission denied");
	CHECK(!strstr(out, "unreachable"));
	sh_plan_free(&p);
	free(script);
	close(s);
}

/* ---- early start (sh_sandbox_prestart) ---- */

/* Children of this process, from /proc (init is one while it waits). */
static int child_count(void)
{
	char path[64], buf[4096];
	snprintf(path, sizeof(path), "/proc/self/task/%d/children", (int)getpid());
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	int k = 0;
	for (char *t = strtok(buf, " \n"); t; t = strtok(NULL, " \n"))
		k++;
	return k;
}

TEST_FORK(sandbox_prestart_used_replaced_or_cancelled)
{
	struct sh_plan p;
	struct sh_err e;
	if (!need_sandbox(true))
		return;
	/* Started and released for the plan's mode: the run uses it. */
	CHECK_INT(sh_sandbox_prestart(SH_NETMODE_NONE, &e), ==, 0);
	CHECK_INT(child_count(), ==, 1);
	CHECK_INT(sh_sandbox_prestart_net(SH_NETMODE_NONE, &e), ==, 0);
	base_plan(&p, SH_NETMODE_NONE, "grep -c : /proc/net/dev; exit 7");
	CHECK_INT(run(&p, &e), ==, 7);
	CHECK_STR(out, "1\n"); /* lo only: its own network namespace */
	CHECK_INT(child_count(), ==, 0);
	sh_plan_free(&p);
	/* Released for another mode: replaced (the host's network here). */
	CHECK_INT(sh_sandbox_prestart(SH_NETMODE_NONE, &e), ==, 0);
	CHECK_INT(sh_sandbox_prestart_net(SH_NETMODE_NONE, &e), ==, 0);
	base_plan(&p, SH_NETMODE_FULL, "grep -c : /proc/net/dev");
	CHECK_INT(run(&p, &e), ==, 0);
	CHECK(atoi(out) > 1); /* the host's interfaces */
	CHECK_INT(child_count(), ==, 0);
	sh_plan_free(&p);
	/* Started expecting a private network (its namespace made at
	 * once), released for the host's: replaced before the release. */
	CHECK_INT(sh_sandbox_prestart(SH_NETMODE_FILTERED, &e), ==, 0);
	CHECK_INT(sh_sandbox_prestart_net(SH_NETMODE_FULL, &e), ==, 0);
	CHECK_INT(child_count(), ==, 1);
	base_plan(&p, SH_NETMODE_FULL, "grep -c : /proc/net/dev");
	CHECK_INT(run(&p, &e), ==, 0);
	CHECK(atoi(out) > 1);
	sh_plan_free(&p);
	/* And the other way round. */
	CHECK_INT(sh_sandbox_prestart(SH_NETMODE_FULL, &e), ==, 0);
	base_plan(&p, SH_NETMODE_NONE, "grep -c : /proc/net/dev");
	CHECK_INT(run(&p, &e), ==, 0);
	CHECK_STR(out, "1\n");
	CHECK_INT(child_count(), ==, 0);
	sh_plan_free(&p);
	/* Not used: cancelled, nothing left. */
	CHECK_INT(sh_sandbox_prestart(SH_NETMODE_NONE, &e), ==, 0);
	CHECK_INT(sh_sandbox_prestart_net(SH_NETMODE_FILTERED, &e), ==, 0);
	sh_sandbox_prestart_cancel();
	CHECK_INT(child_count(), ==, 0);
	sh_sandbox_prestart_cancel(); /* twice: a no-op */
}

/* ---- path safety (threats.md LAUNCH-01) ---- */

TEST_FORK(sandbox_planted_symlink_aborts)
{
	struct sh_plan p;
	struct sh_err e;
	if (!need_sandbox(true))
		return;
	char *before = mounts_snapshot();
	char *work = t_mkdtemp(), *ssh = t_mkdtemp();
	char *key = path_in(ssh, "id_ed25519");
	t_write_file(key, "PRIVATE\n");
	char *git = path_in(work, ".git"), *hooks = path_in(work, ".git/hooks");
	char *claude = path_in(work, ".claude");
	mkdir(git, 0755);
	CHECK(symlink(ssh, hooks) == 0); /* the attacker's staging */
	CHECK(symlink(ssh, claude) == 0);

	/* a carve-out target through the symlink */
	base_plan(&p, SH_NETMODE_NONE, "cat .git/hooks/id_ed25519");
	sh_plan_add_mount(&p, SH_MNT_BIND, work, true, true, NULL);
	sh_plan_add_mount(&p, SH_MNT_BIND, hooks, false, true, NULL);
	CHECK_INT(run(&p, &e), ==, -1);
	CHECK_INT(e.exit_code, ==, 125);
	CHECK_CONTAINS(e.msg, "symlink");
	CHECK_CONTAINS(e.msg, hooks);
	CHECK(!strstr(out, "PRIVATE"));
	sh_plan_free(&p);

	/* a mask target through the symlink */
	base_plan(&p, SH_NETMODE_NONE, "exit 0");
	sh_plan_add_mount(&p, SH_MNT_BIND, work, true, true, NULL);
	sh_plan_add_mount(&p, SH_MNT_MASK, hooks, false, true, NULL);
	CHECK_INT(run(&p, &e), ==, -1);
	CHECK_CONTAINS(e.msg, "symlink");
	sh_plan_free(&p);

	/* a bind source that is a symlink */
	base_plan(&p, SH_NETMODE_NONE, "exit 0");
	sh_plan_add_mount(&p, SH_MNT_BIND, claude, true, true, NULL);
	CHECK_INT(run(&p, &e), ==, -1);
	CHECK_CONTAINS(e.msg, "refusing to mount");
	CHECK_CONTAINS(e.msg, claude);
	sh_plan_free(&p);

	/* nothing mounted, nothing created on the host */
	char *after = mounts_snapshot();
	CHECK_STR(after, before);
	DIR *dd = opendir(ssh);
	int n = 0;
	for (struct dirent *de; dd && (de = readdir(dd));)
		n += de->d_name[0] != '.';
	if (dd)
		closedir(dd);
	CHECK_INT(n, ==, 1);
	t_rmtree(work);
	t_rmtree(ssh);
	free(before);
	free(after);
	free(key);
	free(git);
	free(hooks);
	free(claude);
	free(work);
	free(ssh);
}

/* A bind source whose type changed since the plan (a file where the plan has
 * a directory, or the reverse) is refused, and the message says so. */
TEST_FORK(sandbox_bind_source_of_the_wrong_type_refused)
{
	struct sh_plan p;
	struct sh_err e;
	if (!need_sandbox(true))
		return;
	char *work = t_mkdtemp();
	char *dir = path_in(work, "was-a-file"), *file = path_in(work, "was-a-dir");
	CHECK(mkdir(dir, 0755) == 0);
	t_write_file(file, "x\n");
	base_plan(&p, SH_NETMODE_NONE, "exit 0");
	sh_plan_add_mount(&p, SH_MNT_BIND, dir, false, false, NULL);
	CHECK_INT(run(&p, &e), ==, -1);
	CHECK_INT(e.exit_code, ==, 125);
	CHECK_CONTAINS(e.msg, "changed since the plan");
	CHECK_CONTAINS(e.msg, dir);
	sh_plan_free(&p);
	base_plan(&p, SH_NETMODE_NONE, "exit 0");
	sh_plan_add_mount(&p, SH_MNT_BIND, file, false, true, NULL);
	CHECK_INT(run(&p, &e), ==, -1);
	CHECK_INT(e.exit_code, ==, 125);
	CHECK_CONTAINS(e.msg, "changed since the plan");
	sh_plan_free(&p);
	t_rmtree(work);
	free(dir);
	free(file);
	free(work);
}

TEST_FORK(sandbox_never_creates_on_host)
{
	struct sh_plan p;
	struct sh_err e;
	if (!need_sandbox(true))
		return;
	char *work = t_mkdtemp();
	char *missing = path_in(work, "not-there/deeper");
	char *parent = path_in(work, "not-there");
	base_plan(&p, SH_NETMODE_NONE, "exit 0");
	sh_plan_add_mount(&p, SH_MNT_BIND, work, true, true, NULL);
	sh_plan_add_mount(&p, SH_MNT_MASK, missing, false, true, NULL);
	CHECK_INT(run(&p, &e), ==, -1);
	CHECK_CONTAINS(e.msg, "does not exist on the host");
	CHECK(!exists(parent));
	sh_plan_free(&p);

	/* A skeleton entry under a host bind: same rule. */
	base_plan(&p, SH_NETMODE_NONE, "exit 0");
	sh_plan_add_mount(&p, SH_MNT_BIND, work, true, true, NULL);
	sh_plan_add_mount(&p, SH_MNT_DIR, missing, false, true, NULL);
	CHECK_INT(run(&p, &e), ==, -1);
	CHECK(!exists(parent));
	sh_plan_free(&p);

	/* But parents inside our own tmpfs are made as needed (and vanish). */
	base_plan(&p, SH_NETMODE_NONE, "");
	sh_plan_add_mount(&p, SH_MNT_BIND, work, true, true, NULL);
	sh_plan_add_mount(&p, SH_MNT_DIR, "/opt/skel/a", false, true, NULL);
	sh_plan_add_mount(&p, SH_MNT_TMPFS, "/home/agent", false, true, NULL)->size = 1 << 20;
	sh_plan_add_ll(&p, "/home/agent", RW);
	free(p.argv[2]);
	p.argv[2] = sh_xstrdup("test -d /opt/skel/a && echo SKEL; echo x > /home/agent/f && echo HOME-RW;"
			       "touch /opt/skel/x || echo SKEL-RO");
	CHECK_INT(run(&p, &e), ==, 0);
	CHECK_CONTAINS(out, "SKEL\nHOME-RW");
	CHECK_CONTAINS(out, "SKEL-RO");
	CHECK(!exists("/opt/skel") || exists("/opt/skel/a") == false);
	sh_plan_free(&p);
	t_rmtree(work);
	free(missing);
	free(parent);
	free(work);
}

/* Pins (peers.md): without them, `mv .git .git.old; mkdir .git` moves a
 * read-only carve-out out of the way. */
static void pin_case(bool legacy)
{
	struct sh_plan p;
	struct sh_err e;
	if (!need_sandbox(true))
		return;
	char *d = t_mkdtemp();
	char *sub = path_in(d, "sub"), *inner = path_in(d, "sub/inner");
	mkdir(sub, 0755);
	mkdir(inner, 0755);
	char *hook = path_in(inner, "hook");
	t_write_file(hook, "original\n");
	sh_mountns_force_legacy(legacy);

	base_plan(&p, SH_NETMODE_NONE, "");
	sh_plan_add_mount(&p, SH_MNT_BIND, d, true, true, NULL);
	sh_plan_add_mount(&p, SH_MNT_BIND, sub, true, true, NULL); /* the pin, before the child */
	sh_plan_add_mount(&p, SH_MNT_BIND, inner, false, true, NULL);
	sh_plan_add_ll(&p, d, RW);
	free(p.argv[2]);
	p.argv[2] = sh_xasprintf("cd %s; mv sub sub2 || echo PIN-HOLDS; mv sub/inner sub/x || "
				 "echo INNER-HOLDS; echo evil > sub/inner/hook || echo INNER-RO; "
				 "echo ok > sub/other && echo SUB-RW", d);
	CHECK_INT(run(&p, &e), ==, 0);
	CHECK_CONTAINS(out, "PIN-HOLDS");
	CHECK_CONTAINS(out, "Device or resource busy");
	CHECK_CONTAINS(out, "INNER-HOLDS");
	CHECK_CONTAINS(out, "INNER-RO");
	CHECK_CONTAINS(out, "SUB-RW");
	char *sub2 = path_in(d, "sub2");
	CHECK(!exists(sub2));
	sh_plan_free(&p);

	/* The attack the pin prevents: without it the rename succeeds. */
	base_plan(&p, SH_NETMODE_NONE, "");
	sh_plan_add_mount(&p, SH_MNT_BIND, d, true, true, NULL);
	sh_plan_add_mount(&p, SH_MNT_BIND, inner, false, true, NULL);
	sh_plan_add_ll(&p, d, RW);
	free(p.argv[2]);
	p.argv[2] = sh_xasprintf("cd %s && mv sub sub2 && echo RENAMED", d);
	CHECK_INT(run(&p, &e), ==, 0);
	CHECK_CONTAINS(out, "RENAMED");
	sh_plan_free(&p);
	sh_mountns_force_legacy(false);
	t_rmtree(d);
	free(sub2);
	free(hook);
	free(sub);
	free(inner);
	free(d);
}

TEST_FORK(sandbox_pin_makes_rename_ebusy)
{
	pin_case(false);
}

TEST_FORK(sandbox_pin_legacy_mount_api)
{
	pin_case(true);
}

/* ---- process hygiene ---- */

TEST_FORK(sandbox_fds_closed_and_restricted)
{
	struct sh_plan p;
	struct sh_err e;
	if (!need_sandbox(true))
		return;
	int fd = open("/", O_RDONLY | O_DIRECTORY); /* no O_CLOEXEC: a leak candidate */
	CHECK(dup2(fd, 47) == 47);
	base_plan(&p, SH_NETMODE_NONE,
		  "test -e /proc/self/fd/47 && echo LEAK47; ls /proc/self/fd | tr '\\n' ' '; echo; "
		  "grep -E '^(NoNewPrivs|Seccomp|CapEff|CapBnd|CapAmb):' /proc/self/status");
	CHECK_INT(run(&p, &e), ==, 0);
	CHECK(!strstr(out, "LEAK47"));
	CHECK_CONTAINS(out, "0 1 2 3 \n"); /* 3 is ls's own directory fd */
	CHECK_CONTAINS(out, "NoNewPrivs:\t1");
	CHECK_CONTAINS(out, "Seccomp:\t2");
	CHECK_CONTAINS(out, "CapEff:\t0000000000000000");
	CHECK_CONTAINS(out, "CapBnd:\t0000000000000000");
	close(47);
	close(fd);
	sh_plan_free(&p);
}

TEST_FORK(sandbox_landlock_is_the_second_layer)
{
	struct sh_plan p;
	struct sh_err e;
	if (!need_sandbox(true))
		return;
	char *d = t_mkdtemp();
	base_plan(&p, SH_NETMODE_NONE, "");
	sh_plan_add_mount(&p, SH_MNT_BIND, d, true, true, NULL); /* writable mount ... */
	sh_plan_add_ll(&p, d, SH_ACC_READ);                      /* ... Landlock read-only */
	for (size_t i = 0; i < p.nll; i++) /* d is below /tmp: no write grant from there */
		if (strcmp(p.ll[i].path, "/tmp") == 0)
			p.ll[i].access = SH_ACC_READ;
	free(p.argv[2]);
	p.argv[2] = sh_xasprintf("ls %s && echo READ-OK; echo x > %s/f || echo LL-DENIED", d, d);
	CHECK_INT(run(&p, &e), ==, 0);
	CHECK_CONTAINS(out, "READ-OK");
	CHECK_CONTAINS(out, "LL-DENIED");
	CHECK_CONTAINS(out, "Permission denied");
	sh_plan_free(&p);
	t_rmtree(d);
	free(d);
}

static bool process_with_arg(const char *needle)
{
	DIR *d = opendir("/proc");
	bool found = false;
	for (struct dirent *de; d && (de = readdir(d));) {
		char path[300], buf[512];
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/cmdline", de->d_name);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		ssize_t n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		for (ssize_t i = 0; i < n; i++)
			if (buf[i] == '\0')
				buf[i] = ' ';
		buf[n > 0 ? n : 0] = '\0';
		if (strstr(buf, needle))
			found = true;
	}
	if (d)
		closedir(d);
	return found;
}

TEST_FORK(sandbox_nothing_outlives_the_session)
{
	struct sh_plan p;
	struct sh_err e;
	if (!need_sandbox(true))
		return;
	base_plan(&p, SH_NETMODE_NONE, "sleep 123.4567 & (setsid sleep 123.4567 &) ; exit 3");
	CHECK_INT(run(&p, &e), ==, 3);
	CHECK(!process_with_arg("123.4567"));
	sh_plan_free(&p);
}

TEST_FORK(sandbox_forwards_sigterm)
{
	struct sh_plan p;
	struct sh_err e;
	if (!need_sandbox(true))
		return;
	pid_t me = getpid();
	pid_t k = fork();
	if (k == 0) {
		usleep(400 * 1000);
		kill(me, SIGTERM);
		_exit(0);
	}
	base_plan(&p, SH_NETMODE_NONE, "exec sleep 20");
	CHECK_INT(run(&p, &e), ==, 128 + SIGTERM);
	waitpid(k, NULL, 0);
	sh_plan_free(&p);
}

/* ---- fallback (no namespaces) ---- */

TEST_FORK(sandbox_fallback_landlock_seccomp_only)
{
	struct sh_plan p;
	struct sh_err e;
	if (!need_sandbox(false))
		return;
	char *d = t_mkdtemp(), *ro = t_mkdtemp();
	sh_plan_init(&p);
	p.use_userns = false;
	p.net = SH_NETMODE_NONE;
	sh_plan_add_ll(&p, "/usr", RX);
	sh_plan_add_ll(&p, "/proc", SH_ACC_READ);
	sh_plan_add_ll(&p, "/dev/null", RW);
	sh_plan_add_ll(&p, d, RW);
	sh_plan_add_ll(&p, ro, SH_ACC_READ);
	set_cmd(&p, "");
	free(p.argv[2]);
	p.argv[2] = sh_xasprintf("grep -E '^(NoNewPrivs|Seccomp):' /proc/self/status; "
				 "echo x > %s/f && echo RW-OK; echo x > %s/f || echo RO-DENIED; "
				 "cat /etc/hostname >/dev/null 2>&1 || echo ETC-DENIED; exit 4", d, ro);
	CHECK_INT(run(&p, &e), ==, 4);
	CHECK_CONTAINS(out, "NoNewPrivs:\t1");
	CHECK_CONTAINS(out, "Seccomp:\t2");
	CHECK_CONTAINS(out, "RW-OK");
	CHECK_CONTAINS(out, "RO-DENIED");
	CHECK_CONTAINS(out, "ETC-DENIED");
	sh_plan_free(&p);
	t_rmtree(d);
	t_rmtree(ro);
	free(d);
	free(ro);
}

/* ---- terminal ---- */

/* with_dev: the pty comes from the sandbox's devpts (init allocates it);
 * without a /dev in the plan, from the host's. */
static void pty_case(bool with_dev)
{
	struct sh_plan p;
	struct sh_err e;
	if (!need_sandbox(true))
		return;
	int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	CHECK(m >= 0 && grantpt(m) == 0 && unlockpt(m) == 0);
	int s = open(ptsname(m), O_RDWR | O_NOCTTY | O_CLOEXEC);
	CHECK(s >= 0);
	struct stat outer;
	fstat(s, &outer);
	struct termios before, after;
	tcgetattr(s, &before);
	/* typed by "the user" before the launch */
	CHECK(write(m, "typed-line\n", 11) == 11);

	base_plan(&p, SH_NETMODE_NONE,
		  "test -t 0 && test -t 1 && echo TTY-OK; read l; echo got:$l; "
		  "stat -L -c id=%d:%t:%T: /proc/self/fd/0; echo name=$(tty); "
		  "python3 -c 'import fcntl,termios; fcntl.ioctl(0, termios.TIOCSTI, b\"x\")' "
		  "2>/dev/null || echo TIOCSTI-BLOCKED");
	if (!with_dev)
		for (size_t i = 0; i < p.nmounts; i++)
			if (p.mounts[i].kind == SH_MNT_DEV)
				p.mounts[i].kind = SH_MNT_DIR; /* an empty /dev */
	int s0 = dup(0), s1 = dup(1), s2 = dup(2);
	fflush(stdout);
	dup2(s, 0);
	dup2(s, 1);
	dup2(s, 2);
	memset(&e, 0, sizeof(e));
	int r = sh_sandbox_exec(&p, &e);
	tcgetattr(s, &after);
	dup2(s0, 0);
	dup2(s1, 1);
	dup2(s2, 2);
	close(s0);
	close(s1);
	close(s2);
	CHECK_INT(r, ==, 0);
	if (r < 0)
		printf("#   %s\n", e.msg);
	/* collect what the launcher relayed to the outer terminal */
	char buf[4096];
	size_t n = 0;
	fcntl(m, F_SETFL, O_NONBLOCK);
	for (int i = 0; i < 50 && n < sizeof(buf) - 1; i++) {
		ssize_t k = read(m, buf + n, sizeof(buf) - 1 - n);
		if (k > 0)
			n += (size_t)k;
		else
			usleep(10000);
	}
	buf[n] = '\0';
	CHECK_CONTAINS(buf, "TTY-OK");
	CHECK_CONTAINS(buf, "got:typed-line");
	/* the command's tty is not the user's (with /dev: in the sandbox's own
	 * devpts instance, where ttyname() finds it) */
	char outer_id[64];
	snprintf(outer_id, sizeof(outer_id), "id=%lu:%x:%x:", (unsigned long)outer.st_dev,
		 major(outer.st_rdev), minor(outer.st_rdev));
	CHECK(strstr(buf, "id=") && !strstr(buf, outer_id));
	if (with_dev)
		CHECK_CONTAINS(buf, "name=/dev/pts/0");
	if (access("/usr/bin/python3", X_OK) == 0) /* TERM-01: seccomp stops it too */
		CHECK_CONTAINS(buf, "TIOCSTI-BLOCKED");
	CHECK_INT(after.c_lflag, ==, before.c_lflag);
	CHECK_INT(after.c_iflag, ==, before.c_iflag);
	CHECK_INT(after.c_oflag, ==, before.c_oflag);
	close(s);
	close(m);
	sh_plan_free(&p);
}

TEST_FORK(sandbox_own_pty_and_tty_restored)
{
	pty_case(true);
}

TEST_FORK(sandbox_host_pty_without_dev)
{
	pty_case(false);
}

/* ---- host checks ---- */

TEST(hostcheck_reports)
{
	struct sh_check c[8];
	size_t n = sh_hostcheck_all(c, 8);
	CHECK_INT(n, ==, 5);
	for (size_t i = 0; i < n; i++) {
		CHECK(c[i].name != NULL);
		CHECK(c[i].detail[0] != '\0');
		if (c[i].status != SH_CHECK_OK)
			CHECK(c[i].hint[0] != '\0');
	}
	int ma = 0, mi = 0;
	struct sh_check k;
	CHECK(sh_hostcheck_kernel(&k, &ma, &mi));
	CHECK(ma >= 5);
}
