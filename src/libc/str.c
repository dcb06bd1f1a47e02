/* See str.h.  x86_64 only (SSE2 is part of the architecture); elsewhere the
 * C library's functions stay.
 *
 * Reading past the end of a string: the loads are 16 bytes, and a load
 * never crosses a page boundary that the bytes it must read do not cross
 * (aligned loads, or unaligned ones checked against the page offset), so
 * it cannot fault where a byte-by-byte loop would not.  Bytes outside the
 * object are read but never used. */
#include "libc/str.h"

#if defined(__x86_64__)
#include <emmintrin.h>
#include <stdint.h>

#define PAGE 4096u
/* The over-reads are deliberate (see above): not for the address sanitizer. */
#define NO_ASAN __attribute__((no_sanitize_address))

NO_ASAN static inline unsigned zmask(const unsigned char *p, __m128i v)
{
	return (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_load_si128((const __m128i *)p), v));
}

NO_ASAN size_t sh_strlen(const char *s)
{
	const unsigned char *p = (const unsigned char *)((uintptr_t)s & ~(uintptr_t)15);
	const __m128i z = _mm_setzero_si128();
	unsigned m = zmask(p, z) >> ((uintptr_t)s & 15);
	if (m)
		return (size_t)__builtin_ctz(m);
	for (;;) {
		p += 16;
		m = zmask(p, z);
		if (m)
			return (size_t)(p - (const unsigned char *)s) + (size_t)__builtin_ctz(m);
	}
}

NO_ASAN void *sh_memchr(const void *src, int c, size_t n)
{
	const unsigned char *s = src;
	if (!n)
		return NULL;
	const unsigned char *p = (const unsigned char *)((uintptr_t)s & ~(uintptr_t)15);
	const __m128i v = _mm_set1_epi8((char)c);
	size_t skip = (size_t)(s - p);
	unsigned m = zmask(p, v) >> skip;
	size_t avail = 16 - skip; /* bytes of s in the first block */
	if (m) {
		size_t i = (size_t)__builtin_ctz(m);
		return i < n ? (void *)(s + i) : NULL;
	}
	if (n <= avail)
		return NULL;
	n -= avail;
	for (;;) {
		p += 16;
		m = zmask(p, v);
		if (m) {
			size_t i = (size_t)__builtin_ctz(m);
			return i < n ? (void *)(p + i) : NULL;
		}
		if (n <= 16)
			return NULL;
		n -= 16;
	}
}

/* Both 16-byte loads stay within their pages. */
static inline int fits(const unsigned char *a, const unsigned char *b)
{
	return ((uintptr_t)a & (PAGE - 1)) <= PAGE - 16 && ((uintptr_t)b & (PAGE - 1)) <= PAGE - 16;
}

NO_ASAN int sh_strcmp(const char *l, const char *r)
{
	const unsigned char *a = (const unsigned char *)l, *b = (const unsigned char *)r;
	const __m128i z = _mm_setzero_si128();
	for (;;) {
		if (fits(a, b)) {
			__m128i x = _mm_loadu_si128((const __m128i *)a);
			__m128i y = _mm_loadu_si128((const __m128i *)b);
			unsigned stop = ((unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, y)) ^ 0xffffu) |
					(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, z));
			if (stop) {
				int i = __builtin_ctz(stop);
				return a[i] - b[i];
			}
		} else {
			for (int i = 0; i < 16; i++)
				if (a[i] != b[i] || !a[i])
					return a[i] - b[i];
		}
		a += 16;
		b += 16;
	}
}

NO_ASAN int sh_strncmp(const char *l, const char *r, size_t n)
{
	const unsigned char *a = (const unsigned char *)l, *b = (const unsigned char *)r;
	const __m128i z = _mm_setzero_si128();
	while (n) {
		size_t k = n < 16 ? n : 16;
		if (fits(a, b)) {
			__m128i x = _mm_loadu_si128((const __m128i *)a);
			__m128i y = _mm_loadu_si128((const __m128i *)b);
			unsigned stop = ((unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, y)) ^ 0xffffu) |
					(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, z));
			if (k < 16)
				stop &= (1u << k) - 1;
			if (stop) {
				int i = __builtin_ctz(stop);
				return a[i] - b[i];
			}
		} else {
			for (size_t i = 0; i < k; i++)
				if (a[i] != b[i] || !a[i])
					return a[i] - b[i];
		}
		a += k;
		b += k;
		n -= k;
	}
	return 0;
}

NO_ASAN int sh_memcmp(const void *l, const void *r, size_t n)
{
	const unsigned char *a = l, *b = r;
	while (n >= 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)a);
		__m128i y = _mm_loadu_si128((const __m128i *)b);
		unsigned ne = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, y)) ^ 0xffffu;
		if (ne) {
			int i = __builtin_ctz(ne);
			return a[i] - b[i];
		}
		a += 16;
		b += 16;
		n -= 16;
	}
	for (size_t i = 0; i < n; i++)
		if (a[i] != b[i])
			return a[i] - b[i];
	return 0;
}

#endif
