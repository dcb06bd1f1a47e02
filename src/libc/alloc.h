/* The memory allocator of the static (musl) build.
 *
 * musl's own allocator and string copies cost the launcher about as much as
 * the static build saves at exec (glibc's start-up runs some sixty CPUID
 * instructions, each a VM exit on virtual machines).  This one is simple
 * and fast for the launcher's pattern (thousands of small, short-lived
 * blocks) and keeps memory bounded for the long-lived helpers (the network
 * proxy, the port forwarder): freed blocks are reused by size class.
 *
 *   - sizes up to 64 KiB come from 24 classes (steps of 1.5x), carved from
 *     256 KiB chunks and kept on one free list per class;
 *   - larger blocks are their own mapping, unmapped on free;
 *   - every block has a 16-byte header; freeing a block whose header is not
 *     that of a live block (a double free, a stray pointer, an overrun into
 *     the header) aborts, and the free lists' links are masked with a
 *     per-process secret, so a use-after-free cannot aim the next allocation.
 *
 * src/libc/replace.c makes these the C library's malloc family in the static
 * build only; elsewhere (unit tests, sanitizers) they are plain functions. */
#ifndef SH_LIBC_ALLOC_H
#define SH_LIBC_ALLOC_H

#include <stddef.h>

void *sh_mem_alloc(size_t n);
void *sh_mem_zalloc(size_t n, size_t size); /* calloc: NULL on overflow */
void *sh_mem_realloc(void *p, size_t n);
void *sh_mem_aligned(size_t align, size_t n); /* align: a power of two */
void sh_mem_free(void *p);
size_t sh_mem_usable(const void *p);
/* In a parent right after fork or clone: the blocks it allocates next come
 * from a new chunk, mapped populated, instead of pages it now shares
 * copy-on-write with the child (each first write to one of those is a
 * page fault and a copy).  A no-op until the allocator is first used. */
void sh_mem_after_fork(void);

#endif
