/* Plan container helpers (the compiler from policy to plan lives in plan.c). */
#include "plan/plan.h"

#include <stdlib.h>
#include <string.h>

#include "util/arena.h"
#include "util/str.h"

void sh_plan_init(struct sh_plan *p)
{
	memset(p, 0, sizeof(*p));
}

void sh_plan_free(struct sh_plan *p)
{
	for (size_t i = 0; i < p->nmounts; i++) {
		free(p->mounts[i].path);
		free(p->mounts[i].target);
	}
	free(p->mounts);
	for (size_t i = 0; i < p->nll; i++)
		free(p->ll[i].path);
	free(p->ll);
	free(p->cwd);
	free(p->hostname);
	if (p->argv)
		for (char **a = p->argv; *a; a++)
			free(*a);
	free(p->argv);
	if (p->envp)
		for (char **a = p->envp; *a; a++)
			free(*a);
	free(p->envp);
	for (size_t i = 0; i < p->nprotect_create; i++)
		free(p->protect_create[i]);
	free(p->protect_create);
	memset(p, 0, sizeof(*p));
}

struct sh_mount *sh_plan_add_mount(struct sh_plan *p, enum sh_mount_kind kind, const char *path,
				   bool writable, bool is_dir, const struct sh_origin *why)
{
	struct sh_mount *m;

	sh_xgrow(&p->mounts, &p->mounts_cap, p->nmounts + 1, sizeof(*p->mounts));
	m = &p->mounts[p->nmounts++];
	memset(m, 0, sizeof(*m));
	m->kind = kind;
	m->path = sh_xstrdup(path);
	m->writable = writable;
	m->is_dir = is_dir;
	if (why)
		m->why = *why;
	return m;
}

void sh_plan_add_ll(struct sh_plan *p, const char *path, unsigned access)
{
	sh_xgrow(&p->ll, &p->ll_cap, p->nll + 1, sizeof(*p->ll));
	p->ll[p->nll].path = sh_xstrdup(path);
	p->ll[p->nll].access = access;
	p->nll++;
}

int sh_plan_copy_to(const struct sh_plan *src, struct sh_plan *dst, struct sh_arena *a)
{
	*dst = *src;
	dst->mounts = sh_arena_dup(a, src->mounts, src->nmounts * sizeof(*src->mounts));
	dst->mounts_cap = src->nmounts;
	for (size_t i = 0; dst->mounts && i < src->nmounts; i++) {
		struct sh_mount *m = &dst->mounts[i];
		m->path = sh_arena_strdup(a, m->path);
		m->target = sh_arena_strdup(a, m->target);
		m->why.source = sh_arena_strdup(a, m->why.source);
	}
	dst->ll = sh_arena_dup(a, src->ll, src->nll * sizeof(*src->ll));
	dst->ll_cap = src->nll;
	for (size_t i = 0; dst->ll && i < src->nll; i++)
		dst->ll[i].path = sh_arena_strdup(a, dst->ll[i].path);
	dst->cwd = sh_arena_strdup(a, src->cwd);
	dst->argv = sh_arena_strv(a, src->argv);
	dst->envp = sh_arena_strv(a, src->envp);
	dst->hostname = sh_arena_strdup(a, src->hostname);
	dst->limits = NULL; /* not owned: the caller copies what it needs */
	dst->protect_create = sh_arena_dup(a, src->protect_create,
					   src->nprotect_create * sizeof(char *));
	for (size_t i = 0; dst->protect_create && i < src->nprotect_create; i++)
		dst->protect_create[i] = sh_arena_strdup(a, dst->protect_create[i]);
	return a->full ? -1 : 0;
}
