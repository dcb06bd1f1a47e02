/* S-expression reader: lexer and recursive-descent reader in one pass. */
#include "profile/sexp.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profile/profile.h"
#include "util/str.h"

struct reader {
	const char *source;
	const char *s;
	size_t len, pos;
	int line, col;
	struct sh_err *e;
};

__attribute__((format(printf, 4, 5)))
static int rd_fail(struct reader *r, int line, int col, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return sh_fail(r->e, SH_EXIT_PROFILE, 0, "%s:%d:%d: %s", r->source, line, col, msg);
}

static int peek(const struct reader *r)
{
	return r->pos < r->len ? (unsigned char)r->s[r->pos] : -1;
}

static int peek2(const struct reader *r)
{
	return r->pos + 1 < r->len ? (unsigned char)r->s[r->pos + 1] : -1;
}

static void advance(struct reader *r)
{
	if (r->s[r->pos] == '\n') {
		r->line++;
		r->col = 1;
	} else if (r->col < INT_MAX) {
		r->col++;
	}
	r->pos++;
}

/* Whitespace and ";" comments (to end of line). */
static void skip_space(struct reader *r)
{
	for (int c = peek(r); c != -1; c = peek(r)) {
		if (c == ';') {
			/* to the end of the line in one step (profiles are mostly comments) */
			const char *nl = memchr(r->s + r->pos, '\n', r->len - r->pos);
			size_t n = nl ? (size_t)(nl - (r->s + r->pos)) : r->len - r->pos;
			r->col = n > (size_t)(INT_MAX - r->col) ? INT_MAX : r->col + (int)n;
			r->pos += n;
		} else if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
			   c == '\v') {
			advance(r);
		} else {
			return;
		}
	}
}

static bool is_symbol_char(int c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c != -1 && c != 0 && strchr("-*+/?!<>=_.:", c) != NULL;
}

static int hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* One escape after a backslash inside "...": \" \\ \n \t \xHH. */
static int read_escape(struct reader *r, struct sh_buf *b)
{
	int line = r->line, col = r->col;
	int c;

	advance(r); /* the backslash */
	c = peek(r);
	switch (c) {
	case '"': case '\\': sh_buf_putc(b, (char)c); break;
	case 'n': sh_buf_putc(b, '\n'); break;
	case 't': sh_buf_putc(b, '\t'); break;
	case 'x': {
		int hi = peek2(r) == -1 ? -1 : hex_value(peek2(r));
		int lo = r->pos + 2 < r->len ? hex_value((unsigned char)r->s[r->pos + 2]) : -1;
		if (hi < 0 || lo < 0)
			return rd_fail(r, line, col, "bad escape: expected two hex digits after \\x");
		if (hi == 0 && lo == 0)
			return rd_fail(r, line, col, "bad escape: \\x00 (NUL) is not allowed in strings");
		sh_buf_putc(b, (char)(hi * 16 + lo));
		advance(r);
		advance(r);
		break;
	}
	case -1:
		return rd_fail(r, line, col, "unterminated string: expected '\"' before end of file");
	default:
		return rd_fail(r, line, col,
			       "bad escape: expected one of \\\" \\\\ \\n \\t \\xHH after '\\'");
	}
	advance(r);
	return 0;
}

/* "..." with escapes, or (regex) #"..." whose body is verbatim except \" so
 * that regex escapes like \. survive untouched. */
static int read_string(struct reader *r, struct sh_sexp *out, bool regex)
{
	int line = r->line, col = r->col;
	struct sh_buf b = { 0 };

	if (regex)
		advance(r); /* '#' */
	advance(r);         /* opening quote */
	for (;;) {
		int c = peek(r);
		if (c == -1) {
			sh_buf_free(&b);
			return rd_fail(r, line, col, "unterminated %s: expected '\"' before end of file",
				       regex ? "regex literal" : "string");
		}
		if (c == '"')
			break;
		if (c == 0) {
			sh_buf_free(&b);
			return rd_fail(r, r->line, r->col, "NUL byte inside a string");
		}
		if (c == '\\' && !regex) {
			if (read_escape(r, &b) < 0) {
				sh_buf_free(&b);
				return -1;
			}
			continue;
		}
		if (c == '\\' && peek2(r) == '"') {
			advance(r);
			c = '"';
		} else if (c == '\\' && peek2(r) != -1 && peek2(r) != 0) {
			/* keep "\\" as a pair so it cannot escape the closing quote */
			sh_buf_putc(&b, '\\');
			advance(r);
			c = peek(r);
		}
		sh_buf_putc(&b, (char)c);
		advance(r);
	}
	advance(r); /* closing quote */
	out->kind = regex ? SH_SX_REGEX : SH_SX_STRING;
	out->line = line;
	out->col = col;
	out->text = sh_buf_take(&b);
	return 0;
}

/* An all-digit token (optional sign) is an integer; anything else made of
 * symbol characters is a symbol. */
static int read_atom(struct reader *r, struct sh_sexp *out)
{
	int line = r->line, col = r->col;
	size_t start = r->pos;

	while (is_symbol_char(peek(r)))
		advance(r);
	size_t n = r->pos - start;
	const char *t = r->s + start;
	size_t digits_from = (t[0] == '-' || t[0] == '+') ? 1 : 0;
	bool numeric = n > digits_from;
	for (size_t i = digits_from; i < n && numeric; i++)
		numeric = t[i] >= '0' && t[i] <= '9';
	out->line = line;
	out->col = col;
	if (!numeric) {
		out->kind = SH_SX_SYMBOL;
		out->text = sh_xstrndup(t, n);
		return 0;
	}
	char *tmp = sh_xstrndup(t, n);
	errno = 0;
	long long v = strtoll(tmp, NULL, 10);
	int err = errno;
	free(tmp);
	if (err == ERANGE)
		return rd_fail(r, line, col, "integer out of range");
	out->kind = SH_SX_INT;
	out->num = v;
	return 0;
}

static int read_hash(struct reader *r, struct sh_sexp *out)
{
	int c = peek2(r);

	if (c == '"')
		return read_string(r, out, true);
	if ((c == 't' || c == 'f') && !is_symbol_char(r->pos + 2 < r->len
							      ? (unsigned char)r->s[r->pos + 2]
							      : -1)) {
		out->kind = SH_SX_BOOL;
		out->truth = c == 't';
		out->line = r->line;
		out->col = r->col;
		advance(r);
		advance(r);
		return 0;
	}
	return rd_fail(r, r->line, r->col, "bad '#' syntax: expected #t, #f or #\"regex\"");
}

static int read_expr(struct reader *r, struct sh_sexp *out, int depth);

static int read_list(struct reader *r, struct sh_sexp *out, int depth)
{
	int line = r->line, col = r->col;
	size_t cap = 0;

	if (depth >= SH_SEXP_MAX_DEPTH)
		return rd_fail(r, line, col, "nesting too deep: at most %d levels of '(' allowed",
			       SH_SEXP_MAX_DEPTH);
	out->kind = SH_SX_LIST;
	out->line = line;
	out->col = col;
	advance(r); /* '(' */
	for (;;) {
		skip_space(r);
		int c = peek(r);
		if (c == -1)
			return rd_fail(r, line, col,
				       "unbalanced '(': expected ')' before end of file");
		if (c == ')')
			break;
		sh_xgrow(&out->items, &cap, out->n + 1, sizeof(*out->items));
		memset(&out->items[out->n], 0, sizeof(*out->items));
		out->n++;
		if (read_expr(r, &out->items[out->n - 1], depth + 1) < 0)
			return -1;
	}
	advance(r); /* ')' */
	return 0;
}

static int read_expr(struct reader *r, struct sh_sexp *out, int depth)
{
	int c = peek(r);

	if (c == '(')
		return read_list(r, out, depth);
	if (c == ')')
		return rd_fail(r, r->line, r->col, "unexpected ')': no matching '('");
	if (c == '"')
		return read_string(r, out, false);
	if (c == '#')
		return read_hash(r, out);
	if (is_symbol_char(c))
		return read_atom(r, out);
	if (c == '\'')
		return rd_fail(r, r->line, r->col,
			       "quote (') is not supported: expected a list, symbol, string or number");
	if (c >= 0x21 && c < 0x7f)
		return rd_fail(r, r->line, r->col,
			       "unexpected character '%c': expected a list, symbol, string or number",
			       c);
	return rd_fail(r, r->line, r->col,
		       "unexpected byte 0x%02x: expected a list, symbol, string or number", c);
}

int sh_sexp_read(const char *source, const char *text, size_t len, struct sh_sexp *root,
		 struct sh_err *e)
{
	struct reader r = { source, text, len, 0, 1, 1, e };
	size_t cap = 0;

	memset(root, 0, sizeof(*root));
	root->kind = SH_SX_LIST;
	root->line = root->col = 1;
	if (len > SH_SEXP_MAX_INPUT)
		return sh_fail(e, SH_EXIT_PROFILE, 0, "%s: profile too large (%zu bytes, limit %zu)",
			       source, len, SH_SEXP_MAX_INPUT);
	for (;;) {
		skip_space(&r);
		if (peek(&r) == -1)
			return 0;
		sh_xgrow(&root->items, &cap, root->n + 1, sizeof(*root->items));
		memset(&root->items[root->n], 0, sizeof(*root->items));
		root->n++;
		if (read_expr(&r, &root->items[root->n - 1], 0) < 0) {
			sh_sexp_free(root);
			root->kind = SH_SX_LIST;
			return -1;
		}
	}
}

void sh_sexp_free(struct sh_sexp *x)
{
	if (!x)
		return;
	for (size_t i = 0; i < x->n; i++)
		sh_sexp_free(&x->items[i]);
	free(x->items);
	free(x->text);
	memset(x, 0, sizeof(*x));
}

void sh_sexp_copy(struct sh_sexp *dst, const struct sh_sexp *src)
{
	*dst = *src;
	dst->text = src->text ? sh_xstrdup(src->text) : NULL;
	dst->items = NULL;
	if (src->n) {
		dst->items = sh_xcalloc(src->n, sizeof(*dst->items));
		for (size_t i = 0; i < src->n; i++)
			sh_sexp_copy(&dst->items[i], &src->items[i]);
	}
}

static void print_regex(struct sh_buf *b, const char *s)
{
	sh_buf_puts(b, "#\"");
	for (; *s; s++) {
		if (*s == '"')
			sh_buf_putc(b, '\\');
		sh_buf_putc(b, *s);
	}
	sh_buf_putc(b, '"');
}

static void print_into(struct sh_buf *b, const struct sh_sexp *x)
{
	char *q;

	switch (x->kind) {
	case SH_SX_LIST:
		sh_buf_putc(b, '(');
		for (size_t i = 0; i < x->n; i++) {
			if (i)
				sh_buf_putc(b, ' ');
			print_into(b, &x->items[i]);
		}
		sh_buf_putc(b, ')');
		break;
	case SH_SX_SYMBOL:
		sh_buf_puts(b, x->text);
		break;
	case SH_SX_STRING:
		q = sh_sbpl_quote(x->text);
		sh_buf_puts(b, q);
		free(q);
		break;
	case SH_SX_REGEX:
		print_regex(b, x->text);
		break;
	case SH_SX_INT:
		sh_buf_printf(b, "%lld", x->num);
		break;
	case SH_SX_BOOL:
		sh_buf_puts(b, x->truth ? "#t" : "#f");
		break;
	default:
		break;
	}
}

char *sh_sexp_print(const struct sh_sexp *x)
{
	struct sh_buf b = { 0 };

	print_into(&b, x);
	return sh_buf_take(&b);
}

const char *sh_sexp_kind_name(enum sh_sexp_kind k)
{
	switch (k) {
	case SH_SX_LIST: return "a list";
	case SH_SX_SYMBOL: return "a symbol";
	case SH_SX_STRING: return "a string";
	case SH_SX_REGEX: return "a regex literal";
	case SH_SX_INT: return "an integer";
	case SH_SX_BOOL: return "a boolean";
	default: return "an unknown value";
	}
}
