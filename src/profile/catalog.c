/* The profile catalogue: embedded at build time, or read from a developer's
 * directory (--profiles-dir) with the same <layer>/<name>.sb layout. */
#include "profile/catalog.h"

#include <dirent.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/str.h"

#define SH_PROFILE_MAX (1u << 20) /* a profile larger than 1 MiB is a mistake */

static int cmp_item(const void *a, const void *b)
{
	return strcmp(((const struct sh_embedded *)a)->name, ((const struct sh_embedded *)b)->name);
}

static void push(struct sh_catalog *c, size_t *cap, const char *name, const char *text, size_t len)
{
	/* A target-specific file replaces the common one of the same name; both
	 * are pushed in load order (common first), so replace in place. */
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->items[i].name, name) == 0) {
			if (c->dir) {
				free((char *)c->items[i].name);
				free((char *)c->items[i].text);
			}
			c->items[i].name = name;
			c->items[i].text = text;
			c->items[i].len = len;
			return;
		}
	sh_xgrow(&c->items, cap, c->n + 1, sizeof(*c->items));
	c->items[c->n].name = name;
	c->items[c->n].text = text;
	c->items[c->n].len = len;
	c->n++;
}

static int read_small_file(int dirfd, const char *name, char **out, size_t *len,
			   const char *shown, struct sh_err *e)
{
	struct stat st;
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	char *buf;
	size_t got = 0;

	if (fd < 0)
		return sh_fail(e, SH_EXIT_USAGE, errno, "cannot open profile '%s'", shown);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > SH_PROFILE_MAX) {
		close(fd);
		return sh_fail(e, SH_EXIT_USAGE, 0, "profile '%s' is not a regular file under 1 MiB",
			       shown);
	}
	buf = sh_xmalloc((size_t)st.st_size + 1);
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			int err = r < 0 ? errno : 0;
			free(buf);
			close(fd);
			return sh_fail(e, SH_EXIT_USAGE, err, "cannot read profile '%s'", shown);
		}
		got += (size_t)r;
	}
	close(fd);
	buf[got] = '\0';
	*out = buf;
	*len = got;
	return 0;
}

static int load_layer(struct sh_catalog *c, size_t *cap, int rootfd, const char *layer,
		      const char *prefix, struct sh_err *e)
{
	int fd = openat(rootfd, layer, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	DIR *d;
	struct dirent *de;
	int rc = 0;

	if (fd < 0)
		return sh_fail(e, SH_EXIT_USAGE, errno, "cannot open profile layer '%s/%s%s'",
			       c->dir, prefix, layer);
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return sh_fail(e, SH_EXIT_USAGE, errno, "cannot list '%s/%s%s'", c->dir, prefix,
			       layer);
	}
	while ((de = readdir(d)) && rc == 0) {
		char *text = NULL, *name;
		size_t len = 0;
		if (!sh_str_ends(de->d_name, ".sb") || de->d_name[0] == '.')
			continue;
		name = sh_xasprintf("%s/%s", layer, de->d_name);
		rc = read_small_file(dirfd(d), de->d_name, &text, &len, name, e);
		if (rc == 0)
			push(c, cap, name, text, len);
		else
			free(name);
	}
	closedir(d);
	return rc;
}

static bool is_layer(const char *name)
{
	return name[0] >= '0' && name[0] <= '9';
}

/* Load dir/<layer>/ (prefix "") or dir/<target>/<layer>/ (prefix "<target>/"). */
static int load_tree(struct sh_catalog *c, size_t *cap, int rootfd, const char *prefix,
		     struct sh_err *e)
{
	DIR *d;
	struct dirent *de;
	int fd, rc = 0;

	fd = *prefix ? openat(rootfd, prefix, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
		     : fcntl(rootfd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return errno == ENOENT ? 0
				       : sh_fail(e, SH_EXIT_USAGE, errno, "cannot open '%s/%s'", c->dir,
						 prefix);
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return sh_fail(e, SH_EXIT_USAGE, errno, "cannot list '%s/%s'", c->dir, prefix);
	}
	while ((de = readdir(d)) && rc == 0)
		if (is_layer(de->d_name) && de->d_type != DT_REG)
			rc = load_layer(c, cap, dirfd(d), de->d_name, prefix, e);
	closedir(d);
	return rc;
}

static void load_embedded(struct sh_catalog *c, size_t *cap, const char *target)
{
	size_t tl = strlen(target);

	/* Common files first, then the target's own, which replace them. */
	for (const struct sh_embedded *p = sh_embedded_profiles; p->name; p++)
		if (is_layer(p->name))
			push(c, cap, p->name, p->text, p->len);
	for (const struct sh_embedded *p = sh_embedded_profiles; p->name; p++)
		if (strncmp(p->name, target, tl) == 0 && p->name[tl] == '/')
			push(c, cap, p->name + tl + 1, p->text, p->len);
}

int sh_catalog_load(struct sh_catalog *c, const char *dir, const char *target, struct sh_err *e)
{
	size_t cap = 0;
	int rootfd, rc;
	char *prefix;

	memset(c, 0, sizeof(*c));
	if (!dir) {
		load_embedded(c, &cap, target);
		qsort(c->items, c->n, sizeof(*c->items), cmp_item);
		sh_catalog_index(c);
		return 0;
	}
	rootfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return sh_fail(e, SH_EXIT_USAGE, errno, "cannot open profiles directory '%s'", dir);
	c->dir = sh_xstrdup(dir);
	prefix = sh_xasprintf("%s/", target);
	rc = load_tree(c, &cap, rootfd, "", e);
	if (rc == 0)
		rc = load_tree(c, &cap, rootfd, prefix, e);
	free(prefix);
	close(rootfd);
	if (rc < 0) {
		sh_catalog_free(c);
		return -1;
	}
	qsort(c->items, c->n, sizeof(*c->items), cmp_item);
	sh_catalog_index(c);
	return 0;
}

void sh_catalog_index(struct sh_catalog *c)
{
	sh_catalog_meta_free(c);
	c->meta = sh_xcalloc(c->n ? c->n : 1, sizeof(*c->meta));
	for (size_t i = 0; i < c->n; i++)
		sh_profile_scan_meta(c->items[i].text, c->items[i].len, &c->meta[i]);
}

void sh_catalog_meta_free(struct sh_catalog *c)
{
	for (size_t i = 0; c->meta && i < c->n; i++)
		sh_profile_meta_free(&c->meta[i]);
	free(c->meta);
	c->meta = NULL;
}

const struct sh_profile_meta *sh_catalog_meta(const struct sh_catalog *c, const struct sh_embedded *p)
{
	return &c->meta[p - c->items];
}

void sh_catalog_free(struct sh_catalog *c)
{
	sh_catalog_meta_free(c);
	if (c->dir)
		for (size_t i = 0; i < c->n; i++) {
			free((char *)c->items[i].name);
			free((char *)c->items[i].text);
		}
	free(c->items);
	free(c->dir);
	memset(c, 0, sizeof(*c));
}

const struct sh_embedded *sh_catalog_find(const struct sh_catalog *c, const char *name)
{
	struct sh_embedded key = { name, NULL, 0 };
	return bsearch(&key, c->items, c->n, sizeof(*c->items), cmp_item);
}
