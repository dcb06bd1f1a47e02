#include "config/wdconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/path.h"

#define TRUST_STORE_MAX (1024 * 1024)

const char *const sh_wdconfig_keys[] = {
	"add-dirs", "add-dirs-ro",   "enable",       "append-profile", "network",
	"allow-domains", "deny-domains", "publish", "env-pass",       "sandbox",
	NULL,
};

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool key_known(const char *const *keys, const char *k)
{
	for (size_t i = 0; keys[i]; i++)
		if (strcmp(keys[i], k) == 0)
			return true;
	return false;
}

static char *valid_keys_list(const char *const *keys)
{
	struct sh_buf b = { 0 };

	for (size_t i = 0; keys[i]; i++)
		sh_buf_printf(&b, "%s%s", i ? ", " : "", keys[i]);
	return sh_buf_take(&b);
}

/* Trim blanks from both ends of s[0..*n); returns the new start. */
static const char *trim(const char *s, size_t *n)
{
	while (*n && is_blank(*s)) {
		s++;
		(*n)--;
	}
	while (*n && is_blank(s[*n - 1]))
		(*n)--;
	return s;
}

static bool has_ctl_n(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
			return true;
	}
	return false;
}

static void add_entry(struct sh_wdconfig *c, char *key, char *value, unsigned line)
{
	sh_xgrow(&c->ent, &c->cap, c->n + 1, sizeof(*c->ent));
	c->ent[c->n++] = (struct sh_wdentry){ key, value, line };
}

static int parse_line(struct sh_wdconfig *c, const char *s, size_t n, unsigned line,
		      const char *origin, const char *const *keys, struct sh_err *e)
{
	const char *eq, *k, *v;
	size_t kn, vn;
	char *key;

	if (n && s[n - 1] == '\r')
		n--;
	if (has_ctl_n(s, n))
		return sh_fail(e, SH_EXIT_USAGE, 0, "%s:%u: control character in line", origin,
			       line);
	s = trim(s, &n);
	if (n == 0 || s[0] == '#')
		return 0;
	eq = memchr(s, '=', n);
	if (!eq)
		return sh_fail(e, SH_EXIT_USAGE, 0, "%s:%u: expected key=value", origin, line);
	kn = (size_t)(eq - s);
	k = trim(s, &kn);
	vn = n - (size_t)(eq + 1 - s);
	v = trim(eq + 1, &vn);
	if (kn == 0)
		return sh_fail(e, SH_EXIT_USAGE, 0, "%s:%u: expected key=value", origin, line);
	key = sh_xstrndup(k, kn);
	if (!key_known(keys, key)) {
		char *list = valid_keys_list(keys);
		sh_fail(e, SH_EXIT_USAGE, 0, "%s:%u: unknown key '%s'", origin, line, key);
		sh_hint(e, "valid keys: %s", list);
		free(list);
		free(key);
		return -1;
	}
	add_entry(c, key, sh_xstrndup(v, vn), line);
	return 0;
}

int sh_wdconfig_parse(struct sh_wdconfig *c, const char *buf, size_t len, const char *origin,
		      struct sh_err *e)
{
	return sh_kv_parse(c, buf, len, origin, sh_wdconfig_keys, e);
}

int sh_kv_parse(struct sh_wdconfig *c, const char *buf, size_t len, const char *origin,
		const char *const *keys, struct sh_err *e)
{
	const char *p = buf, *end = buf + len;
	unsigned line = 1;

	if (!c->origin)
		c->origin = sh_xstrdup(origin);
	for (; p < end; line++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((nl ? nl : end) - p);
		if (memchr(p, '\0', n))
			return sh_fail(e, SH_EXIT_USAGE, 0, "%s:%u: NUL byte in file", origin,
				       line);
		if (parse_line(c, p, n, line, origin, keys, e) < 0)
			return -1;
		p = nl ? nl + 1 : end;
	}
	return 0;
}

int sh_wdconfig_load(struct sh_wdconfig *c, const char *workdir, struct sh_err *e)
{
	char *path = sh_path_join(workdir, SH_WDCONFIG_NAME);
	char *buf = NULL;
	size_t len = 0;
	struct sh_err le = { 0 };
	int r = 1;

	/* O_NOFOLLOW: the workdir belongs to the agent; a symlink here could
	 * point at any file the user can read. */
	if (sh_read_small_file(path, O_NOFOLLOW, SH_WDCONFIG_MAX_SIZE, &buf, &len, &le) < 0) {
		if (le.errnum == ENOENT) {
			r = 0;
		} else {
			*e = le;
			r = -1;
		}
	} else if (sh_wdconfig_parse(c, buf, len, path, e) < 0) {
		r = -1;
	}
	free(buf);
	free(path);
	return r;
}

bool sh_wdconfig_present(const char *workdir)
{
	char *path = sh_path_join(workdir, SH_WDCONFIG_NAME);
	struct stat st;
	bool r = lstat(path, &st) == 0;

	free(path);
	return r;
}

void sh_wdconfig_free(struct sh_wdconfig *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->ent[i].key);
		free(c->ent[i].value);
	}
	free(c->ent);
	free(c->origin);
	*c = (struct sh_wdconfig){ 0 };
}

/* ---- trusted-workdirs store ---- */

int sh_trust_store_path(char **out, struct sh_err *e)
{
	const char *xdg = getenv("XDG_CONFIG_HOME");
	const char *home = getenv("HOME");
	char *base;

	if (xdg && xdg[0] == '/') {
		base = sh_xstrdup(xdg);
	} else {
		if (!home || home[0] != '/') {
			struct passwd *pw;
			errno = 0;
			pw = getpwuid(getuid());
			if (!pw || !pw->pw_dir || pw->pw_dir[0] != '/')
				return sh_fail(e, SH_EXIT_USAGE, errno,
					       "cannot locate the trusted-workdirs file: "
					       "HOME is unset and there is no passwd entry");
			home = pw->pw_dir;
		}
		base = sh_path_join(home, ".config");
	}
	*out = sh_xasprintf("%s/safehouse/trusted-workdirs", base);
	free(base);
	return 0;
}

/* Reads the store; a missing file yields an empty buffer. */
static int store_read(const char *store, char **buf, size_t *len, struct sh_err *e)
{
	struct sh_err le = { 0 };

	if (sh_read_small_file(store, 0, TRUST_STORE_MAX, buf, len, &le) == 0)
		return 0;
	if (le.errnum == ENOENT || le.errnum == ENOTDIR) {
		*buf = sh_xstrdup("");
		*len = 0;
		return 0;
	}
	*e = le;
	return sh_err_prefix(e, "trusted-workdirs");
}

/* Does the line s[0..n) (trailing CR ignored) equal path? */
static bool line_is(const char *s, size_t n, const char *path)
{
	if (n && s[n - 1] == '\r')
		n--;
	return n == strlen(path) && memcmp(s, path, n) == 0;
}

int sh_trust_is_trusted(const char *store, const char *workdir, bool *trusted,
			struct sh_err *e)
{
	char *buf;
	size_t len;
	const char *p, *end;

	if (store_read(store, &buf, &len, e) < 0)
		return -1;
	*trusted = false;
	for (p = buf, end = buf + len; p < end && !*trusted;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((nl ? nl : end) - p);
		*trusted = line_is(p, n, workdir);
		p = nl ? nl + 1 : end;
	}
	free(buf);
	return 0;
}

/* mkdir -p for the store's directory; new components get 0700 because the
 * store decides what the sandbox trusts. */
static int mkdir_parents(const char *dir, struct sh_err *e)
{
	char *p = sh_xstrdup(dir);
	int r = 0;

	for (char *s = p + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char saved = *s;
		*s = '\0';
		if (mkdir(p, 0700) < 0 && errno != EEXIST) {
			r = sh_fail(e, SH_EXIT_USAGE, errno, "cannot create '%s'", p);
			break;
		}
		*s = saved;
		if (saved == '\0')
			break;
	}
	free(p);
	return r;
}

static int write_all(int fd, const char *s, size_t n)
{
	while (n) {
		ssize_t w = write(fd, s, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Replace store with content, atomically: readers see the old or the new
 * file, never a torn one. */
static int store_write(const char *store, const char *content, size_t len, struct sh_err *e)
{
	char *dir = sh_path_parent(store);
	char *tmp = sh_xasprintf("%s/.trusted-workdirs.XXXXXX", dir);
	int fd, r = -1;

	if (mkdir_parents(dir, e) < 0)
		goto out;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		sh_fail(e, SH_EXIT_USAGE, errno, "cannot create a file in '%s'", dir);
		goto out;
	}
	if (fchmod(fd, 0600) < 0 || write_all(fd, content, len) < 0 || fsync(fd) < 0) {
		sh_fail(e, SH_EXIT_USAGE, errno, "cannot write '%s'", tmp);
		close(fd);
		unlink(tmp);
		goto out;
	}
	if (close(fd) < 0) {
		sh_fail(e, SH_EXIT_USAGE, errno, "cannot write '%s'", tmp);
		unlink(tmp);
		goto out;
	}
	if (rename(tmp, store) < 0) {
		sh_fail(e, SH_EXIT_USAGE, errno, "cannot replace '%s'", store);
		unlink(tmp);
		goto out;
	}
	r = 0;
out:
	free(tmp);
	free(dir);
	return r;
}

static int check_entry(const char *workdir, struct sh_err *e)
{
	if (workdir[0] != '/')
		return sh_fail(e, SH_EXIT_USAGE, 0,
			       "trusted-workdirs: '%s' is not an absolute path", workdir);
	if (sh_has_ctl(workdir))
		return sh_fail(e, SH_EXIT_USAGE, 0,
			       "trusted-workdirs: path contains control characters");
	return 0;
}

/* Rebuild the store without lines equal to drop (if non-NULL) and with add
 * appended (if non-NULL and not already listed).  Returns 1 if changed. */
static int store_update(const char *store, const char *add, const char *drop,
			struct sh_err *e)
{
	struct sh_buf out = { 0 };
	char *buf;
	size_t len;
	bool changed = false, listed = false;
	int r = 0;

	if (store_read(store, &buf, &len, e) < 0)
		return -1;
	for (const char *p = buf, *end = buf + len; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((nl ? nl : end) - p);
		if (drop && line_is(p, n, drop)) {
			changed = true;
		} else {
			listed = listed || (add && line_is(p, n, add));
			sh_buf_append(&out, p, n);
			sh_buf_putc(&out, '\n');
		}
		p = nl ? nl + 1 : end;
	}
	if (add && !listed) {
		sh_buf_printf(&out, "%s\n", add);
		changed = true;
	}
	if (changed)
		r = store_write(store, sh_buf_str(&out), out.len, e) < 0 ? -1 : 1;
	sh_buf_free(&out);
	free(buf);
	return r;
}

int sh_trust_add(const char *store, const char *workdir, struct sh_err *e)
{
	if (check_entry(workdir, e) < 0)
		return -1;
	return store_update(store, workdir, NULL, e);
}

int sh_trust_remove(const char *store, const char *workdir, struct sh_err *e)
{
	if (check_entry(workdir, e) < 0)
		return -1;
	return store_update(store, NULL, workdir, e);
}

/* ---- trust decision ---- */

int sh_parse_bool(const char *s, bool *out, const char *what, struct sh_err *e)
{
	static const char *const yes[] = { "1", "true", "yes", "on" };
	static const char *const no[] = { "0", "false", "no", "off" };

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	if (sh_has_ctl(s))
		return sh_fail(e, SH_EXIT_USAGE, 0,
			       "invalid value for %s (expected 1/0, true/false, yes/no, on/off)",
			       what);
	return sh_fail(e, SH_EXIT_USAGE, 0,
		       "invalid value '%s' for %s (expected 1/0, true/false, yes/no, on/off)", s,
		       what);
}

static void decide(struct sh_trust_decision *out, bool trusted, enum sh_trust_source src,
		   const char *reason)
{
	out->trusted = trusted;
	out->source = src;
	out->reason = reason;
}

int sh_trust_decide(const struct sh_trust_input *in, struct sh_trust_decision *out,
		    struct sh_err *e)
{
	bool env = false, env_set = in->env && in->env[0];

	if (env_set && sh_parse_bool(in->env, &env, "SAFEHOUSE_TRUST_WORKDIR_CONFIG", e) < 0)
		return -1;
	if (in->always == SH_TRI_TRUE)
		decide(out, true, SH_TRUST_SRC_ALWAYS_FLAG,
		       "trusted: --always-trust-workdir-config");
	else if (in->always == SH_TRI_FALSE)
		decide(out, false, SH_TRUST_SRC_ALWAYS_FLAG,
		       "not trusted: --always-trust-workdir-config=false");
	else if (in->once == SH_TRI_TRUE)
		decide(out, true, SH_TRUST_SRC_FLAG, "trusted: --trust-workdir-config");
	else if (in->once == SH_TRI_FALSE)
		decide(out, false, SH_TRUST_SRC_FLAG, "not trusted: --trust-workdir-config=false");
	else if (env_set)
		decide(out, env, SH_TRUST_SRC_ENV,
		       env ? "trusted: SAFEHOUSE_TRUST_WORKDIR_CONFIG"
			   : "not trusted: SAFEHOUSE_TRUST_WORKDIR_CONFIG is false");
	else if (in->listed)
		decide(out, true, SH_TRUST_SRC_STORE, "trusted: listed in trusted-workdirs");
	else
		decide(out, false, SH_TRUST_SRC_DEFAULT,
		       "not trusted: default (use --trust-workdir-config)");
	return 0;
}
