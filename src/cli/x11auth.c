/* The x11 integration's per-session X authority (see x11auth.h). */
#include "cli/x11auth.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "enforce/landlock.h"
#include "util/fdio.h"
#include "util/path.h"
#include "util/str.h"

#define FAMILY_LOCAL 256
#define FAMILY_WILD 65535
#define XAUTH_MAX (1024 * 1024)

void sh_x11auth_init(struct sh_x11auth *x)
{
	sh_sessdir_init(&x->dir);
}

long sh_x11_local_display(const char *d)
{
	long n = 0;
	size_t digits = 0;

	if (!d)
		return -1;
	if (strncmp(d, "unix:", 5) == 0)
		d += 5;
	else if (d[0] == ':')
		d += 1;
	else
		return -1;
	for (; *d >= '0' && *d <= '9' && digits < 6; d++, digits++)
		n = n * 10 + (*d - '0');
	if (!digits)
		return -1;
	if (*d == '.') { /* screen */
		size_t sd = 0;
		for (d++; *d >= '0' && *d <= '9' && sd < 6; d++)
			sd++;
		if (!sd)
			return -1;
	}
	return *d ? -1 : n;
}

/* One counted field: 2 bytes of length (big-endian), then the bytes. */
static int field(const unsigned char *in, size_t len, size_t *pos, const unsigned char **v,
		 size_t *vlen)
{
	if (len - *pos < 2)
		return -1;
	*vlen = (size_t)in[*pos] << 8 | in[*pos + 1];
	*pos += 2;
	if (len - *pos < *vlen)
		return -1;
	*v = in + *pos;
	*pos += *vlen;
	return 0;
}

static void put_field(struct sh_buf *b, const void *v, size_t n)
{
	char hdr[2] = { (char)(n >> 8), (char)(n & 0xff) };
	sh_buf_append(b, hdr, 2);
	if (n)
		sh_buf_append(b, v, n);
}

static bool same(const unsigned char *v, size_t n, const char *s)
{
	return n == strlen(s) && memcmp(v, s, n) == 0;
}

int sh_x11_filter_auth(const unsigned char *in, size_t len, const char *hostname, long number,
		       unsigned char **out, size_t *outlen)
{
	struct sh_buf b = { 0 };
	char num[24];
	size_t pos = 0;
	int count = 0;

	snprintf(num, sizeof(num), "%ld", number);
	while (pos < len) {
		const unsigned char *addr, *nr, *name, *data;
		size_t addrl, nrl, namel, datal;
		unsigned family;

		if (len - pos < 2)
			goto bad;
		family = (unsigned)in[pos] << 8 | in[pos + 1];
		pos += 2;
		if (field(in, len, &pos, &addr, &addrl) < 0 || field(in, len, &pos, &nr, &nrl) < 0 ||
		    field(in, len, &pos, &name, &namel) < 0 || field(in, len, &pos, &data, &datal) < 0)
			goto bad;
		/* As Xlib chooses for a local connection: this display (or an
		 * entry for every display), this machine's name or any. */
		if (nrl && !same(nr, nrl, num))
			continue;
		if (family != FAMILY_WILD &&
		    !(family == FAMILY_LOCAL && hostname && same(addr, addrl, hostname)))
			continue;
		char wild[2] = { (char)0xff, (char)0xff };
		sh_buf_append(&b, wild, 2);
		put_field(&b, "", 0);
		put_field(&b, num, strlen(num));
		put_field(&b, name, namel);
		put_field(&b, data, datal);
		count++;
	}
	*outlen = b.len;
	*out = (unsigned char *)sh_buf_take(&b);
	return count;
bad:
	sh_buf_free(&b);
	*out = NULL;
	*outlen = 0;
	return -1;
}

/* Write the session's authority file; 0, or -1. */
static int write_auth(const char *path, const unsigned char *v, size_t n, struct sh_err *e)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);

	if (fd < 0)
		return sh_fail(e, SH_EXIT_SETUP, errno, "x11: cannot create '%s'", path);
	if (sh_write_all(fd, v, n) < 0) {
		int err = errno;
		close(fd);
		return sh_fail(e, SH_EXIT_SETUP, err, "x11: cannot write '%s'", path);
	}
	if (close(fd) < 0)
		return sh_fail(e, SH_EXIT_SETUP, errno, "x11: cannot write '%s'", path);
	return 0;
}

/* One --explain line; takes msg. */
static void explain(const struct sh_context *c, char *msg)
{
	if (c->opt->explain)
		fprintf(stderr, "safehouse: explain: x11: %s\n", msg);
	free(msg);
}

int sh_x11auth_setup(struct sh_x11auth *x, const struct sh_context *c,
		     const struct sh_assembly *a, struct sh_plan *plan, struct sh_err *e)
{
	const char *display = getenv("DISPLAY"), *xa = getenv("XAUTHORITY");
	char host[256] = "", sockpath[64], *src, *data = NULL, *file;
	unsigned char *auth = NULL;
	size_t len = 0, alen = 0;
	struct sh_err re = { 0 };
	struct stat st;
	long n;
	int count, rc = 0;

	if (!sh_strv_contains(&a->features_enabled, "x11") &&
	    !sh_strv_contains(&a->features_implied, "x11"))
		return 0;
	/* Only the cookie made here reaches the child, never the host's path. */
	sh_plan_env_put(plan, "XAUTHORITY", NULL);
	if (!display || !*display) {
		sh_warn("x11: DISPLAY is not set: the session has no display");
		return 0;
	}
	if ((n = sh_x11_local_display(display)) < 0) {
		sh_warn("x11: DISPLAY=%s is not a local display (:N): only the sockets in "
			"/tmp/.X11-unix are reachable from the sandbox; no X authority is given",
			sh_has_ctl(display) ? "(control characters)" : display);
		return 0;
	}
	/* libxcb tries the display's abstract socket first and falls back to
	 * the path only on ENOENT/ECONNREFUSED (which a private network
	 * namespace gives).  In the host's network namespace the abstract
	 * socket exists, and Landlock's scope refuses it with EPERM. */
	if ((plan->net == SH_NETMODE_FULL || !plan->use_userns) && sh_landlock_abi(NULL) >= 6)
		sh_warn("x11: X clients will fail to connect with %s: they try the display's "
			"abstract socket first, which Landlock refuses (EPERM), and do not fall back "
			"to /tmp/.X11-unix (use the default network mode)",
			plan->use_userns ? "the host network (--network=full)" : "fallback mode");
	snprintf(sockpath, sizeof(sockpath), "/tmp/.X11-unix/X%ld", n);
	if (stat(sockpath, &st) < 0 || !S_ISSOCK(st.st_mode))
		sh_warn("x11: DISPLAY=%s but %s is not a socket (an X server listening only on an "
			"abstract socket or TCP is not reachable from the sandbox)", display, sockpath);
	if (gethostname(host, sizeof(host) - 1) < 0)
		host[0] = '\0';
	src = xa && *xa ? sh_xstrdup(xa) : sh_path_join(c->home, ".Xauthority");
	if (sh_read_small_file(src, 0, XAUTH_MAX, &data, &len, &re) < 0) {
		explain(c, sh_xasprintf("no X authority file (%s): XAUTHORITY unset inside (the "
					"server must accept the user's uid)", re.msg));
		free(src);
		return 0;
	}
	count = sh_x11_filter_auth((const unsigned char *)data, len, host, n, &auth, &alen);
	free(data);
	if (count < 0)
		sh_warn("x11: %s is not a valid X authority file: XAUTHORITY unset inside", src);
	if (count <= 0) {
		if (count == 0)
			explain(c, sh_xasprintf("no cookie for display %ld in %s: XAUTHORITY unset "
						"inside", n, src));
		free(src);
		free(auth);
		return 0;
	}
	if (sh_sessdir_create(&x->dir, "x11", e) < 0) {
		free(src);
		free(auth);
		return -1;
	}
	file = sh_sessdir_file(&x->dir, "Xauthority");
	rc = write_auth(file, auth, alen, e);
	if (rc == 0) {
		sh_sessdir_bind(plan, file, false, "<x11: the session's X authority>");
		sh_plan_env_put(plan, "XAUTHORITY", file);
		explain(c, sh_xasprintf("the cookie for display %ld from %s, alone, in %s "
					"(XAUTHORITY)", n, src, file));
	}
	free(file);
	free(src);
	free(auth);
	return rc;
}

void sh_x11auth_stop(struct sh_x11auth *x)
{
	sh_sessdir_remove(&x->dir);
}
