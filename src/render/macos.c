/* The macOS renderer (see macos.h).  Sources are copied as text, form by
 * form: the reader gives each top-level form's start, a small scanner finds
 * its end, and only the forms real SBPL cannot take are rewritten. */
#include "render/macos.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "policy/net.h"
#include "profile/profile.h"
#include "profile/sexp.h"
#include "util/str.h"

static const char *const helper_names[] = { "literal", "subpath", "prefix" };

/* ------------------------------------------------------------------ */
/* prelude */

/* One helper as real SBPL.  base is the directory's value; when it is "/"
 * (a workdir or home of "/"), "/" + "/x" must give "/x", not "//x", so the
 * helper picks the argument itself unless it is "". */
static void helper_define(struct sh_buf *b, const char *dir, const char *var, const char *base,
			  const char *kind)
{
	if (strcmp(base, "/") == 0)
		sh_buf_printf(b, "(define (%s-%s rel) (%s (if (string=? rel \"\") %s rel)))\n", dir,
			      kind, kind, var);
	else
		sh_buf_printf(b, "(define (%s-%s rel) (%s (string-append %s rel)))\n", dir, kind,
			      kind, var);
}

static void prelude(struct sh_buf *b, const struct sh_macos_render_in *in)
{
	char *h = sh_sbpl_quote(in->home);

	sh_buf_printf(b, ";; safehouse %s policy for macOS sandbox-exec (target: macos)\n",
		      SH_VERSION);
	sh_buf_puts(b, ";; Use: sandbox-exec -f THIS-FILE -- COMMAND...\n\n");
	sh_buf_puts(b, "(version 1)\n(deny default)\n\n");
	sh_buf_puts(b, ";; ---- <generated: definitions> ----\n");
	sh_buf_printf(b, "(define HOME_DIR %s)\n", h);
	if (in->workdir) {
		char *w = sh_sbpl_quote(in->workdir);
		sh_buf_printf(b, "(define WORK_DIR %s)\n", w);
		free(w);
	} else
		sh_buf_puts(b, ";; The workdir grant is disabled (--workdir=): no WORK_DIR.\n");
	sh_buf_puts(b, "(define TARGET \"macos\")\n");
	sh_buf_puts(b, ";; Path helpers: REL is \"\" (the directory itself) or starts with '/'.\n");
	for (size_t i = 0; i < 3; i++)
		helper_define(b, "home", "HOME_DIR", in->home, helper_names[i]);
	if (in->workdir)
		for (size_t i = 0; i < 3; i++)
			helper_define(b, "workdir", "WORK_DIR", in->workdir, helper_names[i]);
	free(h);
}

static void network_section(struct sh_buf *b, const struct sh_macos_render_in *in)
{
	sh_buf_puts(b, "\n;; ---- <generated: network (macos)> ----\n");
	switch (in->net) {
	case SH_NETMODE_FULL:
		sh_buf_puts(b, ";; Network mode: full.  Any IP destination, and name resolution\n"
			       ";; through mDNSResponder's socket.  Not every unix socket: a bare\n"
			       ";; (allow network-outbound) would also reach docker, ssh-agent, tmux.\n"
			       "(allow network-outbound (remote ip \"*:*\"))\n"
			       "(allow network-outbound\n"
			       "       (remote unix-socket (path-literal \"/private/var/run/mDNSResponder\")))\n"
			       "(allow mach-lookup\n"
			       "       (global-name \"com.apple.dnssd.service\")\n"
			       "       (global-name \"com.apple.SystemConfiguration.DNSConfiguration\")\n"
			       "       (global-name \"com.apple.SystemConfiguration.configd\"))\n");
		break;
	case SH_NETMODE_FILTERED:
		if (in->proxy_port)
			sh_buf_printf(b, ";; Network mode: filtered.  Only the safehouse proxy, which runs\n"
					 ";; outside the sandbox and enforces the (remote domain ...) list.\n"
					 "(allow network-outbound (remote tcp \"localhost:%u\"))\n",
				      (unsigned)in->proxy_port);
		else
			sh_buf_puts(b, ";; Network mode: filtered, but no proxy port is known: no outbound\n"
				       ";; rule at all (the same as \"none\").\n");
		break;
	case SH_NETMODE_NONE:
		sh_buf_puts(b, ";; Network mode: none.  No outbound rule.\n");
		break;
	default:
		sh_buf_puts(b, ";; Network mode: unknown; no outbound rule.\n");
		break;
	}
}

/* ------------------------------------------------------------------ */
/* source rewriting */

/* End (one past the closing parenthesis) of the list starting at text[i]. */
static size_t form_end(const char *t, size_t len, size_t i)
{
	int depth = 0;

	for (; i < len; i++) {
		char c = t[i];
		if (c == ';') {
			while (i < len && t[i] != '\n')
				i++;
		} else if (c == '"' || (c == '#' && i + 1 < len && t[i + 1] == '"')) {
			if (c == '#')
				i++;
			for (i++; i < len && t[i] != '"'; i++)
				if (t[i] == '\\')
					i++;
		} else if (c == '(') {
			depth++;
		} else if (c == ')') {
			if (--depth == 0)
				return i + 1;
		}
	}
	return len;
}

static bool is_list_head(const struct sh_sexp *x, const char *name)
{
	return x->kind == SH_SX_LIST && x->n > 0 && x->items[0].kind == SH_SX_SYMBOL &&
	       strcmp(x->items[0].text, name) == 0;
}

static bool is_domain(const struct sh_sexp *x)
{
	return is_list_head(x, "remote") && x->n >= 2 && x->items[1].kind == SH_SX_SYMBOL &&
	       strcmp(x->items[1].text, "domain") == 0;
}

static bool contains_domain(const struct sh_sexp *x)
{
	if (is_domain(x))
		return true;
	if (x->kind != SH_SX_LIST)
		return false;
	for (size_t i = 0; i < x->n; i++)
		if (contains_domain(&x->items[i]))
			return true;
	return false;
}

static void ensure_newline(struct sh_buf *b)
{
	if (b->len && sh_buf_str(b)[b->len - 1] != '\n')
		sh_buf_putc(b, '\n');
}

/* Comment out t[s..e) line by line, after a reason line. */
static void comment_out(struct sh_buf *b, const char *t, size_t s, size_t e, const char *why)
{
	ensure_newline(b);
	sh_buf_printf(b, ";; [safehouse/macos] %s:\n;; ", why);
	for (size_t i = s; i < e; i++) {
		sh_buf_putc(b, t[i]);
		if (t[i] == '\n')
			sh_buf_puts(b, ";; ");
	}
	sh_buf_putc(b, '\n');
}

/* A rule with (remote domain ...) filters.  Only direct filter arguments
 * are removed; a domain filter nested anywhere else (inside require-*, an
 * if, a define) comments the whole form out, which can only narrow. */
static void rewrite_domain_form(struct sh_buf *b, const char *t, size_t s, size_t e,
				const struct sh_sexp *x)
{
	static const char nested[] = "(remote domain ...) inside another form: not expressible "
				     "in SBPL (domains are enforced by the proxy), form dropped";
	bool rule = is_list_head(x, "allow") || is_list_head(x, "deny");
	size_t kept = 0;

	if (!rule) {
		comment_out(b, t, s, e, nested);
		return;
	}
	for (size_t i = 1; i < x->n; i++) {
		const struct sh_sexp *it = &x->items[i];
		if (it->kind != SH_SX_LIST || is_list_head(it, "with"))
			continue;
		if (is_domain(it))
			continue;
		if (contains_domain(it)) {
			comment_out(b, t, s, e, nested);
			return;
		}
		kept++;
	}
	if (kept == 0) {
		comment_out(b, t, s, e, "(remote domain ...) destinations are enforced by the "
			    "filtering proxy outside the sandbox, not by SBPL");
		return;
	}
	/* Print the rule without its domain filters. */
	struct sh_sexp copy = *x;
	copy.items = sh_xcalloc(x->n, sizeof(*copy.items));
	copy.n = 0;
	for (size_t i = 0; i < x->n; i++)
		if (!is_domain(&x->items[i]))
			copy.items[copy.n++] = x->items[i];
	comment_out(b, t, s, e, "(remote domain ...) filters removed (enforced by the filtering "
		    "proxy); the rest of the rule follows");
	char *p = sh_sexp_print(&copy);
	sh_buf_printf(b, "%s\n", p);
	free(p);
	free(copy.items);
}

static bool is_deny_default(const struct sh_sexp *x)
{
	return is_list_head(x, "deny") && x->n == 2 && x->items[1].kind == SH_SX_SYMBOL &&
	       strcmp(x->items[1].text, "default") == 0;
}

static int render_source(struct sh_buf *b, const struct sh_source *src, struct sh_err *e)
{
	const char *t = src->text;
	size_t len = src->len, pos = 0, nlines = 1, *lines;
	struct sh_sexp root;

	if (sh_sexp_read(src->name, t, len, &root, e) < 0)
		return -1;
	for (size_t i = 0; i < len; i++)
		nlines += t[i] == '\n';
	lines = sh_xcalloc(nlines + 1, sizeof(*lines));
	nlines = 1;
	for (size_t i = 0; i < len; i++)
		if (t[i] == '\n')
			lines[nlines++] = i + 1;
	for (size_t k = 0; k < root.n; k++) {
		const struct sh_sexp *x = &root.items[k];
		if (x->kind != SH_SX_LIST || x->line < 1 || (size_t)x->line > nlines)
			continue; /* atoms cannot compile; left verbatim */
		size_t s = lines[x->line - 1] + (size_t)(x->col - 1);
		if (s < pos || s >= len || t[s] != '(')
			continue; /* cannot happen: keep the text verbatim */
		size_t end = form_end(t, len, s);
		if (is_list_head(x, "version")) {
			sh_buf_append(b, t + pos, s - pos);
			comment_out(b, t, s, end, "in the prelude");
		} else if (is_deny_default(x)) {
			sh_buf_append(b, t + pos, s - pos);
			comment_out(b, t, s, end, "in the prelude (exactly once)");
		} else if (contains_domain(x)) {
			sh_buf_append(b, t + pos, s - pos);
			rewrite_domain_form(b, t, s, end, x);
		} else
			continue; /* verbatim: copied with the next segment */
		pos = end;
		/* the rest of the line starts on a fresh line after a comment */
		if (pos < len && t[pos] == '\n')
			pos++;
	}
	sh_buf_append(b, t + pos, len - pos);
	ensure_newline(b);
	free(lines);
	sh_sexp_free(&root);
	return 0;
}

int sh_macos_render(const struct sh_macos_render_in *in, char **out, struct sh_err *e)
{
	const struct sh_assembly *a = in->a;
	struct sh_buf b = { 0 };
	size_t net_after = 0; /* insert the network rule after source net_after-1 */
	bool net_done = false;

	for (size_t i = 0; i < a->n; i++)
		if (sh_str_starts(a->src[i].name, "20-network/") ||
		    (strcmp(a->src[i].name, "<generated: traversal>") == 0 && net_after <= i))
			net_after = i + 1;
	prelude(&b, in);
	if (net_after == 0) {
		network_section(&b, in);
		net_done = true;
	}
	for (size_t i = 0; i < a->n; i++) {
		const struct sh_source *src = &a->src[i];
		if (src->kind == SH_SRC_GENERATED &&
		    strcmp(src->name, "<generated: definitions>") == 0)
			continue; /* the prelude */
		sh_buf_printf(&b, "\n;; ---- %s ----\n", src->name);
		if (render_source(&b, src, e) < 0) {
			sh_buf_free(&b);
			return -1;
		}
		if (!net_done && i + 1 == net_after) {
			network_section(&b, in);
			net_done = true;
		}
	}
	if (!net_done)
		network_section(&b, in);
	*out = sh_buf_take(&b);
	return 0;
}

/* ------------------------------------------------------------------ */
/* network mode */

enum sh_net_mode sh_macos_net_mode(const struct sh_policy *p)
{
	struct sh_strv domains = { 0 };
	enum sh_net_mode m = SH_NETMODE_NONE;

	if (sh_policy_full_network(p, NULL))
		return SH_NETMODE_FULL;
	sh_policy_domains(p, &domains);
	if (domains.n)
		m = SH_NETMODE_FILTERED;
	sh_strv_free(&domains);
	return m;
}
