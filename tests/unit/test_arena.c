/* util/arena and sh_plan_copy_to: the deep copy the launcher hands to init. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "plan/plan.h"
#include "util/arena.h"
#include "util/str.h"

TEST(arena_aligns_zeroes_and_refuses_overflow)
{
	char buf[64] __attribute__((aligned(16)));
	struct sh_arena a;
	memset(buf, 0xaa, sizeof(buf));
	sh_arena_init(&a, buf, sizeof(buf));
	char *p = sh_arena_alloc(&a, 3);
	char *q = sh_arena_alloc(&a, 5);
	CHECK(p == buf);
	CHECK(((uintptr_t)q & 15) == 0);
	CHECK(q[0] == 0 && q[4] == 0);
	CHECK(!a.full);
	CHECK(sh_arena_alloc(&a, 64) == NULL);
	CHECK(a.full);
	/* once full, nothing more is handed out (the copy is incomplete) */
	CHECK(sh_arena_alloc(&a, 1) == NULL);
	CHECK(sh_arena_strdup(&a, NULL) == NULL);
}

TEST(arena_strv_copies_every_string)
{
	char buf[256] __attribute__((aligned(16)));
	struct sh_arena a;
	char *v[] = { "one", "two", NULL };
	sh_arena_init(&a, buf, sizeof(buf));
	char **c = sh_arena_strv(&a, v);
	CHECK(c != NULL);
	CHECK_STR(c[0], "one");
	CHECK_STR(c[1], "two");
	CHECK(c[2] == NULL);
	CHECK(c[0] != v[0]);
	CHECK((char *)c >= buf && (char *)c < buf + sizeof(buf));
	CHECK(c[1] >= buf && c[1] < buf + sizeof(buf));
}

static void fill(struct sh_plan *p)
{
	struct sh_origin why = { "60-agents/codex.sb", 3, 7 };
	sh_plan_init(p);
	sh_plan_add_mount(p, SH_MNT_BIND, "/usr", false, true, &why);
	struct sh_mount *m = sh_plan_add_mount(p, SH_MNT_SYMLINK, "/bin", false, false, NULL);
	m->target = sh_xstrdup("usr/bin");
	sh_plan_add_ll(p, "/usr", 3);
	p->cwd = sh_xstrdup("/w");
	p->hostname = sh_xstrdup("safehouse");
	p->argv = sh_xcalloc(3, sizeof(char *));
	p->argv[0] = sh_xstrdup("codex");
	p->argv[1] = sh_xstrdup("--x");
	p->envp = sh_xcalloc(2, sizeof(char *));
	p->envp[0] = sh_xstrdup("HOME=/h");
	p->protect_create = sh_xcalloc(1, sizeof(char *));
	p->protect_create[0] = sh_xstrdup("/w/.git/hooks");
	p->nprotect_create = 1;
	p->net = SH_NETMODE_NONE;
	p->use_userns = true;
}

static bool inside(const void *x, const char *buf, size_t n)
{
	return (const char *)x >= buf && (const char *)x < buf + n;
}

TEST(plan_copy_is_deep_and_self_contained)
{
	static char buf[8192] __attribute__((aligned(16)));
	struct sh_arena a;
	struct sh_plan p, c;
	fill(&p);
	sh_arena_init(&a, buf, sizeof(buf));
	CHECK_INT(sh_plan_copy_to(&p, &c, &a), ==, 0);
	CHECK_INT(c.nmounts, ==, 2);
	CHECK(inside(c.mounts, buf, sizeof(buf)));
	CHECK_STR(c.mounts[0].path, "/usr");
	CHECK(inside(c.mounts[0].path, buf, sizeof(buf)));
	CHECK_STR(c.mounts[0].why.source, "60-agents/codex.sb");
	CHECK(inside(c.mounts[0].why.source, buf, sizeof(buf)));
	CHECK_INT(c.mounts[0].why.line, ==, 3);
	CHECK_STR(c.mounts[1].target, "usr/bin");
	CHECK(inside(c.mounts[1].target, buf, sizeof(buf)));
	CHECK_INT(c.nll, ==, 1);
	CHECK_STR(c.ll[0].path, "/usr");
	CHECK(inside(c.ll[0].path, buf, sizeof(buf)));
	CHECK_STR(c.cwd, "/w");
	CHECK_STR(c.argv[1], "--x");
	CHECK(c.argv[2] == NULL);
	CHECK(inside(c.argv[0], buf, sizeof(buf)));
	CHECK_STR(c.envp[0], "HOME=/h");
	CHECK_STR(c.protect_create[0], "/w/.git/hooks");
	CHECK(inside(c.protect_create[0], buf, sizeof(buf)));
	CHECK(c.limits == NULL);
	CHECK(c.use_userns && c.net == SH_NETMODE_NONE);
	/* the original can go: the copy does not point into it */
	sh_plan_free(&p);
	CHECK_STR(c.mounts[0].path, "/usr");
	CHECK_STR(c.hostname, "safehouse");
}

TEST(plan_copy_reports_a_too_small_arena)
{
	char buf[128] __attribute__((aligned(16)));
	struct sh_arena a;
	struct sh_plan p, c;
	fill(&p);
	sh_arena_init(&a, buf, sizeof(buf));
	CHECK_INT(sh_plan_copy_to(&p, &c, &a), ==, -1);
	sh_plan_free(&p);
}
