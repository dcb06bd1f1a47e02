/* See mem.h.  Built with -fno-builtin and -fno-tree-loop-distribute-patterns
 * (Makefile): the compiler must not turn these loops back into calls to
 * memcpy, which in the static build are calls to these very functions. */
#include "libc/mem.h"

#include <stdint.h>

typedef unsigned char v16 __attribute__((vector_size(16), aligned(1), may_alias));
typedef uint64_t u64u __attribute__((aligned(1), may_alias));
typedef uint32_t u32u __attribute__((aligned(1), may_alias));

/* Up to 64 bytes: every load before any store, so overlap is harmless
 * (memmove uses this too). */
static void copy_small(unsigned char *d, const unsigned char *s, size_t n)
{
	if (n >= 32) {
		v16 a = *(const v16 *)s, b = *(const v16 *)(s + 16);
		v16 c = *(const v16 *)(s + n - 32), e = *(const v16 *)(s + n - 16);
		*(v16 *)d = a;
		*(v16 *)(d + 16) = b;
		*(v16 *)(d + n - 32) = c;
		*(v16 *)(d + n - 16) = e;
	} else if (n >= 16) {
		v16 a = *(const v16 *)s, b = *(const v16 *)(s + n - 16);
		*(v16 *)d = a;
		*(v16 *)(d + n - 16) = b;
	} else if (n >= 8) {
		uint64_t a = *(const u64u *)s, b = *(const u64u *)(s + n - 8);
		*(u64u *)d = a;
		*(u64u *)(d + n - 8) = b;
	} else if (n >= 4) {
		uint32_t a = *(const u32u *)s, b = *(const u32u *)(s + n - 4);
		*(u32u *)d = a;
		*(u32u *)(d + n - 4) = b;
	} else if (n) {
		unsigned char a = s[0], b = s[n / 2], c = s[n - 1];
		d[0] = a;
		d[n / 2] = b;
		d[n - 1] = c;
	}
}

/* Forward, in 16-byte steps, the last step overlapping: safe when d < s. */
static void copy_fwd(unsigned char *d, const unsigned char *s, size_t n)
{
#if defined(__x86_64__)
	/* byte-by-byte forward by definition, so also right when d < s */
	__asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
#else
	v16 last = *(const v16 *)(s + n - 16);
	size_t i = 0;
	for (; i + 16 < n; i += 16)
		*(v16 *)(d + i) = *(const v16 *)(s + i);
	*(v16 *)(d + n - 16) = last;
#endif
}

void *sh_memcpy(void *restrict d, const void *restrict s, size_t n)
{
	if (n <= 64)
		copy_small(d, s, n);
	else
		copy_fwd(d, s, n);
	return d;
}

void *sh_memmove(void *d, const void *s, size_t n)
{
	unsigned char *dd = d;
	const unsigned char *ss = s;
	if (n <= 64) {
		copy_small(dd, ss, n);
	} else if ((uintptr_t)dd - (uintptr_t)ss >= n) {
		copy_fwd(dd, ss, n); /* d before s, or apart */
	} else {
		/* d inside s: from the end, in 16-byte steps; the first 16 bytes,
		 * loaded before any store, go last. */
		v16 head = *(const v16 *)ss;
		size_t j = n;
		while (j >= 32) {
			j -= 16;
			*(v16 *)(dd + j) = *(const v16 *)(ss + j);
		}
		v16 mid = *(const v16 *)(ss + j - 16); /* j in [16, 32): bytes j-16..j */
		*(v16 *)(dd + j - 16) = mid;
		*(v16 *)dd = head;
	}
	return d;
}
