/* The static build's allocator: size classes with free lists, big blocks
 * mapped on their own.  See alloc.h for why it exists.
 *
 * Single-threaded by design: safehouse starts no threads (each helper is its
 * own process), so there is no lock to pay on every call. */
#include "libc/alloc.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <unistd.h>

#define HDR 16
#define NCLASS 24
#define CLS_LARGE 0xffffu
#define TAG_LIVE 0x5a17u
#define TAG_FREE 0xf4eeu
#define CHUNK (256u * 1024u)
#define PAGE 4096u

/* 16 bytes, so every payload stays 16-byte aligned. */
struct hdr {
	size_t len;   /* small: the class's size; large: the mapping's length */
	uint32_t off; /* large: bytes from the mapping's start to this header */
	uint16_t cls; /* class index, or CLS_LARGE */
	uint16_t tag; /* TAG_LIVE or TAG_FREE */
};
_Static_assert(sizeof(struct hdr) == HDR, "header size");

/* Payload sizes: multiples of 16, steps of about 1.5x. */
static const uint32_t class_size[NCLASS] = {
	16,   32,   48,   64,    96,    128,   192,   256,   384,   512,   768,   1024,
	1536, 2048, 3072, 4096, 6144, 8192, 12288, 16384, 24576, 32768, 49152, 65536,
};

static struct {
	uintptr_t free_head[NCLASS]; /* masked links (see link_mask) */
	char *cur, *end;             /* the chunk being carved */
	uintptr_t secret;
	int ready;
} heap;

static _Noreturn void corrupt(const char *what)
{
	static const char msg[] = "safehouse: heap corruption detected (";
	/* no stdio: it may be what is corrupt */
	(void)!write(2, msg, sizeof(msg) - 1);
	(void)!write(2, what, strlen(what));
	(void)!write(2, ")\n", 2);
	abort();
}

static void init(void)
{
	const unsigned char *r = (const unsigned char *)getauxval(AT_RANDOM);
	uintptr_t s = (uintptr_t)0x9e3779b97f4a7c15ull;
	if (r)
		memcpy(&s, r + 8, sizeof(s)); /* the first 8 bytes feed the stack canary */
	heap.secret = s | 1;
	heap.ready = 1;
}

/* A free list's link, masked with the secret and the slot's own address:
 * a forged pointer written through a dangling one decodes to garbage. */
static uintptr_t link_mask(const void *slot)
{
	return heap.secret ^ ((uintptr_t)slot >> 4);
}

static unsigned class_of(size_t n)
{
	if (n <= 64)
		return n ? (unsigned)((n + 15) / 16 - 1) : 0;
	unsigned c = 4;
	while (class_size[c] < n)
		c++;
	return c;
}

static struct hdr *hdr_of(const void *p)
{
	return (struct hdr *)((char *)p - HDR);
}

/* Carving moves to a new chunk of LEN bytes (the old chunk's tail is left
 * unused); POP: mapped populated. */
static int new_chunk(size_t len, int pop)
{
	char *m = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | (pop ? MAP_POPULATE : 0), -1, 0);
	if (m == MAP_FAILED) {
		errno = ENOMEM;
		return -1;
	}
	heap.cur = m;
	heap.end = m + len;
	return 0;
}

/* 512 KiB: about what the launcher carves after init's clone (the
 * configuration and the plan); populating more cost more than the faults
 * it saved, on this VM. */
void sh_mem_after_fork(void)
{
	if (heap.ready)
		(void)new_chunk(2 * CHUNK, 1); /* on failure, carving goes on where it was */
}

static void *large_alloc(size_t n, size_t align)
{
	if (n > SIZE_MAX - align - HDR - PAGE) {
		errno = ENOMEM;
		return NULL;
	}
	size_t len = (n + align + HDR + PAGE - 1) & ~(size_t)(PAGE - 1);
	char *base = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED) {
		errno = ENOMEM;
		return NULL;
	}
	uintptr_t p = ((uintptr_t)base + HDR + align - 1) & ~(uintptr_t)(align - 1);
	struct hdr *h = hdr_of((void *)p);
	h->len = len;
	h->off = (uint32_t)((char *)h - base);
	h->cls = CLS_LARGE;
	h->tag = TAG_LIVE;
	return (void *)p;
}

static void *small_alloc(unsigned c)
{
	uintptr_t head = heap.free_head[c];
	if (head) {
		char *p = (char *)head;
		struct hdr *h = hdr_of(p);
		if (h->tag != TAG_FREE || h->cls != c)
			corrupt("free list");
		uintptr_t next;
		memcpy(&next, p, sizeof(next));
		next = next ? next ^ link_mask(p) : 0;
		if (next & (HDR - 1))
			corrupt("free list link");
		heap.free_head[c] = next;
		h->tag = TAG_LIVE;
		return p;
	}
	size_t block = HDR + class_size[c];
	if ((size_t)(heap.end - heap.cur) < block) {
		size_t len = block * 4 > CHUNK ? block * 4 : CHUNK;
		if (new_chunk(len, 0) < 0)
			return NULL;
	}
	struct hdr *h = (struct hdr *)heap.cur;
	heap.cur += block;
	h->len = class_size[c];
	h->off = 0;
	h->cls = (uint16_t)c;
	h->tag = TAG_LIVE;
	return (char *)h + HDR;
}

void *sh_mem_alloc(size_t n)
{
	if (!heap.ready)
		init();
	if (n > class_size[NCLASS - 1])
		return large_alloc(n, HDR);
	return small_alloc(class_of(n));
}

void *sh_mem_zalloc(size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size) {
		errno = ENOMEM;
		return NULL;
	}
	void *p = sh_mem_alloc(n * size);
	if (p && hdr_of(p)->cls != CLS_LARGE) /* fresh mappings are zero already */
		memset(p, 0, n * size);
	return p;
}

static struct hdr *live_hdr(const void *p)
{
	if ((uintptr_t)p & (HDR - 1))
		corrupt("misaligned pointer");
	struct hdr *h = hdr_of(p);
	if (h->tag != TAG_LIVE)
		corrupt(h->tag == TAG_FREE ? "double free" : "not a live block");
	if (h->cls != CLS_LARGE && (h->cls >= NCLASS || h->len != class_size[h->cls]))
		corrupt("header");
	return h;
}

void sh_mem_free(void *p)
{
	if (!p)
		return;
	struct hdr *h = live_hdr(p);
	if (h->cls == CLS_LARGE) {
		h->tag = TAG_FREE;
		if (munmap((char *)h - h->off, h->len) != 0)
			corrupt("munmap");
		return;
	}
	uintptr_t head = heap.free_head[h->cls];
	uintptr_t link = head ? head ^ link_mask(p) : 0;
	memcpy(p, &link, sizeof(link));
	h->tag = TAG_FREE;
	heap.free_head[h->cls] = (uintptr_t)p;
}

size_t sh_mem_usable(const void *p)
{
	const struct hdr *h = live_hdr(p);
	return h->cls == CLS_LARGE ? h->len - h->off - HDR : h->len;
}

void *sh_mem_realloc(void *p, size_t n)
{
	if (!p)
		return sh_mem_alloc(n);
	struct hdr *h = live_hdr(p);
	size_t have = sh_mem_usable(p);
	if (h->cls != CLS_LARGE && n <= have && (h->cls == 0 || n > class_size[h->cls - 1] / 2))
		return p; /* fits, and not so much smaller that the space is wasted */
	if (h->cls == CLS_LARGE && h->off == 0 && n > have && n <= SIZE_MAX - HDR - PAGE) {
		/* Grow a big block by moving its pages, not its bytes.  Only
		 * those from sh_mem_alloc (off 0): a moved mapping keeps page
		 * alignment, not a larger one. */
		size_t len = (n + HDR + PAGE - 1) & ~(size_t)(PAGE - 1);
		char *m = mremap(h, h->len, len, MREMAP_MAYMOVE);
		if (m == MAP_FAILED) {
			errno = ENOMEM;
			return NULL;
		}
		h = (struct hdr *)m;
		h->len = len;
		return m + HDR;
	}
	if (h->cls == CLS_LARGE && n <= have && n > have / 2)
		return p;
	void *q = sh_mem_alloc(n);
	if (!q)
		return NULL;
	memcpy(q, p, n < have ? n : have);
	sh_mem_free(p);
	return q;
}

void *sh_mem_aligned(size_t align, size_t n)
{
	if (!heap.ready)
		init();
	if (align <= HDR)
		return sh_mem_alloc(n);
	if (align > PAGE * 16 || (align & (align - 1))) {
		errno = EINVAL;
		return NULL;
	}
	return large_alloc(n, align);
}
