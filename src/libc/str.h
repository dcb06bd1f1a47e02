/* String functions for the static (musl) build on x86_64, where they replace
 * the C library's (src/libc/replace.c): musl's strcmp, strncmp and memcmp go
 * byte by byte and its strlen and memchr a word at a time, and the launcher
 * makes some twenty thousand such calls on paths and profile text.  These
 * look at 16 bytes per step (SSE2). */
#ifndef SH_LIBC_STR_H
#define SH_LIBC_STR_H

#include <stddef.h>

#if defined(__x86_64__)
#define SH_HAVE_FAST_STR 1
size_t sh_strlen(const char *s);
void *sh_memchr(const void *s, int c, size_t n);
int sh_strcmp(const char *a, const char *b);
int sh_strncmp(const char *a, const char *b, size_t n);
int sh_memcmp(const void *a, const void *b, size_t n);
#endif

#endif
