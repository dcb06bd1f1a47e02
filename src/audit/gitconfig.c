#include "audit/gitconfig.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* git's MAXNAME for section names. */
#define MAX_BASE 256

struct cur {
	const char *p, *end;
	bool eof;
};

/* git's get_next_char: CRLF reads as '\n', end of input as '\n' + eof. */
static int next_char(struct cur *c)
{
	int ch;

	if (c->p >= c->end) {
		c->eof = true;
		return '\n';
	}
	ch = (unsigned char)*c->p++;
	if (ch == '\r' && c->p < c->end && *c->p == '\n') {
		c->p++;
		ch = '\n';
	}
	return ch;
}

static bool is_key_char(int c)
{
	return isalnum(c) || c == '-';
}

/* '[base "sub"]': after the space, a quoted subsection, then ']'. */
static int extended_base(struct cur *c, struct sh_buf *var, int ch)
{
	do {
		if (ch == '\n')
			return -1;
		ch = next_char(c);
	} while (isspace(ch));
	if (ch != '"')
		return -1;
	sh_buf_putc(var, '.');
	for (;;) {
		ch = next_char(c);
		if (ch == '\n')
			return -1;
		if (ch == '"')
			break;
		if (ch == '\\') {
			ch = next_char(c);
			if (ch == '\n')
				return -1;
		}
		sh_buf_putc(var, (char)ch);
	}
	return next_char(c) == ']' ? 0 : -1;
}

/* After '[': the section header, lowercased ("[Core.X]" -> "core.x"). */
static int base_var(struct cur *c, struct sh_buf *var)
{
	for (;;) {
		int ch = next_char(c);
		if (c->eof)
			return -1;
		if (ch == ']')
			return var->len ? 0 : -1;
		if (isspace(ch))
			return var->len ? extended_base(c, var, ch) : -1;
		if (!is_key_char(ch) && ch != '.')
			return -1;
		if (var->len >= MAX_BASE)
			return -1;
		sh_buf_putc(var, (char)tolower(ch));
	}
}

static int unescape(int ch)
{
	switch (ch) {
	case 't':
		return '\t';
	case 'b':
		return '\b';
	case 'n':
		return '\n';
	case '\\':
	case '"':
		return ch;
	default:
		return -1;
	}
}

/* After '=': git's parse_value (quotes, escapes, comments, continuation,
 * inner whitespace kept, outer whitespace dropped). */
static int parse_value(struct cur *c, struct sh_buf *val)
{
	bool quote = false, comment = false;
	size_t space = 0;

	sh_buf_puts(val, "");
	for (;;) {
		int ch = next_char(c);
		if (ch == '\n')
			return quote ? -1 : 0;
		if (comment)
			continue;
		if (isspace(ch) && !quote) {
			if (val->len)
				space++;
			continue;
		}
		if (!quote && (ch == ';' || ch == '#')) {
			comment = true;
			continue;
		}
		for (; space; space--)
			sh_buf_putc(val, ' ');
		if (ch == '\\') {
			ch = next_char(c);
			if (ch == '\n')
				continue; /* continuation line */
			if ((ch = unescape(ch)) < 0)
				return -1;
			sh_buf_putc(val, (char)ch);
			continue;
		}
		if (ch == '"') {
			quote = !quote;
			continue;
		}
		sh_buf_putc(val, (char)ch);
	}
}

/* First key character already read: the rest of the name, then an optional
 * "= value" (no '=': a boolean true, *has_value false). */
static int get_value(struct cur *c, struct sh_buf *var, struct sh_buf *val, bool *has_value)
{
	int ch;

	for (;;) {
		ch = next_char(c);
		if (c->eof || !is_key_char(ch))
			break;
		sh_buf_putc(var, (char)tolower(ch));
	}
	while (ch == ' ' || ch == '\t')
		ch = next_char(c);
	*has_value = false;
	if (ch == '\n')
		return 0;
	if (ch != '=')
		return -1;
	*has_value = true;
	return parse_value(c, val);
}

static void add_if_risky(const char *var, const char *value, bool gitmodules,
			 struct sh_strv *keys)
{
	if (sh_audit_gitconfig_risky(var, value, gitmodules)) {
		char *s = sh_xasprintf("%s=%s", var, value ? value : "true");
		sh_strv_push_take(keys, s);
	}
}

int sh_audit_gitconfig_keys(const char *buf, size_t len, bool gitmodules, struct sh_strv *keys)
{
	struct cur c = { buf, buf + len, false };
	struct sh_buf var = { 0 }, val = { 0 };
	size_t baselen = 0;
	bool comment = false;
	int rc = -1;

	/* git stops at a NUL in a value; refuse rather than guess. */
	if (memchr(buf, '\0', len))
		return -1;
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		c.p += 3;
	for (;;) {
		int ch = next_char(&c);
		bool has_value;

		if (ch == '\n') {
			if (c.eof) {
				rc = 0;
				break;
			}
			comment = false;
			continue;
		}
		if (comment || isspace(ch))
			continue;
		if (ch == '#' || ch == ';') {
			comment = true;
			continue;
		}
		if (ch == '[') {
			var.len = 0;
			sh_buf_puts(&var, "");
			if (base_var(&c, &var) < 0)
				break;
			sh_buf_putc(&var, '.');
			baselen = var.len;
			continue;
		}
		if (!isalpha(ch))
			break;
		var.len = baselen;
		sh_buf_putc(&var, (char)tolower(ch));
		val.len = 0;
		if (get_value(&c, &var, &val, &has_value) < 0)
			break;
		add_if_risky(sh_buf_str(&var), has_value ? sh_buf_str(&val) : NULL, gitmodules, keys);
	}
	sh_buf_free(&var);
	sh_buf_free(&val);
	return rc;
}

/* git_parse_int: strtoimax in base 0 (so "010" is 8 and "08" is no number),
 * an optional k/m/g unit, and the result within an int. */
static bool is_git_int(const char *v)
{
	char *end;
	errno = 0;
	intmax_t n = strtoimax(v, &end, 0);
	if (errno == ERANGE || end == v)
		return false;
	intmax_t f = 1;
	if (*end && !end[1] && strchr("kKmMgG", *end))
		f = *end == 'k' || *end == 'K' ? 1024 : *end == 'm' || *end == 'M' ? 1024 * 1024
											 : 1024 * 1024 * 1024;
	else if (*end)
		return false;
	intmax_t lim = INT_MAX / f;
	return n <= lim && n >= -lim;
}

/* git_parse_maybe_bool: a boolean word, or an integer as git reads one;
 * such values name no program.  Anything else is a command. */
static bool is_bool(const char *v)
{
	static const char *const words[] = { "", "true", "false", "yes", "no", "on", "off" };

	if (!v)
		return true;
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strcasecmp(v, words[i]) == 0)
			return true;
	return is_git_int(v);
}

/* "section.key" pairs (no subsection) whose value is run or loaded. */
static const char *const plain_keys[] = {
	"core.hookspath",	   "core.sshcommand",	   "core.pager",
	"core.editor",		   "core.askpass",	   "core.gitproxy",
	"core.alternaterefscommand", "core.attributesfile", "diff.external",
	"credential.helper",	   "gpg.program",	   "sequence.editor",
	"uploadpack.packobjectshook", "include.path",	   "interactive.difffilter",
	"web.browser",		   "protocol.allow",	   "extensions.worktreeconfig",
	"sendemail.sendmailcmd",   "sendemail.tocmd",	   "sendemail.cccmd",
	"sendemail.smtpserver",    "imap.tunnel",	   "core.worktree",
};

/* "section.key" pairs that are risky with any subsection ("diff.<x>.textconv"). */
static const char *const sub_keys[] = {
	"diff.textconv",  "diff.command",	"merge.driver",	      "filter.clean",
	"filter.smudge",  "filter.process",	"credential.helper",  "gpg.program",
	"gpg.defaultkeycommand", "includeif.path", "difftool.cmd",    "difftool.path",
	"mergetool.cmd",  "mergetool.path",	"browser.cmd",	      "browser.path",
	"man.cmd",	  "man.path",		"remote.uploadpack",  "remote.receivepack",
	"remote.vcs",	  "url.insteadof",	"url.pushinsteadof", "protocol.allow",
	"tar.command",	  "trailer.command",	"trailer.cmd",	      "hook.command",
	"hook.event",	  "lfs.path",		"lfs.clean",	      "lfs.smudge",
	"guitool.cmd",	  "sendemail.sendmailcmd", "sendemail.tocmd", "sendemail.cccmd",
	"sendemail.smtpserver",
};

static bool in_list(const char *const *list, size_t n, const char *sec, size_t seclen,
		    const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (strncmp(list[i], sec, seclen) == 0 && list[i][seclen] == '.' &&
		    strcmp(list[i] + seclen + 1, key) == 0)
			return true;
	return false;
}

bool sh_audit_gitconfig_risky(const char *var, const char *value, bool gitmodules)
{
	const char *dot1 = strchr(var, '.'), *dot2 = strrchr(var, '.');
	const char *key;
	size_t seclen;
	bool has_sub;

	if (!dot1)
		return false;
	seclen = (size_t)(dot1 - var);
	key = dot2 + 1;
	has_sub = dot1 != dot2;
	if (gitmodules)
		return has_sub && seclen == 9 && strncmp(var, "submodule", 9) == 0 &&
		       (strcmp(key, "url") == 0 || strcmp(key, "update") == 0);
	if (!has_sub) {
		if (strcmp(var, "core.fsmonitor") == 0)
			return !is_bool(value); /* true: git's own daemon */
		if (seclen == 5 && strncmp(var, "alias", 5) == 0)
			return value && value[0] == '!';
		if (seclen == 5 && strncmp(var, "pager", 5) == 0)
			return !is_bool(value);
		return in_list(plain_keys, sizeof(plain_keys) / sizeof(plain_keys[0]), var, seclen,
			       key);
	}
	if (seclen == 9 && strncmp(var, "submodule", 9) == 0 && strcmp(key, "update") == 0)
		return value && value[0] == '!';
	return in_list(sub_keys, sizeof(sub_keys) / sizeof(sub_keys[0]), var, seclen, key);
}
