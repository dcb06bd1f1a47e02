#include "config/dotenv.h"

#include <stdlib.h>
#include <string.h>

#include "util/path.h"

/* Parser state over the whole buffer: quoted values may span lines, so the
 * input is not pre-split. */
struct cur {
	const char *p, *end;
	unsigned line;
	const char *origin;
	struct sh_err *e;
};

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool name_start(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static bool name_char(char c)
{
	return name_start(c) || (c >= '0' && c <= '9');
}

bool sh_env_name_valid(const char *s, size_t n)
{
	if (n == 0 || !name_start(s[0]))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!name_char(s[i]))
			return false;
	return true;
}

static int fail_at(struct cur *c, unsigned line, const char *msg)
{
	return sh_fail(c->e, SH_EXIT_USAGE, 0, "%s:%u: %s", c->origin, line, msg);
}

static void skip_blanks(struct cur *c)
{
	while (c->p < c->end && is_blank(*c->p))
		c->p++;
}

/* Consume the rest of the line including its '\n'. */
static void skip_line(struct cur *c)
{
	const char *nl = memchr(c->p, '\n', (size_t)(c->end - c->p));
	c->p = nl ? nl + 1 : c->end;
	if (nl)
		c->line++;
}

/* After a closing quote: blanks, an optional comment, then end of line. */
static int finish_quoted(struct cur *c)
{
	skip_blanks(c);
	if (c->p < c->end && *c->p == '\r' && (c->p + 1 == c->end || c->p[1] == '\n'))
		c->p++;
	if (c->p == c->end || *c->p == '\n' || *c->p == '#') {
		skip_line(c);
		return 0;
	}
	return fail_at(c, c->line, "unexpected text after closing quote");
}

static int parse_single(struct cur *c, struct sh_buf *v)
{
	unsigned start = c->line;

	c->p++; /* opening quote */
	while (c->p < c->end && *c->p != '\'') {
		if (*c->p == '\n')
			c->line++;
		sh_buf_putc(v, *c->p++);
	}
	if (c->p == c->end)
		return fail_at(c, start, "unterminated single quote");
	c->p++;
	return finish_quoted(c);
}

/* Backslash escapes inside double quotes.  Only the ones a shell would also
 * honour (plus \n, the dotenv convention) are escapes. */
static char dq_escape(char c)
{
	switch (c) {
	case 'n':
		return '\n';
	case '"':
	case '\\':
	case '$':
	case '`':
		return c;
	default:
		return 0;
	}
}

static int parse_double(struct cur *c, struct sh_buf *v)
{
	unsigned start = c->line;

	c->p++;
	while (c->p < c->end && *c->p != '"') {
		char ch = *c->p++;
		if (ch == '\\' && c->p < c->end) {
			char esc = dq_escape(*c->p);
			if (esc) {
				sh_buf_putc(v, esc);
				c->p++;
				continue;
			}
		}
		if (ch == '\n')
			c->line++;
		sh_buf_putc(v, ch);
	}
	if (c->p == c->end)
		return fail_at(c, start, "unterminated double quote");
	c->p++;
	return finish_quoted(c);
}

/* Unquoted: up to end of line, minus a " #comment", trimmed.  A '#' starts a
 * comment only after a blank, as in the shell: "K=a#b" is "a#b", while
 * "K= #b" is empty.  eq points at the '='. */
static void parse_unquoted(struct cur *c, const char *eq, struct sh_buf *v)
{
	const char *s = c->p;
	const char *nl = memchr(s, '\n', (size_t)(c->end - s));
	const char *e = nl ? nl : c->end;

	for (const char *q = s; q < e; q++) {
		if (*q == '#' && q > eq + 1 && is_blank(q[-1])) {
			e = q;
			break;
		}
	}
	while (e > s && (is_blank(e[-1]) || e[-1] == '\r'))
		e--;
	sh_buf_append(v, s, (size_t)(e - s));
	c->p = nl ? nl : c->end;
	skip_line(c);
}

/* Assignments are appended as parsed and de-duplicated once at the end
 * (dedupe below): a 1 MiB file can hold ~250k keys, too many for a linear
 * search per line. */
static void set_var(struct sh_dotenv *d, const char *key, size_t klen, const char *val)
{
	sh_strv_push_take(&d->vars, sh_xasprintf("%.*s=%s", (int)klen, key, val));
}

static void note_ignored(struct sh_dotenv *d, const char *key, size_t klen)
{
	sh_strv_push_take(&d->ignored, sh_xstrndup(key, klen));
}

struct slot {
	const char *s;
	size_t klen; /* length of the key: up to '=' or the whole string */
	size_t pos;
};

static int slot_cmp(const void *a, const void *b)
{
	const struct slot *x = a, *y = b;
	size_t n = x->klen < y->klen ? x->klen : y->klen;
	int c = memcmp(x->s, y->s, n);

	if (c)
		return c;
	if (x->klen != y->klen)
		return x->klen < y->klen ? -1 : 1;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* Keep one entry per key: the last value, at the position of the first. */
static void dedupe(struct sh_strv *sv)
{
	size_t n = sv->n, out = 0;
	struct slot *sl;

	if (n < 2)
		return;
	sl = sh_xcalloc(n, sizeof(*sl));
	for (size_t i = 0; i < n; i++)
		sl[i] = (struct slot){ sv->v[i], strcspn(sv->v[i], "="), i };
	qsort(sl, n, sizeof(*sl), slot_cmp);
	for (size_t i = 0, j; i < n; i = j) {
		for (j = i + 1; j < n && sl[j].klen == sl[i].klen &&
				memcmp(sl[j].s, sl[i].s, sl[i].klen) == 0;
		     j++)
			;
		if (j - i < 2)
			continue;
		/* Group [i, j) sorted by position: move the last value to the
		 * first slot, free and blank the rest. */
		char *last = sv->v[sl[j - 1].pos];
		free(sv->v[sl[i].pos]);
		sv->v[sl[i].pos] = last;
		for (size_t k = i + 1; k < j; k++) {
			if (k != j - 1)
				free(sv->v[sl[k].pos]);
			sv->v[sl[k].pos] = NULL;
		}
	}
	free(sl);
	for (size_t i = 0; i < n; i++)
		if (sv->v[i])
			sv->v[out++] = sv->v[i];
	sv->n = out;
	sv->v[out] = NULL;
}

/* "export" followed by a blank is a prefix; "export=1" is a key. */
static void skip_export(struct cur *c)
{
	size_t left = (size_t)(c->end - c->p);

	if (left > 6 && memcmp(c->p, "export", 6) == 0 && is_blank(c->p[6])) {
		c->p += 6;
		skip_blanks(c);
	}
}

static int parse_assignment(struct cur *c, struct sh_dotenv *d)
{
	unsigned line = c->line;
	const char *key, *eq;
	size_t klen;
	struct sh_buf v = { 0 };
	int r = 0;

	skip_export(c);
	key = c->p;
	while (c->p < c->end && name_char(*c->p))
		c->p++;
	klen = (size_t)(c->p - key);
	skip_blanks(c);
	if (!sh_env_name_valid(key, klen) || c->p == c->end || *c->p != '=')
		return fail_at(c, line, "expected KEY=VALUE");
	eq = c->p++;
	skip_blanks(c);
	if (c->p < c->end && *c->p == '\'')
		r = parse_single(c, &v);
	else if (c->p < c->end && *c->p == '"')
		r = parse_double(c, &v);
	else
		parse_unquoted(c, eq, &v);
	if (r == 0) {
		if (klen >= 10 && memcmp(key, "SAFEHOUSE_", 10) == 0)
			note_ignored(d, key, klen);
		else
			set_var(d, key, klen, sh_buf_str(&v));
	}
	sh_buf_free(&v);
	return r;
}

/* Line number (1-based) of offset off. */
static unsigned line_of(const char *buf, size_t off)
{
	unsigned n = 1;
	for (size_t i = 0; i < off; i++)
		n += buf[i] == '\n';
	return n;
}

int sh_dotenv_parse(struct sh_dotenv *d, const char *buf, size_t len, const char *origin,
		    struct sh_err *e)
{
	struct cur c = { buf, buf + len, 1, origin, e };
	const char *nul = len ? memchr(buf, '\0', len) : NULL;
	int rc = 0;

	/* Environment strings cannot hold NUL; refuse rather than truncate. */
	if (nul)
		return fail_at(&c, line_of(buf, (size_t)(nul - buf)), "NUL byte in file");
	while (c.p < c.end) {
		skip_blanks(&c);
		if (c.p == c.end)
			break;
		if (*c.p == '\n' || *c.p == '#' ||
		    (*c.p == '\r' && (c.p + 1 == c.end || c.p[1] == '\n'))) {
			skip_line(&c);
			continue;
		}
		if (parse_assignment(&c, d) < 0) {
			rc = -1;
			break;
		}
	}
	/* Also on error: the documented state is "earlier lines applied". */
	dedupe(&d->vars);
	dedupe(&d->ignored);
	return rc;
}

int sh_dotenv_load(struct sh_dotenv *d, const char *path, struct sh_err *e)
{
	char *buf = NULL;
	size_t len = 0;
	int r;

	if (sh_read_small_file(path, 0, SH_DOTENV_MAX_SIZE, &buf, &len, e) < 0)
		return sh_err_prefix(e, "--env");
	r = sh_dotenv_parse(d, buf, len, path, e);
	free(buf);
	return r;
}

const char *sh_dotenv_get(const struct sh_dotenv *d, const char *key)
{
	size_t k = strlen(key);

	for (size_t i = 0; i < d->vars.n; i++)
		if (strncmp(d->vars.v[i], key, k) == 0 && d->vars.v[i][k] == '=')
			return d->vars.v[i] + k + 1;
	return NULL;
}

void sh_dotenv_free(struct sh_dotenv *d)
{
	sh_strv_free(&d->vars);
	sh_strv_free(&d->ignored);
}
