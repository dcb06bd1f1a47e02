/* Policy container, operation classification and the evaluator. Pure code. */
#include "policy/policy.h"

#include <stdlib.h>
#include <string.h>

#include "util/str.h"

void sh_policy_init(struct sh_policy *p)
{
	memset(p, 0, sizeof(*p));
	p->default_action = SH_DENY;
}

void sh_filter_free(struct sh_filter *f)
{
	if (!f)
		return;
	free(f->arg);
	free(f->raw);
	free(f->lit);
	if (f->re) {
		regfree(f->re);
		free(f->re);
	}
	for (size_t i = 0; i < f->nchildren; i++)
		sh_filter_free(&f->children[i]);
	free(f->children);
	memset(f, 0, sizeof(*f));
}

void sh_policy_free(struct sh_policy *p)
{
	for (size_t i = 0; i < p->nrules; i++) {
		struct sh_rule *r = &p->rules[i];
		for (size_t j = 0; j < r->nops; j++)
			free(r->ops[j]);
		free(r->ops);
		for (size_t j = 0; j < r->nfilters; j++)
			sh_filter_free(&r->filters[j]);
		free(r->filters);
	}
	free(p->rules);
	for (size_t i = 0; i < p->nsources; i++)
		free(p->sources[i]);
	free(p->sources);
	memset(p, 0, sizeof(*p));
}

const char *sh_policy_source(struct sh_policy *p, const char *name)
{
	for (size_t i = 0; i < p->nsources; i++)
		if (strcmp(p->sources[i], name) == 0)
			return p->sources[i];
	sh_xgrow(&p->sources, &p->sources_cap, p->nsources + 1, sizeof(char *));
	p->sources[p->nsources] = sh_xstrdup(name);
	return p->sources[p->nsources++];
}

void sh_policy_add(struct sh_policy *p, const struct sh_rule *r)
{
	sh_xgrow(&p->rules, &p->cap, p->nrules + 1, sizeof(*p->rules));
	p->rules[p->nrules++] = *r;
}

/* Operations with a Linux meaning.  Wildcards end in '*'. */
static const char *const linux_ops[] = {
	"default",
	"file*", "file-read*", "file-read-data", "file-read-metadata", "file-read-xattr",
	"file-write*", "file-write-data", "file-write-create", "file-write-unlink",
	"file-write-mode", "file-write-owner", "file-write-times", "file-write-xattr",
	"file-write-flags", "file-write-setugid", "file-link", "file-ioctl",
	"file-map-executable", "file-test-existence", "file-chroot", "file-revoke",
	"file-clone", "file-search", "file-issue-extension", "file-mknod",
	"process*", "process-exec", "process-exec*", "process-exec-interpreter", "process-fork",
	"process-info*", "process-info-pidinfo", "process-info-listpids",
	"process-info-setcontrol", "process-info-dirtycontrol", "process-info-rusage",
	"process-info-codesignature", "process-info-pidfdinfo", "process-info-pidfileportinfo",
	"signal",
	"network*", "network-outbound", "network-inbound", "network-bind",
	"pseudo-tty",
	"ipc*", "ipc-posix*", "ipc-posix-shm*", "ipc-posix-shm-read*", "ipc-posix-shm-read-data",
	"ipc-posix-shm-read-metadata", "ipc-posix-shm-write*", "ipc-posix-shm-write-create",
	"ipc-posix-shm-write-data", "ipc-posix-shm-write-unlink", "ipc-posix-sem*",
	"ipc-posix-sem-create", "ipc-posix-sem-open", "ipc-posix-sem-post", "ipc-posix-sem-unlink",
	"ipc-posix-sem-wait", "ipc-sysv*", "ipc-sysv-msg", "ipc-sysv-sem", "ipc-sysv-shm",
	"sysctl*", "sysctl-read", "sysctl-write",
	"system-socket",
	NULL,
};

/* Valid SBPL operation families without a Linux meaning. */
static const char *const macos_prefixes[] = {
	"mach-", "iokit-", "user-preference-", "system-", "nvram-", "appleevent-send",
	"authorization-right-obtain", "distributed-notification-post", "lsopen",
	"job-creation", "hid-control", "boot-arg-set", "dynamic-code-generation",
	"opendirectory-user-modify", "darwin-notification-post", "socket-ioctl",
	"socket-option-", "device-", "storage-", "generic-issue-extension", "qtn-",
	"process-codesigning", "necp-client-open", "fs-", "mach*", "iokit*", "user-preference*",
	NULL,
};

enum sh_op_class sh_op_classify(const char *op)
{
	for (size_t i = 0; linux_ops[i]; i++)
		if (strcmp(op, linux_ops[i]) == 0)
			return SH_OP_LINUX;
	for (size_t i = 0; macos_prefixes[i]; i++)
		if (sh_str_starts(op, macos_prefixes[i]) && op[0])
			return SH_OP_MACOS_ONLY;
	return SH_OP_UNKNOWN;
}

bool sh_op_covers(const char *rule_op, const char *query_op)
{
	size_t n = strlen(rule_op);

	if (strcmp(rule_op, "default") == 0)
		return true;
	if (strcmp(rule_op, query_op) == 0)
		return true;
	if (n && rule_op[n - 1] == '*') {
		/* "file-read*" covers "file-read-data"; "file*" covers "file-write-data";
		 * "process-exec*" covers "process-exec". */
		return strncmp(rule_op, query_op, n - 1) == 0;
	}
	return false;
}

static bool subpath_matches(const char *base, const char *path)
{
	/* Fast "no": where base and path first differ, a byte of base other
	 * than '/' lies within the compared length below (only trailing
	 * slashes are trimmed from it), so strncmp would differ there too. */
	size_t i = 0;
	while (base[i] && base[i] == path[i])
		i++;
	if (base[i] && base[i] != '/')
		return false;

	size_t n = strlen(base);

	while (n > 1 && base[n - 1] == '/')
		n--;
	if (n == 1 && base[0] == '/')
		return path[0] == '/';
	return strncmp(base, path, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* Skips a bracket expression starting at s ('['); returns the byte after
 * its closing ']', or NULL if unterminated. */
static const char *skip_bracket(const char *s)
{
	s++;
	if (*s == '^')
		s++;
	if (*s == ']')
		s++; /* a leading ']' is a member */
	for (; *s && *s != ']'; s++) {
		if (*s == '[' && (s[1] == ':' || s[1] == '.' || s[1] == '=')) {
			char t = s[1];
			for (s += 2; *s && !(*s == t && s[1] == ']'); s++)
				;
			if (!*s)
				return NULL;
			s++; /* at the ']' closing [:class:] */
		}
	}
	return *s ? s + 1 : NULL;
}

/* ERE metacharacters that end the literal part. */
static const char ere_meta[] = ".[](){}*+?|^$";
/* What a backslash makes literal ("\." "\/"); after any other byte it is an
 * operator (a back-reference, GNU's \w \< \`). */
static const char ere_escaped[] = ".[](){}*+?|^$\\/-_~,:;=!@#%&\"";

char *sh_regex_literal_prefix(const char *src)
{
	struct sh_buf b = { 0 };
	const char *s = src;

	if (*s != '^')
		return NULL;
	s++;
	for (;;) {
		char lit;
		const char *next;

		if (*s == '\0')
			break;
		if (*s == '\\') {
			/* Only escaped punctuation is a literal ("\." "\/"); anything
			 * else (back-references, GNU operators such as \w \< \`)
			 * ends the literal part. */
			if (!s[1] || !strchr(ere_escaped, s[1]))
				break;
			lit = s[1];
			next = s + 2;
		} else if (strchr(ere_meta, *s)) {
			break;
		} else {
			lit = *s;
			next = s + 1;
		}
		if (*next == '*' || *next == '?' || *next == '{')
			break; /* optional or counted: not part of every match */
		sh_buf_putc(&b, lit);
		if (*next == '+')
			break;
		s = next;
	}
	return sh_buf_take(&b);
}

/* Skips a group starting at s ('('), nested groups, brackets and escapes
 * included; returns the byte after its ')', or NULL if unterminated. */
static const char *skip_group(const char *s)
{
	int depth = 0;
	for (; *s; s++) {
		if (*s == '\\') {
			if (!*++s)
				return NULL;
		} else if (*s == '[') {
			if (!(s = skip_bracket(s)))
				return NULL;
			s--; /* at the ']' */
		} else if (*s == '(') {
			depth++;
		} else if (*s == ')' && --depth == 0) {
			return s + 1;
		}
	}
	return NULL;
}

/* A quantifier at s ('*', '+', '?' or an interval: '{', digits and commas,
 * '}', which also covers glibc's "{,n}"): the byte after it, or s when there
 * is none. */
static const char *skip_quantifier(const char *s)
{
	if (*s == '*' || *s == '+' || *s == '?')
		return s + 1;
	if (*s != '{')
		return s;
	const char *e = s + 1;
	while ((*e >= '0' && *e <= '9') || *e == ',')
		e++;
	return *e == '}' ? e + 1 : s;
}

static void push_run(struct sh_strv *out, struct sh_buf *run)
{
	if (run->len >= 2)
		sh_strv_push(out, run->data);
	run->len = 0;
	if (run->data)
		run->data[0] = '\0';
}

bool sh_regex_required_literals(const char *src, struct sh_strv *out)
{
	struct sh_buf run = { 0 };
	struct sh_strv got = { 0 };
	const char *s = src;
	bool ok = true;

	while (ok && *s) {
		const char *next;
		bool literal = false;
		char lit = 0;

		if (*s == '\\') {
			if (!s[1]) {
				ok = false;
				break;
			}
			literal = strchr(ere_escaped, s[1]) != NULL;
			lit = s[1];
			next = s + 2; /* otherwise an operator (\w, \<, a back-reference) */
		} else if (*s == '(') {
			next = skip_group(s);
		} else if (*s == '[') {
			next = skip_bracket(s);
		} else if (*s == '|' || *s == ')') {
			ok = false; /* a top-level alternative, or unbalanced */
			break;
		} else if (strchr(ere_meta, *s)) {
			/* '.', '^', '$', or a quantifier with nothing (literal) before it */
			next = skip_quantifier(s);
			if (next == s)
				next = s + 1;
		} else {
			literal = true;
			lit = *s;
			next = s + 1;
		}
		if (!next) {
			ok = false;
			break;
		}
		const char *after = skip_quantifier(next);
		if (literal && (after == next || *next == '+'))
			sh_buf_putc(&run, lit); /* present in every match */
		if (!literal || after != next)
			push_run(&got, &run); /* the run cannot continue across this */
		s = after;
	}
	if (ok)
		push_run(&got, &run);
	free(run.data);
	if (ok)
		for (size_t i = 0; i < got.n; i++)
			sh_strv_push(out, got.v[i]);
	sh_strv_free(&got);
	return ok;
}

char *sh_regex_match_prefix(const char *src)
{
	int depth = 0;

	if (!src || src[0] != '^')
		return NULL;
	/* "^a|b": the anchor and the text belong to one alternative only. */
	for (const char *s = src; *s;) {
		if (*s == '\\') {
			if (!s[1])
				return NULL;
			s += 2;
		} else if (*s == '[') {
			if (!(s = skip_bracket(s)))
				return NULL;
		} else {
			if (*s == '(')
				depth++;
			else if (*s == ')')
				depth--;
			else if (*s == '|' && depth <= 0)
				return NULL;
			s++;
		}
	}
	char *lit = sh_regex_literal_prefix(src);
	if (lit && !*lit) {
		free(lit);
		lit = NULL;
	}
	return lit;
}

bool sh_filter_matches_path(const struct sh_filter *f, const char *path)
{
	switch (f->kind) {
	case SH_F_LITERAL:
		return strcmp(f->arg, path) == 0;
	case SH_F_SUBPATH:
		return subpath_matches(f->arg, path);
	case SH_F_PREFIX:
		return sh_str_starts(path, f->arg);
	case SH_F_REGEX:
		if (!f->re)
			return false;
		if (f->lit && strncmp(path, f->lit, f->litlen) != 0)
			return false; /* cheap "no" for most paths */
		return regexec(f->re, path, 0, NULL, 0) == 0;
	case SH_F_REQUIRE_ALL:
		for (size_t i = 0; i < f->nchildren; i++)
			if (!sh_filter_matches_path(&f->children[i], path))
				return false;
		return f->nchildren > 0;
	case SH_F_REQUIRE_ANY:
		for (size_t i = 0; i < f->nchildren; i++)
			if (sh_filter_matches_path(&f->children[i], path))
				return true;
		return false;
	case SH_F_REQUIRE_NOT:
		return f->nchildren == 1 && !sh_filter_matches_path(&f->children[0], path);
	case SH_F_REMOTE:
	case SH_F_LOCAL:
	case SH_F_OTHER:
		return false;
	default:
		return false;
	}
}

static bool rule_covers_op(const struct sh_rule *r, const char *query_op)
{
	for (size_t i = 0; i < r->nops; i++)
		if (sh_op_covers(r->ops[i], query_op))
			return true;
	return false;
}

static bool rule_matches_path(const struct sh_rule *r, const char *path)
{
	if (r->nfilters == 0)
		return true;
	for (size_t i = 0; i < r->nfilters; i++)
		if (sh_filter_matches_path(&r->filters[i], path))
			return true;
	return false;
}

struct sh_verdict sh_policy_check(const struct sh_policy *p, const char *query_op,
				  const char *path)
{
	struct sh_verdict v = { p->default_action, NULL };

	/* Later rules win, so scan backwards and stop at the first match.  A
	 * "default" rule with no filter is the policy default, recorded in
	 * p->default_action by the compiler, not a rule here. */
	for (size_t i = p->nrules; i-- > 0;) {
		const struct sh_rule *r = &p->rules[i];
		if (!rule_covers_op(r, query_op) || !rule_matches_path(r, path))
			continue;
		v.action = r->action;
		v.rule = r;
		return v;
	}
	return v;
}
