/* sh_regex_match_prefix(): the planner's cheap "no" before regexec must
 * never reject a path the regex matches, so every case is also checked
 * against regexec itself. */
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "policy/policy.h"
#include "util/str.h"

static void want(const char *re, const char *lit)
{
	char *got = sh_regex_match_prefix(re);
	if (lit)
		CHECK_STR(got ? got : "(null)", lit);
	else
		CHECK(got == NULL);
	free(got);
}

TEST(regexlit_prefixes)
{
	want("^/etc/pki/([^/]+/)*private(/|$)", "/etc/pki/");
	want("^/var/tmp/wd/(.+/)?\\.git/(hooks|info)(/|$)", "/var/tmp/wd/");
	want("^/run/user/[0-9]+/fnm", "/run/user/");
	want("^/a\\.b\\/c$", "/a.b/c");
	want("^/ab*c", "/a");       /* b may be absent */
	want("^/ab?c", "/a");
	want("^/ab{2}c", "/a");
	want("^/ab+c", "/ab");      /* at least one b, then unknown */
	want("^/a\\wb", "/a");      /* GNU operator: stop */
	want("^/a\\<b", "/a");
	want("/etc/x", NULL);       /* not anchored */
	want("^/etc|^/usr", NULL);  /* top-level alternative */
	want("^/x[|]y", "/x");      /* '|' in a bracket is a member */
	want("^(/a|/b)", NULL);     /* nothing literal before the group */
	want("^.x", NULL);
	want("^", NULL);
	want("^/a\\", NULL);           /* trailing backslash: invalid, nothing told */
	want("^/a[[:alpha:]|]z", "/a");
}

/* Whatever the prefix, a string regexec accepts starts with it. */
TEST(regexlit_sound)
{
	static const char *const res[] = {
		"^/etc/pki/([^/]+/)*private(/|$)", "^/ab*c", "^/ab+c", "^/x[|]y", "^/a\\.b",
		"^/home/u/\\.config/(a|b)/x$",
	};
	static const char *const paths[] = {
		"/etc/pki/x/private", "/ac", "/abbbc", "/x|y", "/a.b", "/abc", "/home/u/.config/a/x",
		"/etc/pki/private/", "/x", "",
	};
	for (size_t i = 0; i < sizeof(res) / sizeof(res[0]); i++) {
		regex_t re;
		char *lit = sh_regex_match_prefix(res[i]);
		CHECK_INT(regcomp(&re, res[i], REG_EXTENDED | REG_NOSUB), ==, 0);
		for (size_t j = 0; j < sizeof(paths) / sizeof(paths[0]); j++)
			if (regexec(&re, paths[j], 0, NULL, 0) == 0 && lit)
				CHECK(strncmp(paths[j], lit, strlen(lit)) == 0);
		regfree(&re);
		free(lit);
	}
}

/* sh_regex_required_literals(): the expansion walk's cheap "no". */
static void want_req(const char *re, bool ok, const char *joined)
{
	struct sh_strv v = { 0 };
	struct sh_buf b = { 0 };
	CHECK(sh_regex_required_literals(re, &v) == ok);
	for (size_t i = 0; i < v.n; i++) {
		if (i)
			sh_buf_putc(&b, ' ');
		sh_buf_puts(&b, v.v[i]);
	}
	CHECK_STR(b.data ? b.data : "", joined);
	free(b.data);
	sh_strv_free(&v);
}

TEST(regexlit_required)
{
	/* the nested-repository rule: the workdir and "/.git/" */
	want_req("^/w/d/(.+/)?\\.git/(modules/[^/]+/)?((hooks|info)(/|$)|(config|commondir)$)",
		 true, "/w/d/ .git/");
	want_req("^/a/(b|c)dd", true, "/a/ dd");
	want_req("^/a/xb?cd", true, "/a/x cd"); /* b may be absent */
	want_req("^/a/b*", true, "/a/");
	want_req("^/a/b{2}cd", true, "/a/ cd");
	want_req("^/a/bb+cd", true, "/a/bb cd"); /* at least one b, then more may follow */
	want_req("^/a/[xy]zz", true, "/a/ zz");
	want_req("^/a\\.b/c", true, "/a.b/c");
	want_req("^/a/\\wzz", true, "/a/ zz");  /* \w is an operator, not "w" */
	want_req("^/a/x.y", true, "/a/x");      /* runs under two bytes are left out */
	want_req("^/etc/pki/([^/]+/)*private(/|$)", true, "/etc/pki/ private");
	want_req("x|y", false, "");             /* top-level alternative: nothing */
	want_req("^/a(b", false, "");           /* unterminated group */
	want_req("^/a[b", false, "");           /* unterminated bracket */
	want_req("^/ab)", false, "");
	want_req("^/ab\\", false, "");
	want_req("^/ab{2,3}cd", true, "/a cd");
	want_req("^{a|b}zz", false, "");
	want_req("^/ab{,3}cd", true, "/a cd"); /* glibc's {,n}: b is optional */ /* '{' is no interval here: the '|' is top-level */
	want_req("", true, "");
}

/* Whatever the literals, a string regexec accepts contains every one. */
TEST(regexlit_required_sound)
{
	static const char *const res[] = {
		"^/w/(.+/)?\\.git/(modules/[^/]+/)?((hooks|info)(/|$)|(config|commondir)$)",
		"^/ab*cd", "^/ab+cd", "^/a(bc)?de", "^/a[|]bc", "^/x\\.y(z|w)+qq$", "^/p{0}ab",
		"^/a/.+/bc", "^/xb{,3}yz",
	};
	static const char *const paths[] = {
		"/w/.git/hooks", "/w/x/y/.git/config", "/w/.git/modules/m/info/x", "/acd", "/abbbcd",
		"/ade", "/abcde", "/a|bc", "/x.yzwqq", "/ab", "/pab", "/a/x/y/bc", "/a//bc", "/xyz", "",
	};
	for (size_t i = 0; i < sizeof(res) / sizeof(res[0]); i++) {
		regex_t re;
		struct sh_strv lits = { 0 };
		CHECK(sh_regex_required_literals(res[i], &lits));
		CHECK_INT(regcomp(&re, res[i], REG_EXTENDED | REG_NOSUB), ==, 0);
		for (size_t j = 0; j < sizeof(paths) / sizeof(paths[0]); j++) {
			if (regexec(&re, paths[j], 0, NULL, 0) != 0)
				continue;
			for (size_t k = 0; k < lits.n; k++)
				CHECK(strstr(paths[j], lits.v[k]) != NULL);
		}
		regfree(&re);
		sh_strv_free(&lits);
	}
}
