#include <stdlib.h>

#include "config/envbuild.h"
#include "harness.h"

/* CHECK_INT evaluates its operands twice: call once, then check. */
#define CK(call, op, want)                           \
	do {                                         \
		long long ck_r_ = (long long)(call); \
		CHECK_INT(ck_r_, op, want);          \
	} while (0)

static char *host_env[] = {
	"HOME=/home/u",
	"PATH=/usr/bin:/bin",
	"SHELL=/bin/zsh",
	"USER=u",
	"LOGNAME=ulog",
	"TMPDIR=/tmp/u-1000",
	"PWD=/elsewhere",
	"TERM=xterm-256color",
	"TERM_PROGRAM=iTerm",
	"TERM_PROGRAM_VERSION=3",
	"LC_ALL=C.UTF-8",
	"LC_GH_TOKEN=ghp_secret", /* a prefix, not a locale category */
	"LANG=en_US.UTF-8",
	"https_proxy=http://proxy:3128",
	"NO_COLOR=1",
	"XDG_RUNTIME_DIR=/run/user/1000",
	"OPENAI_API_KEY=sk-secret",
	"GH_TOKEN=ghp_x",
	"AWS_SECRET_ACCESS_KEY=aws",
	"LD_PRELOAD=/evil.so",
	"LD_LIBRARY_PATH=/opt/lib",
	"SAFEHOUSE_WORKDIR=/w",
	"FOO=foo",
	"NOEQUALS",
	"=novalue",
	"HOME=/second/home",
	NULL,
};

static void opts_init(struct sh_env_opts *o, enum sh_env_mode mode)
{
	*o = (struct sh_env_opts){ .mode = mode, .host = host_env, .pwd = "/work/dir" };
}

#define GET(out, name) sh_env_get((out).v, name)

TEST(env_sanitized)
{
	struct sh_env_opts o;
	struct sh_strv out = { 0 };
	struct sh_env_report rep = { 0 };
	struct sh_err e = { 0 };

	opts_init(&o, SH_ENV_SANITIZED);
	CK(sh_env_build(&o, &out, &rep, &e), ==, 0);
	CHECK(out.v && out.v[out.n] == NULL);
	CHECK_STR(GET(out, "HOME"), "/home/u");
	CHECK_STR(GET(out, "PATH"), "/usr/bin:/bin:/home/u/.local/bin:/usr/local/bin");
	CHECK_STR(GET(out, "SHELL"), "/bin/zsh");
	CHECK_STR(GET(out, "USER"), "u");
	CHECK_STR(GET(out, "LOGNAME"), "ulog");
	CHECK_STR(GET(out, "TMPDIR"), "/tmp");
	CHECK_STR(GET(out, "PWD"), "/work/dir");
	CHECK_STR(GET(out, "TERM"), "xterm-256color");
	CHECK_STR(GET(out, "TERM_PROGRAM"), "iTerm");
	CHECK_STR(GET(out, "TERM_PROGRAM_VERSION"), "3");
	CHECK_STR(GET(out, "LC_ALL"), "C.UTF-8");
	CHECK_STR(GET(out, "LANG"), "en_US.UTF-8");
	CHECK_STR(GET(out, "https_proxy"), "http://proxy:3128");
	CHECK_STR(GET(out, "NO_COLOR"), "1");
	CHECK(GET(out, "XDG_RUNTIME_DIR") == NULL);
	CHECK(GET(out, "OPENAI_API_KEY") == NULL);
	CHECK(GET(out, "GH_TOKEN") == NULL);
	CHECK(GET(out, "LC_GH_TOKEN") == NULL);
	CHECK(GET(out, "LD_PRELOAD") == NULL);
	CHECK(GET(out, "SAFEHOUSE_WORKDIR") == NULL);
	CHECK(GET(out, "FOO") == NULL);
	/* Nothing duplicated. */
	for (size_t i = 0; i < out.n; i++)
		for (size_t j = i + 1; j < out.n; j++)
			CHECK(strcspn(out.v[i], "=") != strcspn(out.v[j], "=") ||
			      strncmp(out.v[i], out.v[j], strcspn(out.v[i], "=")) != 0);

	CHECK_INT(rep.mode, ==, SH_ENV_SANITIZED);
	CHECK_INT(rep.n_host, ==, 24);
	CHECK(sh_strv_contains(&rep.dropped_secret, "OPENAI_API_KEY"));
	CHECK(sh_strv_contains(&rep.dropped_secret, "GH_TOKEN"));
	CHECK(sh_strv_contains(&rep.dropped_secret, "AWS_SECRET_ACCESS_KEY"));
	CHECK(!sh_strv_contains(&rep.dropped_secret, "FOO"));
	CHECK(sh_strv_contains(&rep.stripped, "LD_PRELOAD"));
	CHECK(sh_strv_contains(&rep.stripped, "SAFEHOUSE_WORKDIR"));
	char *sum = sh_env_report_summary(&rep);
	CHECK_CONTAINS(sum, "env: sanitized, ");
	CHECK_CONTAINS(sum, "of 24 host variables passed");
	CHECK_CONTAINS(sum, "dropped credentials: LC_GH_TOKEN, OPENAI_API_KEY, GH_TOKEN, AWS_SECRET_ACCESS_KEY");
	CHECK_CONTAINS(sum, "stripped: LD_PRELOAD, LD_LIBRARY_PATH, SAFEHOUSE_WORKDIR");
	free(sum);
	sh_env_report_free(&rep);
	sh_strv_free(&out);

	/* XDG_RUNTIME_DIR on request; rep may be NULL. */
	o.runtime_dir = true;
	CK(sh_env_build(&o, &out, NULL, &e), ==, 0);
	CHECK_STR(GET(out, "XDG_RUNTIME_DIR"), "/run/user/1000");
	sh_strv_free(&out);
}

TEST(env_sanitized_defaults)
{
	char *host[] = { "HOME=/h", "PATH=/usr/local/bin:/h/.local/bin:/bin", NULL };
	char *bare[] = { "HOME=/h", "PATH=", NULL };
	struct sh_env_opts o = { .mode = SH_ENV_SANITIZED, .host = host, .pwd = "/p" };
	struct sh_strv out = { 0 };
	struct sh_err e = { 0 };

	CK(sh_env_build(&o, &out, NULL, &e), ==, 0);
	CHECK_STR(GET(out, "PATH"), "/usr/local/bin:/h/.local/bin:/bin");
	CHECK_STR(GET(out, "SHELL"), "/bin/sh");
	CHECK(GET(out, "TERM") == NULL);
	sh_strv_free(&out);

	o.host = bare;
	CK(sh_env_build(&o, &out, NULL, &e), ==, 0);
	CHECK_STR(GET(out, "PATH"), "/usr/local/bin:/usr/bin:/bin:/h/.local/bin");
	sh_strv_free(&out);

	/* No host at all: HOME/USER come from the passwd entry, PWD from getcwd. */
	o.host = NULL;
	o.pwd = NULL;
	if (sh_env_build(&o, &out, NULL, &e) == 0) {
		CHECK(GET(out, "HOME") != NULL);
		CHECK(GET(out, "PWD") != NULL && GET(out, "PWD")[0] == '/');
		CHECK_STR(GET(out, "USER"), GET(out, "LOGNAME"));
		CHECK(sh_str_ends(GET(out, "PATH"), "/.local/bin"));
		sh_strv_free(&out);
	} else {
		CHECK_INT(e.exit_code, ==, SH_EXIT_SETUP);
	}
}

TEST(env_full)
{
	struct sh_env_opts o;
	struct sh_strv out = { 0 };
	struct sh_env_report rep = { 0 };
	struct sh_err e = { 0 };

	opts_init(&o, SH_ENV_FULL);
	CK(sh_env_build(&o, &out, &rep, &e), ==, 0);
	CHECK_STR(GET(out, "OPENAI_API_KEY"), "sk-secret");
	CHECK_STR(GET(out, "FOO"), "foo");
	CHECK_STR(GET(out, "PATH"), "/usr/bin:/bin"); /* verbatim */
	CHECK_STR(GET(out, "HOME"), "/home/u");       /* first occurrence */
	CHECK_STR(GET(out, "TMPDIR"), "/tmp");
	CHECK_STR(GET(out, "PWD"), "/work/dir");
	CHECK(GET(out, "LD_PRELOAD") == NULL);
	CHECK(GET(out, "LD_LIBRARY_PATH") == NULL);
	CHECK(GET(out, "SAFEHOUSE_WORKDIR") == NULL);
	CHECK(GET(out, "NOEQUALS") == NULL);
	CHECK_INT(rep.dropped_secret.n, ==, 0);
	CHECK(sh_strv_contains(&rep.stripped, "LD_LIBRARY_PATH"));
	char *sum = sh_env_report_summary(&rep);
	CHECK_CONTAINS(sum, "env: full, ");
	free(sum);
	sh_env_report_free(&rep);
	sh_strv_free(&out);
}

TEST(env_file_pass_defaults_assign)
{
	struct sh_env_opts o;
	struct sh_strv out = { 0 }, pass = { 0 }, defs = { 0 }, assign = { 0 };
	struct sh_dotenv d = { 0 };
	struct sh_env_report rep = { 0 };
	struct sh_err e = { 0 };
	const char *file = "API=from-file\nTERM=dumb\nLD_AUDIT=/x.so\nFOO=file-foo\n";

	CK(sh_dotenv_parse(&d, file, strlen(file), "f", &e), ==, 0);
	CK(sh_env_pass_parse("FOO, GH_TOKEN,MISSING_X,LD_LIBRARY_PATH,SAFEHOUSE_WORKDIR", &pass,
			     &e),
	   ==, 0);
	sh_strv_push(&defs, "EDITOR=vi");
	sh_strv_push(&defs, "TERM=never");
	sh_strv_push(&defs, "LD_PRELOAD=/p.so");
	sh_strv_push(&assign, "TERM=vt100");
	sh_strv_push(&assign, "NEW=1");
	sh_strv_push(&assign, "LD_LIBRARY_PATH=/cli");
	sh_strv_push(&assign, "LD_BIND_NOW=1");
	sh_strv_push(&assign, "EMPTY=");

	opts_init(&o, SH_ENV_FILE);
	o.file = &d;
	o.pass = &pass;
	o.defaults = &defs;
	o.assign = &assign;
	CK(sh_env_build(&o, &out, &rep, &e), ==, 0);
	CHECK_STR(GET(out, "API"), "from-file");
	CHECK_STR(GET(out, "FOO"), "foo"); /* --env-pass on top of the file */
	CHECK_STR(GET(out, "GH_TOKEN"), "ghp_x");
	CHECK(GET(out, "MISSING_X") == NULL);
	CHECK(GET(out, "LD_AUDIT") == NULL);
	CHECK(GET(out, "SAFEHOUSE_WORKDIR") == NULL);
	CHECK_STR(GET(out, "EDITOR"), "vi");
	CHECK_STR(GET(out, "TERM"), "vt100");
	CHECK_STR(GET(out, "NEW"), "1");
	CHECK_STR(GET(out, "EMPTY"), "");
	CHECK(GET(out, "LD_PRELOAD") == NULL);
	CHECK(GET(out, "LD_BIND_NOW") == NULL);
	/* Named in --env-pass: host value, then the command line overrides. */
	CHECK_STR(GET(out, "LD_LIBRARY_PATH"), "/cli");
	CHECK_STR(GET(out, "TMPDIR"), "/tmp");

	CHECK(sh_strv_contains(&rep.file_vars, "API"));
	CHECK(sh_strv_contains(&rep.passed, "GH_TOKEN"));
	CHECK(sh_strv_contains(&rep.passed, "LD_LIBRARY_PATH"));
	CHECK(sh_strv_contains(&rep.pass_missing, "MISSING_X"));
	CHECK(sh_strv_contains(&rep.defaults_set, "EDITOR=vi"));
	CHECK(sh_strv_contains(&rep.defaults_kept, "TERM"));
	CHECK(sh_strv_contains(&rep.stripped, "LD_AUDIT"));
	CHECK(sh_strv_contains(&rep.stripped, "LD_PRELOAD"));
	CHECK(sh_strv_contains(&rep.stripped, "LD_BIND_NOW"));
	CHECK(sh_strv_contains(&rep.stripped, "SAFEHOUSE_WORKDIR"));
	CHECK(!sh_strv_contains(&rep.stripped, "LD_LIBRARY_PATH"));
	CHECK(!sh_strv_contains(&rep.dropped_secret, "GH_TOKEN"));
	CHECK(sh_strv_contains(&rep.dropped_secret, "OPENAI_API_KEY"));
	char *sum = sh_env_report_summary(&rep);
	CHECK_CONTAINS(sum, "env: file, ");
	CHECK_CONTAINS(sum, "; from file: API, TERM, FOO");
	CHECK_CONTAINS(sum, "; --env-pass: FOO, GH_TOKEN, LD_LIBRARY_PATH");
	CHECK_CONTAINS(sum, "; --env-pass unset on host: MISSING_X");
	CHECK_CONTAINS(sum, "; profile defaults: EDITOR=vi");
	CHECK_CONTAINS(sum, "; profile defaults already set: TERM");
	free(sum);

	sh_env_report_free(&rep);
	sh_strv_free(&out);
	sh_strv_free(&pass);
	sh_strv_free(&defs);
	sh_strv_free(&assign);
	sh_dotenv_free(&d);
}

TEST(env_build_errors)
{
	struct sh_env_opts o;
	struct sh_strv out = { 0 }, list = { 0 };
	struct sh_env_report rep = { 0 };
	struct sh_err e = { 0 };

	opts_init(&o, SH_ENV_SANITIZED);
	sh_strv_push(&list, "1BAD=x");
	o.assign = &list;
	CK(sh_env_build(&o, &out, &rep, &e), ==, -1);
	CHECK_STR(e.msg, "invalid environment assignment '1BAD=x'");
	CHECK_INT(e.exit_code, ==, SH_EXIT_USAGE);
	CHECK(out.v == NULL && out.n == 0);
	CHECK(rep.stripped.v == NULL);
	o.assign = NULL;
	o.defaults = &list;
	CK(sh_env_build(&o, &out, &rep, &e), ==, -1);
	CHECK_INT(e.exit_code, ==, SH_EXIT_PROFILE);
	sh_strv_free(&list);
	sh_strv_push(&list, "NOEQ");
	CK(sh_env_build(&o, &out, NULL, &e), ==, -1);
	CHECK_STR(e.msg, "invalid environment assignment 'NOEQ'");
	sh_strv_free(&list);
	sh_strv_push(&list, "A\x1b=1");
	CK(sh_env_build(&o, &out, NULL, &e), ==, -1);
	CHECK_STR(e.msg, "invalid environment assignment (control characters)");
	sh_strv_free(&list);
}

TEST(env_pass_parse_and_combo)
{
	struct sh_strv n = { 0 };
	struct sh_err e = { 0 };

	CK(sh_env_pass_parse("A,B,,A, C ,", &n, &e), ==, 0);
	CHECK_INT(n.n, ==, 3);
	CK(sh_env_pass_parse("B,D", &n, &e), ==, 0);
	CHECK_INT(n.n, ==, 4);
	CK(sh_env_pass_parse("", &n, &e), ==, 0);
	CK(sh_env_pass_parse(" , ", &n, &e), ==, 0);
	CHECK_INT(n.n, ==, 4);
	CK(sh_env_pass_parse("OK,BAD-NAME", &n, &e), ==, -1);
	CHECK_STR(e.msg, "--env-pass: invalid variable name 'BAD-NAME'");
	CK(sh_env_pass_parse("9X", &n, &e), ==, -1);
	CK(sh_env_pass_parse("X\nY", &n, &e), ==, -1);
	CHECK_STR(e.msg, "--env-pass: invalid variable name (control characters)");
	CHECK_INT(e.exit_code, ==, SH_EXIT_USAGE);
	sh_strv_free(&n);

	CK(sh_env_check_combo(SH_ENV_FULL, 0, &e), ==, 0);
	CK(sh_env_check_combo(SH_ENV_SANITIZED, 2, &e), ==, 0);
	CK(sh_env_check_combo(SH_ENV_FILE, 2, &e), ==, 0);
	CK(sh_env_check_combo(SH_ENV_FULL, 1, &e), ==, -1);
	CHECK_STR(e.msg, "--env and --env-pass cannot be combined");
	CHECK(e.hint[0] != '\0');
	CHECK_INT(e.exit_code, ==, SH_EXIT_USAGE);
}

TEST(env_helpers)
{
	char *env[] = { "A=1", "AB=2", "C=", NULL };

	CHECK_STR(sh_env_get(env, "A"), "1");
	CHECK_STR(sh_env_get(env, "AB"), "2");
	CHECK_STR(sh_env_get(env, "C"), "");
	CHECK(sh_env_get(env, "B") == NULL);
	CHECK(sh_env_get(NULL, "A") == NULL);
	CHECK(sh_env_assignment_valid("A=1"));
	CHECK(sh_env_assignment_valid("_="));
	CHECK(!sh_env_assignment_valid("=1"));
	CHECK(!sh_env_assignment_valid("A"));
	CHECK(!sh_env_assignment_valid("A-B=1"));
	CHECK_STR(sh_env_mode_name(SH_ENV_SANITIZED), "sanitized");
	CHECK_STR(sh_env_mode_name(SH_ENV_FULL), "full");
	CHECK_STR(sh_env_mode_name(SH_ENV_FILE), "file");
}
