/* Escaping of text that may come from the sandboxed side before it reaches
 * a terminal.  No allocation: usable from the error reporter. */
#include "util/escape.h"

/* Length of a printable UTF-8 sequence at s, or 0. */
static size_t utf8_printable(const unsigned char *s)
{
	unsigned cp;
	size_t n;

	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		cp = s[0] & 0x1fu;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		cp = s[0] & 0x0fu;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		cp = s[0] & 0x07u;
	} else {
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3fu);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0; /* overlong or out of range */
	if (cp < 0xa0 || (cp >= 0xd800 && cp <= 0xdfff) || cp == 0x061c || cp == 0x180e ||
	    (cp >= 0x200b && cp <= 0x200f) || (cp >= 0x2028 && cp <= 0x202e) ||
	    (cp >= 0x2060 && cp <= 0x2069) || cp == 0xfeff || (cp >= 0xfff9 && cp <= 0xfffb) ||
	    (cp >= 0xe0000 && cp <= 0xe007f))
		return 0;
	return n;
}

void sh_fput_escaped(FILE *f, const char *str, bool quoted)
{
	const unsigned char *s = (const unsigned char *)str;

	while (*s) {
		size_t n;
		if (*s >= 0x20 && *s < 0x7f && (!quoted || (*s != '\\' && *s != '\''))) {
			fputc(*s++, f);
		} else if (*s >= 0x80 && (n = utf8_printable(s)) > 0) {
			fwrite(s, 1, n, f);
			s += n;
		} else {
			fprintf(f, "\\x%02x", *s++);
		}
	}
}
