/* Findings: collection, order and the stderr report. */
#include "audit/audit_int.h"

#include <stdlib.h>
#include <string.h>
#include "util/escape.h"

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
		sh_fput_escaped(f, x->path, true);
		fputc('\'', f);
		if (x->detail) {
			fputs(" (", f);
			sh_fput_escaped(f, x->detail, true);
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
