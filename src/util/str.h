/* Allocation, growable strings and string vectors.
 *
 * sh_x* allocators abort the process on out-of-memory: a sandbox launcher
 * that cannot allocate a few kilobytes has nothing safe left to do. */
#ifndef SH_STR_H
#define SH_STR_H

#include <stdbool.h>
#include <stddef.h>

void *sh_xmalloc(size_t n);
void *sh_xcalloc(size_t n, size_t size);
void *sh_xrealloc(void *p, size_t n);
/* Grow *p (an array of *cap elements of size sz) so that it holds need elements. */
void sh_xgrow(void *pp, size_t *cap, size_t need, size_t sz);
char *sh_xstrdup(const char *s);
char *sh_xstrndup(const char *s, size_t n);
__attribute__((format(printf, 1, 2)))
char *sh_xasprintf(const char *fmt, ...);

/* Growable byte buffer, always NUL-terminated once anything was appended. */
struct sh_buf {
	char *data;
	size_t len, cap;
};

void sh_buf_append(struct sh_buf *b, const char *s, size_t n);
void sh_buf_puts(struct sh_buf *b, const char *s);
void sh_buf_putc(struct sh_buf *b, char c);
__attribute__((format(printf, 2, 3)))
void sh_buf_printf(struct sh_buf *b, const char *fmt, ...);
/* Returns the string (never NULL: "" for an empty buffer) and resets b. */
char *sh_buf_take(struct sh_buf *b);
void sh_buf_free(struct sh_buf *b);
/* Data as a C string ("" when empty). */
const char *sh_buf_str(const struct sh_buf *b);

/* NULL-terminated vector of owned strings. */
struct sh_strv {
	char **v; /* v[n] == NULL when n > 0 */
	size_t n, cap;
};

void sh_strv_push(struct sh_strv *sv, const char *s);  /* copies s */
void sh_strv_push_take(struct sh_strv *sv, char *s);   /* takes ownership */
bool sh_strv_contains(const struct sh_strv *sv, const char *s);
void sh_strv_free(struct sh_strv *sv);
/* Split s on sep, skipping empty fields, and push each (copied). */
void sh_strv_split(struct sh_strv *sv, const char *s, char sep);

/* True if s contains a byte < 0x20 or 0x7f. */
bool sh_has_ctl(const char *s);
bool sh_str_starts(const char *s, const char *prefix);
bool sh_str_ends(const char *s, const char *suffix);
/* ASCII lowercase copy. */
char *sh_xstrlower(const char *s);

#endif
