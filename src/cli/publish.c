/* --publish: what is published (parsing, layers, the agent profile's ports,
 * requirements), the host listeners, and the forwarder process. */
#include "cli/publish.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cli/netproxy.h"
#include "cli/pubfwd.h"
#include "enforce/sockfactory.h"
#include "profile/catalog.h"
#include "util/child.h"

/* ---- parsing ---- */

/* Decimal 1..65535, digits only.  0 if s[0..n) is not a port. */
static uint16_t port_of(const char *s, size_t n)
{
	unsigned long v = 0;

	if (n == 0 || n > 5)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	return v >= 1 && v <= 65535 ? (uint16_t)v : 0;
}

static int bad_item(const char *origin, const char *item, size_t n, struct sh_err *e)
{
	sh_fail(e, SH_EXIT_USAGE, 0, "%s: '%.*s' is not a port to publish (expected PORT or "
		"HOST_PORT:SANDBOX_PORT, each 1-65535, or auto)", origin, (int)n, item);
	return sh_hint(e, "e.g. --publish=3000 or --publish=8080:3000 (host 127.0.0.1:8080 reaches "
			  "the sandbox's 127.0.0.1:3000)");
}

static int add_entry(struct sh_pubspec *s, uint16_t host, uint16_t inside, const char *origin,
		     bool optional, struct sh_err *e)
{
	for (size_t i = 0; i < s->n; i++) {
		if (s->v[i].host != host)
			continue;
		if (s->v[i].inside == inside)
			return 0; /* the same mapping twice: once */
		return sh_fail(e, SH_EXIT_USAGE, 0, "%s: host port %u is already published to sandbox "
			       "port %u (from %s); it cannot also go to %u", origin, (unsigned)host,
			       (unsigned)s->v[i].inside, s->v[i].origin, (unsigned)inside);
	}
	if (s->n >= SH_PUBLISH_MAX_PORTS)
		return sh_fail(e, SH_EXIT_USAGE, 0, "%s: more than %d published ports", origin,
			       SH_PUBLISH_MAX_PORTS);
	sh_xgrow(&s->v, &s->cap, s->n + 1, sizeof(*s->v));
	s->v[s->n++] = (struct sh_pub_entry){ host, inside, sh_xstrdup(origin), optional };
	return 0;
}

int sh_publish_parse(const char *list, const char *origin, bool optional, struct sh_pubspec *s,
		     struct sh_err *e)
{
	int items = 0;

	if (sh_has_ctl(list))
		return sh_fail(e, SH_EXIT_USAGE, 0, "%s: control character in the port list", origin);
	for (const char *p = list; *p;) {
		size_t n = strcspn(p, ",");
		const char *t = p;
		size_t len = n;
		p += n;
		if (*p == ',')
			p++;
		while (len && (*t == ' ' || *t == '\t')) {
			t++;
			len--;
		}
		while (len && (t[len - 1] == ' ' || t[len - 1] == '\t'))
			len--;
		if (!len)
			continue;
		items++;
		if (len == strlen(SH_PUBLISH_AUTO) && strncmp(t, SH_PUBLISH_AUTO, len) == 0) {
			if (!s->auto_origin)
				s->auto_origin = sh_xstrdup(origin);
			continue;
		}
		const char *colon = memchr(t, ':', len);
		uint16_t host, inside;
		if (colon) {
			host = port_of(t, (size_t)(colon - t));
			inside = port_of(colon + 1, len - (size_t)(colon - t) - 1);
		} else
			host = inside = port_of(t, len);
		if (!host || !inside)
			return bad_item(origin, t, len, e);
		if (add_entry(s, host, inside, origin, optional, e) < 0)
			return -1;
	}
	if (items == 0)
		return sh_fail(e, SH_EXIT_USAGE, 0, "%s: no port in '%s' (expected PORT, "
			       "HOST_PORT:SANDBOX_PORT or auto)", origin, list);
	return 0;
}

void sh_pubspec_free(struct sh_pubspec *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i].origin);
	free(s->v);
	free(s->auto_origin);
	sh_strv_free(&s->notes);
	memset(s, 0, sizeof(*s));
}

/* ---- what this run publishes ---- */

static int add_profile_ports(const struct sh_context *c, const struct sh_assembly *a,
			     struct sh_pubspec *s, struct sh_err *e)
{
	const struct sh_embedded *p = a->agent ? sh_catalog_find(&c->cat, a->agent) : NULL;
	const struct sh_profile_meta *m = p ? sh_catalog_meta(&c->cat, p) : NULL;
	char *origin;
	int rc = 0;

	if (!m || !m->publish.n)
		return 0;
	origin = sh_xasprintf("profile %s", a->agent);
	for (size_t i = 0; rc == 0 && i < m->publish.n; i++) {
		struct sh_pubspec one = { 0 };
		if (c->req.forbid_publish.value) {
			sh_strv_push_take(&s->notes,
					  sh_xasprintf("%s from %s left out: the administrator's "
						       "requirement forbid-publish at %s",
						       m->publish.v[i], origin,
						       c->req.forbid_publish.origin));
			continue;
		}
		rc = sh_publish_parse(m->publish.v[i], origin, true, &one, e);
		for (size_t j = 0; rc == 0 && j < one.n; j++) {
			bool taken = false;
			for (size_t k = 0; k < s->n; k++)
				taken = taken || s->v[k].host == one.v[j].host;
			if (taken)
				sh_strv_push_take(&s->notes,
						  sh_xasprintf("port %u from %s left out: host port %u "
							       "is published explicitly",
							       (unsigned)one.v[j].inside, origin,
							       (unsigned)one.v[j].host));
			else
				rc = add_entry(s, one.v[j].host, one.v[j].inside, origin, true, e);
		}
		if (rc == 0 && one.auto_origin && !s->auto_origin)
			s->auto_origin = sh_xstrdup(origin);
		sh_pubspec_free(&one);
	}
	free(origin);
	return rc;
}

int sh_publish_collect(const struct sh_context *c, const struct sh_assembly *a, int net,
		       struct sh_pubspec *s, struct sh_err *e)
{
	memset(s, 0, sizeof(*s));
	for (size_t i = 0; i < c->publish.n; i++)
		if (sh_publish_parse(c->publish.v[i], c->publish_origins.v[i], false, s, e) < 0)
			return -1;
	if (add_profile_ports(c, a, s, e) < 0)
		return -1;
	for (size_t i = 0; net == SH_NETMODE_FILTERED && i < s->n; i++)
		if (s->v[i].inside == SH_NETPROXY_PORT)
			return sh_fail(e, SH_EXIT_USAGE, 0, "%s: sandbox port %u is the filtering "
				       "proxy's (network mode filtered); publish another port",
				       s->v[i].origin, (unsigned)SH_NETPROXY_PORT);
	return 0;
}

#define X(f, ...) fprintf(f, "safehouse: explain: " __VA_ARGS__)

void sh_publish_explain(FILE *f, const struct sh_context *c, const struct sh_assembly *a,
			int net)
{
	struct sh_pubspec s;
	struct sh_err e = { 0 };

	if (sh_publish_collect(c, a, net, &s, &e) < 0) {
		X(f, "publish: invalid: %s\n", e.msg);
		sh_pubspec_free(&s);
		return;
	}
	if (net == SH_NETMODE_FULL && (s.n || s.auto_origin))
		X(f, "publish: no effect in full network mode (the sandbox uses the host's network: "
		     "its listeners are on the host's loopback already)\n");
	if (!s.n)
		X(f, "publish: no port\n");
	for (size_t i = 0; i < s.n; i++)
		X(f, "publish: host 127.0.0.1:%u -> sandbox 127.0.0.1:%u (from %s%s)\n",
		  (unsigned)s.v[i].host, (unsigned)s.v[i].inside, s.v[i].origin,
		  s.v[i].optional ? "; skipped with a warning if the host port is busy" : "");
	for (size_t i = 0; i < s.notes.n; i++)
		X(f, "publish: %s\n", s.notes.v[i]);
	if (s.auto_origin)
		X(f, "publish: automatic: on (from %s): loopback listeners opened inside on ports "
		     ">= 1024 are published on the same host port while they exist, when it is "
		     "free; each one is reported here as it happens\n", s.auto_origin);
	else
		X(f, "publish: automatic: off (--publish=auto publishes loopback listeners opened "
		     "inside)\n");
	sh_pubspec_free(&s);
}

/* ---- host listeners and the forwarder ---- */

int sh_publish_prepare(struct sh_publisher *pb, const struct sh_context *c,
		       const struct sh_assembly *a, const struct sh_plan *plan, struct sh_err *e)
{
	bool explicit_any = false;

	memset(pb, 0, sizeof(*pb));
	pb->pid = -1;
	pb->stop_w = -1;
	pb->explain = c->opt->explain;
	pb->proxy_port = plan->net == SH_NETMODE_FILTERED ? plan->proxy_port : 0;
	if (sh_publish_collect(c, a, (int)plan->net, &pb->spec, e) < 0)
		return -1;
	for (size_t i = 0; i < pb->spec.n; i++)
		explicit_any = explicit_any || !pb->spec.v[i].optional;
	explicit_any = explicit_any || pb->spec.auto_origin;
	if (!pb->spec.n && !pb->spec.auto_origin)
		return 0;
	if (plan->net == SH_NETMODE_FULL || !plan->use_userns) {
		if (explicit_any)
			sh_warn("--publish: %s", plan->net == SH_NETMODE_FULL
					     ? "no effect with full network (the sandbox uses the "
					       "host's network: its listeners are on the host's "
					       "loopback already)"
					     : "nothing is published in fallback mode (no private "
					       "network namespace)");
		return 0;
	}
	pb->lfd = sh_xcalloc(pb->spec.n ? pb->spec.n : 1, sizeof(int));
	pb->inside = sh_xcalloc(pb->spec.n ? pb->spec.n : 1, sizeof(uint16_t));
	for (size_t i = 0; i < pb->spec.n; i++)
		pb->lfd[i] = -1;
	for (size_t i = 0; i < pb->spec.n; i++) {
		const struct sh_pub_entry *en = &pb->spec.v[i];
		bool dup = false;
		for (size_t k = 0; k < pb->ninside; k++)
			dup = dup || pb->inside[k] == en->inside;
		if (!dup)
			pb->inside[pb->ninside++] = en->inside;
		if (en->inside < 1024)
			sh_warn("publish: sandbox port %u (from %s) is below 1024: nothing inside can "
				"listen on it (the command holds no privileges); use a port >= 1024 "
				"inside, e.g. --publish=%u:8080", (unsigned)en->inside, en->origin,
				(unsigned)en->host);
		pb->lfd[i] = sh_pubfwd_listen(en->host);
		if (pb->lfd[i] >= 0)
			continue;
		int err = errno;
		if (en->optional && err == EADDRINUSE) {
			sh_warn("port %u is busy on the host: not published (from %s); a browser "
				"callback to localhost:%u will not reach the session", (unsigned)en->host,
				en->origin, (unsigned)en->host);
			continue;
		}
		if (err == EADDRINUSE) {
			sh_fail(e, SH_EXIT_SETUP, 0, "publish: host port 127.0.0.1:%u is already in use "
				"(from %s)", (unsigned)en->host, en->origin);
			return sh_hint(e, "free it, or publish on another host port: "
					  "--publish=OTHER:%u", (unsigned)en->inside);
		}
		if (en->optional) {
			sh_warn("port %u cannot be published on the host (from %s): %s",
				(unsigned)en->host, en->origin, strerror(err));
			continue;
		}
		sh_fail(e, SH_EXIT_SETUP, err, "publish: cannot listen on the host's 127.0.0.1:%u "
			"(from %s)", (unsigned)en->host, en->origin);
		if (en->host < 1024)
			sh_hint(e, "ports below 1024 need privileges: --publish=HOST:%u with HOST >= "
				   "1024", (unsigned)en->inside);
		return -1;
	}
	pb->active = true;
	return 0;
}

void sh_publish_hooks(struct sh_publisher *pb, struct sh_publish_hooks *h)
{
	memset(h, 0, sizeof(*h));
	if (!pb->active)
		return;
	h->start = sh_publish_start;
	h->stop = sh_publish_stop;
	h->ctx = pb;
	h->ports = pb->inside;
	h->nports = pb->ninside;
	h->bind_any = pb->spec.auto_origin != NULL;
	h->listen_fds = pb->lfd;
	h->nlisten = pb->spec.n;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

/* Close every fd but keep[0..n) (-1 entries ignored). */
static int close_others(int *keep, size_t n)
{
	qsort(keep, n, sizeof(int), cmp_int);
	unsigned lo = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && keep[i] < 0)
			continue;
		unsigned hi = i < n ? (unsigned)keep[i] : ~0U;
		if (hi > lo && syscall(SYS_close_range, lo, hi - 1, 0) < 0)
			return -1;
		if (i < n)
			lo = (unsigned)keep[i] + 1;
	}
	return 0;
}

/* The forwarder process.  Never returns. */
__attribute__((noreturn)) static void forwarder_main(struct sh_publisher *pb,
						     const struct sh_sockfactory_fds *fds,
						     int stop_r)
{
	struct sh_err e = { 0 };
	struct sh_pubfwd_config cfg;
	size_t nkeep = 0, nports = 0;
	int *keep = sh_xcalloc(pb->spec.n + 8, sizeof(int));
	struct sh_pubfwd_port *ports = sh_xcalloc(pb->spec.n + 1, sizeof(*ports));
	uint16_t *exclude = sh_xcalloc(pb->ninside + 1, sizeof(uint16_t));
	size_t nexclude = 0;

	keep[nkeep++] = 2;
	keep[nkeep++] = stop_r;
	keep[nkeep++] = fds->chan;
	keep[nkeep++] = fds->tcp4;
	keep[nkeep++] = fds->tcp6;
	keep[nkeep++] = fds->netns;
	for (size_t i = 0; i < pb->spec.n; i++) {
		if (pb->lfd[i] < 0)
			continue;
		keep[nkeep++] = pb->lfd[i];
		ports[nports++] = (struct sh_pubfwd_port){ pb->lfd[i], pb->spec.v[i].host,
							   pb->spec.v[i].inside };
	}
	if (close_others(keep, nkeep) < 0)
		_exit(1);
	if (pb->proxy_port)
		exclude[nexclude++] = pb->proxy_port;
	for (size_t i = 0; i < pb->ninside; i++)
		exclude[nexclude++] = pb->inside[i];
	memset(&cfg, 0, sizeof(cfg));
	cfg.ports = ports;
	cfg.nports = nports;
	cfg.fds = *fds;
	cfg.auto_publish = pb->spec.auto_origin != NULL;
	cfg.exclude = exclude;
	cfg.nexclude = nexclude;
	cfg.notices = pb->explain ? stderr : NULL;
	int rc = sh_pubfwd_run(&cfg, stop_r, &e);
	if (rc < 0)
		fprintf(stderr, "safehouse: publish: %s\n", e.msg);
	fflush(stderr);
	_exit(rc < 0 ? 1 : 0);
}

int sh_publish_start(void *ctx, const struct sh_sockfactory_fds *fds, struct sh_err *e)
{
	struct sh_publisher *pb = ctx;
	int stop_r = -1;
	pid_t pid = sh_helper_fork("safehouse-publish", &stop_r, &pb->stop_w);

	if (pid < 0)
		return sh_fail(e, SH_EXIT_SETUP, errno, "publish: cannot start the forwarder");
	if (pid == 0)
		forwarder_main(pb, fds, stop_r);
	pb->pid = pid;
	/* The forwarder holds the listeners now. */
	for (size_t i = 0; i < pb->spec.n; i++)
		if (pb->lfd[i] >= 0) {
			close(pb->lfd[i]);
			pb->lfd[i] = -1;
		}
	return 0;
}

void sh_publish_stop(void *ctx)
{
	struct sh_publisher *pb = ctx;

	sh_helper_stop(&pb->pid, &pb->stop_w);
}

void sh_publish_free(struct sh_publisher *pb)
{
	sh_publish_stop(pb);
	for (size_t i = 0; pb->lfd && i < pb->spec.n; i++)
		if (pb->lfd[i] >= 0)
			close(pb->lfd[i]);
	free(pb->lfd);
	free(pb->inside);
	sh_pubspec_free(&pb->spec);
	memset(pb, 0, sizeof(*pb));
	pb->pid = -1;
	pb->stop_w = -1;
}
