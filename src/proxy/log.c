/* Decision log: one line per decision, counts per destination. */
#include "proxy/log.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/str.h"

#define LOG_SLOTS (2 * SH_PROXY_LOG_MAX_DESTS) /* open addressing, load <= 1/2 */

struct entry {
	bool allowed;
	enum sh_proxy_reason reason; /* first reason seen (denied) */
	unsigned long count;
	char dest[];
};

struct sh_proxy_log {
	FILE *stream;
	struct entry *slot[LOG_SLOTS];
	size_t n;
	unsigned long other[2]; /* [allowed] beyond SH_PROXY_LOG_MAX_DESTS */
	unsigned long total[2];
};

struct sh_proxy_log *sh_proxy_log_new(FILE *stream)
{
	struct sh_proxy_log *l = sh_xcalloc(1, sizeof(*l));
	l->stream = stream;
	return l;
}

void sh_proxy_log_free(struct sh_proxy_log *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < LOG_SLOTS; i++)
		free(l->slot[i]);
	free(l);
}

static size_t hash(const char *s, bool allowed)
{
	uint64_t h = 1469598103934665603ULL ^ (uint64_t)allowed;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return (size_t)(h % LOG_SLOTS);
}

/* The slot for (dest, allowed): the matching entry or the empty slot to fill. */
static struct entry **find(const struct sh_proxy_log *l, const char *dest, bool allowed)
{
	size_t i = hash(dest, allowed);
	for (;;) {
		struct entry *const *e = &l->slot[i];
		if (!*e || ((*e)->allowed == allowed && strcmp((*e)->dest, dest) == 0))
			return (struct entry **)e;
		i = (i + 1) % LOG_SLOTS;
	}
}

static void count(struct sh_proxy_log *l, const char *dest, bool allowed,
		  enum sh_proxy_reason reason)
{
	struct entry **e = find(l, dest, allowed);

	l->total[allowed]++;
	if (!*e) {
		if (l->n >= SH_PROXY_LOG_MAX_DESTS) {
			l->other[allowed]++;
			return;
		}
		size_t dl = strlen(dest) + 1;
		*e = sh_xmalloc(sizeof(**e) + dl);
		memcpy((*e)->dest, dest, dl);
		(*e)->allowed = allowed;
		(*e)->reason = reason;
		(*e)->count = 0;
		l->n++;
	}
	(*e)->count++;
}

static void stamp(FILE *f)
{
	char t[32];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%SZ", &tm);
	fprintf(f, "%s ", t);
}

void sh_proxy_log_decision(struct sh_proxy_log *l, const char *proto,
			   const struct sh_proxy_verdict *v)
{
	char dest[SH_HOST_BUFSZ + 16];

	if (!l)
		return;
	sh_proxy_verdict_dest(v, dest, sizeof(dest));
	count(l, dest, v->allow, v->reason);
	if (!l->stream)
		return;
	stamp(l->stream);
	if (v->allow)
		fprintf(l->stream, "allow %s %s rule=%s\n", proto, dest,
			v->rule ? v->rule->pattern : "ip-literals");
	else
		fprintf(l->stream, "deny %s %s reason=%s%s%s%s%s\n", proto, dest,
			sh_proxy_reason_name(v->reason), v->rule ? " rule=" : "",
			v->rule ? v->rule->pattern : "", v->detail[0] ? " detail=" : "",
			v->detail);
	fflush(l->stream);
}

void sh_proxy_log_event(struct sh_proxy_log *l, const char *fmt, ...)
{
	va_list ap;

	if (!l || !l->stream)
		return;
	stamp(l->stream);
	va_start(ap, fmt);
	vfprintf(l->stream, fmt, ap);
	va_end(ap);
	fputc('\n', l->stream);
	fflush(l->stream);
}

unsigned long sh_proxy_log_count(const struct sh_proxy_log *l, const char *dest, bool allowed)
{
	struct entry *const *e = find(l, dest, allowed);
	return *e ? (*e)->count : 0;
}

unsigned long sh_proxy_log_total(const struct sh_proxy_log *l, bool allowed)
{
	return l->total[allowed];
}

static int by_count(const void *a, const void *b)
{
	const struct entry *x = *(const struct entry *const *)a, *y = *(const struct entry *const *)b;
	if (x->allowed != y->allowed)
		return x->allowed ? -1 : 1;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return strcmp(x->dest, y->dest);
}

void sh_proxy_log_summary(const struct sh_proxy_log *l, FILE *out)
{
	struct entry **v = sh_xcalloc(l->n ? l->n : 1, sizeof(*v));
	size_t n = 0, nd[2] = { 0, 0 };

	for (size_t i = 0; i < LOG_SLOTS; i++)
		if (l->slot[i]) {
			v[n++] = l->slot[i];
			nd[l->slot[i]->allowed]++;
		}
	qsort(v, n, sizeof(*v), by_count);
	fprintf(out, "network: allowed %zu destination%s (%lu connection%s), denied %zu (%lu)\n",
		nd[1], nd[1] == 1 ? "" : "s", l->total[1], l->total[1] == 1 ? "" : "s", nd[0],
		l->total[0]);
	for (int a = 1; a >= 0; a--) {
		size_t shown = 0;
		unsigned long rest = l->other[a], rest_dests = 0;
		for (size_t i = 0; i < n; i++) {
			if (v[i]->allowed != (bool)a)
				continue;
			if (shown == SH_PROXY_LOG_SUMMARY_LINES) {
				rest += v[i]->count;
				rest_dests++;
				continue;
			}
			shown++;
			fprintf(out, "  %-5s %6lu  %s%s%s\n", a ? "allow" : "deny", v[i]->count,
				v[i]->dest, a ? "" : "  ", a ? "" : sh_proxy_reason_name(v[i]->reason));
		}
		if (rest)
			fprintf(out, "  %-5s %6lu  (%lu%s other destinations)\n", a ? "allow" : "deny",
				rest, rest_dests, l->other[a] ? "+" : "");
	}
	free(v);
}
