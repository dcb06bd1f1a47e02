/* libFuzzer target: the dotenv parser over arbitrary bytes.  Besides memory
 * safety it checks the parser's output invariants: every variable is a
 * valid "KEY=VALUE" with a unique key, and no SAFEHOUSE_ key gets through. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/dotenv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_invariants(const struct sh_dotenv *d)
{
	for (size_t i = 0; i < d->vars.n; i++) {
		const char *kv = d->vars.v[i];
		const char *eq = strchr(kv, '=');
		if (!eq || !sh_env_name_valid(kv, (size_t)(eq - kv)))
			abort();
		if (strncmp(kv, "SAFEHOUSE_", 10) == 0)
			abort();
		for (size_t j = 0; j < i; j++)
			if (strncmp(d->vars.v[j], kv, (size_t)(eq - kv) + 1) == 0)
				abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sh_dotenv d = { 0 };
	struct sh_err e = { 0 };

	if (sh_dotenv_parse(&d, (const char *)data, size, "fuzz", &e) == 0)
		check_invariants(&d);
	else if (strncmp(e.msg, "fuzz:", 5) != 0)
		abort(); /* every parse error names origin:line */
	sh_dotenv_free(&d);
	return 0;
}
