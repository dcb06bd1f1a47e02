/* The creation supervisor (enforce/supervise.c): absent protected names in a
 * read-write bind cannot be created from inside, by any creating call, and
 * everything else still works as the kernel would do it.
 *
 * The checks inside the sandbox are C: this very binary is the command,
 * switched by SH_SUPERVISE_INNER (a constructor runs the inner mode and
 * exits before the harness starts).  Plans are built by hand, as in
 * test_sandbox.c.  Every sandbox case forks (TEST_FORK). */
#include "fixture_plan.h"
#include "harness.h"

#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "enforce/hostcheck.h"
#include "enforce/landlock.h"
#include "enforce/sandbox.h"
#include "enforce/supervise.h"
#include "util/str.h"

#define RX (SH_ACC_READ | SH_ACC_EXEC)
#define RW (SH_ACC_READ | SH_ACC_WRITE)
#define RWX (SH_ACC_READ | SH_ACC_WRITE | SH_ACC_EXEC)

/* ------------------------------------------------------------ pure part */

TEST(supervise_refused_names)
{
	char *prot[] = { "/w/.safehouse", "/w/.git/hooks", "/h/.codex/config.toml" };
	CHECK(sh_supervise_refused(prot, 3, "/w/.safehouse", false));
	CHECK(sh_supervise_refused(prot, 3, "/w/.SafeHouse", false));
	CHECK(sh_supervise_refused(prot, 3, "/w/.git/hooks/pre-commit", false));
	CHECK(!sh_supervise_refused(prot, 3, "/w/.git", false));
	CHECK(sh_supervise_refused(prot, 3, "/w/.git", true)); /* symlink/rename onto an ancestor */
	CHECK(sh_supervise_refused(prot, 3, "/h/.codex", true));
	CHECK(!sh_supervise_refused(prot, 3, "/h/.codex", false));
	CHECK(!sh_supervise_refused(prot, 3, "/w/.safehouse2", true));
	CHECK(!sh_supervise_refused(prot, 3, "/w/.safe", true));
	CHECK(!sh_supervise_refused(prot, 3, "/w/x", true));
	CHECK(!sh_supervise_refused(prot, 3, "/h/.codex/config.toml.bak", false));
	CHECK(!sh_supervise_refused(prot, 0, "/w/.safehouse", true));
}

/* ---------------------------------------------------------- inside part */

static int inner_fail;
#define EXPECT(c)                                                                   \
	do {                                                                        \
		if (!(c)) {                                                         \
			printf("FAIL %d: %s (errno %s)\n", __LINE__, #c, t_errno_name(errno)); \
			inner_fail++;                                               \
		}                                                                   \
	} while (0)
#define EXPECT_ERR(call, err)                                                       \
	do {                                                                        \
		errno = 0;                                                          \
		long r_ = (long)(call);                                             \
		if (r_ != -1 || errno != (err)) {                                   \
			printf("FAIL %d: %s = %ld errno %s, want %s\n", __LINE__, #call, r_, \
			       t_errno_name(errno), t_errno_name(err));             \
			inner_fail++;                                               \
		}                                                                   \
	} while (0)

static bool present(const char *p)
{
	struct stat st;
	return lstat(p, &st) == 0;
}

static long sys_openat2(int dfd, const char *path, uint64_t flags, uint64_t mode)
{
	struct open_how h = { .flags = flags, .mode = mode };
	return syscall(SYS_openat2, dfd, path, &h, sizeof(h));
}

/* cwd is the protected directory D; protected: D/.safehouse, D/cfg.toml,
 * D/hooks-dir, D/anc/leaf. */
static void inner_basic(void)
{
	int dfd = open(".", O_PATH | O_DIRECTORY);
	EXPECT(dfd >= 0);
	/* every creating call, on every protected name */
	EXPECT_ERR(open(".safehouse", O_CREAT | O_WRONLY, 0644), EACCES);
	EXPECT_ERR(open(".safehouse", O_CREAT | O_EXCL | O_RDWR, 0644), EACCES);
	EXPECT_ERR(creat("cfg.toml", 0644), EACCES);
	EXPECT_ERR(openat(dfd, ".safehouse", O_CREAT | O_WRONLY, 0644), EACCES);
	/* openat2 is not served (its flags are behind a pointer): ENOSYS, and
	 * callers fall back to openat */
	EXPECT_ERR(sys_openat2(dfd, "cfg.toml", O_CREAT | O_WRONLY, 0644), ENOSYS);
	EXPECT_ERR(sys_openat2(dfd, "other", O_RDONLY, 0), ENOSYS);
	/* O_PATH: the kernel ignores O_CREAT; the caller opens it itself */
	EXPECT_ERR(open(".safehouse", O_CREAT | O_PATH, 0644), ENOENT);
	EXPECT_ERR(mkdir("hooks-dir", 0755), EACCES);
	EXPECT_ERR(mkdir("hooks-dir/sub", 0755), ENOENT); /* its parent cannot exist */
	EXPECT_ERR(mkdirat(dfd, "hooks-dir", 0755), EACCES);
	EXPECT_ERR(mknod(".safehouse", S_IFIFO | 0600, 0), EACCES);
	EXPECT_ERR(symlink("/etc/passwd", ".safehouse"), EACCES);
	EXPECT_ERR(symlinkat("/tmp", dfd, "hooks-dir"), EACCES);
	EXPECT_ERR(open(".SafeHouse", O_CREAT | O_WRONLY, 0644), EACCES);
	/* link and rename of another file onto the name */
	int fd = open("other", O_CREAT | O_WRONLY, 0666);
	EXPECT(fd >= 0 && write(fd, "payload\n", 8) == 8);
	close(fd);
	/* no umask(2) yet: the umask the command started with (026, below) */
	struct stat sto;
	EXPECT(stat("other", &sto) == 0 && (sto.st_mode & 07777) == 0640);
	EXPECT_ERR(link("other", ".safehouse"), EACCES);
	EXPECT_ERR(linkat(dfd, "other", dfd, "cfg.toml", 0), EACCES);
	EXPECT_ERR(rename("other", ".safehouse"), EACCES);
	EXPECT_ERR(renameat(dfd, "other", dfd, "cfg.toml"), EACCES);
	EXPECT_ERR(syscall(SYS_renameat2, dfd, "other", dfd, "cfg.toml", RENAME_NOREPLACE), EACCES);
	EXPECT(mkdir("tree", 0755) == 0);
	EXPECT(mkdir("tree/x", 0755) == 0);
	EXPECT_ERR(rename("tree", "hooks-dir"), EACCES);
	/* onto an ancestor of a protected path (anc/leaf): a symlink, a hard
	 * link of a symlink (a symlink there too), a renamed tree */
	EXPECT(symlink("tree", "tlink") == 0);
	EXPECT_ERR(symlink("tree", "anc"), EACCES);
	EXPECT_ERR(link("tlink", "anc"), EACCES);
	EXPECT_ERR(rename("tree", "anc"), EACCES);
	EXPECT(mkdir("anc", 0700) == 0); /* empty: what comes in later is checked */
	EXPECT_ERR(open("anc/leaf", O_CREAT | O_WRONLY, 0600), EACCES);
	EXPECT(rmdir("anc") == 0);
	/* through paths: .., symlinked directories, symlinks to the name */
	EXPECT(mkdir("sub", 0755) == 0);
	EXPECT_ERR(open("sub/../.safehouse", O_CREAT | O_WRONLY, 0644), EACCES);
	EXPECT(symlink(".", "here") == 0);
	EXPECT_ERR(open("here/.safehouse", O_CREAT | O_WRONLY, 0644), EACCES);
	EXPECT(symlink("cfg.toml", "alias") == 0); /* the link itself is allowed */
	EXPECT_ERR(open("alias", O_CREAT | O_WRONLY | O_TRUNC, 0644), EACCES);
	EXPECT(symlink("here/alias", "alias2") == 0);
	EXPECT_ERR(open("alias2", O_CREAT | O_WRONLY, 0644), EACCES);
	EXPECT(chdir("sub") == 0);
	EXPECT_ERR(open("../.safehouse", O_CREAT | O_WRONLY, 0644), EACCES);
	EXPECT_ERR(open("/proc/self/cwd/../cfg.toml", O_CREAT | O_WRONLY, 0644), EACCES);
	EXPECT_ERR(mkdir("../hooks-dir", 0700), EACCES);
	/* init's own /proc entries are never reachable through it: by name,
	 * nor through a magic link to an O_PATH fd of them (which the caller
	 * may hold: O_PATH checks no ptrace access) */
	EXPECT_ERR(open("/proc/1/mem", O_RDWR | O_CREAT, 0600), EACCES);
	static const char *const init_files[] = { "/proc/1/mem", "/proc/1/environ",
						   "/proc/1/maps" };
	for (size_t k = 0; k < 3; k++) {
		int pfd = open(init_files[k], O_PATH | O_CLOEXEC);
		EXPECT(pfd >= 0);
		char pp[64];
		snprintf(pp, sizeof(pp), "/proc/self/fd/%d", pfd);
		EXPECT_ERR(open(pp, O_RDWR | O_CREAT, 0600), EACCES);
		EXPECT_ERR(open(pp, O_RDONLY | O_CREAT, 0600), EACCES);
		close(pfd);
	}
	/* no listener of the caller's own (it would answer its own creations) */
	{
		struct sock_filter f[] = { BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW) };
		struct sock_fprog prog = { .len = 1, .filter = f };
		EXPECT_ERR(syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
				   SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog), EPERM);
	}

	/* ---- what is allowed works as the kernel would do it ---- */
	umask(027);
	fd = open("f", O_CREAT | O_WRONLY | O_CLOEXEC | O_APPEND, 0666); /* in sub */
	EXPECT(fd >= 0);
	EXPECT((fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0);
	EXPECT((fcntl(fd, F_GETFL) & O_APPEND) != 0);
	EXPECT((fcntl(fd, F_GETFL) & O_NONBLOCK) == 0);
	EXPECT(write(fd, "hello\n", 6) == 6);
	close(fd);
	struct stat st;
	EXPECT(stat("f", &st) == 0 && (st.st_mode & 07777) == 0640);
	fd = open("f", O_CREAT | O_RDWR, 0600);
	EXPECT(fd >= 0 && (fcntl(fd, F_GETFD) & FD_CLOEXEC) == 0);
	char buf[16] = { 0 };
	EXPECT(read(fd, buf, sizeof(buf) - 1) == 6 && strcmp(buf, "hello\n") == 0);
	close(fd);
	EXPECT_ERR(open("f", O_CREAT | O_EXCL | O_WRONLY, 0600), EEXIST);
	EXPECT_ERR(open("nodir/f", O_CREAT | O_WRONLY, 0600), ENOENT);
	EXPECT_ERR(open("f/x", O_CREAT | O_WRONLY, 0600), ENOTDIR);
	EXPECT_ERR(mkdir("f", 0700), EEXIST);
	EXPECT_ERR(open("/usr/new", O_CREAT | O_WRONLY, 0600), EROFS);
	/* relative to a directory fd, and to the parent's fd */
	int sfd = open(".", O_DIRECTORY | O_RDONLY);
	EXPECT(chdir("/") == 0);
	fd = openat(sfd, "g", O_CREAT | O_WRONLY | O_TRUNC, 0644);
	EXPECT(fd >= 0);
	close(fd);
	EXPECT(faccessat(sfd, "g", F_OK, 0) == 0);
	fd = openat(dfd, "top", O_CREAT | O_WRONLY, 0644);
	EXPECT(fd >= 0);
	close(fd);
	fd = openat(sfd, "h2", O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	EXPECT(fd >= 0 && (fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0);
	close(fd);
	EXPECT(mkdirat(sfd, "dir", 0777) == 0);
	EXPECT(fstatat(sfd, "dir", &st, 0) == 0 && (st.st_mode & 07777) == 0750);
	/* the caller's umask of the moment, each time; O_EXCL: not O_NONBLOCK */
	umask(077);
	fd = openat(sfd, "excl", O_CREAT | O_EXCL | O_WRONLY, 0666);
	EXPECT(fd >= 0 && (fcntl(fd, F_GETFL) & O_NONBLOCK) == 0);
	close(fd);
	EXPECT(fstatat(sfd, "excl", &st, 0) == 0 && (st.st_mode & 07777) == 0600);
	umask(027);
	fd = openat(sfd, "excl2", O_CREAT | O_EXCL | O_WRONLY, 0666);
	close(fd);
	EXPECT(fstatat(sfd, "excl2", &st, 0) == 0 && (st.st_mode & 07777) == 0640);
	EXPECT(symlinkat("g", sfd, "gl") == 0);
	EXPECT(linkat(sfd, "g", sfd, "g2", 0) == 0);
	EXPECT(renameat(sfd, "g2", sfd, "g3") == 0);
	EXPECT(mknodat(sfd, "fifo", S_IFIFO | 0600, 0) == 0);
	EXPECT(fstatat(sfd, "fifo", &st, 0) == 0 && S_ISFIFO(st.st_mode));
	/* a creating open through a symlink creates its target */
	fd = openat(sfd, "gl", O_CREAT | O_WRONLY | O_TRUNC, 0600);
	EXPECT(fd >= 0);
	close(fd);
	EXPECT(symlinkat("newtarget", sfd, "dangling") == 0);
	fd = openat(sfd, "dangling", O_CREAT | O_WRONLY, 0600);
	EXPECT(fd >= 0);
	close(fd);
	EXPECT(faccessat(sfd, "newtarget", F_OK, 0) == 0);
	/* /dev/null and the caller's own fds still work */
	fd = open("/dev/null", O_CREAT | O_WRONLY | O_TRUNC, 0666);
	EXPECT(fd >= 0 && write(fd, "x", 1) == 1);
	close(fd);
	fd = open("/proc/self/fd/1", O_CREAT | O_WRONLY, 0666);
	EXPECT(fd >= 0);
	close(fd);
	close(sfd);
	close(dfd);
}

/* Racing threads: one opens (O_CREAT) the name in buf, the other flips buf
 * between an allowed name and the protected one.  The supervisor reads its
 * own copy: the protected file must never be created. */
static char race_buf[16] = "allowed123";
static volatile int race_stop;

static void *flipper(void *arg)
{
	(void)arg;
	while (!race_stop) {
		memcpy(race_buf, ".safehouse", 10);
		memcpy(race_buf, "allowed123", 10);
	}
	return NULL;
}

static void inner_race(void)
{
	pthread_t t;
	struct timespec t0, now;
	long opened = 0, refused = 0;
	EXPECT(pthread_create(&t, NULL, flipper, NULL) == 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		for (int i = 0; i < 50; i++) {
			int fd = open(race_buf, O_CREAT | O_WRONLY, 0600);
			if (fd >= 0) {
				opened++;
				close(fd);
			} else if (errno == EACCES) {
				refused++;
			}
			if (present(".safehouse")) {
				printf("FAIL: .safehouse created by the race\n");
				inner_fail++;
				race_stop = 1;
				break;
			}
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while (!race_stop && (now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000 < 1500);
	race_stop = 1;
	pthread_join(t, NULL);
	EXPECT(!present(".safehouse"));
	printf("race: %ld opened, %ld refused\n", opened, refused);
	EXPECT(opened > 0);
}

static void inner_filters(void)
{
	char buf[4096];
	int fd = open("/proc/self/status", O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	if (n > 0) {
		buf[n] = '\0';
		char *p = strstr(buf, "Seccomp_filters:");
		if (p)
			printf("filters=%ld\n", strtol(p + 16, NULL, 10));
	}
	/* a name the first plan protects: refused only through the supervisor */
	printf("mkdir=%d\n", mkdir(".safehouse", 0700) == 0 ? 0 : errno);
}

__attribute__((constructor)) static void supervise_inner(void)
{
	const char *m = getenv("SH_SUPERVISE_INNER");
	if (!m)
		return;
	setvbuf(stdout, NULL, _IONBF, 0);
	if (strcmp(m, "basic") == 0)
		inner_basic();
	else if (strcmp(m, "race") == 0)
		inner_race();
	else if (strcmp(m, "filters") == 0)
		inner_filters();
	printf("inner done: %d failures\n", inner_fail);
	_exit(inner_fail ? 1 : 0);
}

/* ---------------------------------------------------------- outside part */

static char out[65536];

static bool need_sandbox(void)
{
	struct sh_check c;
	if (sh_landlock_abi(NULL) < 1) {
		t_skip("landlock unavailable on this kernel");
		return false;
	}
	if (!sh_hostcheck_userns(&c)) {
		t_skip("user namespaces unavailable: %s", c.detail);
		return false;
	}
	return true;
}

/* System dirs read-only, /proc, /dev, private /tmp, this binary's directory
 * read-only, dir read-write (cwd), protected names in it. */
static void plan_for(struct sh_plan *p, const char *dir, bool protect, char **argv, char **envp)
{
	char exe[PATH_MAX];
	t_plan_base_view(p, SH_NETMODE_NONE);
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = '\0';
	char *slash = strrchr(exe, '/');
	char *exedir = sh_xstrdup(exe);
	exedir[slash - exe] = '\0';
	if (strncmp(exedir, "/usr/", 5) != 0) {
		sh_plan_add_mount(p, SH_MNT_BIND, exedir, false, true, NULL);
		sh_plan_add_ll(p, exedir, RX);
	}
	free(exedir);
	sh_plan_add_mount(p, SH_MNT_BIND, dir, true, true, NULL);
	sh_plan_add_ll(p, dir, RWX);
	p->cwd = sh_xstrdup(dir);
	if (protect) {
		p->nprotect_create = 4;
		p->protect_create = sh_xcalloc(4, sizeof(char *));
		p->protect_create[0] = sh_xasprintf("%s/.safehouse", dir);
		p->protect_create[1] = sh_xasprintf("%s/cfg.toml", dir);
		p->protect_create[2] = sh_xasprintf("%s/hooks-dir", dir);
		p->protect_create[3] = sh_xasprintf("%s/anc/leaf", dir);
	}
	if (argv) {
		p->argv = argv;
	} else {
		p->argv = sh_xcalloc(2, sizeof(char *));
		p->argv[0] = sh_xstrdup(exe);
	}
	p->envp = envp;
}

static char **env_with(const char *mode)
{
	char **e = sh_xcalloc(4, sizeof(char *));
	e[0] = sh_xstrdup("PATH=/usr/bin:/bin");
	e[1] = sh_xstrdup("LC_ALL=C");
	if (mode)
		e[2] = sh_xasprintf("SH_SUPERVISE_INNER=%s", mode);
	return e;
}

static char **sh_argv(const char *script)
{
	char **a = sh_xcalloc(4, sizeof(char *));
	a[0] = sh_xstrdup("/bin/sh");
	a[1] = sh_xstrdup("-c");
	a[2] = sh_xstrdup(script);
	return a;
}

static int run(struct sh_plan *p)
{
	struct sh_err e;
	int m = memfd_create("out", MFD_CLOEXEC);
	int s1 = dup(1), s2 = dup(2);
	fflush(stdout);
	fflush(stderr);
	dup2(m, 1);
	dup2(m, 2);
	memset(&e, 0, sizeof(e));
	int r = sh_sandbox_exec(p, &e);
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
		printf("#   launch failed (%d): %s\n", e.exit_code, e.msg);
	return r;
}

static bool host_has(const char *dir, const char *name)
{
	char *p = sh_xasprintf("%s/%s", dir, name);
	bool r = present(p);
	free(p);
	return r;
}

static void show(void)
{
	char *save = NULL;
	for (char *l = strtok_r(out, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
		printf("#   | %s\n", l);
}

TEST_FORK(supervise_every_creating_call_is_checked)
{
	struct sh_plan p;
	if (!need_sandbox())
		return;
	char *d = t_mkdtemp();
	plan_for(&p, d, true, NULL, env_with("basic"));
	mode_t old = umask(026); /* inherited by the command */
	int rc = run(&p);
	umask(old);
	if (!CHECK_INT(rc, ==, 0) || !CHECK_CONTAINS(out, "inner done: 0 failures"))
		show();
	CHECK(!host_has(d, ".safehouse"));
	CHECK(!host_has(d, ".SafeHouse"));
	CHECK(!host_has(d, "cfg.toml"));
	CHECK(!host_has(d, "hooks-dir"));
	CHECK(host_has(d, "other") && host_has(d, "tree/x") && host_has(d, "top"));
	CHECK(host_has(d, "sub/f") && host_has(d, "sub/g") && host_has(d, "sub/dir"));
	CHECK(host_has(d, "sub/newtarget") && host_has(d, "sub/g3") && host_has(d, "sub/h2"));
	sh_plan_free(&p);
	t_rmtree(d);
	free(d);
}

TEST_FORK(supervise_shell_redirection_refused)
{
	struct sh_plan p;
	if (!need_sandbox())
		return;
	char *d = t_mkdtemp();
	plan_for(&p, d, true,
		 sh_argv("echo x > .safehouse; echo rc1=$?; echo y >> cfg.toml; echo rc2=$?; "
			 "echo z > ok.txt; echo rc3=$?; cat ok.txt; mkdir hooks-dir; echo rc4=$?; "
			 "ln -s ok.txt .safehouse; echo rc5=$?; mv ok.txt cfg.toml; echo rc6=$?; "
			 "echo q > /dev/null; echo rc7=$?"),
		 env_with(NULL));
	CHECK_INT(run(&p), ==, 0);
	CHECK_CONTAINS(out, "rc1=2");
	CHECK_CONTAINS(out, "rc2=2");
	CHECK_CONTAINS(out, "rc3=0\nz\n");
	CHECK_CONTAINS(out, "rc4=1");
	CHECK_CONTAINS(out, "rc5=1");
	CHECK_CONTAINS(out, "rc6=1");
	CHECK_CONTAINS(out, "rc7=0");
	CHECK_CONTAINS(out, "Permission denied");
	CHECK(!host_has(d, ".safehouse") && !host_has(d, "cfg.toml") && !host_has(d, "hooks-dir"));
	CHECK(host_has(d, "ok.txt"));
	sh_plan_free(&p);
	t_rmtree(d);
	free(d);
}

TEST_FORK(supervise_racing_path_flip_never_creates)
{
	struct sh_plan p;
	if (!need_sandbox())
		return;
	char *d = t_mkdtemp();
	plan_for(&p, d, true, NULL, env_with("race"));
	int rc = run(&p);
	if (!CHECK_INT(rc, ==, 0) || !CHECK_CONTAINS(out, "inner done: 0 failures"))
		show();
	CHECK(!host_has(d, ".safehouse"));
	CHECK(host_has(d, "allowed123"));
	sh_plan_free(&p);
	t_rmtree(d);
	free(d);
}

/* The command carries one filter either way; without protected names its
 * creations are not sent to init, so nothing is refused. */
TEST_FORK(supervise_no_listener_without_protected_names)
{
	struct sh_plan p;
	int fw = -1, fwo = -1, mw = -1, mwo = -1;
	if (!need_sandbox())
		return;
	char *d = t_mkdtemp();
	plan_for(&p, d, true, NULL, env_with("filters"));
	CHECK_INT(run(&p), ==, 0);
	const char *m = strstr(out, "mkdir=");
	if (sscanf(out, "filters=%d", &fw) != 1 || !m || sscanf(m, "mkdir=%d", &mw) != 1)
		show();
	sh_plan_free(&p);
	plan_for(&p, d, false, NULL, env_with("filters"));
	CHECK_INT(run(&p), ==, 0);
	m = strstr(out, "mkdir=");
	if (sscanf(out, "filters=%d", &fwo) != 1 || !m || sscanf(m, "mkdir=%d", &mwo) != 1)
		show();
	sh_plan_free(&p);
	CHECK_INT(fw, ==, 1);
	CHECK_INT(fwo, ==, 1);
	CHECK_INT(mw, ==, EACCES);
	CHECK_INT(mwo, ==, 0);
	CHECK(host_has(d, ".safehouse"));
	t_rmtree(d);
	free(d);
}

/* The listener is put in the synchronous wake-up mode (Linux 6.6): a wrong
 * request number or flag would leave every creation waking an idle CPU. */
TEST_FORK(supervise_listener_takes_sync_wakeups)
{
	struct utsname u;
	int major = 0, minor = 0;
	CHECK_INT(uname(&u), ==, 0);
	CHECK_INT(sscanf(u.release, "%d.%d", &major, &minor), ==, 2);
	/* Notify on a syscall number nothing calls; allow everything else. */
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0xfffU, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = 4, .filter = f };
	CHECK_INT(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), ==, 0);
	int l = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER,
			     &prog);
	CHECK(l >= 0);
	struct sh_supervisor *sv = sh_supervisor_new(NULL, 0);
	CHECK(sv != NULL);
	bool sync = sh_supervisor_listen(sv, l);
	if (major > 6 || (major == 6 && minor >= 6))
		CHECK(sync);
	else
		CHECK(!sync); /* EINVAL: an unknown request on older kernels */
	CHECK_INT(sh_supervisor_fd(sv), ==, l);
	sh_supervisor_free(sv);
}
