/* Landlock enforcement tests.  Each TEST_FORK sets no_new_privs (the
 * sandbox's order), applies a ruleset built from sh_ll_rule entries and
 * checks what the kernel then allows.  Features the kernel lacks are skipped
 * with the ABI in the reason (a failure under SH_MUST_WORK=1). */
#include "../harness.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/capability.h>

#include "enforce/landlock.h"

/* A temp tree that is removed when the test child exits, even though the
 * child itself loses the right to delete it: an unrestricted helper process
 * waits for EOF on a pipe, then removes it. */
static char *fixture(void)
{
	char *dir = t_mkdtemp();
	int p[2];
	if (pipe(p) < 0)
		abort();
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		char c;
		close(p[1]);
		/* leave the harness's result pipe alone: close every other fd */
		for (int fd = 3; fd < 1024; fd++)
			if (fd != p[0])
				close(fd);
		while (read(p[0], &c, 1) > 0)
			;
		t_rmtree(dir);
		_exit(0);
	}
	close(p[0]);
	/* p[1] stays open (no CLOEXEC needed: we never exec long-lived things) */
	return dir;
}

static char *path(const char *dir, const char *name)
{
	char *p;
	if (asprintf(&p, "%s/%s", dir, name) < 0)
		abort();
	return p;
}

static bool abi_at_least(int want)
{
	int err = 0;
	int abi = sh_landlock_abi(&err);
	if (abi < 0) {
		t_skip("landlock unavailable: %s", strerror(err));
		return false;
	}
	if (abi < want) {
		t_skip("landlock ABI %d < %d", abi, want);
		return false;
	}
	return true;
}

static bool nnp(void)
{
	return CHECK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0);
}

static bool apply(const struct sh_landlock_config *c)
{
	struct sh_err e = { 0 };
	if (sh_landlock_apply(c, &e) < 0) {
		printf("#   sh_landlock_apply: %s\n", e.msg);
		CHECK(!"sh_landlock_apply failed");
		return false;
	}
	return true;
}

static long try_open(const char *p, int flags)
{
	int fd = open(p, flags | O_CLOEXEC, 0644);
	if (fd >= 0) {
		close(fd);
		return 0;
	}
	return -1;
}

TEST(landlock_rights_mapping)
{
	uint64_t all6 = sh_landlock_handled_fs(6);
	CHECK_INT(sh_landlock_handled_fs(0), ==, 0);
	CHECK_INT(sh_landlock_handled_fs(1), ==, 0x1fff);
	CHECK_INT(sh_landlock_handled_fs(2), ==, 0x3fff);
	CHECK_INT(sh_landlock_handled_fs(3), ==, 0x7fff);
	CHECK_INT(sh_landlock_handled_fs(4), ==, 0x7fff);
	CHECK_INT(all6, ==, 0xffff);
	CHECK_INT(sh_landlock_fs_rights(SH_ACC_READ, 6, true), ==, (1 << 2) | (1 << 3));
	CHECK_INT(sh_landlock_fs_rights(SH_ACC_READ, 6, false), ==, 1 << 2);
	CHECK_INT(sh_landlock_fs_rights(SH_ACC_EXEC, 6, true), ==, 1 << 0);
	uint64_t w = sh_landlock_fs_rights(SH_ACC_WRITE, 6, true);
	CHECK_INT(w & (1 << 11), ==, 0);      /* never MAKE_BLOCK */
	CHECK_INT(w, ==, 0xffff & ~0xdULL & ~(1ULL << 11)); /* all but EXEC, READ_*, MAKE_BLOCK */
	/* on a file: WRITE_FILE, TRUNCATE, IOCTL_DEV only */
	CHECK_INT(sh_landlock_fs_rights(SH_ACC_WRITE, 6, false), ==,
		  (1 << 1) | (1 << 14) | (1 << 15));
	CHECK_INT(sh_landlock_fs_rights(SH_ACC_WRITE, 2, false), ==, 1 << 1);
	CHECK_INT(sh_landlock_fs_rights(SH_ACC_WRITE, 1, true) & (1 << 13), ==, 0);
}

TEST_FORK(landlock_read_allowed_dir_other_denied)
{
	if (!abi_at_least(1))
		return;
	char *a = fixture(), *b = fixture();
	char *fa = path(a, "f"), *fb = path(b, "f");
	t_write_file(fa, "a");
	t_write_file(fb, "b");
	struct sh_ll_rule r[] = { { a, SH_ACC_READ } };
	struct sh_landlock_config c = { .rules = r, .nrules = 1, .min_abi = 1 };
	if (!nnp() || !apply(&c))
		return;
	CHECK_INT(try_open(fa, O_RDONLY), ==, 0);
	CHECK_INT(try_open(a, O_RDONLY | O_DIRECTORY), ==, 0);
	CHECK_ERRNO(try_open(fb, O_RDONLY), EACCES);
	CHECK_ERRNO(try_open(b, O_RDONLY | O_DIRECTORY), EACCES);
	CHECK_ERRNO(try_open("/etc/passwd", O_RDONLY), EACCES);
}

TEST_FORK(landlock_write_denied_on_read_only)
{
	if (!abi_at_least(1))
		return;
	char *a = fixture(), *b = fixture();
	char *fa = path(a, "f"), *fb = path(b, "f");
	t_write_file(fa, "a");
	t_write_file(fb, "b");
	struct sh_ll_rule r[] = { { a, SH_ACC_READ }, { b, SH_ACC_READ | SH_ACC_WRITE } };
	struct sh_landlock_config c = { .rules = r, .nrules = 2, .min_abi = 1 };
	if (!nnp() || !apply(&c))
		return;
	CHECK_ERRNO(try_open(fa, O_WRONLY), EACCES);
	CHECK_ERRNO(try_open(path(a, "new"), O_WRONLY | O_CREAT), EACCES);
	CHECK_ERRNO(mkdir(path(a, "d"), 0755), EACCES);
	CHECK_ERRNO(unlink(fa), EACCES);
	CHECK_ERRNO(symlink("/", path(a, "l")), EACCES);
	CHECK_ERRNO(mkfifo(path(a, "p"), 0600), EACCES);
	/* the writable one works */
	CHECK_INT(try_open(fb, O_WRONLY | O_APPEND), ==, 0);
	CHECK_INT(try_open(path(b, "new"), O_WRONLY | O_CREAT), ==, 0);
	CHECK_INT(mkdir(path(b, "d"), 0755), ==, 0);
	CHECK_INT(symlink("/", path(b, "l")), ==, 0);
	CHECK_INT(unlink(path(b, "l")), ==, 0);
	CHECK_INT(mkfifo(path(b, "p"), 0600), ==, 0);
	/* block devices are never granted (EACCES from landlock before EPERM) */
	CHECK_ERRNO(mknod(path(b, "blk"), S_IFBLK | 0600, makedev(7, 0)), EACCES);
}

TEST_FORK(landlock_exec_denied_without_exec_right)
{
	if (!abi_at_least(1))
		return;
	char *a = fixture();
	char *copy = path(a, "true");
	/* copy /usr/bin/true into a read-only (no exec) directory */
	int in = open("/usr/bin/true", O_RDONLY | O_CLOEXEC);
	int out = open(copy, O_WRONLY | O_CREAT | O_CLOEXEC, 0755);
	char buf[65536];
	ssize_t n;
	if (!CHECK(in >= 0 && out >= 0))
		return;
	while ((n = read(in, buf, sizeof(buf))) > 0)
		CHECK(write(out, buf, (size_t)n) == n);
	close(in);
	close(out);
	struct sh_ll_rule r[] = { { "/", SH_ACC_READ }, { "/usr", SH_ACC_READ | SH_ACC_EXEC },
				  { a, SH_ACC_READ } };
	struct sh_landlock_config c = { .rules = r, .nrules = 3, .min_abi = 1 };
	if (!nnp() || !apply(&c))
		return;
	char *argv[] = { "true", NULL }, *envp[] = { NULL };
	CHECK_ERRNO(execve(copy, argv, envp), EACCES);
	int st;
	fflush(stdout);
	pid_t p = fork();
	if (p == 0) {
		execve("/usr/bin/true", argv, envp);
		_exit(100 + errno);
	}
	CHECK(p > 0 && waitpid(p, &st, 0) == p);
	if (!CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0))
		printf("#   exec /usr/bin/true: status %#x\n", st);
}

/* FS-02: rename/link into a directory where the file would gain rights. */
TEST_FORK(landlock_refer_widening_is_exdev)
{
	if (!abi_at_least(2))
		return;
	char *a = fixture(), *b = fixture();
	char *fa = path(a, "f"), *fb = path(b, "g");
	t_write_file(fa, "a");
	t_write_file(fb, "b");
	struct sh_ll_rule r[] = { { a, SH_ACC_READ | SH_ACC_WRITE },
				  { b, SH_ACC_READ | SH_ACC_WRITE | SH_ACC_EXEC } };
	struct sh_landlock_config c = { .rules = r, .nrules = 2, .min_abi = 2 };
	if (!nnp() || !apply(&c))
		return;
	CHECK_ERRNO(rename(fa, path(b, "f")), EXDEV);
	CHECK_ERRNO(link(fa, path(b, "f2")), EXDEV);
	CHECK_INT(rename(fa, path(a, "f-renamed")), ==, 0);   /* same directory */
	CHECK_INT(rename(fb, path(a, "g")), ==, 0);           /* narrowing is fine */
}

TEST_FORK(landlock_truncate_denied)
{
	if (!abi_at_least(3))
		return;
	char *a = fixture(), *b = fixture();
	char *fa = path(a, "f"), *fb = path(b, "f");
	t_write_file(fa, "data");
	t_write_file(fb, "data");
	struct sh_ll_rule r[] = { { a, SH_ACC_READ }, { b, SH_ACC_READ | SH_ACC_WRITE } };
	struct sh_landlock_config c = { .rules = r, .nrules = 2, .min_abi = 3 };
	if (!nnp() || !apply(&c))
		return;
	CHECK_ERRNO(truncate(fa, 0), EACCES);
	CHECK_INT(truncate(fb, 0), ==, 0);
}

/* A rule on a regular file: only file rights, or the kernel says EINVAL. */
TEST_FORK(landlock_file_rule_and_missing_path)
{
	if (!abi_at_least(1))
		return;
	char *a = fixture();
	char *f = path(a, "f"), *g = path(a, "g");
	t_write_file(f, "x");
	t_write_file(g, "y");
	struct sh_ll_rule r[] = { { f, SH_ACC_READ | SH_ACC_WRITE | SH_ACC_EXEC },
				  { path(a, "missing/deeper"), SH_ACC_READ },
				  { path(a, "missing"), SH_ACC_READ | SH_ACC_WRITE } };
	struct sh_landlock_config c = { .rules = r, .nrules = 3, .min_abi = 1 };
	if (!nnp() || !apply(&c))
		return;
	CHECK_INT(try_open(f, O_RDWR | O_APPEND), ==, 0);
	CHECK_ERRNO(try_open(g, O_RDONLY), EACCES);
}

/* A write grant does not follow a final symlink (skipped with a warning). */
TEST_FORK(landlock_write_rule_on_symlink_skipped)
{
	if (!abi_at_least(1))
		return;
	char *a = fixture(), *b = fixture();
	char *link = path(a, "l");
	CHECK(symlink(b, link) == 0);
	struct sh_ll_rule r[] = { { a, SH_ACC_READ }, { link, SH_ACC_READ | SH_ACC_WRITE } };
	struct sh_landlock_config c = { .rules = r, .nrules = 2, .min_abi = 1 };
	if (!nnp() || !apply(&c))
		return;
	CHECK_ERRNO(try_open(path(b, "new"), O_WRONLY | O_CREAT), EACCES);
}

static int listen_tcp(uint16_t *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (s < 0 || bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(s, 4) < 0 ||
	    getsockname(s, (struct sockaddr *)&sa, &len) < 0)
		return -1;
	*port = ntohs(sa.sin_port);
	return s;
}

static long connect_tcp(uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -1;
	int r = connect(s, (struct sockaddr *)&sa, sizeof(sa));
	int e = errno;
	close(s);
	errno = e;
	return r;
}

TEST_FORK(landlock_tcp_connect_only_allowed_port)
{
	if (!abi_at_least(4))
		return;
	uint16_t p1 = 0, p2 = 0;
	int l1 = listen_tcp(&p1), l2 = listen_tcp(&p2);
	if (l1 < 0 || l2 < 0)
		SKIP("cannot listen on 127.0.0.1: %s", strerror(errno));
	uint16_t ports[] = { p1 };
	struct sh_landlock_config c = { .min_abi = 4, .restrict_tcp = true,
					.connect_ports = ports, .nports = 1 };
	if (!nnp() || !apply(&c))
		return;
	CHECK_INT(connect_tcp(p1), ==, 0);
	CHECK_ERRNO(connect_tcp(p2), EACCES);
	/* no TCP bind at all */
	uint16_t p3;
	CHECK_ERRNO(listen_tcp(&p3), EACCES);
	/* UDP is not Landlock's business (the netns handles it) */
	int u = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	CHECK(u >= 0);
}

static int abstract_addr(struct sockaddr_un *sa, const char *name)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	size_t n = strlen(name);
	memcpy(sa->sun_path + 1, name, n);
	return (int)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
}

TEST_FORK(landlock_scope_abstract_unix)
{
	if (!abi_at_least(6))
		return;
	struct sockaddr_un sa;
	char name[64], inner[64];
	snprintf(name, sizeof(name), "sh-test-outside-%d", (int)getpid());
	snprintf(inner, sizeof(inner), "sh-test-inside-%d", (int)getpid());
	int len = abstract_addr(&sa, name);
	int l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (!CHECK(l >= 0 && bind(l, (struct sockaddr *)&sa, (socklen_t)len) == 0 &&
		   listen(l, 4) == 0))
		return;
	struct sh_landlock_config c = { .min_abi = 6, .scope_abstract_unix = true };
	if (!nnp() || !apply(&c))
		return;
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK_ERRNO(connect(s, (struct sockaddr *)&sa, (socklen_t)len), EPERM);
	/* one created inside the domain is reachable */
	int len2 = abstract_addr(&sa, inner);
	int l2 = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK(bind(l2, (struct sockaddr *)&sa, (socklen_t)len2) == 0 && listen(l2, 4) == 0);
	int s2 = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK_INT(connect(s2, (struct sockaddr *)&sa, (socklen_t)len2), ==, 0);
}

TEST_FORK(landlock_scope_signal)
{
	if (!abi_at_least(6))
		return;
	struct sh_landlock_config c = { .min_abi = 6, .scope_signal = true };
	if (!nnp() || !apply(&c))
		return;
	/* signal 0: permission check only, the harness is never signalled */
	CHECK_ERRNO(kill(getppid(), 0), EPERM);
	CHECK_INT(kill(getpid(), 0), ==, 0);
	fflush(stdout);
	pid_t p = fork();
	if (p == 0) {
		pause();
		_exit(0);
	}
	CHECK_INT(kill(p, SIGKILL), ==, 0); /* same domain: allowed */
	waitpid(p, NULL, 0);
}

TEST_FORK(landlock_min_abi_too_high_fails_closed)
{
	struct sh_err e = { 0 };
	struct sh_landlock_config c = { .min_abi = 99 };
	if (!abi_at_least(1))
		return;
	CHECK_INT(sh_landlock_apply(&c, &e), ==, -1);
	CHECK_CONTAINS(e.msg, "landlock ABI");
	CHECK_CONTAINS(e.msg, "requires ABI 99");
	CHECK(e.hint[0] != '\0');
	CHECK_INT(e.exit_code, ==, SH_EXIT_SETUP);
	/* nothing was enforced */
	CHECK_INT(try_open("/etc/passwd", O_RDONLY), ==, 0);
}

TEST_FORK(landlock_relative_rule_rejected)
{
	struct sh_err e = { 0 };
	struct sh_ll_rule r[] = { { "relative/path", SH_ACC_READ } };
	struct sh_landlock_config c = { .rules = r, .nrules = 1, .min_abi = 1 };
	if (!abi_at_least(1))
		return;
	CHECK(nnp());
	CHECK_INT(sh_landlock_apply(&c, &e), ==, -1);
	CHECK_CONTAINS(e.msg, "not absolute");
	CHECK_INT(try_open("/etc/passwd", O_RDONLY), ==, 0);
}

/* Without no_new_privs (and without CAP_SYS_ADMIN) the kernel refuses; the
 * error names the ordering bug.  Root drops its effective capabilities. */
TEST_FORK(landlock_without_nnp_is_a_clear_error)
{
	struct sh_err e = { 0 };
	struct sh_landlock_config c = { .min_abi = 1 };
	if (!abi_at_least(1))
		return;
	if (geteuid() == 0) {
		struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
		struct __user_cap_data_struct d[2] = { { 0 } };
		if (!CHECK(syscall(SYS_capset, &h, d) == 0))
			return;
	}
	CHECK_INT(sh_landlock_apply(&c, &e), ==, -1);
	CHECK_CONTAINS(e.msg, "no_new_privs");
	CHECK_CONTAINS(e.hint, "PR_SET_NO_NEW_PRIVS");
}

/* The command's layer when init already enforces the filesystem rules: no
 * filesystem right of its own (the inherited denials stay), nothing at all
 * when it has no TCP or scope either. */
TEST_FORK(landlock_fs_inherited_layer)
{
	if (!abi_at_least(1))
		return;
	char *a = fixture(), *b = fixture();
	char *fa = path(a, "f"), *fb = path(b, "f");
	t_write_file(fa, "a");
	t_write_file(fb, "b");
	struct sh_ll_rule r[] = { { a, SH_ACC_READ } };
	struct sh_landlock_config c = { .rules = r, .nrules = 1, .min_abi = 1 };
	if (!nnp() || !apply(&c))
		return;
	/* rules ignored: b stays denied, a stays readable */
	struct sh_ll_rule wide[] = { { b, SH_ACC_READ | SH_ACC_WRITE } };
	struct sh_landlock_config in = { .rules = wide, .nrules = 1, .min_abi = 1,
					 .fs_inherited = true };
	CHECK(apply(&in));
	CHECK_INT(try_open(fa, O_RDONLY), ==, 0);
	CHECK_ERRNO(try_open(fb, O_RDONLY), EACCES);
	if (sh_landlock_abi(NULL) >= 6) {
		in.scope_signal = true;
		CHECK(apply(&in));
		CHECK_INT(try_open(fa, O_RDONLY), ==, 0);
		CHECK_ERRNO(try_open(fb, O_RDONLY), EACCES);
	}
}
