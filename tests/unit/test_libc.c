/* src/libc: the static build's allocator and copies (called by their own
 * names here; only the static build makes them the C library's). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "libc/alloc.h"
#include "libc/mem.h"
#include "libc/str.h"

static void fill(unsigned char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)(seed * 131 + i * 7);
}

static bool filled(const unsigned char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != (unsigned char)(seed * 131 + i * 7))
			return false;
	return true;
}

TEST(mem_alloc_sizes_alignment_and_reuse)
{
	static const size_t sizes[] = { 0, 1, 15, 16, 17, 64, 65, 1000, 65535, 65536, 65537,
					1 << 20 };
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		unsigned char *p = sh_mem_alloc(sizes[i]);
		CHECK(p != NULL);
		CHECK(((uintptr_t)p & 15) == 0);
		CHECK(sh_mem_usable(p) >= sizes[i]);
		fill(p, sizes[i], (unsigned)i);
		CHECK(filled(p, sizes[i], (unsigned)i));
		sh_mem_free(p);
	}
	/* a freed block is what the next allocation of its class gets */
	void *a = sh_mem_alloc(100), *b = sh_mem_alloc(100);
	CHECK(a != b);
	sh_mem_free(a);
	CHECK(sh_mem_alloc(110) == a);
	sh_mem_free(b);
	sh_mem_free(a);
	sh_mem_free(NULL);
}

static bool resident(const void *p)
{
	unsigned char v = 0;
	uintptr_t page = (uintptr_t)p & ~(uintptr_t)4095;
	return mincore((void *)page, 4096, &v) == 0 && (v & 1);
}

/* After a fork the parent carves from a new chunk, mapped populated: the
 * pages ahead of the next block are there before anything touches them. */
TEST(mem_after_fork_carves_from_a_fresh_populated_chunk)
{
	unsigned char *old = sh_mem_alloc(40);
	fill(old, 40, 7);
	sh_mem_after_fork();
	unsigned char *p = NULL;
	for (int i = 0; i < 4000; i++) { /* past whatever the free list holds */
		p = sh_mem_alloc(16);
		CHECK(p != NULL);
	}
	CHECK(((uintptr_t)p >> 12) != ((uintptr_t)old >> 12));
	CHECK(resident(p + 64 * 4096)); /* untouched, 256 KiB further on */
	CHECK(filled(old, 40, 7));
	sh_mem_free(old); /* blocks from before still free normally */
}

TEST(mem_zalloc_zeroes_reused_blocks_and_refuses_overflow)
{
	unsigned char *p = sh_mem_alloc(200);
	memset(p, 0xff, 200);
	sh_mem_free(p);
	unsigned char *q = sh_mem_zalloc(20, 10);
	CHECK(q == p);
	bool zero = true;
	for (int i = 0; i < 200; i++)
		zero = zero && q[i] == 0;
	CHECK(zero);
	sh_mem_free(q);
	errno = 0;
	CHECK(sh_mem_zalloc(SIZE_MAX / 2, 3) == NULL);
	CHECK(errno == ENOMEM);
	errno = 0;
	CHECK(sh_mem_alloc(SIZE_MAX - 100) == NULL);
	CHECK(errno == ENOMEM);
}

TEST(mem_realloc_keeps_the_bytes)
{
	unsigned char *p = sh_mem_realloc(NULL, 10);
	fill(p, 10, 1);
	/* within the class: the same block */
	CHECK(sh_mem_realloc(p, 16) == p);
	/* across classes, small to large to larger (moved pages) and back */
	static const size_t steps[] = { 100, 5000, 70000, 3 << 20, 200000, 40, 8 };
	size_t have = 10;
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		size_t keep = have < steps[i] ? have : steps[i];
		p = sh_mem_realloc(p, steps[i]);
		CHECK(p != NULL && ((uintptr_t)p & 15) == 0);
		CHECK(filled(p, keep < 10 ? keep : 10, 1));
		fill(p, steps[i], 1);
		have = steps[i];
	}
	sh_mem_free(p);
}

TEST(mem_aligned)
{
	static const size_t aligns[] = { 1, 8, 16, 32, 64, 4096, 65536 };
	for (size_t i = 0; i < sizeof(aligns) / sizeof(aligns[0]); i++) {
		unsigned char *p = sh_mem_aligned(aligns[i], 3000);
		CHECK(p != NULL && ((uintptr_t)p & (aligns[i] - 1)) == 0);
		CHECK(sh_mem_usable(p) >= 3000);
		fill(p, 3000, 9);
		/* a big aligned block grows by copy, keeping its bytes */
		p = sh_mem_realloc(p, 100000);
		CHECK(p != NULL && filled(p, 3000, 9));
		sh_mem_free(p);
	}
	errno = 0;
	CHECK(sh_mem_aligned(48, 10) == NULL && errno == EINVAL);
}

/* Random allocations, reallocations and frees against a model of what each
 * live block must hold. */
TEST(mem_random_against_model)
{
	enum { N = 256 };
	unsigned char *p[N] = { 0 };
	size_t len[N] = { 0 };
	unsigned seed[N] = { 0 };
	uint32_t r = 12345;
	bool ok = true;
	for (int step = 0; step < 20000 && ok; step++) {
		r = r * 1103515245 + 12345;
		unsigned k = (r >> 8) % N;
		size_t n = (r >> 16) % 4 == 0 ? (r >> 12) % 100000 : (r >> 12) % 300;
		if (p[k] && !filled(p[k], len[k], seed[k]))
			ok = false;
		switch ((r >> 20) % 3) {
		case 0:
			sh_mem_free(p[k]);
			p[k] = sh_mem_alloc(n);
			break;
		case 1:
			p[k] = sh_mem_realloc(p[k], n);
			if (p[k] && !filled(p[k], len[k] < n ? len[k] : n, seed[k]))
				ok = false;
			break;
		default:
			sh_mem_free(p[k]);
			p[k] = NULL;
			n = 0;
			break;
		}
		len[k] = n;
		seed[k] = (unsigned)step;
		if (p[k])
			fill(p[k], n, seed[k]);
	}
	CHECK(ok);
	for (int k = 0; k < N; k++)
		sh_mem_free(p[k]);
}

/* The signal that killed f's process, or 0. */
static int death(void (*f)(void))
{
	pid_t pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		if (null >= 0)
			dup2(null, 2);
		f();
		_exit(0);
	}
	int st = 0;
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return 0;
	return WIFSIGNALED(st) ? WTERMSIG(st) : 0;
}

static void double_free(void)
{
	void *p = sh_mem_alloc(40);
	sh_mem_free(p);
	sh_mem_free(p);
}

static void stray_pointer(void)
{
	char *p = sh_mem_alloc(400);
	sh_mem_free(p + 64);
}

static void overrun_header(void)
{
	/* once the class's free list is drained, blocks are carved side by side */
	char *p = sh_mem_alloc(32), *q = sh_mem_alloc(32);
	for (int i = 0; i < 100000 && q != p + 32 + 16; i++) {
		p = q;
		q = sh_mem_alloc(32);
	}
	if (q != p + 32 + 16)
		_exit(0); /* no abort: the test fails */
	memset(p, 'A', 32 + 16); /* over q's header */
	sh_mem_free(q);
}

static void forged_link(void)
{
	char *p = sh_mem_alloc(48);
	sh_mem_free(p);
	char *target = sh_mem_alloc(1000);
	memcpy(p, &target, sizeof(target)); /* use after free: aim the next allocation */
	(void)sh_mem_alloc(48);
	(void)sh_mem_alloc(48); /* follows the forged link */
}

TEST(mem_corruption_aborts)
{
	CHECK(death(double_free) == SIGABRT);
	CHECK(death(stray_pointer) == SIGABRT);
	CHECK(death(overrun_header) == SIGABRT);
	/* the forged link decodes to a random address: checked, or unmapped */
	int sig = death(forged_link);
	CHECK(sig == SIGABRT || sig == SIGSEGV);
}

static void ref_move(unsigned char *d, const unsigned char *s, size_t n)
{
	unsigned char tmp[512];
	for (size_t i = 0; i < n; i++)
		tmp[i] = s[i];
	for (size_t i = 0; i < n; i++)
		d[i] = tmp[i];
}

TEST(mem_copies_every_length_offset_and_overlap)
{
	unsigned char src[600], dst[600], want[600];
	bool ok = true;
	for (size_t n = 0; n <= 300 && ok; n++)
		for (size_t off = 0; off < 16 && ok; off++) {
			fill(src, sizeof(src), (unsigned)n);
			memset(dst, 0xee, sizeof(dst));
			memset(want, 0xee, sizeof(want));
			ref_move(want + off, src + 3, n);
			CHECK(sh_memcpy(dst + off, src + 3, n) == dst + off);
			ok = memcmp(dst, want, sizeof(dst)) == 0;
		}
	CHECK(ok);
	for (size_t n = 0; n <= 300 && ok; n++)
		for (int shift = -40; shift <= 40 && ok; shift++) {
			unsigned char buf[600];
			fill(buf, sizeof(buf), (unsigned)n);
			memcpy(want, buf, sizeof(buf));
			ref_move(want + 100 + shift, want + 100, n);
			CHECK(sh_memmove(buf + 100 + shift, buf + 100, n) == buf + 100 + shift);
			ok = memcmp(buf, want, sizeof(buf)) == 0;
		}
	CHECK(ok);
}

#ifdef SH_HAVE_FAST_STR
static int sgn(int x)
{
	return (x > 0) - (x < 0);
}

static int ref_strcmp(const unsigned char *a, const unsigned char *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (a[i] != b[i] || !a[i])
			return a[i] - b[i];
	}
	return 0;
}

/* Two pages, the second inaccessible: strings that end right at the
 * boundary show that nothing reads a byte it must not. */
static unsigned char *guarded(void)
{
	unsigned char *m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED || mprotect(m + 4096, 4096, PROT_NONE) != 0)
		return NULL;
	return m;
}

TEST(str_functions_match_byte_by_byte_at_every_length_and_boundary)
{
	unsigned char *g = guarded(), *h = guarded();
	if (!CHECK(g && h))
		return;
	bool ok = true;
	uint32_t r = 7;
	for (size_t len = 0; len <= 80 && ok; len++)
		for (size_t end = 0; end < 2 && ok; end++) /* 0: at the page end; 1: mid-page */
			for (size_t al = 0; al < 16 && ok; al++) {
				/* a string of len bytes + NUL, ending at the boundary or not */
				size_t off = end == 0 ? 4096 - (len + 1) : 1000 + al;
				unsigned char *a = g + off, *b = h + (end == 0 ? 4096 - (len + 1) : 2000 + 15 - al);
				for (size_t i = 0; i < len; i++) {
					r = r * 1103515245 + 12345;
					a[i] = (unsigned char)(1 + (r >> 16) % 255);
				}
				a[len] = 0;
				memcpy(b, a, len + 1);
				ok = sh_strlen((char *)a) == len;
				ok = ok && sh_strcmp((char *)a, (char *)b) == 0;
				ok = ok && sh_memcmp(a, b, len) == 0;
				for (size_t k = 0; k <= len + 1 && ok; k++)
					ok = sh_strncmp((char *)a, (char *)b, k) == 0;
				/* a difference at each position, both signs */
				for (size_t d = 0; d < len && ok; d++) {
					unsigned char keep = b[d];
					b[d] = (unsigned char)(keep ^ 0x80);
					if (!b[d])
						b[d] = 1;
					int want = sgn(ref_strcmp(a, b, len + 1));
					ok = sgn(sh_strcmp((char *)a, (char *)b)) == want &&
					     sgn(sh_strcmp((char *)b, (char *)a)) == -want &&
					     sgn(sh_memcmp(a, b, len)) == want &&
					     sgn(sh_strncmp((char *)a, (char *)b, d + 1)) == want &&
					     sh_strncmp((char *)a, (char *)b, d) == 0;
					b[d] = keep;
				}
				/* a shorter b */
				if (len) {
					b[len - 1] = 0;
					ok = ok && sh_strcmp((char *)a, (char *)b) > 0 &&
					     sh_strncmp((char *)b, (char *)a, len + 5) < 0;
					b[len - 1] = a[len - 1];
				}
				/* memchr: every byte of the string, the NUL, an absent byte, short n */
				for (size_t i = 0; i < len && ok; i++) {
					ok = sh_memchr(a, a[i], len) == memchr(a, a[i], len) &&
					     sh_memchr(a, a[i], i) == memchr(a, a[i], i) &&
					     sh_memchr(a + i, a[i], len - i) == a + i;
				}
				ok = ok && sh_memchr(a, 0, len + 1) == a + len && sh_memchr(a, 0, len) == NULL;
				if (!ok)
					printf("#   len %zu end %zu align %zu\n", len, end, al);
			}
	CHECK(ok);
	CHECK(sh_memchr(g, 'x', 0) == NULL);
	munmap(g, 8192);
	munmap(h, 8192);
}
#endif
