#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/dotenv.h"
#include "harness.h"
#include "util/path.h"

/* CHECK_INT evaluates its operands twice: call once, then check. */
#define CK(call, op, want)                           \
	do {                                         \
		long long ck_r_ = (long long)(call); \
		CHECK_INT(ck_r_, op, want);          \
	} while (0)

/* Parse s; returns the parse result, d filled. */
static int parse(struct sh_dotenv *d, const char *s, struct sh_err *e)
{
	*d = (struct sh_dotenv){ 0 };
	return sh_dotenv_parse(d, s, strlen(s), "t.env", e);
}

TEST(dotenv_basic)
{
	struct sh_dotenv d;
	struct sh_err e = { 0 };
	const char *src = "# comment\n"
			  "\n"
			  "   \t\n"
			  "A=1\n"
			  "export B=two words  \n"
			  "  C = spaced\n"
			  "D=\n"
			  "E=a#b\n"
			  "F=x # comment\n"
			  "G= #only comment\n"
			  "H=$HOME/${X}$(id)`id`\n"
			  "export=plain\n"
			  "_u9=ok\r\n"
			  "   # indented comment\n"
			  "LAST=end";

	CK(parse(&d, src, &e), ==, 0);
	CHECK_STR(sh_dotenv_get(&d, "A"), "1");
	CHECK_STR(sh_dotenv_get(&d, "B"), "two words");
	CHECK_STR(sh_dotenv_get(&d, "C"), "spaced");
	CHECK_STR(sh_dotenv_get(&d, "D"), "");
	CHECK_STR(sh_dotenv_get(&d, "E"), "a#b");
	CHECK_STR(sh_dotenv_get(&d, "F"), "x");
	CHECK_STR(sh_dotenv_get(&d, "G"), "");
	CHECK_STR(sh_dotenv_get(&d, "H"), "$HOME/${X}$(id)`id`");
	CHECK_STR(sh_dotenv_get(&d, "export"), "plain");
	CHECK_STR(sh_dotenv_get(&d, "_u9"), "ok");
	CHECK_STR(sh_dotenv_get(&d, "LAST"), "end");
	CHECK(sh_dotenv_get(&d, "MISSING") == NULL);
	CHECK_INT(d.vars.n, ==, 11);
	CHECK_STR(d.vars.v[0], "A=1");
	sh_dotenv_free(&d);
}

TEST(dotenv_quotes)
{
	struct sh_dotenv d;
	struct sh_err e = { 0 };
	const char *src = "S='lit $X \\n \"q\"' # c\n"
			  "D=\"a\\\"b\\\\c\\$d\\ne\\tf`\"\n"
			  "M='line1\nline2'\n"
			  "N=\"x\ny\"   \n"
			  "E=''\n"
			  "Q=\"\"\r\n"
			  "AFTER=1\n"
			  "export   X=\"$HOME\"\n"
			  "SP=  'kept  '  \n";

	CK(parse(&d, src, &e), ==, 0);
	CHECK_STR(sh_dotenv_get(&d, "S"), "lit $X \\n \"q\"");
	CHECK_STR(sh_dotenv_get(&d, "D"), "a\"b\\c$d\ne\\tf`");
	CHECK_STR(sh_dotenv_get(&d, "M"), "line1\nline2");
	CHECK_STR(sh_dotenv_get(&d, "N"), "x\ny");
	CHECK_STR(sh_dotenv_get(&d, "E"), "");
	CHECK_STR(sh_dotenv_get(&d, "Q"), "");
	CHECK_STR(sh_dotenv_get(&d, "AFTER"), "1");
	CHECK_STR(sh_dotenv_get(&d, "X"), "$HOME");
	CHECK_STR(sh_dotenv_get(&d, "SP"), "kept  ");
	sh_dotenv_free(&d);
}

TEST(dotenv_duplicates_and_safehouse_keys)
{
	struct sh_dotenv d;
	struct sh_err e = { 0 };

	CK(parse(&d,
		 "A=1\nSAFEHOUSE_WORKDIR=/\nB=2\nA=3\nSAFEHOUSE_ENV_PASS=X\n"
		 "SAFEHOUSE_WORKDIR=/x\nSAFEHOUSEX=kept\n",
		 &e),
	   ==, 0);
	CHECK_INT(d.vars.n, ==, 3);
	CHECK_STR(d.vars.v[0], "A=3");
	CHECK_STR(d.vars.v[1], "B=2");
	CHECK_STR(d.vars.v[2], "SAFEHOUSEX=kept");
	CHECK_INT(d.ignored.n, ==, 2);
	CHECK_STR(d.ignored.v[0], "SAFEHOUSE_WORKDIR");
	CHECK_STR(d.ignored.v[1], "SAFEHOUSE_ENV_PASS");
	CHECK(sh_dotenv_get(&d, "SAFEHOUSE_WORKDIR") == NULL);
	sh_dotenv_free(&d);
}

static void expect_error(const char *src, const char *msg)
{
	struct sh_dotenv d;
	struct sh_err e = { 0 };

	CK(parse(&d, src, &e), ==, -1);
	CHECK_STR(e.msg, msg);
	CHECK_INT(e.exit_code, ==, SH_EXIT_USAGE);
	sh_dotenv_free(&d);
}

TEST(dotenv_errors)
{
	expect_error("A=1\nnot an assignment\n", "t.env:2: expected KEY=VALUE");
	expect_error("1A=x\n", "t.env:1: expected KEY=VALUE");
	expect_error("A-B=x\n", "t.env:1: expected KEY=VALUE");
	expect_error("=x\n", "t.env:1: expected KEY=VALUE");
	expect_error("export\n", "t.env:1: expected KEY=VALUE");
	expect_error("export \n", "t.env:1: expected KEY=VALUE");
	expect_error("export A\n", "t.env:1: expected KEY=VALUE");
	expect_error("A", "t.env:1: expected KEY=VALUE");
	expect_error("A B=1", "t.env:1: expected KEY=VALUE");
	expect_error("\n\nA='abc\nB=1\n", "t.env:3: unterminated single quote");
	expect_error("A=\"abc\\\"\n", "t.env:1: unterminated double quote");
	expect_error("A=\"x\\", "t.env:1: unterminated double quote");
	expect_error("A='x'y\n", "t.env:1: unexpected text after closing quote");
	expect_error("A='x\ny' z\n", "t.env:2: unexpected text after closing quote");
	expect_error("A=\"x\"\"y\"\n", "t.env:1: unexpected text after closing quote");
	expect_error("A=\"x\"\rz\n", "t.env:1: unexpected text after closing quote");
	expect_error(" ünï=1\n", "t.env:1: expected KEY=VALUE");

	struct sh_dotenv d = { 0 };
	struct sh_err e = { 0 };
	CK(sh_dotenv_parse(&d, "A=1\nB=x\0y\n", 10, "n.env", &e), ==, -1);
	CHECK_STR(e.msg, "n.env:2: NUL byte in file");
	sh_dotenv_free(&d);
}

TEST(dotenv_empty_and_partial)
{
	struct sh_dotenv d = { 0 };
	struct sh_err e = { 0 };

	CK(sh_dotenv_parse(&d, NULL, 0, "empty", &e), ==, 0);
	CHECK_INT(d.vars.n, ==, 0);
	/* Appending parses: later keys override. */
	CK(sh_dotenv_parse(&d, "A=1\n", 4, "one", &e), ==, 0);
	CK(sh_dotenv_parse(&d, "A=2\n", 4, "two", &e), ==, 0);
	CHECK_STR(sh_dotenv_get(&d, "A"), "2");
	CHECK_INT(d.vars.n, ==, 1);
	sh_dotenv_free(&d);
	CHECK(d.vars.v == NULL);
}

TEST(dotenv_name_valid)
{
	CHECK(sh_env_name_valid("A", 1));
	CHECK(sh_env_name_valid("_a9", 3));
	CHECK(!sh_env_name_valid("9a", 2));
	CHECK(!sh_env_name_valid("", 0));
	CHECK(!sh_env_name_valid("a-b", 3));
	CHECK(sh_env_name_valid("ab=c", 2));
}

TEST(dotenv_load_file)
{
	char *dir = t_mkdtemp();
	char *f = sh_path_join(dir, ".env"), *big = sh_path_join(dir, "big");
	char *fifo = sh_path_join(dir, "fifo"), *link = sh_path_join(dir, "link");
	struct sh_dotenv d = { 0 };
	struct sh_err e = { 0 };

	t_write_file(f, "export TOKEN='abc'\nBAD LINE\n");
	CK(sh_dotenv_load(&d, f, &e), ==, -1);
	char *want = sh_xasprintf("%s:2: expected KEY=VALUE", f);
	CHECK_STR(e.msg, want);
	free(want);
	sh_dotenv_free(&d);

	t_write_file(f, "export TOKEN='abc'\n");
	CK(sh_dotenv_load(&d, f, &e), ==, 0);
	CHECK_STR(sh_dotenv_get(&d, "TOKEN"), "abc");
	sh_dotenv_free(&d);

	/* The user named this path: a symlink is followed. */
	CK(symlink(".env", link), ==, 0);
	CK(sh_dotenv_load(&d, link, &e), ==, 0);
	sh_dotenv_free(&d);

	CK(mkfifo(fifo, 0600), ==, 0);
	CK(sh_dotenv_load(&d, fifo, &e), ==, -1);
	CHECK_CONTAINS(e.msg, "--env: '");
	CHECK_CONTAINS(e.msg, "is not a regular file");
	CK(sh_dotenv_load(&d, dir, &e), ==, -1);
	CHECK_CONTAINS(e.msg, "is not a regular file");
	CK(sh_dotenv_load(&d, "/nonexistent/.env", &e), ==, -1);
	CHECK_CONTAINS(e.msg, "--env: cannot open '/nonexistent/.env'");
	CHECK_INT(e.exit_code, ==, SH_EXIT_USAGE);

	/* Over the 1 MiB cap. */
	FILE *fp = fopen(big, "w");
	CHECK(fp != NULL);
	if (fp) {
		for (int i = 0; i < SH_DOTENV_MAX_SIZE / 8 + 1; i++)
			fputs("#xxxxxx\n", fp);
		fclose(fp);
	}
	CK(sh_dotenv_load(&d, big, &e), ==, -1);
	CHECK_CONTAINS(e.msg, "is too large");
	sh_dotenv_free(&d);

	free(f);
	free(big);
	free(fifo);
	free(link);
	t_rmtree(dir);
	free(dir);
}

TEST(dotenv_many_keys_and_dedupe)
{
	struct sh_buf b = { 0 };
	struct sh_dotenv d = { 0 };
	struct sh_err e = { 0 };

	/* ~1 MiB of distinct keys parses in linear-ish time. */
	for (int i = 0; i < 100000; i++)
		sh_buf_printf(&b, "K%d=%d\n", i, i);
	sh_buf_puts(&b, "K5=last\nK0=zero\nSAFEHOUSE_A=1\nSAFEHOUSE_A=2\nK99999=end\n");
	CK(sh_dotenv_parse(&d, b.data, b.len, "big", &e), ==, 0);
	CHECK_INT(d.vars.n, ==, 100000);
	CHECK_STR(d.vars.v[0], "K0=zero");
	CHECK_STR(d.vars.v[5], "K5=last");
	CHECK_STR(d.vars.v[99999], "K99999=end");
	CHECK_INT(d.ignored.n, ==, 1);
	sh_dotenv_free(&d);
	sh_buf_free(&b);

	/* Keys that are prefixes of each other stay distinct. */
	CK(parse(&d, "AB=1\nA=2\nABC=3\nA=4\n", &e), ==, 0);
	CHECK_INT(d.vars.n, ==, 3);
	CHECK_STR(d.vars.v[0], "AB=1");
	CHECK_STR(d.vars.v[1], "A=4");
	CHECK_STR(d.vars.v[2], "ABC=3");
	sh_dotenv_free(&d);

	/* Lines before an error are kept (and de-duplicated). */
	CK(parse(&d, "A=1\nA=2\nbad\n", &e), ==, -1);
	CHECK_INT(d.vars.n, ==, 1);
	CHECK_STR(d.vars.v[0], "A=2");
	sh_dotenv_free(&d);
}
