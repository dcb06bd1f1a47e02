/* Bump allocation over a caller-owned buffer (see arena.h). */
#include "util/arena.h"

#include <stdint.h>
#include <string.h>

void sh_arena_init(struct sh_arena *a, void *base, size_t cap)
{
	a->base = base;
	a->used = 0;
	a->cap = cap;
	a->full = false;
}

void *sh_arena_alloc(struct sh_arena *a, size_t n)
{
	size_t at = (a->used + 15) & ~(size_t)15;
	if (a->full || at < a->used || at > a->cap || n > a->cap - at) {
		a->full = true;
		return NULL;
	}
	a->used = at + n;
	memset(a->base + at, 0, n);
	return a->base + at;
}

void *sh_arena_dup(struct sh_arena *a, const void *p, size_t n)
{
	if (!p)
		return NULL;
	void *d = sh_arena_alloc(a, n);
	if (d && n)
		memcpy(d, p, n);
	return d;
}

char *sh_arena_strdup(struct sh_arena *a, const char *s)
{
	return s ? sh_arena_dup(a, s, strlen(s) + 1) : NULL;
}

char **sh_arena_strv(struct sh_arena *a, char *const *v)
{
	size_t n = 0;
	if (!v)
		return NULL;
	while (v[n])
		n++;
	if (n >= SIZE_MAX / sizeof(char *))
		return a->full = true, NULL;
	char **d = sh_arena_alloc(a, (n + 1) * sizeof(char *));
	for (size_t i = 0; d && i < n; i++)
		d[i] = sh_arena_strdup(a, v[i]);
	return a->full ? NULL : d;
}
