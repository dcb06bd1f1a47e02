#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/wdconfig.h"
#include "harness.h"
#include "util/path.h"

/* CHECK_INT evaluates its operands twice: call once, then check. */
#define CK(call, op, want)                           \
	do {                                         \
		long long ck_r_ = (long long)(call); \
		CHECK_INT(ck_r_, op, want);          \
	} while (0)

static int wparse(struct sh_wdconfig *c, const char *s, struct sh_err *e)
{
	*c = (struct sh_wdconfig){ 0 };
	return sh_wdconfig_parse(c, s, strlen(s), "wd/.safehouse", e);
}

TEST(wdconfig_parse_ok)
{
	struct sh_wdconfig c;
	struct sh_err e = { 0 };
	const char *src = "# trusted project settings\n"
			  "\n"
			  "add-dirs=~/shared:/opt/x\n"
			  "  add-dirs-ro = /usr/share/dict  \r\n"
			  "enable=docker,ssh\n"
			  "append-profile=extra.sb\n"
			  "network=filtered\n"
			  "allow-domains=example.com\n"
			  "deny-domains=evil.com\n"
			  "publish=8080\n"
			  "env-pass=FOO,BAR\n"
			  "sandbox=auto\n"
			  "enable=\n"
			  "enable=a=b\n";

	CK(wparse(&c, src, &e), ==, 0);
	CHECK_INT(c.n, ==, 12);
	CHECK_STR(c.origin, "wd/.safehouse");
	if (c.n == 12) {
		CHECK_STR(c.ent[0].key, "add-dirs");
		CHECK_STR(c.ent[0].value, "~/shared:/opt/x");
		CHECK_INT(c.ent[0].line, ==, 3);
		CHECK_STR(c.ent[1].key, "add-dirs-ro");
		CHECK_STR(c.ent[1].value, "/usr/share/dict");
		CHECK_INT(c.ent[1].line, ==, 4);
		CHECK_STR(c.ent[9].key, "sandbox");
		CHECK_STR(c.ent[10].value, "");
		CHECK_STR(c.ent[11].value, "a=b");
		CHECK_INT(c.ent[11].line, ==, 14);
	}
	sh_wdconfig_free(&c);
	CHECK(c.ent == NULL);
}

static void wexpect(const char *src, const char *msg)
{
	struct sh_wdconfig c;
	struct sh_err e = { 0 };

	CK(wparse(&c, src, &e), ==, -1);
	CHECK_STR(e.msg, msg);
	CHECK_INT(e.exit_code, ==, SH_EXIT_USAGE);
	sh_wdconfig_free(&c);
}

TEST(wdconfig_parse_errors)
{
	wexpect("enable=x\njunk\n", "wd/.safehouse:2: expected key=value");
	wexpect("=x\n", "wd/.safehouse:1: expected key=value");
	wexpect("  = x\n", "wd/.safehouse:1: expected key=value");
	wexpect("\n\nbogus=1\n", "wd/.safehouse:3: unknown key 'bogus'");
	wexpect("ADD-DIRS=/x\n", "wd/.safehouse:1: unknown key 'ADD-DIRS'");
	wexpect("add-dirs=/x\x1b[2J\n", "wd/.safehouse:1: control character in line");
	wexpect("add-dirs=/x\ry\n", "wd/.safehouse:1: control character in line");

	struct sh_wdconfig c = { 0 };
	struct sh_err e = { 0 };
	CK(sh_wdconfig_parse(&c, "enable=a\nenable=b\0\n", 19, "f", &e), ==, -1);
	CHECK_STR(e.msg, "f:2: NUL byte in file");
	CHECK_INT(c.n, ==, 1);
	sh_wdconfig_free(&c);

	CK(wparse(&c, "nope=1\n", &e), ==, -1);
	CHECK_CONTAINS(e.hint, "valid keys: add-dirs, add-dirs-ro, enable, append-profile");
	sh_wdconfig_free(&c);
}

TEST(wdconfig_load)
{
	char *wd = t_mkdtemp();
	char *cfg = sh_path_join(wd, ".safehouse"), *target = sh_path_join(wd, "target");
	struct sh_wdconfig c = { 0 };
	struct sh_err e = { 0 };

	/* Absent: 0, untouched. */
	CHECK(!sh_wdconfig_present(wd));
	CK(sh_wdconfig_load(&c, wd, &e), ==, 0);
	CHECK_INT(c.n, ==, 0);

	t_write_file(cfg, "enable=ssh\n");
	CHECK(sh_wdconfig_present(wd));
	CK(sh_wdconfig_load(&c, wd, &e), ==, 1);
	CHECK_INT(c.n, ==, 1);
	CHECK_STR(c.origin, cfg);
	sh_wdconfig_free(&c);

	t_write_file(cfg, "enable=ssh\nwhat\n");
	CK(sh_wdconfig_load(&c, wd, &e), ==, -1);
	char *want = sh_xasprintf("%s:2: expected key=value", cfg);
	CHECK_STR(e.msg, want);
	free(want);
	sh_wdconfig_free(&c);

	/* A symlink planted by the agent is refused, not followed. */
	CK(unlink(cfg), ==, 0);
	t_write_file(target, "add-dirs=/\n");
	CK(symlink("target", cfg), ==, 0);
	CHECK(sh_wdconfig_present(wd));
	CK(sh_wdconfig_load(&c, wd, &e), ==, -1);
	CHECK_CONTAINS(e.msg, "is a symbolic link; refusing to follow it");
	CHECK_INT(c.n, ==, 0);
	/* Dangling symlink: still refused rather than "absent". */
	CK(unlink(target), ==, 0);
	CK(sh_wdconfig_load(&c, wd, &e), ==, -1);
	CHECK_CONTAINS(e.msg, "is a symbolic link");
	CK(unlink(cfg), ==, 0);

	/* Not a regular file. */
	CK(mkfifo(cfg, 0600), ==, 0);
	CK(sh_wdconfig_load(&c, wd, &e), ==, -1);
	CHECK_CONTAINS(e.msg, "is not a regular file");
	CK(unlink(cfg), ==, 0);
	CK(mkdir(cfg, 0700), ==, 0);
	CK(sh_wdconfig_load(&c, wd, &e), ==, -1);
	CHECK_CONTAINS(e.msg, "is not a regular file");
	sh_wdconfig_free(&c);

	free(cfg);
	free(target);
	t_rmtree(wd);
	free(wd);
}

static char *slurp(const char *path)
{
	struct sh_err e = { 0 };
	char *buf = NULL;
	size_t len;
	if (sh_read_small_file(path, 0, 1 << 20, &buf, &len, &e) < 0)
		return NULL;
	return buf;
}

TEST(trust_store_add_remove)
{
	char *d = t_mkdtemp();
	char *store = sh_xasprintf("%s/cfg/safehouse/trusted-workdirs", d);
	char *sdir = sh_xasprintf("%s/cfg/safehouse", d);
	struct sh_err e = { 0 };
	struct stat st;
	bool t = true;
	char *s;

	/* Missing store: nothing trusted, removal is a no-op. */
	CK(sh_trust_is_trusted(store, "/p/a", &t, &e), ==, 0);
	CHECK(!t);
	CK(sh_trust_remove(store, "/p/a", &e), ==, 0);
	CHECK(stat(sdir, &st) < 0);

	CK(sh_trust_add(store, "/p/a", &e), ==, 1);
	CK(stat(sdir, &st), ==, 0);
	CHECK_INT(st.st_mode & 07777, ==, 0700);
	CK(stat(store, &st), ==, 0);
	CHECK_INT(st.st_mode & 07777, ==, 0600);
	CK(sh_trust_add(store, "/p/a", &e), ==, 0);
	CK(sh_trust_add(store, "/p/b", &e), ==, 1);
	CHECK_STR(s = slurp(store), "/p/a\n/p/b\n");
	free(s);

	CK(sh_trust_is_trusted(store, "/p/a", &t, &e), ==, 0);
	CHECK(t);
	CK(sh_trust_is_trusted(store, "/p", &t, &e), ==, 0);
	CHECK(!t); /* exact match only, no prefixes */
	CK(sh_trust_is_trusted(store, "/p/a/sub", &t, &e), ==, 0);
	CHECK(!t);

	CK(sh_trust_remove(store, "/p/a", &e), ==, 1);
	CK(sh_trust_remove(store, "/p/a", &e), ==, 0);
	CK(sh_trust_is_trusted(store, "/p/a", &t, &e), ==, 0);
	CHECK(!t);

	/* Hand-edited store: comments, CRLF, no final newline are preserved. */
	t_write_file(store, "# mine\n/p/c\r\n/p/d");
	CK(sh_trust_is_trusted(store, "/p/c", &t, &e), ==, 0);
	CHECK(t);
	CK(sh_trust_is_trusted(store, "/p/d", &t, &e), ==, 0);
	CHECK(t);
	CK(sh_trust_is_trusted(store, "# mine", &t, &e), ==, 0);
	CK(sh_trust_add(store, "/p/e", &e), ==, 1);
	CHECK_STR(s = slurp(store), "# mine\n/p/c\r\n/p/d\n/p/e\n");
	free(s);
	CK(sh_trust_remove(store, "/p/c", &e), ==, 1);
	CHECK_STR(s = slurp(store), "# mine\n/p/d\n/p/e\n");
	free(s);

	/* No temporary files left behind. */
	char *tmpglob = sh_xasprintf("ls -A %s | grep -c trusted-workdirs. >/dev/null", sdir);
	CHECK(system(tmpglob) != 0);
	free(tmpglob);

	/* Invalid entries. */
	CK(sh_trust_add(store, "rel/path", &e), ==, -1);
	CHECK_CONTAINS(e.msg, "is not an absolute path");
	CK(sh_trust_add(store, "/p/x\ny", &e), ==, -1);
	CHECK_CONTAINS(e.msg, "control characters");
	CK(sh_trust_remove(store, "rel", &e), ==, -1);

	free(store);
	free(sdir);
	t_rmtree(d);
	free(d);
}

TEST(trust_store_errors)
{
	char *d = t_mkdtemp();
	char *store = sh_path_join(d, "store");
	char *blocker = sh_path_join(d, "file");
	char *under = sh_xasprintf("%s/sub/trusted-workdirs", blocker);
	struct sh_err e = { 0 };
	bool t;

	/* Store is a directory. */
	CK(mkdir(store, 0700), ==, 0);
	CK(sh_trust_is_trusted(store, "/p", &t, &e), ==, -1);
	CHECK_CONTAINS(e.msg, "trusted-workdirs: '");
	CHECK_CONTAINS(e.msg, "is not a regular file");
	CK(sh_trust_add(store, "/p", &e), ==, -1);

	/* Its directory cannot be created. */
	t_write_file(blocker, "");
	CK(sh_trust_add(under, "/p", &e), ==, -1);
	CHECK_CONTAINS(e.msg, "cannot create");

	/* Read-only directory: the temp file cannot be created (root can). */
	char *ro = sh_path_join(d, "ro"), *rostore = sh_path_join(ro, "tw");
	CK(mkdir(ro, 0500), ==, 0);
	if (geteuid() != 0) {
		CK(sh_trust_add(rostore, "/p", &e), ==, -1);
		CHECK_CONTAINS(e.msg, "cannot create a file in");
	}
	chmod(ro, 0700);

	free(ro);
	free(rostore);
	free(store);
	free(blocker);
	free(under);
	t_rmtree(d);
	free(d);
}

/* Set or unset an environment variable, returning the old value. */
static char *swap_env(const char *name, const char *val)
{
	const char *old = getenv(name);
	char *saved = old ? sh_xstrdup(old) : NULL;
	if (val)
		setenv(name, val, 1);
	else
		unsetenv(name);
	return saved;
}

static void restore_env(const char *name, char *saved)
{
	if (saved)
		setenv(name, saved, 1);
	else
		unsetenv(name);
	free(saved);
}

TEST(trust_store_path)
{
	char *ox = swap_env("XDG_CONFIG_HOME", "/x/cfg");
	char *oh = swap_env("HOME", "/h");
	struct sh_err e = { 0 };
	char *p = NULL;

	CK(sh_trust_store_path(&p, &e), ==, 0);
	CHECK_STR(p, "/x/cfg/safehouse/trusted-workdirs");
	free(p);
	setenv("XDG_CONFIG_HOME", "relative", 1);
	CK(sh_trust_store_path(&p, &e), ==, 0);
	CHECK_STR(p, "/h/.config/safehouse/trusted-workdirs");
	free(p);
	unsetenv("XDG_CONFIG_HOME");
	setenv("HOME", "/h/", 1);
	CK(sh_trust_store_path(&p, &e), ==, 0);
	CHECK_STR(p, "/h/.config/safehouse/trusted-workdirs");
	free(p);
	/* No HOME: the passwd entry (if any) gives an absolute path. */
	unsetenv("HOME");
	if (sh_trust_store_path(&p, &e) == 0) {
		CHECK(p[0] == '/');
		CHECK(sh_str_ends(p, "/.config/safehouse/trusted-workdirs"));
		free(p);
	}
	restore_env("XDG_CONFIG_HOME", ox);
	restore_env("HOME", oh);
}

TEST(parse_bool)
{
	static const char *const yes[] = { "1", "true", "TRUE", "Yes", "on", "ON" };
	static const char *const no[] = { "0", "false", "No", "off", "OFF", "False" };
	struct sh_err e = { 0 };
	bool b;

	for (size_t i = 0; i < 6; i++) {
		b = false;
		CK(sh_parse_bool(yes[i], &b, "--x", &e), ==, 0);
		CHECK(b);
		b = true;
		CK(sh_parse_bool(no[i], &b, "--x", &e), ==, 0);
		CHECK(!b);
	}
	CK(sh_parse_bool("maybe", &b, "--trust-workdir-config", &e), ==, -1);
	CHECK_STR(e.msg, "invalid value 'maybe' for --trust-workdir-config (expected 1/0, "
			 "true/false, yes/no, on/off)");
	CHECK_INT(e.exit_code, ==, SH_EXIT_USAGE);
	CK(sh_parse_bool("", &b, "X", &e), ==, -1);
	CK(sh_parse_bool("2", &b, "X", &e), ==, -1);
	CK(sh_parse_bool("yes ", &b, "X", &e), ==, -1);
	CK(sh_parse_bool("y\x1b", &b, "X", &e), ==, -1);
	CHECK_STR(e.msg, "invalid value for X (expected 1/0, true/false, yes/no, on/off)");
}

static struct sh_trust_decision dec(enum sh_tri always, enum sh_tri once, const char *env,
				    bool listed)
{
	struct sh_trust_input in = { always, once, env, listed };
	struct sh_trust_decision d = { 0 };
	struct sh_err e = { 0 };
	int r = sh_trust_decide(&in, &d, &e);
	CHECK_INT(r, ==, 0);
	return d;
}

TEST(trust_decide)
{
	struct sh_trust_decision d;

	d = dec(SH_TRI_UNSET, SH_TRI_UNSET, NULL, false);
	CHECK(!d.trusted);
	CHECK_INT(d.source, ==, SH_TRUST_SRC_DEFAULT);
	CHECK_STR(d.reason, "not trusted: default (use --trust-workdir-config)");

	d = dec(SH_TRI_UNSET, SH_TRI_UNSET, "", false);
	CHECK_INT(d.source, ==, SH_TRUST_SRC_DEFAULT);

	d = dec(SH_TRI_UNSET, SH_TRI_UNSET, NULL, true);
	CHECK(d.trusted);
	CHECK_INT(d.source, ==, SH_TRUST_SRC_STORE);
	CHECK_STR(d.reason, "trusted: listed in trusted-workdirs");

	d = dec(SH_TRI_UNSET, SH_TRI_UNSET, "off", true);
	CHECK(!d.trusted);
	CHECK_INT(d.source, ==, SH_TRUST_SRC_ENV);
	CHECK_CONTAINS(d.reason, "not trusted: SAFEHOUSE_TRUST_WORKDIR_CONFIG");

	d = dec(SH_TRI_UNSET, SH_TRI_UNSET, "yes", false);
	CHECK(d.trusted);
	CHECK_STR(d.reason, "trusted: SAFEHOUSE_TRUST_WORKDIR_CONFIG");

	d = dec(SH_TRI_UNSET, SH_TRI_TRUE, "0", false);
	CHECK(d.trusted);
	CHECK_INT(d.source, ==, SH_TRUST_SRC_FLAG);
	CHECK_STR(d.reason, "trusted: --trust-workdir-config");

	d = dec(SH_TRI_UNSET, SH_TRI_FALSE, "1", true);
	CHECK(!d.trusted);
	CHECK_STR(d.reason, "not trusted: --trust-workdir-config=false");

	d = dec(SH_TRI_FALSE, SH_TRI_TRUE, "1", true);
	CHECK(!d.trusted);
	CHECK_INT(d.source, ==, SH_TRUST_SRC_ALWAYS_FLAG);
	CHECK_STR(d.reason, "not trusted: --always-trust-workdir-config=false");

	d = dec(SH_TRI_TRUE, SH_TRI_FALSE, "0", false);
	CHECK(d.trusted);
	CHECK_STR(d.reason, "trusted: --always-trust-workdir-config");

	/* An invalid env value is an error even when a flag decides. */
	struct sh_trust_input in = { SH_TRI_TRUE, SH_TRI_UNSET, "sure", false };
	struct sh_trust_decision out;
	struct sh_err e = { 0 };
	CK(sh_trust_decide(&in, &out, &e), ==, -1);
	CHECK_CONTAINS(e.msg, "invalid value 'sure' for SAFEHOUSE_TRUST_WORKDIR_CONFIG");
	CHECK_INT(e.exit_code, ==, SH_EXIT_USAGE);
}
