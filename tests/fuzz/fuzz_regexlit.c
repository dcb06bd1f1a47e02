/* libFuzzer target: what the planner tells from a regex's text without
 * regexec (policy.c) must hold for every string regexec accepts.
 *
 * Input: "REGEX\nSUBJECT" (each cut at 48 bytes, so that regcomp and
 * regexec stay fast on anything).  When the regex compiles and matches the
 * subject, the subject must begin with sh_regex_match_prefix() and contain
 * every sh_regex_required_literals() run; any other outcome is fine.  A
 * violation aborts: the expansion walk and the matcher would then skip a
 * path the rule covers.  Stacked repetition ("a+*") and large intervals
 * ("a{6,17110}") are not compiled: glibc's regcomp can exhaust memory on
 * them, and the profile compiler refuses both before regcomp (profile.c). */
#include <regex.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"
#include "util/str.h"

#define PART_MAX 48

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

static char *part(const uint8_t *d, size_t n)
{
	size_t k = n < PART_MAX ? n : PART_MAX;
	char *s = malloc(k + 1);
	if (!s)
		abort();
	memcpy(s, d, k);
	s[k] = '\0';
	return s; /* a NUL inside just ends it early */
}

static bool costly(const char *s)
{
	int digits = 0;
	for (; *s; s++) {
		if (s[1] && strchr("*+?}", *s) && strchr("*+?{", s[1]))
			return true; /* stacked repetition */
		digits = *s >= '0' && *s <= '9' ? digits + 1 : 0;
		if (digits > 2)
			return true; /* an interval count of 100 or more */
	}
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	const uint8_t *nl = memchr(d, '\n', n);
	size_t rn = nl ? (size_t)(nl - d) : n;
	char *src = part(d, rn);
	char *subject = nl ? part(nl + 1, n - rn - 1) : part(d, 0);
	struct sh_strv lits = { 0 };
	char *prefix = sh_regex_match_prefix(src);
	char *lp = sh_regex_literal_prefix(src);
	bool told = sh_regex_required_literals(src, &lits);
	regex_t re;

	if (!told && lits.n)
		abort(); /* false must push nothing */
	if (!costly(src) && regcomp(&re, src, REG_EXTENDED | REG_NOSUB) == 0) {
		if (regexec(&re, subject, 0, NULL, 0) == 0) {
			if (prefix && strncmp(subject, prefix, strlen(prefix)) != 0)
				abort();
			for (size_t i = 0; i < lits.n; i++)
				if (!strstr(subject, lits.v[i]))
					abort();
		}
		regfree(&re);
	}
	sh_strv_free(&lits);
	free(prefix);
	free(lp);
	free(src);
	free(subject);
	return 0;
}
