/* sh_regex_match_prefix(): the planner's cheap "no" before regexec must
 * never reject a path the regex matches, so every case is also checked
 * against regexec itself. */
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "policy/policy.h"

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
