#include "util/size.h"

#include <errno.h>
#include <stdlib.h>

int sh_parse_size(const char *s, uint64_t *out, const char *what, struct sh_err *e)
{
	char *end = NULL;
	unsigned long long v;
	uint64_t mul = 1;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || s[0] == '-')
		return sh_fail(e, SH_EXIT_USAGE, 0, "%s: invalid size '%s' (e.g. 512M, 2G)", what, s);
	switch (*end) {
	case 'k': case 'K': mul = 1ULL << 10; end++; break;
	case 'm': case 'M': mul = 1ULL << 20; end++; break;
	case 'g': case 'G': mul = 1ULL << 30; end++; break;
	case 't': case 'T': mul = 1ULL << 40; end++; break;
	default: break;
	}
	if (*end || v == 0 || v > UINT64_MAX / mul)
		return sh_fail(e, SH_EXIT_USAGE, 0, "%s: invalid size '%s' (e.g. 512M, 2G)", what, s);
	*out = v * mul;
	return 0;
}

