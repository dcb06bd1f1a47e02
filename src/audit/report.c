/* Findings: collection, order and the stderr report. */
#include "audit/audit_int.h"

#include <stdlib.h>
#include <string.h>

int sh_audit_mode_parse(const char *s, enum sh_audit_mode *mode, struct sh_err *e)
{
	if (strcmp(s, "off") == 0)
		*mode = SH_AUDIT_OFF;
	else if (strcmp(s, "warn") == 0)
		*mode = SH_AUDIT_WARN;
	else if (strcmp(s, "strict") == 0)
		*mode = SH_AUDIT_STRICT;
	else
		return sh_hint(e, "use --audit=off, --audit=warn or --audit=strict"),
		       sh_fail(e, SH_EXIT_USAGE, 0, "invalid --audit mode (expected off, warn or strict)");
	return 0;
}

const char *sh_audit_change_name(enum sh_audit_change c)
{
	switch (c) {
	case SH_AUDIT_NEW:
		return "new";
	case SH_AUDIT_CHANGED:
		return "changed";
	case SH_AUDIT_REMOVED:
		return "removed";
	case SH_AUDIT_UNREADABLE:
		return "unreadable";
	default:
		return "?";
	}
}

/* What runs soonest and most surely first: when there are more findings
 * than are kept, the ones dropped are the least of them (a thousand .idea
 * files must not push a planted hook out of the report). */
static int rank(unsigned kind)
{
	switch (kind) {
	case SH_AK_GIT_HOOK: case SH_AK_GIT_CONFIG: case SH_AK_GIT_POINTER:
	case SH_AK_WORKDIR: case SH_AK_UNAUDITED:
		return 0;
	case SH_AK_REPO: case SH_AK_NESTED_REPO: case SH_AK_GIT_ALT: case SH_AK_PYTHON:
	case SH_AK_DIRENV: case SH_AK_AGENT: case SH_AK_HOOK_MANAGER: case SH_AK_DEVCONTAINER:
		return 1;
	case SH_AK_CARGO: case SH_AK_NPM: case SH_AK_YARN: case SH_AK_PNPM: case SH_AK_BUN:
	case SH_AK_MISE: case SH_AK_GITMODULES: case SH_AK_GIT_ATTR: case SH_AK_VSCODE:
	case SH_AK_CURSOR:
		return 2;
	default:
		return 3;
	}
}

void au_report_add(struct sh_audit_report *r, enum sh_audit_change change, unsigned kind,
		   char *path, char *detail)
{
	struct sh_audit_finding *f;

	r->count++;
	if (r->n_kept >= SH_AUDIT_MAX_KEPT) {
		size_t worst = 0;
		for (size_t i = 1; i < r->n_kept; i++)
			if (rank(r->findings[i].kind) > rank(r->findings[worst].kind))
				worst = i;
		if (rank(kind) >= rank(r->findings[worst].kind)) {
			free(path);
			free(detail);
			return;
		}
		f = &r->findings[worst]; /* replaced: a lesser one goes */
		free(f->path);
		free(f->detail);
	} else {
		sh_xgrow(&r->findings, &r->cap, r->n_kept + 1, sizeof(*r->findings));
		f = &r->findings[r->n_kept++];
	}
	f->change = change;
	f->kind = kind;
	f->path = path;
	f->detail = detail;
}

static int finding_cmp(const void *a, const void *b)
{
	const struct sh_audit_finding *x = a, *y = b;
	int d = rank(x->kind) - rank(y->kind);
	if (d)
		return d;
	d = strcmp(x->path, y->path);
	return d ? d : (int)x->change - (int)y->change;
}

void au_report_sort(struct sh_audit_report *r)
{
	if (r->n_kept > 1)
		qsort(r->findings, r->n_kept, sizeof(*r->findings), finding_cmp);
}

/* Length of a printable UTF-8 sequence at s, or 0.  C1 controls, bidi
 * overrides/isolates and line separators are not printable here: a file
 * name must not reorder or break the line that reports it. */
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
	/* also invisible and bidi marks (U+061C, U+180E, U+200B..U+200F,
	 * U+2060..U+2064), interlinear annotations and tag characters */
	if (cp < 0xa0 || (cp >= 0xd800 && cp <= 0xdfff) || cp == 0x061c || cp == 0x180e ||
	    (cp >= 0x200b && cp <= 0x200f) || (cp >= 0x2028 && cp <= 0x202e) ||
	    (cp >= 0x2060 && cp <= 0x2069) || cp == 0xfeff || (cp >= 0xfff9 && cp <= 0xfffb) ||
	    (cp >= 0xe0000 && cp <= 0xe007f))
		return 0;
	return n;
}

/* Bytes from the workdir (names, link targets, config values) are written
 * by the sandboxed side: nothing in them may reach the terminal raw. */
static void put_escaped(FILE *f, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;

	while (*s) {
		size_t n;
		if (*s >= 0x20 && *s < 0x7f && *s != '\\' && *s != '\'') {
			fputc(*s++, f);
		} else if (*s >= 0x80 && (n = utf8_printable(s)) > 0) {
			fwrite(s, 1, n, f);
			s += n;
		} else {
			fprintf(f, "\\x%02x", *s++);
		}
	}
}

void sh_audit_report_print(const struct sh_audit_report *r, FILE *f)
{
	size_t shown = r->n_kept < SH_AUDIT_MAX_PRINTED ? r->n_kept : SH_AUDIT_MAX_PRINTED;

	if (!r->count)
		return;
	fprintf(f, "safehouse: audit: %zu persistence-relevant change%s in the workdir:\n", r->count,
		r->count == 1 ? "" : "s");
	for (size_t i = 0; i < shown; i++) {
		const struct sh_audit_finding *x = &r->findings[i];
		fprintf(f, "safehouse: audit: %s %s '", sh_audit_change_name(x->change),
			sh_audit_kind_name(x->kind));
		put_escaped(f, x->path);
		fputc('\'', f);
		if (x->detail) {
			fputs(" (", f);
			put_escaped(f, x->detail);
			fputc(')', f);
		}
		fprintf(f, ": %s\n", sh_audit_kind_why(x->kind));
	}
	if (r->count > shown)
		fprintf(f, "safehouse: audit: ... and %zu more\n", r->count - shown);
}

void sh_audit_report_free(struct sh_audit_report *r)
{
	for (size_t i = 0; i < r->n_kept; i++) {
		free(r->findings[i].path);
		free(r->findings[i].detail);
	}
	free(r->findings);
	memset(r, 0, sizeof(*r));
}
