#include <stdlib.h>
#include <string.h>

#include "cli/options.h"
#include "harness.h"

static int parse(struct sh_options *o, struct sh_err *e, char **argv)
{
	int argc = 0;
	while (argv[argc])
		argc++;
	sh_options_init(o);
	return sh_options_parse(o, argc, argv, e);
}

TEST(options_stop_at_first_non_option)
{
	struct sh_options o;
	struct sh_err e = { 0 };
	char *argv[] = { "safehouse", "--stdout", "codex", "--add-dirs=/x", NULL };
	CHECK_INT(parse(&o, &e, argv), ==, 0);
	CHECK(o.to_stdout);
	CHECK_INT(o.argc, ==, 2);
	CHECK_STR(o.argv[0], "codex");
	CHECK_STR(o.argv[1], "--add-dirs=/x");
	CHECK_INT(o.add_dirs.n, ==, 0);
	sh_options_free(&o);
}

TEST(options_double_dash_and_value_forms)
{
	struct sh_options o;
	struct sh_err e = { 0 };
	char *argv[] = { "safehouse", "--add-dirs", "/a:/b", "--add-dirs=/c", "--workdir=",
			 "--", "--stdout", NULL };
	CHECK_INT(parse(&o, &e, argv), ==, 0);
	CHECK_INT(o.add_dirs.n, ==, 2);
	CHECK_STR(o.add_dirs.v[0], "/a:/b");
	CHECK_STR(o.workdir, "");
	CHECK(!o.to_stdout);
	CHECK_INT(o.argc, ==, 1);
	CHECK_STR(o.argv[0], "--stdout");
	sh_options_free(&o);
}

TEST(options_unknown_option_hint)
{
	struct sh_options o;
	struct sh_err e = { 0 };
	char *argv[] = { "safehouse", "--yolo", "codex", NULL };
	CHECK_INT(parse(&o, &e, argv), ==, -1);
	CHECK_INT(e.exit_code, ==, SH_EXIT_USAGE);
	CHECK_CONTAINS(e.msg, "'--yolo'");
	CHECK_CONTAINS(e.msg, "after '--'");
	sh_options_free(&o);
}

TEST(options_optional_values)
{
	struct sh_options o;
	struct sh_err e = { 0 };
	char *argv[] = { "safehouse", "--trust-workdir-config", "--always-trust-workdir-config=no",
			 "--env", "cmd", NULL };
	CHECK_INT(parse(&o, &e, argv), ==, 0);
	CHECK_INT(o.trust_workdir_config, ==, 1);
	CHECK_INT(o.always_trust_workdir_config, ==, 0);
	CHECK_INT(o.env_mode, ==, SH_ENV_FULL);
	CHECK_STR(o.argv[0], "cmd"); /* --env never takes the next word */
	sh_options_free(&o);
}

TEST(options_errors)
{
	struct sh_options o;
	struct sh_err e = { 0 };
	char *a1[] = { "safehouse", "--env", "--env-pass=A", NULL };
	char *a2[] = { "safehouse", "--add-dirs=/a\nb", NULL };
	char *a3[] = { "safehouse", "--target=plan9", NULL };
	char *a4[] = { "safehouse", "--explain=1", NULL };
	char *a5[] = { "safehouse", "--trust-workdir-config=maybe", NULL };
	CHECK_INT(parse(&o, &e, a1), ==, -1);
	CHECK_CONTAINS(e.msg, "cannot be combined");
	sh_options_free(&o);
	CHECK_INT(parse(&o, &e, a2), ==, -1);
	CHECK_CONTAINS(e.msg, "control characters");
	sh_options_free(&o);
	CHECK_INT(parse(&o, &e, a3), ==, -1);
	CHECK_CONTAINS(e.msg, "unknown target");
	sh_options_free(&o);
	CHECK_INT(parse(&o, &e, a4), ==, -1);
	CHECK_CONTAINS(e.msg, "takes no value");
	sh_options_free(&o);
	CHECK_INT(parse(&o, &e, a5), ==, -1);
	sh_options_free(&o);
}

TEST(options_why_subcommand)
{
	struct sh_options o;
	struct sh_err e = { 0 };
	char *argv[] = { "safehouse", "why", "--write", "/w/x", "--workdir=/w", "--", "codex", NULL };
	char *bad[] = { "safehouse", "why", "--write", NULL };
	CHECK_INT(parse(&o, &e, argv), ==, 0);
	CHECK_INT(o.cmd, ==, SH_CMD_WHY);
	CHECK_INT(o.why_op, ==, SH_WHY_WRITE);
	CHECK_STR(o.why_path, "/w/x");
	CHECK_STR(o.workdir, "/w");
	CHECK_STR(o.argv[0], "codex");
	sh_options_free(&o);
	CHECK_INT(parse(&o, &e, bad), ==, -1);
	CHECK_CONTAINS(e.msg, "missing PATH");
	sh_options_free(&o);
}

/* Regression: setting one value option must never free another's. */
TEST(options_value_flags_are_independent)
{
	struct sh_options o;
	struct sh_err e = { 0 };
	char *argv[] = { "safehouse", "--max-procs=2", "--audit=warn", "--max-memory=1G",
			 "--sandbox=read-only", "--network=none", "--audit=strict", "x", NULL };
	CHECK_INT(parse(&o, &e, argv), ==, 0);
	CHECK_STR(o.max_procs, "2");
	CHECK_STR(o.max_memory, "1G");
	CHECK_STR(o.audit, "strict");
	CHECK_STR(o.sandbox, "read-only");
	CHECK_STR(o.network, "none");
	sh_options_free(&o);
}

TEST(options_publish_values)
{
	struct sh_options o;
	struct sh_err e = { 0 };
	char *argv[] = { "safehouse", "--publish=1455", "--publish", "8080:3000, 9000 ,auto",
			 "--publish=65535:1", "cmd", NULL };
	CHECK_INT(parse(&o, &e, argv), ==, 0);
	CHECK_INT(o.publish.n, ==, 3); /* kept as given, in order; validated */
	CHECK_STR(o.publish.v[0], "1455");
	CHECK_STR(o.publish.v[1], "8080:3000, 9000 ,auto");
	CHECK_STR(o.publish.v[2], "65535:1");
	CHECK_STR(o.argv[0], "cmd");
	sh_options_free(&o);
}

TEST(options_publish_errors)
{
	static const char *const bad[] = { "--publish=0",     "--publish=65536", "--publish=abc",
					   "--publish=1:2:3", "--publish=80:",   "--publish=:80",
					   "--publish=-1",    "--publish=+80",   "--publish=8080 9000",
					   "--publish=",      "--publish=,",     "--publish=Auto",
					   "--publish=1\n2" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct sh_options o;
		struct sh_err e = { 0 };
		char *argv[] = { "safehouse", (char *)bad[i], "cmd", NULL };
		CHECK_INT(parse(&o, &e, argv), ==, -1);
		CHECK_INT(e.exit_code, ==, SH_EXIT_USAGE);
		CHECK_CONTAINS(e.msg, "--publish");
		CHECK_INT(o.publish.n, ==, 0);
		sh_options_free(&o);
	}
	/* one host port cannot go to two sandbox ports (across flags and layers:
	 * cli/context.c checks the accumulated values) */
	struct sh_options o;
	struct sh_err e = { 0 };
	char *a1[] = { "safehouse", "--publish=8080:1,8080:2", NULL };
	CHECK_INT(parse(&o, &e, a1), ==, -1);
	CHECK_CONTAINS(e.msg, "host port 8080 is already published to sandbox port 1");
	sh_options_free(&o);
	char *a2[] = { "safehouse", "--publish", NULL };
	CHECK_INT(parse(&o, &e, a2), ==, -1);
	CHECK_CONTAINS(e.msg, "needs a value");
	sh_options_free(&o);
}
