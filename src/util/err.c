#include "util/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util/escape.h"

static void vset(char *dst, size_t cap, const char *fmt, va_list ap)
{
	int n = vsnprintf(dst, cap, fmt, ap);
	if (n < 0)
		dst[0] = '\0';
}

int sh_fail(struct sh_err *e, int exit_code, int errnum, const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return -1;
	e->exit_code = exit_code;
	e->errnum = errnum;
	e->hint[0] = '\0';
	va_start(ap, fmt);
	vset(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	if (errnum) {
		size_t len = strlen(e->msg);
		snprintf(e->msg + len, sizeof(e->msg) - len, ": %s", strerror(errnum));
	}
	return -1;
}

int sh_hint(struct sh_err *e, const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return -1;
	va_start(ap, fmt);
	vset(e->hint, sizeof(e->hint), fmt, ap);
	va_end(ap);
	return -1;
}

int sh_err_prefix(struct sh_err *e, const char *fmt, ...)
{
	char ctx[512], old[sizeof(e->msg)];
	va_list ap;

	va_start(ap, fmt);
	vset(ctx, sizeof(ctx), fmt, ap);
	va_end(ap);
	memcpy(old, e->msg, sizeof(old));
	/* Truncation of an over-long message is acceptable. */
	size_t n = strlen(ctx);
	if (n > sizeof(e->msg) - 3)
		n = sizeof(e->msg) - 3;
	memcpy(e->msg, ctx, n);
	memcpy(e->msg + n, ": ", 2);
	size_t rest = sizeof(e->msg) - n - 3;
	size_t ol = strnlen(old, rest);
	memcpy(e->msg + n + 2, old, ol);
	e->msg[n + 2 + ol] = '\0';
	return -1;
}

/* Messages name paths and values that may come from the sandboxed side (a
 * planted link's target, a config value): escaped before they reach the
 * terminal. */
void sh_err_report(const struct sh_err *e)
{
	fputs("safehouse: ", stderr);
	sh_fput_escaped(stderr, e->msg[0] ? e->msg : "unknown error", false);
	fputc('\n', stderr);
	if (e->hint[0]) {
		fputs("safehouse: hint: ", stderr);
		sh_fput_escaped(stderr, e->hint, false);
		fputc('\n', stderr);
	}
}

void sh_warn(const char *fmt, ...)
{
	char buf[2048];
	va_list ap;

	va_start(ap, fmt);
	vset(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fputs("safehouse: warning: ", stderr);
	sh_fput_escaped(stderr, buf, false);
	fputc('\n', stderr);
}
