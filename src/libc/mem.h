/* memcpy and memmove for the static (musl) build, where they replace the C
 * library's (src/libc/replace.c).  musl's x86_64 memcpy starts every copy
 * with `rep movsq`, whose start-up cost dominates the launcher's thousands
 * of short copies; these copy up to 64 bytes with a few unaligned loads and
 * stores, and leave longer copies to `rep movsb`. */
#ifndef SH_LIBC_MEM_H
#define SH_LIBC_MEM_H

#include <stddef.h>

void *sh_memcpy(void *restrict d, const void *restrict s, size_t n);
void *sh_memmove(void *d, const void *s, size_t n);

#endif
