#include "util/str.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static _Noreturn void oom(void)
{
	fputs("safehouse: out of memory\n", stderr);
	abort();
}

void *sh_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom();
	return p;
}

void *sh_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		oom();
	return p;
}

void *sh_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		oom();
	return q;
}

void sh_xgrow(void *pp, size_t *cap, size_t need, size_t sz)
{
	void **p = pp;
	size_t c = *cap;

	if (need <= c)
		return;
	if (c == 0)
		c = 8;
	while (c < need) {
		if (c > SIZE_MAX / 2)
			oom();
		c *= 2;
	}
	if (sz && c > SIZE_MAX / sz)
		oom();
	*p = sh_xrealloc(*p, c * sz);
	*cap = c;
}

char *sh_xstrdup(const char *s)
{
	return sh_xstrndup(s, strlen(s));
}

char *sh_xstrndup(const char *s, size_t n)
{
	char *p = sh_xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *sh_xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *p = NULL;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&p, fmt, ap);
	va_end(ap);
	if (r < 0)
		oom();
	return p;
}

void sh_buf_append(struct sh_buf *b, const char *s, size_t n)
{
	sh_xgrow(&b->data, &b->cap, b->len + n + 1, 1);
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void sh_buf_puts(struct sh_buf *b, const char *s)
{
	sh_buf_append(b, s, strlen(s));
}

void sh_buf_putc(struct sh_buf *b, char c)
{
	sh_buf_append(b, &c, 1);
}

void sh_buf_printf(struct sh_buf *b, const char *fmt, ...)
{
	va_list ap;
	char *p = NULL;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&p, fmt, ap);
	va_end(ap);
	if (r < 0)
		oom();
	sh_buf_append(b, p, (size_t)r);
	free(p);
}

char *sh_buf_take(struct sh_buf *b)
{
	char *p = b->data ? b->data : sh_xstrdup("");
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

void sh_buf_free(struct sh_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

const char *sh_buf_str(const struct sh_buf *b)
{
	return b->data ? b->data : "";
}

void sh_strv_push_take(struct sh_strv *sv, char *s)
{
	sh_xgrow(&sv->v, &sv->cap, sv->n + 2, sizeof(char *));
	sv->v[sv->n++] = s;
	sv->v[sv->n] = NULL;
}

void sh_strv_push(struct sh_strv *sv, const char *s)
{
	sh_strv_push_take(sv, sh_xstrdup(s));
}

bool sh_strv_contains(const struct sh_strv *sv, const char *s)
{
	for (size_t i = 0; i < sv->n; i++)
		if (strcmp(sv->v[i], s) == 0)
			return true;
	return false;
}

void sh_strv_free(struct sh_strv *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = sv->cap = 0;
}

void sh_strv_split(struct sh_strv *sv, const char *s, char sep)
{
	const char *p = s;

	while (*p) {
		const char *q = strchr(p, sep);
		size_t n = q ? (size_t)(q - p) : strlen(p);
		if (n)
			sh_strv_push_take(sv, sh_xstrndup(p, n));
		if (!q)
			break;
		p = q + 1;
	}
}

bool sh_has_ctl(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
			return true;
	return false;
}

bool sh_str_starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool sh_str_ends(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && memcmp(s + a - b, suffix, b) == 0;
}

char *sh_xstrlower(const char *s)
{
	char *p = sh_xstrdup(s);
	for (char *q = p; *q; q++)
		if (*q >= 'A' && *q <= 'Z')
			*q = (char)(*q - 'A' + 'a');
	return p;
}
