/* Profile compiler: SBPL-subset s-expressions -> struct sh_policy rules.
 *
 * Evaluation is a tiny, strict Scheme: values are strings, integers,
 * booleans, filters and "nothing" (an `if` without else that was false).
 * Every value is owned by exactly one holder; definitions keep their own deep
 * copies because they outlive the source text that produced them.
 *
 * Input is untrusted (user overlays, fuzzing), so work is bounded: reader
 * depth, function call depth, string length, filter tree size and an overall
 * per-source work budget.  Exceeding any of them is a positioned error, never
 * a crash or an unbounded allocation. */
#include "profile/profile.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profile/sexp.h"

#define MAX_STRING 65536        /* longest string an expression may build */
#define MAX_PATH_ARG 4096       /* PATH_MAX: longer paths cannot name anything */
#define MAX_REGEX 2048          /* longest regex source accepted */
#define REGEX_COST_MAX 4096     /* see regex_cost() */
#define REGEX_COST_CAP (REGEX_COST_MAX + 1UL)
#define REGEX_MAX_GROUPS 32
#define MAX_FILTER_NODES 4096   /* nodes in one filter tree */
#define MAX_CALL_DEPTH 16       /* nested user-function calls (stops recursion) */
#define WORK_BUDGET ((size_t)32 << 20) /* per source: steps + bytes built + nodes*64 */

enum vkind { V_VOID, V_STR, V_INT, V_BOOL, V_FILTER };

struct val {
	enum vkind kind;
	char *s;
	long long i;
	bool b;
	struct sh_filter f;
};

enum def_kind {
	DEF_VALUE,
	DEF_FUNC,
	DEF_DISABLED, /* WORK_DIR with the workdir grant off: any use is an error */
};

struct def {
	char *name;
	enum def_kind kind;
	struct val value;   /* DEF_VALUE */
	char *param;        /* DEF_FUNC */
	struct sh_sexp body;
	const char *source; /* DEF_FUNC: where the body was written (ctx-owned) */
};

struct sh_profile_ctx {
	struct def *defs;
	size_t ndefs, cap;
	struct sh_strv sources; /* names of sources that defined functions */
};

/* Where evaluation currently is: the source the nodes come from, the bound
 * parameter of the function being expanded, and the outermost call site in
 * the source being compiled (so errors inside a helper defined elsewhere
 * still point at the user's line). */
struct scope {
	const char *source;
	const char *param;
	const struct val *arg;
	const char *fn;
	const char *site_source;
	int site_line, site_col;
	int depth;
};

struct comp {
	struct sh_profile_ctx *ctx;
	struct sh_policy *p;
	const char *source; /* interned in p: rule origins point here */
	struct sh_err *e;
	size_t budget;
};

/* What the caller wants from an expression; only changes error wording. */
enum want { W_VALUE, W_FILTER };

/* ------------------------------------------------------------------ */
/* errors */

__attribute__((format(printf, 4, 5)))
static int fail_at(struct comp *c, const struct scope *sc, const struct sh_sexp *x,
		   const char *fmt, ...)
{
	char msg[700], where[300] = "";
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (sc->fn)
		snprintf(where, sizeof(where), " (in function '%s', from the call at %s:%d:%d)",
			 sc->fn, sc->site_source, sc->site_line, sc->site_col);
	return sh_fail(c->e, SH_EXIT_PROFILE, 0, "%s:%d:%d: %s%s", sc->source, x->line, x->col,
		       msg, where);
}

/* A quoted, length-limited rendering of a user string for messages. */
static void quote_short(char *dst, size_t cap, const char *s)
{
	char *q = sh_sbpl_quote(s);
	size_t n = strlen(q);

	if (n >= cap && cap > 5)
		snprintf(dst, cap, "%.*s...\"", (int)(cap - 6), q);
	else
		snprintf(dst, cap, "%s", q);
	free(q);
}

static int spend(struct comp *c, const struct scope *sc, const struct sh_sexp *x, size_t units)
{
	if (units > c->budget)
		return fail_at(c, sc, x, "profile too complex to evaluate (work limit reached)");
	c->budget -= units;
	return 0;
}

/* ------------------------------------------------------------------ */
/* values and filters */

static const char *val_kind_name(enum vkind k)
{
	switch (k) {
	case V_VOID: return "nothing (an 'if' without else whose condition was false)";
	case V_STR: return "a string";
	case V_INT: return "an integer";
	case V_BOOL: return "a boolean";
	case V_FILTER: return "a filter";
	default: return "an unknown value";
	}
}

static void val_free(struct val *v)
{
	free(v->s);
	if (v->kind == V_FILTER)
		sh_filter_free(&v->f);
	memset(v, 0, sizeof(*v));
}

static size_t filter_nodes(const struct sh_filter *f)
{
	size_t n = 1;

	for (size_t i = 0; i < f->nchildren; i++)
		n += filter_nodes(&f->children[i]);
	return n;
}

static int regex_compile(regex_t **out, const char *src, char *why, size_t whylen)
{
	regex_t *re = sh_xcalloc(1, sizeof(*re));
	int rc = regcomp(re, src, REG_EXTENDED | REG_NOSUB);

	if (rc != 0) {
		regerror(rc, re, why, whylen);
		free(re);
		return -1;
	}
	*out = re;
	return 0;
}

/* Deep copy; the compiled regex cannot be shared, so it is compiled again. */
static void filter_copy(struct sh_filter *dst, const struct sh_filter *src)
{
	char why[128];

	*dst = *src;
	dst->arg = src->arg ? sh_xstrdup(src->arg) : NULL;
	dst->raw = src->raw ? sh_xstrdup(src->raw) : NULL;
	dst->re = NULL;
	dst->lit = src->lit ? sh_xstrdup(src->lit) : NULL;
	dst->children = NULL;
	/* It compiled once; failing now can only be out of memory. */
	if (src->re && regex_compile(&dst->re, src->arg, why, sizeof(why)) < 0) {
		fprintf(stderr, "safehouse: recompiling regex: %s\n", why);
		abort();
	}
	if (src->nchildren) {
		dst->children = sh_xcalloc(src->nchildren, sizeof(*dst->children));
		for (size_t i = 0; i < src->nchildren; i++)
			filter_copy(&dst->children[i], &src->children[i]);
	}
}

static int val_copy(struct comp *c, const struct scope *sc, const struct sh_sexp *at,
		    struct val *dst, const struct val *src)
{
	*dst = *src;
	dst->s = src->s ? sh_xstrdup(src->s) : NULL;
	if (src->kind != V_FILTER)
		return 0;
	memset(&dst->f, 0, sizeof(dst->f));
	dst->kind = V_VOID;
	if (spend(c, sc, at, filter_nodes(&src->f) * 64) < 0) {
		val_free(dst);
		return -1;
	}
	dst->kind = V_FILTER;
	filter_copy(&dst->f, &src->f);
	return 0;
}

static void set_filter(struct val *out, enum sh_filter_kind kind, char *arg,
		       const struct sh_sexp *x)
{
	memset(out, 0, sizeof(*out));
	out->kind = V_FILTER;
	out->f.kind = kind;
	out->f.arg = arg;
	out->f.line = x->line;
	out->f.col = x->col;
}

/* ------------------------------------------------------------------ */
/* definitions */

static void def_clear(struct def *d)
{
	val_free(&d->value);
	free(d->param);
	sh_sexp_free(&d->body);
	d->param = NULL;
}

static struct def *def_find(struct sh_profile_ctx *ctx, const char *name)
{
	for (size_t i = 0; i < ctx->ndefs; i++)
		if (strcmp(ctx->defs[i].name, name) == 0)
			return &ctx->defs[i];
	return NULL;
}

/* Returns the (possibly reused) slot for name, emptied; later definitions
 * replace earlier ones, as in upstream's concatenated profiles. */
static struct def *def_slot(struct sh_profile_ctx *ctx, const char *name, enum def_kind kind)
{
	struct def *d = def_find(ctx, name);

	if (d) {
		def_clear(d);
	} else {
		sh_xgrow(&ctx->defs, &ctx->cap, ctx->ndefs + 1, sizeof(*ctx->defs));
		d = &ctx->defs[ctx->ndefs++];
		memset(d, 0, sizeof(*d));
		d->name = sh_xstrdup(name);
	}
	d->kind = kind;
	return d;
}

static void def_string(struct sh_profile_ctx *ctx, const char *name, const char *value)
{
	struct def *d = def_slot(ctx, name, value ? DEF_VALUE : DEF_DISABLED);

	if (value) {
		d->value.kind = V_STR;
		d->value.s = sh_xstrdup(value);
	}
}

static const char *ctx_source(struct sh_profile_ctx *ctx, const char *name)
{
	for (size_t i = 0; i < ctx->sources.n; i++)
		if (strcmp(ctx->sources.v[i], name) == 0)
			return ctx->sources.v[i];
	sh_strv_push(&ctx->sources, name);
	return ctx->sources.v[ctx->sources.n - 1];
}

struct sh_profile_ctx *sh_profile_ctx_new(const char *home, const char *workdir,
					  const char *target)
{
	struct sh_profile_ctx *ctx = sh_xcalloc(1, sizeof(*ctx));

	if (home)
		def_string(ctx, "HOME_DIR", home);
	def_string(ctx, "WORK_DIR", workdir);
	def_string(ctx, "TARGET", target ? target : "linux");
	return ctx;
}

void sh_profile_ctx_free(struct sh_profile_ctx *ctx)
{
	if (!ctx)
		return;
	for (size_t i = 0; i < ctx->ndefs; i++) {
		def_clear(&ctx->defs[i]);
		free(ctx->defs[i].name);
	}
	free(ctx->defs);
	sh_strv_free(&ctx->sources);
	free(ctx);
}

/* ------------------------------------------------------------------ */
/* evaluation */

static int eval(struct comp *c, const struct scope *sc, const struct sh_sexp *x, enum want w,
		struct val *out);

/* Evaluate x->items[i] and require a string; *out is owned by the caller. */
static int eval_string(struct comp *c, const struct scope *sc, const struct sh_sexp *x,
		       size_t i, char **out)
{
	const struct sh_sexp *a = &x->items[i];
	struct val v;

	if (eval(c, sc, a, W_VALUE, &v) < 0)
		return -1;
	if (v.kind != V_STR) {
		fail_at(c, sc, a, "%s: expected a string, got %s", x->items[0].text,
			val_kind_name(v.kind));
		val_free(&v);
		return -1;
	}
	*out = v.s;
	return 0;
}

static int eval_symbol(struct comp *c, const struct scope *sc, const struct sh_sexp *x,
		       struct val *out)
{
	const struct def *d;

	if (sc->param && strcmp(sc->param, x->text) == 0)
		return val_copy(c, sc, x, out, sc->arg);
	d = def_find(c->ctx, x->text);
	if (!d) {
		if (sh_op_classify(x->text) != SH_OP_UNKNOWN)
			return fail_at(c, sc, x, "operation '%s' used as a value: operations "
					"must come first in (allow ...) / (deny ...)", x->text);
		return fail_at(c, sc, x, "undefined symbol '%s'", x->text);
	}
	switch (d->kind) {
	case DEF_DISABLED:
		return fail_at(c, sc, x, "%s used but the workdir is disabled (--workdir=)",
			       x->text);
	case DEF_FUNC:
		return fail_at(c, sc, x, "'%s' is a function: call it as (%s %s)", x->text,
			       x->text, d->param);
	case DEF_VALUE:
		return val_copy(c, sc, x, out, &d->value);
	default:
		return fail_at(c, sc, x, "internal error: bad definition of '%s'", x->text);
	}
}

static int call_user(struct comp *c, const struct scope *sc, const struct sh_sexp *x,
		     const struct def *d, enum want w, struct val *out)
{
	struct scope inner;
	struct val arg;
	int rc;

	if (x->n != 2)
		return fail_at(c, sc, x, "wrong number of arguments to '%s': expected (%s %s), "
			       "got %zu", d->name, d->name, d->param, x->n - 1);
	if (sc->depth >= MAX_CALL_DEPTH)
		return fail_at(c, sc, x, "calls nested more than %d deep: is '%s' recursive?",
			       MAX_CALL_DEPTH, d->name);
	if (eval(c, sc, &x->items[1], W_VALUE, &arg) < 0)
		return -1;
	inner = (struct scope){ d->source, d->param, &arg, d->name, sc->source, x->line, x->col,
				sc->depth + 1 };
	if (sc->fn) {
		inner.site_source = sc->site_source;
		inner.site_line = sc->site_line;
		inner.site_col = sc->site_col;
	}
	rc = eval(c, &inner, &d->body, w, out);
	val_free(&arg);
	return rc;
}

/* ------------------------------------------------------------------ */
/* builtins: conditionals and strings */

/* The condition of (if COND THEN [ELSE]) in expressions and at top level:
 * 0 with *b set, or -1 (error reported) when it is not a boolean. */
static int if_condition(struct comp *c, const struct scope *sc, const struct sh_sexp *x, bool *b)
{
	struct val cond;

	if (eval(c, sc, &x->items[1], W_VALUE, &cond) < 0)
		return -1;
	if (cond.kind != V_BOOL) {
		fail_at(c, sc, &x->items[1], "if: condition must be a boolean (#t, #f, "
			"(string=? A B) or (not X)), got %s", val_kind_name(cond.kind));
		val_free(&cond);
		return -1;
	}
	*b = cond.b;
	return 0;
}

static int bi_if(struct comp *c, const struct scope *sc, const struct sh_sexp *x, enum want w,
		 struct val *out)
{
	bool b;

	if (if_condition(c, sc, x, &b) < 0)
		return -1;
	if (b)
		return eval(c, sc, &x->items[2], w, out);
	if (x->n == 4)
		return eval(c, sc, &x->items[3], w, out);
	memset(out, 0, sizeof(*out));
	out->kind = V_VOID;
	return 0;
}

static int bi_string_eq(struct comp *c, const struct scope *sc, const struct sh_sexp *x,
			enum want w, struct val *out)
{
	char *a, *b;

	(void)w;
	if (eval_string(c, sc, x, 1, &a) < 0)
		return -1;
	if (eval_string(c, sc, x, 2, &b) < 0) {
		free(a);
		return -1;
	}
	memset(out, 0, sizeof(*out));
	out->kind = V_BOOL;
	out->b = strcmp(a, b) == 0;
	free(a);
	free(b);
	return 0;
}

static int bi_not(struct comp *c, const struct scope *sc, const struct sh_sexp *x, enum want w,
		  struct val *out)
{
	(void)w;
	if (eval(c, sc, &x->items[1], W_VALUE, out) < 0)
		return -1;
	if (out->kind != V_BOOL) {
		fail_at(c, sc, &x->items[1], "not: expected a boolean, got %s",
			val_kind_name(out->kind));
		val_free(out);
		return -1;
	}
	out->b = !out->b;
	return 0;
}

static int bi_string_append(struct comp *c, const struct scope *sc, const struct sh_sexp *x,
			    enum want w, struct val *out)
{
	struct sh_buf b = { 0 };

	(void)w;
	for (size_t i = 1; i < x->n; i++) {
		char *s;
		if (eval_string(c, sc, x, i, &s) < 0)
			goto fail;
		size_t n = strlen(s);
		if (b.len + n > MAX_STRING) {
			free(s);
			fail_at(c, sc, x, "string-append: result longer than %d bytes", MAX_STRING);
			goto fail;
		}
		sh_buf_append(&b, s, n);
		free(s);
		if (spend(c, sc, x, n) < 0)
			goto fail;
	}
	memset(out, 0, sizeof(*out));
	out->kind = V_STR;
	out->s = sh_buf_take(&b);
	return 0;
fail:
	sh_buf_free(&b);
	return -1;
}

/* ------------------------------------------------------------------ */
/* builtins: path filters */

static int check_path(struct comp *c, const struct scope *sc, const struct sh_sexp *at,
		      const char *form, const char *path)
{
	char q[120]; /* quoted only for a message: this runs for every path filter */

	if (path[0] != '/') {
		quote_short(q, sizeof(q), path);
		return fail_at(c, sc, at, "%s: path must be absolute (start with '/'), got %s",
			       form, q);
	}
	if (sh_has_ctl(path)) {
		quote_short(q, sizeof(q), path);
		return fail_at(c, sc, at, "%s: control characters are not allowed in paths, "
			       "got %s", form, q);
	}
	if (strlen(path) > MAX_PATH_ARG)
		return fail_at(c, sc, at, "%s: path longer than %d bytes", form, MAX_PATH_ARG);
	return 0;
}

static enum sh_filter_kind path_kind(const char *name)
{
	if (sh_str_ends(name, "subpath"))
		return SH_F_SUBPATH;
	if (sh_str_ends(name, "prefix"))
		return SH_F_PREFIX;
	return SH_F_LITERAL;
}

/* (literal P) (subpath P) (prefix P) and the unix-socket spellings
 * (path-literal P) (path-prefix P). */
static int bi_path(struct comp *c, const struct scope *sc, const struct sh_sexp *x,
		   enum want w, struct val *out)
{
	const char *form = x->items[0].text;
	char *path;

	(void)w;
	if (eval_string(c, sc, x, 1, &path) < 0)
		return -1;
	if (check_path(c, sc, &x->items[1], form, path) < 0) {
		free(path);
		return -1;
	}
	set_filter(out, path_kind(form), path, x);
	return 0;
}

/* Bracket expression starting at p ('['): returns the closing ']' or the
 * terminating NUL.  "[]...]" and "[^]...]" hold a literal ']'. */
static const char *skip_bracket(const char *p)
{
	p++;
	if (*p == '^')
		p++;
	if (*p == ']')
		p++;
	while (*p && *p != ']')
		p++;
	return p;
}

static unsigned long cost_add(unsigned long a, unsigned long b)
{
	return a + b > REGEX_COST_CAP ? REGEX_COST_CAP : a + b;
}

static unsigned long cost_mul(unsigned long a, unsigned long k)
{
	return k && a > REGEX_COST_CAP / k ? REGEX_COST_CAP : a * k;
}

/* Estimated size of the tree glibc's regcomp builds.  It expands "x+" to
 * "xx*" and "x{m,n}" to n copies of x, duplicating the whole subtree, so
 * stacked or nested repetitions ("a++++", "((a+)+)+") grow exponentially and
 * a few hundred bytes of regex can exhaust memory. */
static unsigned long regex_cost(const char *s)
{
	unsigned long cur[REGEX_MAX_GROUPS + 1] = { 0 }, last = 0;
	int depth = 0;

	for (const char *p = s; *p; p++) {
		unsigned long k = 1;
		switch (*p) {
		case '(':
			if (depth == REGEX_MAX_GROUPS)
				return REGEX_COST_CAP;
			cur[++depth] = 0;
			last = 0;
			continue;
		case ')':
			last = depth > 0 ? (cur[depth] ? cur[depth] : 1) : 1;
			depth = depth > 0 ? depth - 1 : 0;
			cur[depth] = cost_add(cur[depth], last);
			continue;
		case '+':
			k = 2;
			break;
		case '{':
			for (unsigned long v = 0; *++p && *p != '}'; k = v > k ? v : k) {
				unsigned long digit = (unsigned long)(*p - '0');
				v = digit <= 9 ? cost_add(cost_mul(v, 10), digit) : 0;
			}
			if (!*p)
				goto out;
			break;
		case '*': case '?': case '|':
			continue;
		case '[':
			p = skip_bracket(p);
			if (!*p)
				goto out;
			last = 1;
			cur[depth] = cost_add(cur[depth], 1);
			continue;
		case '\\':
			p += p[1] ? 1 : 0;
			last = 1;
			cur[depth] = cost_add(cur[depth], 1);
			continue;
		default:
			last = 1;
			cur[depth] = cost_add(cur[depth], 1);
			continue;
		}
		/* a repetition: k - 1 more copies of the last atom or group */
		cur[depth] = cost_add(cur[depth], cost_mul(last, k - 1));
		last = cost_mul(last, k);
	}
out:
	/* unclosed groups still cost what they hold: regcomp expands before it
	 * notices the missing ')' */
	for (; depth > 0; depth--)
		cur[depth - 1] = cost_add(cur[depth - 1], cur[depth]);
	return cur[0];
}

/* An interval "{n}", "{n,}" or "{n,m}" starts at p: its length, else 0. */
static size_t interval_len(const char *p)
{
	const char *q = p + 1;
	if (*p != '{' || *q < '0' || *q > '9')
		return 0;
	while (*q >= '0' && *q <= '9')
		q++;
	if (*q == ',')
		for (q++; *q >= '0' && *q <= '9'; q++)
			;
	return *q == '}' ? (size_t)(q - p) + 1 : 0;
}

/* A repetition operator right after another ("a+*", "a*?", "a{2}+"): POSIX
 * leaves it undefined, and glibc's regcomp takes exponential time on a few
 * stacked ones ("^/++++*+++++": seconds, one more: minutes). */
static bool has_stacked_repetition(const char *s)
{
	bool prev = false;

	for (const char *p = s; *p; p++) {
		size_t n = 0;
		bool rep = *p == '*' || *p == '+' || *p == '?' || (n = interval_len(p)) > 0;
		if (rep && prev)
			return true;
		prev = rep;
		if (n) {
			p += n - 1;
		} else if (*p == '[') {
			p = skip_bracket(p);
			if (!*p)
				return false;
		} else if (*p == '\\' && p[1]) {
			p++;
		}
	}
	return false;
}

/* \1..\9 make glibc's regexec backtrack exponentially on crafted paths. */
static bool has_backref(const char *s)
{
	for (const char *p = s; *p; p++) {
		if (*p != '\\' || !p[1])
			continue;
		if (p[1] >= '1' && p[1] <= '9')
			return true;
		p++;
	}
	return false;
}

static int bi_regex(struct comp *c, const struct scope *sc, const struct sh_sexp *x,
		    enum want w, struct val *out)
{
	char why[200], q[120];
	regex_t *re;
	char *src;

	(void)w;
	if (eval_string(c, sc, x, 1, &src) < 0)
		return -1;
	if (strlen(src) > MAX_REGEX || regex_cost(src) > REGEX_COST_MAX) {
		quote_short(q, sizeof(q), src);
		free(src);
		return fail_at(c, sc, &x->items[1], "%s: regex %s is too long or repeats too much "
			       "(nested or stacked repetitions)", x->items[0].text, q);
	}
	if (has_stacked_repetition(src)) {
		quote_short(q, sizeof(q), src);
		free(src);
		return fail_at(c, sc, &x->items[1], "%s: regex %s puts one repetition operator right "
			       "after another (such as \"a+*\"), which is not supported",
			       x->items[0].text, q);
	}
	if (has_backref(src)) {
		quote_short(q, sizeof(q), src);
		free(src);
		return fail_at(c, sc, &x->items[1], "%s: regex %s uses a backreference "
			       "(\\1 ... \\9), which is not supported", x->items[0].text, q);
	}
	if (spend(c, sc, x, 4096 + strlen(src) * 64) < 0) {
		free(src);
		return -1;
	}
	if (regex_compile(&re, src, why, sizeof(why)) < 0) {
		quote_short(q, sizeof(q), src);
		free(src);
		return fail_at(c, sc, &x->items[1], "%s: invalid regular expression %s: %s",
			       x->items[0].text, q, why);
	}
	set_filter(out, SH_F_REGEX, src, x);
	out->f.re = re;
	out->f.lit = sh_regex_match_prefix(src);
	out->f.litlen = out->f.lit ? strlen(out->f.lit) : 0;
	return 0;
}

/* (home-literal REL) ... (workdir-prefix REL): REL is "" (the directory
 * itself) or starts with '/'; joined so that HOME_DIR "/" + "/x" is "/x". */
static int bi_dir_helper(struct comp *c, const struct scope *sc, const struct sh_sexp *x,
			 enum want w, struct val *out)
{
	const char *form = x->items[0].text;
	const char *var = sh_str_starts(form, "home-") ? "HOME_DIR" : "WORK_DIR";
	const struct def *d = def_find(c->ctx, var);
	char q[120], *rel, *path;

	(void)w;
	if (d && d->kind == DEF_DISABLED)
		return fail_at(c, sc, x, "%s used but the workdir is disabled (--workdir=)", form);
	if (!d || d->kind != DEF_VALUE || d->value.kind != V_STR)
		return fail_at(c, sc, x, "%s: %s is not defined as a string", form, var);
	if (eval_string(c, sc, x, 1, &rel) < 0)
		return -1;
	if (rel[0] != '\0' && rel[0] != '/') {
		quote_short(q, sizeof(q), rel);
		free(rel);
		return fail_at(c, sc, &x->items[1], "%s: argument must be \"\" or start with "
			       "'/' (it is relative to %s), got %s", form, var, q);
	}
	const char *base = d->value.s;
	size_t bl = strlen(base);
	if (bl > 0 && base[bl - 1] == '/' && rel[0] == '/')
		bl--;
	path = sh_xasprintf("%.*s%s", (int)bl, base, rel);
	free(rel);
	if (check_path(c, sc, x, form, path) < 0) {
		free(path);
		return -1;
	}
	set_filter(out, path_kind(form), path, x);
	return 0;
}

static void filter_append(struct sh_filter **v, size_t *n, size_t *cap, struct sh_filter *f)
{
	sh_xgrow(v, cap, *n + 1, sizeof(**v));
	(*v)[(*n)++] = *f;
	memset(f, 0, sizeof(*f));
}

static void filters_free(struct sh_filter *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sh_filter_free(&v[i]);
	free(v);
}

/* Evaluate x->items[i] as a filter: 1 = *f filled, 0 = nothing (a false
 * 'if'), -1 = error. */
static int eval_filter(struct comp *c, const struct scope *sc, const struct sh_sexp *x,
		       size_t i, const char *form, struct sh_filter *f)
{
	const struct sh_sexp *a = &x->items[i];
	struct val v;

	if (eval(c, sc, a, W_FILTER, &v) < 0)
		return -1;
	if (v.kind == V_VOID)
		return 0;
	if (v.kind != V_FILTER) {
		fail_at(c, sc, a, "%s: expected a filter such as (subpath \"/path\"), got %s",
			form, val_kind_name(v.kind));
		val_free(&v);
		return -1;
	}
	*f = v.f;
	return 1;
}

/* (require-all F...) (require-any F...) (require-not F).  Children that
 * evaluate to nothing are dropped; with no child left the whole filter is
 * nothing, never "match everything". */
static int bi_require(struct comp *c, const struct scope *sc, const struct sh_sexp *x,
		      enum want w, struct val *out)
{
	const char *form = x->items[0].text;
	struct sh_filter *kids = NULL, f;
	size_t n = 0, cap = 0, nodes = 1;

	(void)w;
	for (size_t i = 1; i < x->n; i++) {
		int r = eval_filter(c, sc, x, i, form, &f);
		if (r < 0)
			goto fail;
		if (r == 0)
			continue;
		nodes += filter_nodes(&f);
		filter_append(&kids, &n, &cap, &f);
		if (nodes > MAX_FILTER_NODES) {
			fail_at(c, sc, x, "%s: filter too large (more than %d nested filters)",
				form, MAX_FILTER_NODES);
			goto fail;
		}
	}
	memset(out, 0, sizeof(*out));
	if (n == 0)
		return 0; /* V_VOID */
	set_filter(out, strcmp(form, "require-all") == 0   ? SH_F_REQUIRE_ALL
			: strcmp(form, "require-any") == 0 ? SH_F_REQUIRE_ANY
							   : SH_F_REQUIRE_NOT,
		   NULL, x);
	out->f.children = kids;
	out->f.nchildren = n;
	return 0;
fail:
	filters_free(kids, n);
	return -1;
}

static bool valid_port(const char *p)
{
	size_t n = strlen(p);

	if (strcmp(p, "*") == 0)
		return true;
	if (n == 0 || n > 5 || strspn(p, "0123456789") != n)
		return false;
	long v = strtol(p, NULL, 10);
	return v >= 1 && v <= 65535;
}

static bool valid_host(const char *h)
{
	unsigned char buf[16];
	size_t n = strlen(h);

	if (strcmp(h, "*") == 0 || strcmp(h, "localhost") == 0)
		return true;
	if (inet_pton(AF_INET, h, buf) == 1)
		return true;
	if (n > 2 && n < 64 && h[0] == '[' && h[n - 1] == ']') {
		char v6[64];
		memcpy(v6, h + 1, n - 2);
		v6[n - 2] = '\0';
		return inet_pton(AF_INET6, v6, buf) == 1;
	}
	return false;
}

/* "host:port" for (remote ip|tcp|udp ...) and (local ...). */
static bool valid_hostport(const char *s)
{
	const char *colon = strrchr(s, ':');

	if (!colon || colon == s)
		return false;
	char *host = sh_xstrndup(s, (size_t)(colon - s));
	bool ok = valid_host(host) && valid_port(colon + 1);
	free(host);
	return ok;
}

static bool valid_label(const char *l, size_t n)
{
	if (n == 0 || n > 63 || l[0] == '-' || l[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((l[i] >= 'a' && l[i] <= 'z') || (l[i] >= '0' && l[i] <= '9') || l[i] == '-'))
			return false;
	return true;
}

/* Validate and normalise "name:port" for (remote domain ...): lowercase, one
 * trailing dot stripped, "*." allowed only as the whole first label.
 * Returns the normalised string, or NULL with *why set. */
static char *normalize_domain(const char *s, const char **why)
{
	const char *colon = strrchr(s, ':');
	char *name, *res = NULL;

	if (!colon) {
		*why = "a port is required (\"NAME:PORT\", PORT 1-65535 or *)";
		return NULL;
	}
	if (!valid_port(colon + 1)) {
		*why = "port must be a number from 1 to 65535, or *";
		return NULL;
	}
	name = sh_xstrndup(s, (size_t)(colon - s));
	for (char *p = name; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	size_t n = strlen(name);
	if (n > 0 && name[n - 1] == '.')
		name[--n] = '\0';
	const char *host = sh_str_starts(name, "*.") ? name + 2 : name;
	if (strchr(host, '*'))
		*why = "'*' is only allowed as the whole first label, as in \"*.example.com:443\"";
	else if (strlen(host) == 0 || strlen(host) > 253)
		*why = "domain name must be 1 to 253 characters";
	else
		res = name;
	for (const char *l = host; res && *l;) {
		size_t ln = strcspn(l, ".");
		if (!valid_label(l, ln)) {
			*why = "each label must be 1-63 letters, digits or '-' (not at either end), "
			       "with no empty labels";
			res = NULL;
		}
		l += ln;
		if (*l == '.' && (*++l == '\0')) {
			*why = "empty label in domain name";
			res = NULL;
		}
	}
	if (res)
		res = sh_xasprintf("%s:%s", name, colon + 1);
	free(name);
	return res;
}

/* (remote unix-socket (path-literal P)): the path filter becomes children[0];
 * arg mirrors its argument so renderers always have a string to print. */
static int net_unix(struct comp *c, const struct scope *sc, const struct sh_sexp *x,
		    struct val *out)
{
	const char *form = x->items[0].text;
	struct val v;

	if (x->n != 3)
		return fail_at(c, sc, x, "%s unix-socket: expected (%s unix-socket "
			       "(path-literal PATH))", form, form);
	if (eval(c, sc, &x->items[2], W_FILTER, &v) < 0)
		return -1;
	if (v.kind != V_FILTER || (v.f.kind != SH_F_LITERAL && v.f.kind != SH_F_SUBPATH &&
				   v.f.kind != SH_F_PREFIX && v.f.kind != SH_F_REGEX)) {
		val_free(&v);
		return fail_at(c, sc, &x->items[2], "%s unix-socket: expected (path-literal PATH), "
			       "(path-prefix PATH) or (path-regex REGEX)", form);
	}
	set_filter(out, strcmp(form, "remote") == 0 ? SH_F_REMOTE : SH_F_LOCAL,
		   sh_xstrdup(v.f.arg), x);
	out->f.net_kind = SH_NET_UNIX_SOCKET;
	out->f.children = sh_xcalloc(1, sizeof(v.f));
	out->f.children[0] = v.f;
	out->f.nchildren = 1;
	return 0;
}

static int net_address(struct comp *c, const struct scope *sc, const struct sh_sexp *x,
		       enum sh_net_kind kind, struct val *out)
{
	const char *form = x->items[0].text, *why = NULL;
	char q[120], *addr;

	if (x->n == 2 && kind != SH_NET_DOMAIN) {
		addr = sh_xstrdup("*:*"); /* (remote ip): any address */
	} else if (x->n != 3) {
		return fail_at(c, sc, x, "%s %s: expected (%s %s \"%s:PORT\")", form,
			       x->items[1].text, form, x->items[1].text,
			       kind == SH_NET_DOMAIN ? "NAME" : "HOST");
	} else if (eval_string(c, sc, x, 2, &addr) < 0) {
		return -1;
	}
	quote_short(q, sizeof(q), addr); /* a few per profile: cheap enough */
	if (kind == SH_NET_DOMAIN) {
		char *norm = normalize_domain(addr, &why);
		free(addr);
		if (!norm)
			return fail_at(c, sc, &x->items[2], "%s domain: bad destination %s: %s",
				       form, q, why);
		addr = norm;
	} else if (!valid_hostport(addr)) {
		free(addr);
		return fail_at(c, sc, &x->items[x->n - 1], "%s %s: expected \"HOST:PORT\" (HOST *, "
			       "localhost or an IP address; PORT 1-65535 or *), got %s", form,
			       x->items[1].text, q);
	}
	set_filter(out, strcmp(form, "remote") == 0 ? SH_F_REMOTE : SH_F_LOCAL, addr, x);
	out->f.net_kind = kind;
	return 0;
}

/* (remote ip|tcp|udp "host:port"), (remote unix-socket F),
 * (remote domain "name:port"), and the same with local (no domain). */
static int bi_network(struct comp *c, const struct scope *sc, const struct sh_sexp *x,
		      enum want w, struct val *out)
{
	static const struct {
		const char *name;
		enum sh_net_kind kind;
	} kinds[] = {
		{ "ip", SH_NET_IP },   { "tcp", SH_NET_TCP },
		{ "udp", SH_NET_UDP }, { "unix-socket", SH_NET_UNIX_SOCKET },
		{ "domain", SH_NET_DOMAIN },
	};
	const char *form = x->items[0].text;
	const struct sh_sexp *k = &x->items[1];

	(void)w;
	for (size_t i = 0; k->kind == SH_SX_SYMBOL && i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (strcmp(k->text, kinds[i].name) != 0)
			continue;
		if (kinds[i].kind == SH_NET_DOMAIN && strcmp(form, "local") == 0)
			return fail_at(c, sc, k, "local domain: domain names only make sense for "
				       "remote destinations: use (remote domain \"NAME:PORT\")");
		if (kinds[i].kind == SH_NET_UNIX_SOCKET)
			return net_unix(c, sc, x, out);
		return net_address(c, sc, x, kinds[i].kind, out);
	}
	return fail_at(c, sc, k, "%s: expected an address kind (ip, tcp, udp, unix-socket%s), "
		       "got %s", form, strcmp(form, "remote") == 0 ? ", domain" : "",
		       k->kind == SH_SX_SYMBOL ? k->text : sh_sexp_kind_name(k->kind));
}

/* macOS filters with no Linux meaning: kept verbatim for the macOS renderer,
 * never match anything here.  Arguments are not evaluated. */
static int bi_macos(struct comp *c, const struct scope *sc, const struct sh_sexp *x,
		    enum want w, struct val *out)
{
	(void)w;
	if (spend(c, sc, x, 64) < 0)
		return -1;
	set_filter(out, SH_F_OTHER, NULL, x);
	out->f.raw = sh_sexp_print(x);
	return 0;
}

typedef int (*builtin_fn)(struct comp *, const struct scope *, const struct sh_sexp *,
			  enum want, struct val *);

struct builtin {
	const char *name;
	int min, max; /* argument counts; max -1: unbounded */
	builtin_fn fn;
	const char *usage;
	bool redefinable; /* a profile may (define ...) it, as upstream's base does */
};

static const struct builtin builtins[] = {
	{ "if", 2, 3, bi_if, "(if CONDITION THEN [ELSE])", false },
	{ "string=?", 2, 2, bi_string_eq, "(string=? A B)", false },
	{ "not", 1, 1, bi_not, "(not BOOLEAN)", false },
	{ "string-append", 0, -1, bi_string_append, "(string-append STRING...)", false },
	{ "literal", 1, 1, bi_path, "(literal PATH)", false },
	{ "subpath", 1, 1, bi_path, "(subpath PATH)", false },
	{ "prefix", 1, 1, bi_path, "(prefix PATH)", false },
	{ "regex", 1, 1, bi_regex, "(regex #\"REGEX\")", false },
	{ "path-literal", 1, 1, bi_path, "(path-literal PATH)", false },
	{ "path-prefix", 1, 1, bi_path, "(path-prefix PATH)", false },
	{ "path-regex", 1, 1, bi_regex, "(path-regex #\"REGEX\")", false },
	{ "require-all", 1, -1, bi_require, "(require-all FILTER...)", false },
	{ "require-any", 1, -1, bi_require, "(require-any FILTER...)", false },
	{ "require-not", 1, 1, bi_require, "(require-not FILTER)", false },
	{ "remote", 1, 2, bi_network, "(remote KIND \"ADDRESS\")", false },
	{ "local", 1, 2, bi_network, "(local KIND \"ADDRESS\")", false },
	{ "home-literal", 1, 1, bi_dir_helper, "(home-literal \"/REL\")", true },
	{ "home-subpath", 1, 1, bi_dir_helper, "(home-subpath \"/REL\")", true },
	{ "home-prefix", 1, 1, bi_dir_helper, "(home-prefix \"/REL\")", true },
	{ "workdir-literal", 1, 1, bi_dir_helper, "(workdir-literal \"/REL\")", true },
	{ "workdir-subpath", 1, 1, bi_dir_helper, "(workdir-subpath \"/REL\")", true },
	{ "workdir-prefix", 1, 1, bi_dir_helper, "(workdir-prefix \"/REL\")", true },
};

static const char *const macos_filters[] = {
	"global-name", "global-name-regex", "global-name-prefix", "local-name",
	"local-name-regex", "local-name-prefix", "xpc-service-name", "xpc-service-name-regex",
	"xpc-service-name-prefix", "iokit-user-client-class", "iokit-registry-entry-class",
	"iokit-property", "iokit-connection", "preference-domain", "extension",
	"extension-class", "vnode-type", "device-conforms-to", "signing-identifier",
	"process-path", "target", "ipc-posix-name", "ipc-posix-name-regex",
	"ipc-posix-name-prefix", "sysctl-name", "sysctl-name-regex", "sysctl-name-prefix",
	"appleevent-destination", "right-name", "require-entitlement", "entitlement-is-present",
	"entitlement-is-bool-true", "mount-relative-path", "file-mode", "debug-mode",
	"notification-name", "semaphore-owner", "kext-bundle-id", "info-type", "nvram-variable",
	"control-name", "socket-domain", "socket-type", "socket-protocol", "fsctl-command",
	"ioctl-command", "process-attribute", "system-attribute", NULL,
};

/* Forms only meaningful at the top level of a profile. */
static const char *const toplevel_forms[] = { "version", "define", "allow", "deny", NULL };

static bool in_list(const char *const *list, const char *s)
{
	for (size_t i = 0; list[i]; i++)
		if (strcmp(list[i], s) == 0)
			return true;
	return false;
}

static const struct builtin *builtin_find(const char *name)
{
	for (size_t i = 0; i < sizeof(builtins) / sizeof(builtins[0]); i++)
		if (strcmp(builtins[i].name, name) == 0)
			return &builtins[i];
	return NULL;
}

static int call_builtin(struct comp *c, const struct scope *sc, const struct sh_sexp *x,
			const struct builtin *b, enum want w, struct val *out)
{
	size_t nargs = x->n - 1;

	if ((int)nargs < b->min || (b->max >= 0 && (int)nargs > b->max))
		return fail_at(c, sc, x, "wrong number of arguments to '%s': expected %s, got %zu",
			       b->name, b->usage, nargs);
	return b->fn(c, sc, x, w, out);
}

static int eval_list(struct comp *c, const struct scope *sc, const struct sh_sexp *x,
		     enum want w, struct val *out)
{
	const struct sh_sexp *head = x->n ? &x->items[0] : NULL;
	const struct builtin *b;
	const struct def *d;

	if (!head)
		return fail_at(c, sc, x, "empty list: expected (NAME ARGUMENT...)");
	if (head->kind != SH_SX_SYMBOL)
		return fail_at(c, sc, head, "expected a %s name at the start of the list, got %s",
			       w == W_FILTER ? "filter" : "function", sh_sexp_kind_name(head->kind));
	if (x->n > 4096)
		return fail_at(c, sc, x, "too many arguments to '%s'", head->text);
	d = def_find(c->ctx, head->text);
	if (d && d->kind == DEF_FUNC)
		return call_user(c, sc, x, d, w, out);
	if (d || (sc->param && strcmp(sc->param, head->text) == 0))
		return fail_at(c, sc, head, "'%s' is a value, not a function", head->text);
	if ((b = builtin_find(head->text)))
		return call_builtin(c, sc, x, b, w, out);
	if (in_list(macos_filters, head->text))
		return bi_macos(c, sc, x, w, out);
	if (in_list(toplevel_forms, head->text))
		return fail_at(c, sc, head, "'%s' is only allowed at the top level of a profile",
			       head->text);
	return fail_at(c, sc, head, "unknown %s '%s'", w == W_FILTER ? "filter" : "function",
		       head->text);
}

static int eval(struct comp *c, const struct scope *sc, const struct sh_sexp *x, enum want w,
		struct val *out)
{
	memset(out, 0, sizeof(*out));
	if (spend(c, sc, x, 1) < 0)
		return -1;
	switch (x->kind) {
	case SH_SX_LIST:
		return eval_list(c, sc, x, w, out);
	case SH_SX_SYMBOL:
		return eval_symbol(c, sc, x, out);
	case SH_SX_STRING:
	case SH_SX_REGEX: /* #"..." is a string whose escapes were left for regcomp */
		out->kind = V_STR;
		out->s = sh_xstrdup(x->text);
		return 0;
	case SH_SX_INT:
		out->kind = V_INT;
		out->i = x->num;
		return 0;
	case SH_SX_BOOL:
		out->kind = V_BOOL;
		out->b = x->truth;
		return 0;
	default:
		return fail_at(c, sc, x, "internal error: unknown expression kind");
	}
}

/* ------------------------------------------------------------------ */
/* top-level forms */

static int compile_form(struct comp *c, const struct scope *sc, const struct sh_sexp *x);

static bool is_reserved(const char *name)
{
	const struct builtin *b = builtin_find(name);

	if (b)
		return !b->redefinable;
	return in_list(macos_filters, name) || in_list(toplevel_forms, name) ||
	       strcmp(name, "with") == 0;
}

static int compile_version(struct comp *c, const struct scope *sc, const struct sh_sexp *x)
{
	if (x->n != 2 || x->items[1].kind != SH_SX_INT)
		return fail_at(c, sc, x, "wrong arguments to 'version': expected (version 1)");
	if (x->items[1].num != 1)
		return fail_at(c, sc, &x->items[1], "unsupported version %lld: expected (version 1)",
			       x->items[1].num);
	c->p->version = 1;
	return 0;
}

static int define_function(struct comp *c, const struct scope *sc, const struct sh_sexp *x)
{
	const struct sh_sexp *sig = &x->items[1];
	struct def *d;

	if (sig->n != 2 || sig->items[0].kind != SH_SX_SYMBOL ||
	    sig->items[1].kind != SH_SX_SYMBOL)
		return fail_at(c, sc, sig, "define: a function takes exactly one argument: "
			       "expected (define (NAME ARG) BODY)");
	if (is_reserved(sig->items[0].text))
		return fail_at(c, sc, &sig->items[0], "define: '%s' is a built-in form and cannot "
			       "be redefined", sig->items[0].text);
	d = def_slot(c->ctx, sig->items[0].text, DEF_FUNC);
	d->param = sh_xstrdup(sig->items[1].text);
	d->source = ctx_source(c->ctx, sc->source);
	sh_sexp_copy(&d->body, &x->items[2]);
	return 0;
}

/* (define NAME EXPR) evaluates EXPR now; (define (NAME ARG) BODY) keeps BODY. */
static int compile_define(struct comp *c, const struct scope *sc, const struct sh_sexp *x)
{
	const struct sh_sexp *target = x->n > 1 ? &x->items[1] : x;
	struct val v;

	if (x->n != 3 || (target->kind != SH_SX_SYMBOL && target->kind != SH_SX_LIST))
		return fail_at(c, sc, x, "wrong arguments to 'define': expected (define NAME VALUE) "
			       "or (define (NAME ARG) BODY)");
	if (target->kind == SH_SX_LIST)
		return define_function(c, sc, x);
	if (is_reserved(target->text))
		return fail_at(c, sc, target, "define: '%s' is a built-in form and cannot be "
			       "redefined", target->text);
	if (eval(c, sc, &x->items[2], W_VALUE, &v) < 0)
		return -1;
	if (v.kind == V_VOID) {
		fail_at(c, sc, &x->items[2], "define: the value of '%s' is %s", target->text,
			val_kind_name(v.kind));
		return -1;
	}
	struct def *d = def_slot(c->ctx, target->text, DEF_VALUE);
	d->value = v;
	return 0;
}

struct rule_build {
	struct sh_strv ops;
	struct sh_filter *fs;
	size_t nfs, cap;
	size_t nexprs; /* filter expressions written, even if they evaluated to nothing */
	bool linux_meaningful;
};

static void rule_build_free(struct rule_build *rb)
{
	sh_strv_free(&rb->ops);
	filters_free(rb->fs, rb->nfs);
	memset(rb, 0, sizeof(*rb));
}

static bool is_bound(const struct comp *c, const struct scope *sc, const char *name)
{
	return (sc->param && strcmp(sc->param, name) == 0) || def_find(c->ctx, name);
}

static int rule_add_op(struct comp *c, const struct scope *sc, const struct sh_sexp *a,
		       struct rule_build *rb)
{
	switch (sh_op_classify(a->text)) {
	case SH_OP_UNKNOWN:
		return fail_at(c, sc, a, "unknown operation '%s' (expected e.g. file-read*, "
			       "file-write*, process-exec, network-outbound)", a->text);
	case SH_OP_LINUX:
		rb->linux_meaningful = true;
		break;
	case SH_OP_MACOS_ONLY:
		break;
	default:
		return fail_at(c, sc, a, "internal error classifying '%s'", a->text);
	}
	sh_strv_push(&rb->ops, a->text);
	return 0;
}

static int rule_add_filter(struct comp *c, const struct scope *sc, const struct sh_sexp *x,
			   size_t i, struct rule_build *rb)
{
	const struct sh_sexp *a = &x->items[i];
	struct sh_filter f;
	int r;

	if (a->kind == SH_SX_SYMBOL && !is_bound(c, sc, a->text) &&
	    sh_op_classify(a->text) != SH_OP_UNKNOWN)
		return fail_at(c, sc, a, "%s: operation '%s' must come before the filters",
			       x->items[0].text, a->text);
	/* (with report) / (with no-log) ...: macOS logging modifiers, no effect here */
	if (a->kind == SH_SX_LIST && a->n && a->items[0].kind == SH_SX_SYMBOL &&
	    strcmp(a->items[0].text, "with") == 0)
		return 0;
	rb->nexprs++;
	r = eval_filter(c, sc, x, i, x->items[0].text, &f);
	if (r > 0)
		filter_append(&rb->fs, &rb->nfs, &rb->cap, &f);
	return r < 0 ? -1 : 0;
}

static void rule_commit(struct comp *c, const struct sh_sexp *x, struct rule_build *rb)
{
	struct sh_rule r = { 0 };
	enum sh_action act = strcmp(x->items[0].text, "allow") == 0 ? SH_ALLOW : SH_DENY;
	struct sh_origin o = { c->source, x->line, x->col };

	if (rb->ops.n == 1 && strcmp(rb->ops.v[0], "default") == 0 && rb->nexprs == 0) {
		c->p->default_action = act;
		c->p->default_origin = o;
		rule_build_free(rb);
		return;
	}
	/* Every filter was a false (if ...): the rule covers nothing.  Adding it
	 * with no filters would make it match everything. */
	if (rb->nexprs > 0 && rb->nfs == 0) {
		rule_build_free(rb);
		return;
	}
	r.action = act;
	r.ops = rb->ops.v;
	r.nops = rb->ops.n;
	r.filters = rb->fs;
	r.nfilters = rb->nfs;
	r.origin = o;
	r.linux_meaningful = rb->linux_meaningful;
	sh_policy_add(c->p, &r);
	memset(rb, 0, sizeof(*rb));
}

/* (allow OP... FILTER...) / (deny OP... FILTER...) */
static int compile_rule(struct comp *c, const struct scope *sc, const struct sh_sexp *x)
{
	struct rule_build rb = { 0 };
	size_t i = 1;

	for (; i < x->n && x->items[i].kind == SH_SX_SYMBOL; i++) {
		if (is_bound(c, sc, x->items[i].text))
			break; /* a defined name: the filters start here */
		if (rule_add_op(c, sc, &x->items[i], &rb) < 0)
			goto fail;
	}
	if (rb.ops.n == 0) {
		fail_at(c, sc, x, "%s: expected at least one operation, as in (%s file-read* "
			"(subpath \"/usr\"))", x->items[0].text, x->items[0].text);
		goto fail;
	}
	for (; i < x->n; i++)
		if (rule_add_filter(c, sc, x, i, &rb) < 0)
			goto fail;
	rule_commit(c, x, &rb);
	return 0;
fail:
	rule_build_free(&rb);
	return -1;
}

static int compile_if(struct comp *c, const struct scope *sc, const struct sh_sexp *x)
{
	bool b;

	if (x->n != 3 && x->n != 4)
		return fail_at(c, sc, x, "wrong number of arguments to 'if': expected "
			       "(if CONDITION THEN [ELSE])");
	if (if_condition(c, sc, x, &b) < 0)
		return -1;
	if (b)
		return compile_form(c, sc, &x->items[2]);
	if (x->n == 4)
		return compile_form(c, sc, &x->items[3]);
	return 0;
}

static int compile_form(struct comp *c, const struct scope *sc, const struct sh_sexp *x)
{
	const char *name;

	if (spend(c, sc, x, 1) < 0)
		return -1;
	if (x->kind != SH_SX_LIST || x->n == 0 || x->items[0].kind != SH_SX_SYMBOL)
		return fail_at(c, sc, x, "expected a form such as (allow ...) or (deny ...), got %s",
			       x->kind == SH_SX_LIST ? (x->n ? "a list not starting with a name"
							      : "an empty list")
						     : sh_sexp_kind_name(x->kind));
	name = x->items[0].text;
	if (strcmp(name, "version") == 0)
		return compile_version(c, sc, x);
	if (strcmp(name, "define") == 0)
		return compile_define(c, sc, x);
	if (strcmp(name, "allow") == 0 || strcmp(name, "deny") == 0)
		return compile_rule(c, sc, x);
	if (strcmp(name, "if") == 0)
		return compile_if(c, sc, x);
	return fail_at(c, sc, &x->items[0], "unknown form '%s' (expected version, define, allow, "
		       "deny, if)", name);
}

int sh_profile_compile(struct sh_profile_ctx *ctx, const char *source, const char *text,
		       size_t len, struct sh_policy *p, struct sh_err *e)
{
	struct sh_sexp root;
	struct comp c = { ctx, p, NULL, e, WORK_BUDGET };
	struct scope sc = { 0 };
	int rc = 0;

	if (sh_sexp_read(source, text, len, &root, e) < 0)
		return -1;
	c.source = sh_policy_source(p, source);
	sc.source = c.source;
	for (size_t i = 0; i < root.n && rc == 0; i++)
		rc = compile_form(&c, &sc, &root.items[i]);
	sh_sexp_free(&root);
	return rc;
}

/* ------------------------------------------------------------------ */
/* metadata comments and quoting */

static char *trim_copy(const char *s, size_t n)
{
	while (n && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	return sh_xstrndup(s, n);
}

/* Push each non-empty, trimmed field of a comma list. */
static void push_list(struct sh_strv *sv, const char *value, bool lower)
{
	for (const char *p = value; *p;) {
		size_t n = strcspn(p, ",");
		char *f = trim_copy(p, n);
		if (lower)
			for (char *q = f; *q; q++)
				*q = (char)tolower((unsigned char)*q);
		if (*f)
			sh_strv_push_take(sv, f);
		else
			free(f);
		p += n;
		if (*p == ',')
			p++;
	}
}

static void meta_apply(const char *kv, size_t n, struct sh_profile_meta *m)
{
	const char *eq = memchr(kv, '=', n);
	if (!eq)
		return;
	char *key = trim_copy(kv, (size_t)(eq - kv));
	char *val = trim_copy(eq + 1, n - (size_t)(eq - kv) - 1);

	if (strcmp(key, "require") == 0)
		push_list(&m->requires, val, false);
	else if (strcmp(key, "command") == 0)
		push_list(&m->commands, val, true);
	else if (strcmp(key, "target") == 0)
		push_list(&m->targets, val, true);
	else if (strcmp(key, "env-pass") == 0)
		push_list(&m->env_pass, val, false);
	else if (strcmp(key, "create-dirs") == 0)
		push_list(&m->create_dirs, val, false);
	else if (strcmp(key, "insert-args") == 0)
		push_list(&m->insert_args, val, false);
	else if (strcmp(key, "publish") == 0)
		push_list(&m->publish, val, false);
	else if (strcmp(key, "exec-env-default") == 0 && val[0] && val[0] != '=' &&
		 strchr(val, '='))
		sh_strv_push(&m->env_defaults, val);
	free(key);
	free(val);
}

/* The first "$$" in [s, end) (memmem's answer, without its per-call set-up:
 * this runs on every comment of every profile). */
static const char *find_dollars(const char *s, const char *end)
{
	while (s < end) {
		const char *d = memchr(s, '$', (size_t)(end - s));
		if (!d || d + 1 >= end)
			return NULL;
		if (d[1] == '$')
			return d;
		s = d + 1;
	}
	return NULL;
}

/* Every "$$key=value$$" in one comment's text. */
static void scan_comment(const char *s, size_t n, struct sh_profile_meta *m)
{
	const char *end = s + n;

	for (;;) {
		const char *a = find_dollars(s, end);
		if (!a)
			return;
		a += 2;
		const char *b = find_dollars(a, end);
		if (!b)
			return;
		meta_apply(a, (size_t)(b - a), m);
		s = b + 2;
	}
}

void sh_profile_scan_meta(const char *text, size_t len, struct sh_profile_meta *m)
{
	bool in_string = false;

	/* Every metadata key is spelled $$...$$: most profiles have none. */
	if (!memmem(text, len, "$$", 2))
		return;
	/* A light lexer: ';' inside a string literal does not start a comment. */
	for (size_t i = 0; i < len; i++) {
		char ch = text[i];
		if (in_string) {
			if (ch == '\\')
				i++;
			else if (ch == '"')
				in_string = false;
		} else if (ch == '"') {
			in_string = true;
		} else if (ch == ';') {
			const char *nl = memchr(text + i, '\n', len - i);
			size_t n = nl ? (size_t)(nl - (text + i)) : len - i;
			scan_comment(text + i, n, m);
			i += n;
		}
	}
}

void sh_profile_meta_free(struct sh_profile_meta *m)
{
	sh_strv_free(&m->requires);
	sh_strv_free(&m->commands);
	sh_strv_free(&m->env_defaults);
	sh_strv_free(&m->targets);
	sh_strv_free(&m->env_pass);
	sh_strv_free(&m->create_dirs);
	sh_strv_free(&m->insert_args);
	sh_strv_free(&m->publish);
}

char *sh_sbpl_quote(const char *s)
{
	struct sh_buf b = { 0 };

	sh_buf_putc(&b, '"');
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			sh_buf_printf(&b, "\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f)
			sh_buf_printf(&b, "\\x%02x", ch);
		else
			sh_buf_putc(&b, (char)ch);
	}
	sh_buf_putc(&b, '"');
	return sh_buf_take(&b);
}
