/* Unit tests: s-expression reader and profile compiler. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "profile/profile.h"
#include "profile/sexp.h"

/* A compiled policy plus the error of the last compile. */
struct pc {
	struct sh_profile_ctx *ctx;
	struct sh_policy p;
	struct sh_err e;
	int rc;
};

/* CHECK_INT evaluates its first argument twice: never pass it a call with
 * side effects. */
#define CHECK_RC(call, op, want)                  \
	do {                                      \
		long long rc_ = (long long)(call); \
		CHECK_INT(rc_, op, want);         \
	} while (0)

static void pc_init(struct pc *t, const char *workdir)
{
	memset(t, 0, sizeof(*t));
	t->ctx = sh_profile_ctx_new("/home/u", workdir, "linux");
	sh_policy_init(&t->p);
}

static int pc_add(struct pc *t, const char *source, const char *text)
{
	memset(&t->e, 0, sizeof(t->e));
	t->rc = sh_profile_compile(t->ctx, source, text, strlen(text), &t->p, &t->e);
	return t->rc;
}

static void pc_free(struct pc *t)
{
	sh_policy_free(&t->p);
	sh_profile_ctx_free(t->ctx);
}

/* Compile text alone; returns the error message (static) or "" on success. */
static const char *compile_err(const char *text)
{
	static char msg[1024];
	struct pc t;

	pc_init(&t, "/w");
	msg[0] = '\0';
	if (pc_add(&t, "x.sb", text) < 0) {
		CHECK_INT(t.e.exit_code, ==, SH_EXIT_PROFILE);
		snprintf(msg, sizeof(msg), "%s", t.e.msg);
	}
	pc_free(&t);
	return msg;
}

static bool allowed(const struct pc *t, const char *op, const char *path)
{
	return sh_policy_check(&t->p, op, path).action == SH_ALLOW;
}

/* ---------------- reader ---------------- */

TEST(sexp_reads_atoms_with_positions)
{
	struct sh_sexp root;
	struct sh_err e = { 0 };
	const char *s = "; c\n(a \"s\\n\\x41\" 12 -3 #t #f\n  #\"^/x\\.y\\\"z\")";

	CHECK_RC(sh_sexp_read("t", s, strlen(s), &root, &e), ==, 0);
	CHECK_INT(root.n, ==, 1);
	const struct sh_sexp *l = &root.items[0];
	CHECK_INT(l->line, ==, 2);
	CHECK_INT(l->col, ==, 1);
	CHECK_INT(l->n, ==, 7);
	CHECK_STR(l->items[0].text, "a");
	CHECK_STR(l->items[1].text, "s\nA");
	CHECK_INT(l->items[2].num, ==, 12);
	CHECK_INT(l->items[3].num, ==, -3);
	CHECK(l->items[4].kind == SH_SX_BOOL && l->items[4].truth);
	CHECK(l->items[5].kind == SH_SX_BOOL && !l->items[5].truth);
	CHECK(l->items[6].kind == SH_SX_REGEX);
	CHECK_STR(l->items[6].text, "^/x\\.y\"z");
	CHECK_INT(l->items[6].line, ==, 3);
	CHECK_INT(l->items[6].col, ==, 3);
	sh_sexp_free(&root);
}

TEST(sexp_print_roundtrip)
{
	struct sh_sexp root;
	struct sh_err e = { 0 };
	const char *s = "(global-name  \"a\\\"b\" #\"x\\\"y\" 3 sym)";

	CHECK_RC(sh_sexp_read("t", s, strlen(s), &root, &e), ==, 0);
	char *out = sh_sexp_print(&root.items[0]);
	CHECK_STR(out, "(global-name \"a\\\"b\" #\"x\\\"y\" 3 sym)");
	free(out);
	sh_sexp_free(&root);
}

TEST(sexp_unbalanced_open_reports_opening_position)
{
	CHECK_STR(compile_err("(version 1)\n\n(allow file-read*\n"),
		  "x.sb:3:1: unbalanced '(': expected ')' before end of file");
}

TEST(sexp_unexpected_close)
{
	CHECK_STR(compile_err("(version 1))"), "x.sb:1:12: unexpected ')': no matching '('");
}

TEST(sexp_unterminated_string)
{
	CHECK_STR(compile_err("(allow file-read*\n  (literal \"/etc))"),
		  "x.sb:2:12: unterminated string: expected '\"' before end of file");
	CHECK_CONTAINS(compile_err("(regex #\"abc"), "x.sb:1:8: unterminated regex literal");
}

TEST(sexp_bad_escape_and_chars)
{
	CHECK_CONTAINS(compile_err("(literal \"\\q\")"), "x.sb:1:11: bad escape");
	CHECK_CONTAINS(compile_err("(literal \"\\x0\")"), "two hex digits");
	CHECK_CONTAINS(compile_err("(literal \"\\x00\")"), "NUL");
	CHECK_CONTAINS(compile_err("(allow [x])"), "x.sb:1:8: unexpected character '['");
	CHECK_CONTAINS(compile_err("#q"), "x.sb:1:1: bad '#' syntax");
	CHECK_CONTAINS(compile_err("'(a)"), "quote (') is not supported");
}

TEST(sexp_depth_limit)
{
	char buf[256];
	size_t n = 0;

	for (int i = 0; i < 100; i++)
		buf[n++] = '(';
	buf[n] = '\0';
	CHECK_CONTAINS(compile_err(buf), "nesting too deep");
}

TEST(sexp_integer_overflow)
{
	CHECK_CONTAINS(compile_err("(version 99999999999999999999999)"),
		       "x.sb:1:10: integer out of range");
}

TEST(sexp_input_size_limit)
{
	struct sh_sexp root;
	struct sh_err e = { 0 };

	CHECK_RC(sh_sexp_read("big.sb", "", SH_SEXP_MAX_INPUT + 1, &root, &e), ==, -1);
	CHECK_CONTAINS(e.msg, "big.sb: profile too large");
	sh_sexp_free(&root);
}

/* ---------------- basic forms ---------------- */

TEST(profile_version_and_default)
{
	struct pc t;

	pc_init(&t, "/w");
	CHECK_RC(pc_add(&t, "base.sb", "(version 1)\n(deny default)\n"), ==, 0);
	CHECK_INT(t.p.version, ==, 1);
	CHECK_INT(t.p.default_action, ==, SH_DENY);
	CHECK_STR(t.p.default_origin.source, "base.sb");
	CHECK_INT(t.p.default_origin.line, ==, 2);
	CHECK_INT(t.p.nrules, ==, 0);
	CHECK_RC(pc_add(&t, "b.sb", "(allow default)"), ==, 0);
	CHECK_INT(t.p.default_action, ==, SH_ALLOW);
	CHECK(!allowed(&t, "file-read-data", "/x") == false);
	pc_free(&t);
	CHECK_CONTAINS(compile_err("(version 2)"), "x.sb:1:10: unsupported version 2");
}

TEST(profile_rule_ops_filters_origin)
{
	struct pc t;

	pc_init(&t, "/w");
	CHECK_RC(pc_add(&t, "r.sb", "\n  (allow file-read* file-write* (subpath \"/a\")\n"
			 "     (literal \"/b\") (prefix \"/c/d\"))"), ==, 0);
	CHECK_INT(t.p.nrules, ==, 1);
	const struct sh_rule *r = &t.p.rules[0];
	CHECK_INT(r->action, ==, SH_ALLOW);
	CHECK_INT(r->nops, ==, 2);
	CHECK_STR(r->ops[1], "file-write*");
	CHECK_INT(r->nfilters, ==, 3);
	CHECK_INT(r->filters[0].kind, ==, SH_F_SUBPATH);
	CHECK_INT(r->filters[1].kind, ==, SH_F_LITERAL);
	CHECK_INT(r->filters[2].kind, ==, SH_F_PREFIX);
	CHECK_STR(r->filters[2].arg, "/c/d");
	CHECK_INT(r->filters[1].line, ==, 3);
	CHECK_INT(r->filters[1].col, ==, 6);
	CHECK_STR(r->origin.source, "r.sb");
	CHECK_INT(r->origin.line, ==, 2);
	CHECK_INT(r->origin.col, ==, 3);
	CHECK(r->linux_meaningful);
	CHECK(allowed(&t, "file-write-data", "/a/x"));
	CHECK(allowed(&t, "file-read-data", "/c/dd"));
	CHECK(!allowed(&t, "file-read-data", "/b/x"));
	pc_free(&t);
}

TEST(profile_rule_without_filter_matches_all)
{
	struct pc t;

	pc_init(&t, "/w");
	CHECK_RC(pc_add(&t, "r.sb", "(allow process-fork)"), ==, 0);
	CHECK_INT(t.p.nrules, ==, 1);
	CHECK_INT(t.p.rules[0].nfilters, ==, 0);
	CHECK(allowed(&t, "process-fork", "/anything"));
	pc_free(&t);
}

TEST(profile_later_rule_wins)
{
	struct pc t;

	pc_init(&t, "/w");
	CHECK_RC(pc_add(&t, "a.sb", "(deny default)\n"
			 "(allow file-read* file-write* (subpath (string-append HOME_DIR \"/.codex\")))\n"
			 "(deny file-read* (home-literal \"/.codex/auth.json\"))\n"), ==, 0);
	CHECK(allowed(&t, "file-read-data", "/home/u/.codex/config.toml"));
	CHECK(!allowed(&t, "file-read-data", "/home/u/.codex/auth.json"));
	CHECK(allowed(&t, "file-write-data", "/home/u/.codex/auth.json"));
	struct sh_verdict v = sh_policy_check(&t.p, "file-read-data", "/home/u/.codex/auth.json");
	CHECK(v.rule != NULL);
	if (v.rule)
		CHECK_INT(v.rule->origin.line, ==, 3);
	CHECK(!allowed(&t, "file-read-data", "/home/u/.ssh/id_rsa"));
	pc_free(&t);
}

TEST(profile_unknown_operation)
{
	CHECK_STR(compile_err("(allow file-reed* (subpath \"/a\"))"),
		  "x.sb:1:8: unknown operation 'file-reed*' (expected e.g. file-read*, "
		  "file-write*, process-exec, network-outbound)");
	CHECK_CONTAINS(compile_err("(allow (subpath \"/a\"))"),
		       "x.sb:1:1: allow: expected at least one operation");
	CHECK_CONTAINS(compile_err("(allow file-read* (subpath \"/a\") file-write*)"),
		       "x.sb:1:34: allow: operation 'file-write*' must come before the filters");
}

TEST(profile_unknown_form_and_filter)
{
	CHECK_STR(compile_err("(version 1)\n  (alow file-read*)"),
		  "x.sb:2:4: unknown form 'alow' (expected version, define, allow, deny, if)");
	CHECK_STR(compile_err("(allow file-read*\n (subpth \"/a\"))"),
		  "x.sb:2:3: unknown filter 'subpth'");
	CHECK_CONTAINS(compile_err("(define x (frob 1))"), "x.sb:1:12: unknown function 'frob'");
	CHECK_CONTAINS(compile_err("\"str\""), "x.sb:1:1: expected a form such as (allow ...)");
	CHECK_CONTAINS(compile_err("(allow file-read* (allow file-read*))"),
		       "'allow' is only allowed at the top level");
}

TEST(profile_wrong_arity)
{
	CHECK_STR(compile_err("(allow file-read* (literal \"/a\" \"/b\"))"),
		  "x.sb:1:19: wrong number of arguments to 'literal': expected (literal PATH), "
		  "got 2");
	CHECK_CONTAINS(compile_err("(define)"), "wrong arguments to 'define'");
	CHECK_CONTAINS(compile_err("(if #t)"), "wrong number of arguments to 'if'");
	CHECK_CONTAINS(compile_err("(version)"), "expected (version 1)");
	CHECK_CONTAINS(compile_err("(allow file-read* (require-not (literal \"/a\") "
				   "(literal \"/b\")))"), "expected (require-not FILTER)");
}

TEST(profile_not_a_filter)
{
	CHECK_CONTAINS(compile_err("(allow file-read* \"/etc\")"),
		       "x.sb:1:19: allow: expected a filter such as (subpath \"/path\"), got a string");
	CHECK_CONTAINS(compile_err("(allow file-read* (literal 5))"),
		       "x.sb:1:28: literal: expected a string, got an integer");
}

TEST(profile_relative_path_rejected)
{
	CHECK_STR(compile_err("(deny file-read*\n    (subpath \"etc\"))"),
		  "x.sb:2:14: subpath: path must be absolute (start with '/'), got \"etc\"");
	CHECK_CONTAINS(compile_err("(deny file-read* (literal \"/a\\nb\"))"),
		       "control characters are not allowed");
}

TEST(profile_undefined_symbol)
{
	CHECK_STR(compile_err("(allow file-read* (subpath FOO))"),
		  "x.sb:1:28: undefined symbol 'FOO'");
}

/* ---------------- regex ---------------- */

TEST(profile_regex_compiles_and_matches)
{
	struct pc t;

	pc_init(&t, "/w");
	CHECK_RC(pc_add(&t, "r.sb", "(allow file-read* (regex #\"^/tmp/[a-z]+\\.txt$\")"
			 " (regex \"^/opt/.*\"))"), ==, 0);
	CHECK_INT(t.p.rules[0].filters[0].kind, ==, SH_F_REGEX);
	CHECK(t.p.rules[0].filters[0].re != NULL);
	CHECK_STR(t.p.rules[0].filters[0].arg, "^/tmp/[a-z]+\\.txt$");
	CHECK(allowed(&t, "file-read-data", "/tmp/abc.txt"));
	CHECK(!allowed(&t, "file-read-data", "/tmp/abcXtxt"));
	CHECK(allowed(&t, "file-read-data", "/opt/x"));
	pc_free(&t);
}

TEST(profile_bad_regex_has_position)
{
	CHECK_CONTAINS(compile_err("(allow file-read*\n   (regex #\"^/tmp/(a\"))"),
		       "x.sb:2:11: regex: invalid regular expression \"^/tmp/(a\":");
	CHECK_CONTAINS(compile_err("(allow file-read* (regex #\"(a{100}){100}\"))"),
		       "repeats too much");
	CHECK_CONTAINS(compile_err("(allow file-read* (regex #\"a++++++++++++++++++++\"))"),
		       "repeats too much");
	CHECK_CONTAINS(compile_err("(allow file-read* (regex #\"((((((((((((((a+)+)+)+)+)+)+)+)+)+)+)+)+)+)\"))"),
		       "repeats too much");
	CHECK_CONTAINS(compile_err("(allow file-read* (regex #\"(((((((((((((((a+)+)+)+)+)+)+)+)+)+)+)+)+)+)+\"))"),
		       "repeats too much");
	CHECK_CONTAINS(compile_err("(allow file-read* (regex #\"^/(a*)\\1$\"))"),
		       "uses a backreference");
	CHECK_STR(compile_err("(allow file-read* (regex #\"^/a(b|c)+[]x]*\\\\.d{1,20}$\"))"), "");
	/* stacked repetition operators: undefined in POSIX, and exponential in
	 * glibc's regcomp (this one, found by the fuzzer, took minutes) */
	CHECK_CONTAINS(compile_err("(allow file-read* (regex #\"^/++++*+++++-+++\"))"),
		       "one repetition operator right after another");
	CHECK_CONTAINS(compile_err("(allow file-read* (regex #\"^/a*?\"))"), "right after another");
	CHECK_CONTAINS(compile_err("(allow file-read* (regex #\"^/a{2}+\"))"), "right after another");
	CHECK_STR(compile_err("(allow file-read* (regex #\"^/[+*]+\\++x{2}(y*)*$\"))"), "");
}

/* ---------------- require-* ---------------- */

TEST(profile_require_combinators)
{
	struct pc t;

	pc_init(&t, "/w");
	CHECK_RC(pc_add(&t, "r.sb",
			 "(allow file-read* (require-all (subpath \"/a\") "
			 "(require-not (literal \"/a/secret\"))))\n"
			 "(allow file-write* (require-any (literal \"/x\") (literal \"/y\")))"),
		  ==, 0);
	const struct sh_filter *f = &t.p.rules[0].filters[0];
	CHECK_INT(f->kind, ==, SH_F_REQUIRE_ALL);
	CHECK_INT(f->nchildren, ==, 2);
	CHECK_INT(f->children[1].kind, ==, SH_F_REQUIRE_NOT);
	CHECK(allowed(&t, "file-read-data", "/a/b"));
	CHECK(!allowed(&t, "file-read-data", "/a/secret"));
	CHECK(allowed(&t, "file-write-data", "/y"));
	CHECK(!allowed(&t, "file-write-data", "/z"));
	pc_free(&t);
}

/* ---------------- helpers and workdir ---------------- */

TEST(profile_home_and_workdir_helpers)
{
	struct pc t;

	pc_init(&t, "/w/");
	CHECK_RC(pc_add(&t, "h.sb", "(allow file-read* (home-literal \"/.gitconfig\")"
			 " (home-subpath \"\") (home-prefix \"/.local/bin/codex\")"
			 " (workdir-subpath \"/src\") (workdir-literal \"\"))"), ==, 0);
	const struct sh_filter *f = t.p.rules[0].filters;
	CHECK_STR(f[0].arg, "/home/u/.gitconfig");
	CHECK_INT(f[0].kind, ==, SH_F_LITERAL);
	CHECK_STR(f[1].arg, "/home/u");
	CHECK_INT(f[1].kind, ==, SH_F_SUBPATH);
	CHECK_INT(f[2].kind, ==, SH_F_PREFIX);
	CHECK_STR(f[3].arg, "/w/src"); /* no "//" from the trailing slash */
	CHECK_STR(f[4].arg, "/w/");
	pc_free(&t);
}

TEST(profile_helper_root_home_no_double_slash)
{
	struct pc t;

	memset(&t, 0, sizeof(t));
	t.ctx = sh_profile_ctx_new("/", "/w", NULL);
	sh_policy_init(&t.p);
	CHECK_RC(pc_add(&t, "h.sb", "(allow file-read* (home-literal \"/x\"))"), ==, 0);
	CHECK_STR(t.p.rules[0].filters[0].arg, "/x");
	pc_free(&t);
}

TEST(profile_helper_argument_must_start_with_slash)
{
	CHECK_STR(compile_err("(allow file-read* (home-subpath \".ssh\"))"),
		  "x.sb:1:33: home-subpath: argument must be \"\" or start with '/' (it is "
		  "relative to HOME_DIR), got \".ssh\"");
}

TEST(profile_workdir_disabled_is_exit_65)
{
	struct pc t;

	pc_init(&t, NULL);
	CHECK_RC(pc_add(&t, "60-agents/x.sb", "(version 1)\n(allow file-read*\n"
			 "  (workdir-literal \"/.env\"))"), ==, -1);
	CHECK_INT(t.e.exit_code, ==, SH_EXIT_PROFILE);
	CHECK_STR(t.e.msg, "60-agents/x.sb:3:3: workdir-literal used but the workdir is "
		  "disabled (--workdir=)");
	CHECK_RC(pc_add(&t, "y.sb", "(allow file-read* (subpath WORK_DIR))"), ==, -1);
	CHECK_STR(t.e.msg, "y.sb:1:28: WORK_DIR used but the workdir is disabled (--workdir=)");
	CHECK_INT(t.e.exit_code, ==, 65);
	/* home helpers still work */
	CHECK_RC(pc_add(&t, "z.sb", "(allow file-read* (home-subpath \"/a\"))"), ==, 0);
	pc_free(&t);
}

/* ---------------- define, functions, conditionals ---------------- */

TEST(profile_defines_persist_across_sources)
{
	struct pc t;

	pc_init(&t, "/w");
	CHECK_RC(pc_add(&t, "00-base.sb", "(define CODEX (string-append HOME_DIR \"/.codex\"))\n"
			 "(define (codex-file rel) (literal (string-append CODEX rel)))\n"
			 "(define SECRET (codex-file \"/auth.json\"))"), ==, 0);
	CHECK_RC(pc_add(&t, "60-agents/codex.sb", "(allow file-read* (subpath CODEX))\n"
			 "(deny file-read* SECRET (codex-file \"/hooks.json\"))"), ==, 0);
	CHECK_INT(t.p.nrules, ==, 2);
	CHECK_STR(t.p.rules[0].filters[0].arg, "/home/u/.codex");
	CHECK_STR(t.p.rules[1].filters[0].arg, "/home/u/.codex/auth.json");
	CHECK_STR(t.p.rules[1].filters[1].arg, "/home/u/.codex/hooks.json");
	CHECK_STR(t.p.rules[1].origin.source, "60-agents/codex.sb");
	CHECK(!allowed(&t, "file-read-data", "/home/u/.codex/auth.json"));
	CHECK(allowed(&t, "file-read-data", "/home/u/.codex/x"));
	pc_free(&t);
}

TEST(profile_redefinition_later_wins)
{
	struct pc t;

	pc_init(&t, "/w");
	CHECK_RC(pc_add(&t, "a.sb", "(define D \"/one\") (define D \"/two\")\n"
			 "(define (f x) (literal x)) (define (f x) (subpath x))\n"
			 "(allow file-read* (f D))"), ==, 0);
	CHECK_INT(t.p.rules[0].filters[0].kind, ==, SH_F_SUBPATH);
	CHECK_STR(t.p.rules[0].filters[0].arg, "/two");
	pc_free(&t);
}

TEST(profile_helpers_can_be_redefined_like_upstream_base)
{
	struct pc t;

	pc_init(&t, "/w");
	CHECK_RC(pc_add(&t, "base.sb", "(define (home-subpath rel) (subpath (string-append "
			 "\"/other\" rel)))\n(allow file-read* (home-subpath \"/x\"))"), ==, 0);
	CHECK_STR(t.p.rules[0].filters[0].arg, "/other/x");
	pc_free(&t);
	CHECK_CONTAINS(compile_err("(define (literal x) x)"),
		       "x.sb:1:10: define: 'literal' is a built-in form and cannot be redefined");
	CHECK_CONTAINS(compile_err("(define allow 1)"), "'allow' is a built-in form");
}

TEST(profile_function_errors)
{
	CHECK_CONTAINS(compile_err("(define (f a b) a)"), "a function takes exactly one argument");
	CHECK_CONTAINS(compile_err("(define (f a) (literal a))\n(allow file-read* (f))"),
		       "x.sb:2:19: wrong number of arguments to 'f': expected (f a), got 0");
	CHECK_CONTAINS(compile_err("(define (f a) (f a))\n(allow file-read* (f \"/x\"))"),
		       "calls nested more than 16 deep");
	CHECK_CONTAINS(compile_err("(define (f a) (literal a))\n(allow file-read* f)"),
		       "'f' is a function: call it as (f a)");
	CHECK_CONTAINS(compile_err("(define v \"/a\")\n(allow file-read* (v 1))"),
		       "x.sb:2:20: 'v' is a value, not a function");
}

TEST(profile_error_inside_function_points_at_caller)
{
	struct pc t;

	pc_init(&t, "/w");
	CHECK_RC(pc_add(&t, "base.sb", "(define (f rel)\n  (literal rel))"), ==, 0);
	CHECK_RC(pc_add(&t, "user.sb", "\n(allow file-read* (f \"rel\"))"), ==, -1);
	CHECK_STR(t.e.msg, "base.sb:2:12: literal: path must be absolute (start with '/'), got "
		  "\"rel\" (in function 'f', from the call at user.sb:2:19)");
	pc_free(&t);
}

TEST(profile_string_append_and_string_eq)
{
	struct pc t;

	pc_init(&t, "/w");
	CHECK_RC(pc_add(&t, "s.sb", "(define P (string-append \"/a\" \"/b\" \"\" \"/c\"))\n"
			 "(if (string=? P \"/a/b/c\") (allow file-read* (literal P)))\n"
			 "(if (not (string=? TARGET \"linux\")) (allow file-read* (literal \"/mac\"))"
			 " (allow file-read* (literal \"/linux\")))"), ==, 0);
	CHECK_INT(t.p.nrules, ==, 2);
	CHECK_STR(t.p.rules[0].filters[0].arg, "/a/b/c");
	CHECK_STR(t.p.rules[1].filters[0].arg, "/linux");
	pc_free(&t);
	CHECK_CONTAINS(compile_err("(define x (string-append \"a\" 1))"),
		       "x.sb:1:30: string-append: expected a string, got an integer");
	CHECK_CONTAINS(compile_err("(if \"yes\" (deny default))"),
		       "x.sb:1:5: if: condition must be a boolean");
}

TEST(profile_if_inside_filters)
{
	struct pc t;

	pc_init(&t, "/w");
	CHECK_RC(pc_add(&t, "i.sb",
			 "(allow file-read* (if (string=? TARGET \"linux\") (subpath \"/proc\")"
			 " (subpath \"/System\")))\n"
			 "(allow file-write* (if #f (subpath \"/never\")))\n"
			 "(allow file-read* (require-any (if #f (literal \"/a\")) (literal \"/b\")))"),
		  ==, 0);
	/* the second rule evaluated to no filter at all: dropped, not "match all" */
	CHECK_INT(t.p.nrules, ==, 2);
	CHECK_STR(t.p.rules[0].filters[0].arg, "/proc");
	CHECK_INT(t.p.rules[1].filters[0].nchildren, ==, 1);
	CHECK(!allowed(&t, "file-write-data", "/anything"));
	pc_free(&t);
}

TEST(profile_target_macos)
{
	struct pc t;

	memset(&t, 0, sizeof(t));
	t.ctx = sh_profile_ctx_new("/Users/a", "/w", "macos");
	sh_policy_init(&t.p);
	CHECK_RC(pc_add(&t, "m.sb", "(if (string=? TARGET \"macos\") (deny default) "
			 "(allow default))"), ==, 0);
	CHECK_INT(t.p.default_action, ==, SH_DENY);
	pc_free(&t);
}

/* ---------------- network ---------------- */

TEST(profile_network_filters)
{
	struct pc t;

	pc_init(&t, "/w");
	CHECK_RC(pc_add(&t, "n.sb",
			 "(allow network-outbound (remote ip \"localhost:*\") (remote tcp \"*:443\")"
			 " (remote udp \"127.0.0.1:53\") (remote ip \"[::1]:80\") (remote ip)\n"
			 " (remote unix-socket (path-literal \"/run/x.sock\")))\n"
			 "(allow network-bind network-inbound (local tcp \"localhost:1455\"))"),
		  ==, 0);
	const struct sh_filter *f = t.p.rules[0].filters;
	CHECK_INT(t.p.rules[0].nfilters, ==, 6);
	CHECK_INT(f[0].kind, ==, SH_F_REMOTE);
	CHECK_INT(f[0].net_kind, ==, SH_NET_IP);
	CHECK_STR(f[0].arg, "localhost:*");
	CHECK_INT(f[1].net_kind, ==, SH_NET_TCP);
	CHECK_INT(f[2].net_kind, ==, SH_NET_UDP);
	CHECK_STR(f[4].arg, "*:*");
	CHECK_INT(f[5].net_kind, ==, SH_NET_UNIX_SOCKET);
	CHECK_INT(f[5].nchildren, ==, 1);
	CHECK_INT(f[5].children[0].kind, ==, SH_F_LITERAL);
	CHECK_STR(f[5].children[0].arg, "/run/x.sock");
	CHECK_INT(t.p.rules[1].filters[0].kind, ==, SH_F_LOCAL);
	CHECK_STR(t.p.rules[1].filters[0].arg, "localhost:1455");
	/* network filters never match a path */
	CHECK(!allowed(&t, "network-outbound", "/run/x.sock"));
	pc_free(&t);
}

TEST(profile_network_errors)
{
	CHECK_CONTAINS(compile_err("(allow network-outbound (remote ip \"example.com:443\"))"),
		       "x.sb:1:36: remote ip: expected \"HOST:PORT\"");
	CHECK_CONTAINS(compile_err("(allow network-outbound (remote tcp \"*:70000\"))"),
		       "expected \"HOST:PORT\"");
	CHECK_CONTAINS(compile_err("(allow network-outbound (remote tcp \"*\"))"),
		       "expected \"HOST:PORT\"");
	CHECK_CONTAINS(compile_err("(allow network-outbound (remote smtp \"*:25\"))"),
		       "x.sb:1:33: remote: expected an address kind (ip, tcp, udp, unix-socket, "
		       "domain), got smtp");
	CHECK_CONTAINS(compile_err("(allow network-bind (local domain \"a.com:1\"))"),
		       "use (remote domain");
	CHECK_CONTAINS(compile_err("(allow network-outbound (remote unix-socket \"/x\"))"),
		       "remote unix-socket: expected (path-literal PATH)");
}

TEST(profile_remote_domain_normalised)
{
	struct pc t;

	pc_init(&t, "/w");
	CHECK_RC(pc_add(&t, "d.sb",
			 "(allow network-outbound (remote domain \"API.OpenAI.com.:443\")"
			 " (remote domain \"*.chatgpt.com:*\") (remote domain \"a-1.b2.io:8080\"))"),
		  ==, 0);
	const struct sh_filter *f = t.p.rules[0].filters;
	CHECK_INT(f[0].kind, ==, SH_F_REMOTE);
	CHECK_INT(f[0].net_kind, ==, SH_NET_DOMAIN);
	CHECK_STR(f[0].arg, "api.openai.com:443");
	CHECK_STR(f[1].arg, "*.chatgpt.com:*");
	CHECK_STR(f[2].arg, "a-1.b2.io:8080");
	CHECK(t.p.rules[0].linux_meaningful);
	pc_free(&t);
}

TEST(profile_remote_domain_errors)
{
	CHECK_STR(compile_err("(allow network-outbound\n  (remote domain \"api.openai.com\"))"),
		  "x.sb:2:18: remote domain: bad destination \"api.openai.com\": a port is "
		  "required (\"NAME:PORT\", PORT 1-65535 or *)");
	CHECK_CONTAINS(compile_err("(allow network-outbound (remote domain \"a.com:0\"))"),
		       "port must be a number from 1 to 65535");
	CHECK_CONTAINS(compile_err("(allow network-outbound (remote domain \"a.*.com:443\"))"),
		       "'*' is only allowed as the whole first label");
	CHECK_CONTAINS(compile_err("(allow network-outbound (remote domain \"*:443\"))"),
		       "'*' is only allowed as the whole first label");
	CHECK_CONTAINS(compile_err("(allow network-outbound (remote domain \"*a.com:443\"))"),
		       "'*' is only allowed");
	CHECK_CONTAINS(compile_err("(allow network-outbound (remote domain \"a..com:443\"))"),
		       "no empty labels");
	CHECK_CONTAINS(compile_err("(allow network-outbound (remote domain \"a.com..:443\"))"),
		       "empty label");
	CHECK_CONTAINS(compile_err("(allow network-outbound (remote domain \"-a.com:443\"))"),
		       "each label must be");
	CHECK_CONTAINS(compile_err("(allow network-outbound (remote domain \"a_b.com:443\"))"),
		       "each label must be");
	CHECK_CONTAINS(compile_err("(allow network-outbound (remote domain))"),
		       "expected (remote domain \"NAME:PORT\")");
	char big[400];
	memset(big, 0, sizeof(big));
	strcpy(big, "(allow network-outbound (remote domain \"");
	for (int i = 0; i < 26; i++)
		strcat(big, "abcdefghi.");
	strcat(big, "com:443\"))");
	CHECK_CONTAINS(compile_err(big), "1 to 253 characters");
}

/* ---------------- macOS-only ---------------- */

TEST(profile_macos_only_ops_and_filters)
{
	struct pc t;

	pc_init(&t, "/w");
	CHECK_RC(pc_add(&t, "m.sb",
			 "(allow mach-lookup (global-name \"com.apple.x\")\n"
			 "  (global-name-regex #\"^com\\.apple\\.\") (xpc-service-name \"a\"))\n"
			 "(allow iokit-open (iokit-user-client-class \"IOSurfaceRootUserClient\"))\n"
			 "(allow user-preference-read (preference-domain \"com.apple.x\"))\n"
			 "(allow file-read* (vnode-type DIRECTORY) (extension \"com.apple.app-sandbox.read\"))\n"
			 "(allow sysctl-read (sysctl-name \"kern.ostype\"))\n"
			 "(deny file-write* (with no-log) (subpath \"/x\"))"),
		  ==, 0);
	CHECK_INT(t.p.nrules, ==, 6);
	CHECK(!t.p.rules[0].linux_meaningful);
	CHECK(!t.p.rules[1].linux_meaningful);
	CHECK(!t.p.rules[2].linux_meaningful);
	CHECK(t.p.rules[3].linux_meaningful);
	CHECK(t.p.rules[4].linux_meaningful);
	CHECK_INT(t.p.rules[0].filters[0].kind, ==, SH_F_OTHER);
	CHECK_STR(t.p.rules[0].filters[0].raw, "(global-name \"com.apple.x\")");
	CHECK_STR(t.p.rules[0].filters[1].raw, "(global-name-regex #\"^com\\.apple\\.\")");
	CHECK_STR(t.p.rules[3].filters[0].raw, "(vnode-type DIRECTORY)");
	CHECK_INT(t.p.rules[5].nfilters, ==, 1); /* (with ...) ignored */
	/* OTHER filters never match: the macOS-only read grant gives nothing */
	CHECK(!allowed(&t, "file-read-data", "/"));
	pc_free(&t);
}

/* ---------------- metadata and quoting ---------------- */

TEST(profile_meta_scan)
{
	struct sh_profile_meta m = { 0 };
	const char *s = ";; $$command=Claude, claude-code$$\n"
			"(allow file-read* (literal \"/a;$$require=ignored.sb$$\"))\n"
			";; $$require=55-integrations-optional/keychain.sb,40-shared/x.sb$$ and "
			"$$require=a.sb$$\n"
			"; $$exec-env-default=FOO=bar=baz$$ $$exec-env-default=novalue$$\n"
			"; $$target=linux$$ $$unknown=1$$ $$broken\n";

	sh_profile_scan_meta(s, strlen(s), &m);
	CHECK_INT(m.commands.n, ==, 2);
	CHECK_STR(m.commands.v[0], "claude");
	CHECK_STR(m.commands.v[1], "claude-code");
	CHECK_INT(m.requires.n, ==, 3);
	CHECK_STR(m.requires.v[0], "55-integrations-optional/keychain.sb");
	CHECK_STR(m.requires.v[2], "a.sb");
	CHECK_INT(m.env_defaults.n, ==, 1);
	CHECK_STR(m.env_defaults.v[0], "FOO=bar=baz");
	CHECK_INT(m.targets.n, ==, 1);
	CHECK_STR(m.targets.v[0], "linux");
	sh_profile_meta_free(&m);
}

TEST(profile_sbpl_quote)
{
	char *q = sh_sbpl_quote("a\"b\\c\nd\x7f" "e");

	CHECK_STR(q, "\"a\\\"b\\\\c\\x0ad\\x7fe\"");
	free(q);
	q = sh_sbpl_quote("");
	CHECK_STR(q, "\"\"");
	free(q);
}

TEST(profile_quote_roundtrips_through_reader)
{
	const char *orig = "/x \"y\" \\z\t\x01";
	char *q = sh_sbpl_quote(orig);
	struct sh_sexp root;
	struct sh_err e = { 0 };

	CHECK_RC(sh_sexp_read("t", q, strlen(q), &root, &e), ==, 0);
	CHECK_INT(root.n, ==, 1);
	if (root.n == 1)
		CHECK_STR(root.items[0].text, orig);
	sh_sexp_free(&root);
	free(q);
}

/* ---------------- robustness ---------------- */

TEST(profile_rules_before_error_stay)
{
	struct pc t;

	pc_init(&t, "/w");
	CHECK_RC(pc_add(&t, "e.sb", "(allow file-read* (literal \"/a\"))\n(bogus)"), ==, -1);
	CHECK_INT(t.p.nrules, ==, 1);
	pc_free(&t);
}

TEST(profile_exponential_blowup_is_bounded)
{
	/* Doubling a string or a filter tree through definitions must hit a limit,
	 * not exhaust memory. */
	char buf[4096] = "(define s0 \"/aaaaaaaaaaaaaaaa\")\n";
	for (int i = 1; i < 40; i++)
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf),
			 "(define s%d (string-append s%d s%d))\n", i, i - 1, i - 1);
	CHECK_CONTAINS(compile_err(buf), "string-append: result longer than");

	strcpy(buf, "(define f0 (literal \"/a\"))\n");
	for (int i = 1; i < 40; i++)
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf),
			 "(define f%d (require-any f%d f%d))\n", i, i - 1, i - 1);
	CHECK_CONTAINS(compile_err(buf), "filter too large");
}
