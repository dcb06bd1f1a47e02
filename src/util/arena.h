/* A bump allocator over a fixed buffer that the caller owns.
 *
 * Used to lay a deep copy of a structure out in one contiguous block whose
 * internal pointers stay valid wherever the same bytes sit at the same
 * address (enforce/sandbox.c hands the plan to init this way: both
 * processes have the buffer at one address, mapped before the clone).
 * Nothing is freed individually; the caller drops the whole buffer. */
#ifndef SH_ARENA_H
#define SH_ARENA_H

#include <stdbool.h>
#include <stddef.h>

struct sh_arena {
	char *base;
	size_t used, cap;
	bool full; /* an allocation did not fit: the copy is incomplete */
};

void sh_arena_init(struct sh_arena *a, void *base, size_t cap);
/* n bytes, zeroed, 16-byte aligned; NULL (and a->full) when they do not fit. */
void *sh_arena_alloc(struct sh_arena *a, size_t n);
/* Copies of p[0..n), of s, of the NULL-terminated vector v (strings too).
 * NULL in gives NULL out without marking the arena full. */
void *sh_arena_dup(struct sh_arena *a, const void *p, size_t n);
char *sh_arena_strdup(struct sh_arena *a, const char *s);
char **sh_arena_strv(struct sh_arena *a, char *const *v);

#endif
