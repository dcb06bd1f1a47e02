#include "config/requirements.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/wdconfig.h"
#include "util/path.h"

#define REQ_MAX_SIZE (256 * 1024)

static const char *const req_keys[] = {
	"allowed-network", "allowed-sandbox", "allowed-enable", "forbidden-enable",
	"append-profile",  "deny-path",       "deny-domains",   "forbid-env",
	"forbid-danger-full-access", "forbid-publish", NULL,
};

static void list_add(struct sh_req_list *l, const char *value, const char *origin)
{
	sh_xgrow(&l->v, &l->cap, l->n + 1, sizeof(*l->v));
	l->v[l->n].value = sh_xstrdup(value);
	l->v[l->n].origin = sh_xstrdup(origin);
	l->n++;
}

static void list_free(struct sh_req_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].value);
		free(l->v[i].origin);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static void item_free(struct sh_req_item *it)
{
	free(it->value);
	free(it->origin);
	memset(it, 0, sizeof(*it));
}

/* Comma lists for enable/network/sandbox/domains; one path per line for paths. */
static void add_values(struct sh_req_list *l, const char *value, const char *origin, bool split)
{
	struct sh_strv parts = { 0 };

	if (!split) {
		list_add(l, value, origin);
		return;
	}
	sh_strv_split(&parts, value, ',');
	for (size_t i = 0; i < parts.n; i++) {
		char *t = parts.v[i];
		while (*t == ' ')
			t++;
		size_t n = strlen(t);
		while (n && t[n - 1] == ' ')
			t[--n] = '\0';
		if (*t) {
			char *low = sh_xstrlower(t);
			list_add(l, low, origin);
			free(low);
		}
	}
	sh_strv_free(&parts);
}

static int set_bool(struct sh_req_item *it, const char *key, const char *value, const char *origin,
		    struct sh_err *e)
{
	bool b;
	if (sh_parse_bool(value, &b, key, e) < 0)
		return sh_err_prefix(e, "%s", origin);
	item_free(it);
	if (b) {
		it->value = sh_xstrdup("true");
		it->origin = sh_xstrdup(origin);
	}
	return 0;
}

static int check_enum(const struct sh_req_list *l, size_t from, const char *const *valid,
		      const char *key, struct sh_err *e)
{
	for (size_t i = from; i < l->n; i++) {
		bool ok = false;
		for (size_t j = 0; valid[j]; j++)
			ok = ok || strcmp(valid[j], l->v[i].value) == 0;
		if (!ok)
			return sh_fail(e, SH_EXIT_USAGE, 0, "%s: %s: unknown value '%s'",
				       l->v[i].origin, key, l->v[i].value);
	}
	return 0;
}

static int apply_entry(struct sh_requirements *r, const struct sh_wdentry *en, const char *origin,
		       struct sh_err *e)
{
	static const char *const nets[] = { "none", "filtered", "full", NULL };
	static const char *const boxes[] = { "read-only", "workspace-write", "danger-full-access",
					     NULL };
	const char *k = en->key, *v = en->value;
	size_t before;

	if (strcmp(k, "allowed-network") == 0) {
		before = r->allowed_network.n;
		add_values(&r->allowed_network, v, origin, true);
		return check_enum(&r->allowed_network, before, nets, k, e);
	}
	if (strcmp(k, "allowed-sandbox") == 0) {
		before = r->allowed_sandbox.n;
		add_values(&r->allowed_sandbox, v, origin, true);
		return check_enum(&r->allowed_sandbox, before, boxes, k, e);
	}
	if (strcmp(k, "allowed-enable") == 0)
		return add_values(&r->allowed_enable, v, origin, true), 0;
	if (strcmp(k, "forbidden-enable") == 0)
		return add_values(&r->forbidden_enable, v, origin, true), 0;
	if (strcmp(k, "deny-domains") == 0)
		return add_values(&r->deny_domains, v, origin, true), 0;
	if (strcmp(k, "append-profile") == 0 || strcmp(k, "deny-path") == 0) {
		if (v[0] != '/' || sh_has_ctl(v))
			return sh_fail(e, SH_EXIT_USAGE, 0, "%s: %s: expected an absolute path", origin,
				       k);
		add_values(k[0] == 'a' ? &r->append_profile : &r->deny_path, v, origin, false);
		return 0;
	}
	if (strcmp(k, "forbid-env") == 0)
		return set_bool(&r->forbid_env, k, v, origin, e);
	if (strcmp(k, "forbid-publish") == 0)
		return set_bool(&r->forbid_publish, k, v, origin, e);
	return set_bool(&r->forbid_danger, k, v, origin, e);
}

/* Trusted only when root owns it and nobody else can write it. */
static const char *untrusted_reason(const struct stat *st)
{
	if (st->st_uid != 0)
		return "not root-owned";
	if (st->st_mode & (S_IWGRP | S_IWOTH))
		return "writable by group or others";
	return NULL;
}

static int check_owner(const char *dir, const char *path, struct sh_requirements *r)
{
	struct stat sd, sf;
	const char *why = NULL;

	if (lstat(path, &sf) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISREG(sf.st_mode))
		why = "not a regular file";
	else if (stat(dir, &sd) == 0 && untrusted_reason(&sd))
		why = "its directory is not root-owned and protected";
	else
		why = untrusted_reason(&sf);
	if (why) {
		r->ignored = sh_xasprintf("%s ignored: %s", path, why);
		return 0;
	}
	return 1;
}

int sh_requirements_load(const char *dir, struct sh_requirements *r, struct sh_err *e)
{
	char *path = sh_path_join(dir, "requirements"), *buf = NULL;
	struct sh_wdconfig kv = { 0 };
	size_t len = 0;
	int rc = check_owner(dir, path, r);

	if (rc <= 0) {
		free(path);
		return rc < 0 ? sh_fail(e, SH_EXIT_USAGE, errno, "cannot stat requirements") : 0;
	}
	rc = sh_read_small_file(path, O_NOFOLLOW, REQ_MAX_SIZE, &buf, &len, e);
	if (rc == 0)
		rc = sh_kv_parse(&kv, buf, len, path, req_keys, e);
	for (size_t i = 0; rc == 0 && i < kv.n; i++) {
		char *origin = sh_xasprintf("%s:%u", path, kv.ent[i].line);
		rc = apply_entry(r, &kv.ent[i], origin, e);
		free(origin);
	}
	sh_wdconfig_free(&kv);
	free(buf);
	if (rc < 0) {
		free(path);
		return -1;
	}
	r->path = path;
	return 1;
}

void sh_requirements_free(struct sh_requirements *r)
{
	free(r->path);
	free(r->ignored);
	list_free(&r->allowed_network);
	list_free(&r->allowed_sandbox);
	list_free(&r->allowed_enable);
	list_free(&r->forbidden_enable);
	list_free(&r->append_profile);
	list_free(&r->deny_path);
	list_free(&r->deny_domains);
	item_free(&r->forbid_env);
	item_free(&r->forbid_danger);
	item_free(&r->forbid_publish);
	memset(r, 0, sizeof(*r));
}

const struct sh_req_item *sh_req_find(const struct sh_req_list *l, const char *v)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i].value, v) == 0)
			return &l->v[i];
	return NULL;
}

int sh_req_check_allowed(const struct sh_req_list *l, const char *key, const char *value,
			 const char *what, struct sh_err *e)
{
	if (l->n == 0 || sh_req_find(l, value))
		return 0;
	sh_fail(e, SH_EXIT_USAGE, 0, "%s is not allowed by the administrator's requirement %s=... "
		"at %s", what, key, l->v[0].origin);
	return sh_hint(e, "allowed: see 'safehouse doctor' for the requirements in force");
}

size_t sh_requirements_count(const struct sh_requirements *r)
{
	return r->allowed_network.n + r->allowed_sandbox.n + r->allowed_enable.n +
	       r->forbidden_enable.n + r->append_profile.n + r->deny_path.n + r->deny_domains.n +
	       (r->forbid_env.value != NULL) + (r->forbid_danger.value != NULL) +
	       (r->forbid_publish.value != NULL);
}

static void print_list(FILE *f, const char *prefix, const char *key, const struct sh_req_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		fprintf(f, "%s%s=%s (%s)\n", prefix, key, l->v[i].value, l->v[i].origin);
}

void sh_requirements_print(const struct sh_requirements *r, const char *prefix, void *file)
{
	FILE *f = file;

	print_list(f, prefix, "allowed-network", &r->allowed_network);
	print_list(f, prefix, "allowed-sandbox", &r->allowed_sandbox);
	print_list(f, prefix, "allowed-enable", &r->allowed_enable);
	print_list(f, prefix, "forbidden-enable", &r->forbidden_enable);
	print_list(f, prefix, "append-profile", &r->append_profile);
	print_list(f, prefix, "deny-path", &r->deny_path);
	print_list(f, prefix, "deny-domains", &r->deny_domains);
	if (r->forbid_env.value)
		fprintf(f, "%sforbid-env=true (%s)\n", prefix, r->forbid_env.origin);
	if (r->forbid_danger.value)
		fprintf(f, "%sforbid-danger-full-access=true (%s)\n", prefix, r->forbid_danger.origin);
	if (r->forbid_publish.value)
		fprintf(f, "%sforbid-publish=true (%s)\n", prefix, r->forbid_publish.origin);
}
