#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/requirements.h"
#include "harness.h"

static char *write_req(const char *dir, const char *text)
{
	char *p = NULL;
	if (asprintf(&p, "%s/requirements", dir) < 0)
		abort();
	t_write_file(p, text);
	return p;
}

TEST(requirements_parse_and_query)
{
	char *d = t_mkdtemp(), *p;
	struct sh_requirements r = { 0 };
	struct sh_err e = { 0 };

	p = write_req(d, "# admin\nallowed-network=none, full\nforbidden-enable=Docker\n"
			 "forbid-env=yes\ndeny-path=/srv/secret\n");
	int rc = sh_requirements_load(d, &r, &e);
	if (getuid() != 0) {
		/* Not root-owned: ignored with a reason, never enforced. */
		CHECK_INT(rc, ==, 0);
		CHECK_CONTAINS(r.ignored, "root-owned");
	} else {
		CHECK_INT(rc, ==, 1);
		CHECK_INT(r.allowed_network.n, ==, 2);
		CHECK_STR(r.allowed_network.v[1].value, "full");
		CHECK(sh_req_find(&r.forbidden_enable, "docker") != NULL);
		CHECK_CONTAINS(r.forbidden_enable.v[0].origin, "requirements:3");
		CHECK_STR(r.forbid_env.value, "true");
		CHECK_INT(sh_requirements_count(&r), ==, 5);
		CHECK_INT(sh_req_check_allowed(&r.allowed_network, "allowed-network", "filtered",
					       "network mode 'filtered'", &e), ==, -1);
		CHECK_CONTAINS(e.msg, "requirements:2");
		CHECK_INT(sh_req_check_allowed(&r.allowed_network, "allowed-network", "none", "x", &e),
			  ==, 0);
	}
	sh_requirements_free(&r);
	free(p);
	t_rmtree(d);
	free(d);
}

TEST(requirements_errors_and_ownership)
{
	char *d = t_mkdtemp(), *p;
	struct sh_requirements r = { 0 };
	struct sh_err e = { 0 };

	p = write_req(d, "allowed-network=sometimes\n");
	if (getuid() != 0) {
		/* An untrusted file is not even parsed: no error, just ignored. */
		CHECK_INT(sh_requirements_load(d, &r, &e), ==, 0);
		CHECK(r.ignored != NULL);
		CHECK_INT(r.allowed_network.n, ==, 0);
		sh_requirements_free(&r);
		free(p);
		t_rmtree(d);
		free(d);
		return;
	}
	CHECK_INT(sh_requirements_load(d, &r, &e), ==, -1);
	CHECK_CONTAINS(e.msg, "requirements:1");
	CHECK_CONTAINS(e.msg, "unknown value 'sometimes'");
	sh_requirements_free(&r);
	free(write_req(d, "deny-path=relative/path\n"));
	CHECK_INT(sh_requirements_load(d, &r, &e), ==, -1);
	CHECK_CONTAINS(e.msg, "absolute path");
	sh_requirements_free(&r);
	free(write_req(d, "colour=blue\n"));
	CHECK_INT(sh_requirements_load(d, &r, &e), ==, -1);
	CHECK_CONTAINS(e.msg, "unknown key 'colour'");
	sh_requirements_free(&r);
	free(write_req(d, "forbid-env=true\n"));
	CHECK_INT(chmod(p, 0666), ==, 0);
	CHECK_INT(sh_requirements_load(d, &r, &e), ==, 0);
	CHECK_CONTAINS(r.ignored, "writable by group or others");
	CHECK(r.forbid_env.value == NULL);
	sh_requirements_free(&r);
	free(p);
	t_rmtree(d);
	free(d);
}
