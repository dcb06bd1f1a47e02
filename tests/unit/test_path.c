#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "util/path.h"

/* CHECK_INT evaluates its operands twice: call once, then check. */
#define CK(call, op, want)                   \
	do {                                 \
		long long ck_r_ = (long long)(call); \
		CHECK_INT(ck_r_, op, want);  \
	} while (0)

TEST(path_expand_tilde)
{
	char *p;

	CHECK_STR(p = sh_path_expand_tilde("~", "/home/u"), "/home/u");
	free(p);
	CHECK_STR(p = sh_path_expand_tilde("~/x/y", "/home/u"), "/home/u/x/y");
	free(p);
	CHECK_STR(p = sh_path_expand_tilde("~/", "/home/u/"), "/home/u");
	free(p);
	CHECK_STR(p = sh_path_expand_tilde("~user/x", "/home/u"), "~user/x");
	free(p);
	CHECK_STR(p = sh_path_expand_tilde("/a/~", "/home/u"), "/a/~");
	free(p);
	CHECK_STR(p = sh_path_expand_tilde("~/x", NULL), "~/x");
	free(p);
	CHECK_STR(p = sh_path_expand_tilde("~", ""), "~");
	free(p);
}

TEST(path_join)
{
	static const char *const cases[][3] = {
		{ "/", "x", "/x" },     { "/a", "b", "/a/b" },   { "/a/", "b", "/a/b" },
		{ "/a//", "/b", "/a/b" }, { "", "x", "x" },       { "a", "", "a" },
		{ "/", "", "/" },       { "a", "b/c", "a/b/c" }, { "/a", "//", "/a" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *p = sh_path_join(cases[i][0], cases[i][1]);
		CHECK_STR(p, cases[i][2]);
		free(p);
	}
}

TEST(path_is_under)
{
	CHECK(sh_path_is_under("/a/b", "/a/b"));
	CHECK(sh_path_is_under("/a/b/c", "/a/b"));
	CHECK(sh_path_is_under("/a/b/c", "/a/b/"));
	CHECK(sh_path_is_under("/a/b/", "/a/b"));
	CHECK(!sh_path_is_under("/a/bc", "/a/b"));
	CHECK(!sh_path_is_under("/a", "/a/b"));
	CHECK(sh_path_is_under("/anything", "/"));
	CHECK(sh_path_is_under("/", "/"));
	CHECK(!sh_path_is_under("rel", "/"));
	CHECK(!sh_path_is_under("/x/a/b", "/a/b"));
}

TEST(path_parent)
{
	static const char *const cases[][2] = {
		{ "/a/b", "/a" }, { "/a", "/" },  { "/", "/" },   { "a/b/", "a" },
		{ "a", "." },     { "/a//b", "/a" }, { "//a", "/" }, { "/a/b//", "/a" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *p = sh_path_parent(cases[i][0]);
		CHECK_STR(p, cases[i][1]);
		free(p);
	}
}

TEST(path_canon_ok_and_errors)
{
	char *d = t_mkdtemp(), *real = NULL, *out = NULL;
	struct sh_err e = { 0 };
	char *f = sh_path_join(d, "file"), *l = sh_path_join(d, "link");
	char *missing = sh_path_join(d, "nope"), *under_file = sh_path_join(f, "x");

	CK(sh_path_canon(d, &real, &e), ==, 0);
	t_write_file(f, "x");
	CK(symlink("file", l), ==, 0);
	CK(sh_path_canon(l, &out, &e), ==, 0);
	char *want = sh_path_join(real, "file");
	CHECK_STR(out, want);
	free(want);
	free(out);

	CK(sh_path_canon(missing, &out, &e), ==, -1);
	CHECK_CONTAINS(e.msg, "does not exist");
	CHECK_CONTAINS(e.msg, "nope");
	CHECK_INT(e.exit_code, ==, SH_EXIT_USAGE);
	CK(sh_path_canon(under_file, &out, &e), ==, -1);
	CHECK_CONTAINS(e.msg, "does not exist");
	CK(sh_path_canon("/tmp/a\nb", &out, &e), ==, -1);
	CHECK_STR(e.msg, "path contains control characters");
	CHECK_INT(e.exit_code, ==, SH_EXIT_USAGE);
	CK(sh_path_canon("/tmp/\x1b[2J", &out, &e), ==, -1);
	CHECK_STR(e.msg, "path contains control characters");
	CK(sh_path_canon("", &out, &e), ==, -1);
	CHECK_STR(e.msg, "empty path");

	/* A symlink loop is "cannot resolve", not "does not exist". */
	char *loop = sh_path_join(d, "loop");
	CK(symlink("loop", loop), ==, 0);
	CK(sh_path_canon(loop, &out, &e), ==, -1);
	CHECK_CONTAINS(e.msg, "cannot resolve");
	CHECK_INT(e.errnum, ==, ELOOP);
	free(loop);

	free(missing);
	free(under_file);
	free(f);
	free(l);
	free(real);
	t_rmtree(d);
	free(d);
}

TEST(pathlist_add)
{
	char *d = t_mkdtemp(), *real = NULL;
	struct sh_err e = { 0 };
	struct sh_pathlist pl = { 0 };

	CK(sh_path_canon(d, &real, &e), ==, 0);
	char *sub = sh_path_join(real, "sub"), *f = sh_path_join(real, "f");
	CK(mkdir(sub, 0700), ==, 0);
	t_write_file(f, "x");

	/* ~ expansion, relative entries against base, dedupe, empty fields. */
	char *spec = sh_xasprintf("~/sub::%s:f:~/sub/../f", sub);
	CK(sh_pathlist_add(&pl, spec, real, real, "--add-dirs", &e), ==, 0);
	free(spec);
	CHECK_INT(pl.paths.n, ==, 2);
	if (pl.paths.n == 2) {
		CHECK_STR(pl.paths.v[0], sub);
		CHECK(pl.is_dir[0]);
		CHECK_STR(pl.paths.v[1], f);
		CHECK(!pl.is_dir[1]);
	}
	/* Repeatable: a second call appends, still de-duplicated. */
	CK(sh_pathlist_add(&pl, real, NULL, NULL, "--add-dirs", &e), ==, 0);
	CHECK_INT(pl.paths.n, ==, 3);
	CK(sh_pathlist_add(&pl, "", NULL, NULL, "--add-dirs", &e), ==, 0);
	CHECK_INT(pl.paths.n, ==, 3);

	/* All-or-nothing on error. */
	char *bad = sh_xasprintf("%s:%s/missing", f, real);
	struct sh_pathlist pl2 = { 0 };
	CK(sh_pathlist_add(&pl2, bad, NULL, NULL, "--add-dirs-ro", &e), ==, -1);
	CHECK_CONTAINS(e.msg, "--add-dirs-ro: '");
	CHECK_CONTAINS(e.msg, "missing' does not exist");
	CHECK_INT(e.exit_code, ==, SH_EXIT_USAGE);
	CHECK_INT(pl2.paths.n, ==, 0);
	free(bad);
	CK(sh_pathlist_add(&pl, "/tmp/x\ty", NULL, NULL, "--add-dirs", &e), ==, -1);
	CHECK_CONTAINS(e.msg, "path contains control characters");
	CHECK_INT(pl.paths.n, ==, 3);
	/* No what: the bare message. */
	CK(sh_pathlist_add(&pl, "/nonexistent-sh-test", NULL, NULL, NULL, &e), ==, -1);
	CHECK_STR(e.msg, "'/nonexistent-sh-test' does not exist");

	sh_pathlist_free(&pl);
	sh_pathlist_free(&pl2);
	free(sub);
	free(f);
	free(real);
	t_rmtree(d);
	free(d);
}

TEST(read_small_file)
{
	char *d = t_mkdtemp();
	char *f = sh_path_join(d, "f"), *l = sh_path_join(d, "l"), *fifo = sh_path_join(d, "p");
	char *buf = NULL;
	size_t len = 0;
	struct sh_err e = { 0 };

	t_write_file(f, "hello");
	CK(symlink("f", l), ==, 0);
	CK(mkfifo(fifo, 0600), ==, 0);

	CK(sh_read_small_file(f, 0, 100, &buf, &len, &e), ==, 0);
	CHECK_STR(buf, "hello");
	CHECK_INT(len, ==, 5);
	free(buf);
	CK(sh_read_small_file(l, 0, 100, &buf, &len, &e), ==, 0);
	free(buf);
	CK(sh_read_small_file(l, O_NOFOLLOW, 100, &buf, &len, &e), ==, -1);
	CHECK_CONTAINS(e.msg, "is a symbolic link; refusing to follow it");
	CK(sh_read_small_file(fifo, 0, 100, &buf, &len, &e), ==, -1);
	CHECK_CONTAINS(e.msg, "is not a regular file");
	CK(sh_read_small_file(d, 0, 100, &buf, &len, &e), ==, -1);
	CHECK_CONTAINS(e.msg, "is not a regular file");
	CK(sh_read_small_file(f, 0, 4, &buf, &len, &e), ==, -1);
	CHECK_CONTAINS(e.msg, "is too large (max 4 bytes)");
	CK(sh_read_small_file("/nonexistent-sh", 0, 4, &buf, &len, &e), ==, -1);
	CHECK_INT(e.errnum, ==, ENOENT);
	CHECK_CONTAINS(e.msg, "cannot open '/nonexistent-sh'");
	/* Empty file: empty string, not NULL. */
	t_write_file(f, "");
	CK(sh_read_small_file(f, 0, 4, &buf, &len, &e), ==, 0);
	CHECK_STR(buf, "");
	CHECK_INT(len, ==, 0);
	free(buf);

	free(f);
	free(l);
	free(fifo);
	t_rmtree(d);
	free(d);
}

TEST(path_resolve_single)
{
	char *d = t_mkdtemp(), *real = realpath(d, NULL), *c = NULL;
	struct sh_err e = { 0 };
	bool dir = false;

	char *odd = sh_path_join(real, "a:b");
	CK(mkdir(odd, 0700), ==, 0);
	CK(sh_path_resolve(odd, NULL, NULL, &c, &dir, &e), ==, 0);
	CHECK_STR(c, odd);
	CHECK(dir);
	free(c);
	CK(sh_path_resolve("a:b", NULL, real, &c, &dir, &e), ==, 0);
	CHECK_STR(c, odd);
	free(c);
	CK(sh_path_resolve("~/a:b", real, NULL, &c, &dir, &e), ==, 0);
	CHECK_STR(c, odd);
	free(c);
	CK(sh_path_resolve("nope", NULL, real, &c, &dir, &e), ==, -1);
	CHECK_CONTAINS(e.msg, "nope' does not exist");

	free(odd);
	free(real);
	t_rmtree(d);
	free(d);
}
