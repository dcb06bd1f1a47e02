/* libFuzzer target: the profile reader and compiler on arbitrary bytes.
 * Every input must either compile or fail with a positioned error; nothing
 * may crash, leak or run unbounded.  Two sources are compiled into one
 * context so that definitions carried between sources are exercised too. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "policy/policy.h"
#include "profile/profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct sh_profile_ctx *ctx = sh_profile_ctx_new("/home/u", "/w", "linux");
	struct sh_profile_meta m = { 0 };
	struct sh_policy p;
	struct sh_err e = { 0 };
	const char *text = (const char *)d;
	/* Split at the first form feed: the head is compiled first, as a
	 * "base" profile whose definitions the tail can use. */
	const char *ff = memchr(text, '\f', n);
	size_t head = ff ? (size_t)(ff - text) : n;

	sh_policy_init(&p);
	sh_profile_scan_meta(text, n, &m);
	if (sh_profile_compile(ctx, "base.sb", text, head, &p, &e) == 0 && ff)
		(void)sh_profile_compile(ctx, "user.sb", ff + 1, n - head - 1, &p, &e);
	/* Exercise the evaluator on what was compiled. */
	(void)sh_policy_check(&p, "file-read-data", "/home/u/.codex/auth.json");
	(void)sh_policy_check(&p, "file-write-data", "/w/src/x.c");
	sh_profile_meta_free(&m);
	sh_policy_free(&p);
	sh_profile_ctx_free(ctx);
	return 0;
}
