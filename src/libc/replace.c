/* The static (musl) build's replacements for the C library's malloc family,
 * memcpy and memmove (see alloc.h and mem.h for why).  Linked into that
 * build's binaries only: a static link takes these definitions, and the C
 * library's own objects that define them are then never pulled in.  Not
 * part of the glibc build, the unit tests or the sanitizer build. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "libc/alloc.h"
#include "libc/mem.h"
#include "libc/str.h"

size_t malloc_usable_size(void *p);
void *memalign(size_t align, size_t n);

void *malloc(size_t n)
{
	return sh_mem_alloc(n);
}

void *calloc(size_t n, size_t size)
{
	return sh_mem_zalloc(n, size);
}

void *realloc(void *p, size_t n)
{
	return sh_mem_realloc(p, n);
}

void free(void *p)
{
	sh_mem_free(p);
}

void *aligned_alloc(size_t align, size_t n)
{
	return sh_mem_aligned(align, n);
}

void *memalign(size_t align, size_t n)
{
	return sh_mem_aligned(align, n);
}

int posix_memalign(void **out, size_t align, size_t n)
{
	if (align < sizeof(void *) || (align & (align - 1)))
		return EINVAL;
	void *p = sh_mem_aligned(align, n);
	if (!p)
		return errno;
	*out = p;
	return 0;
}

size_t malloc_usable_size(void *p)
{
	return p ? sh_mem_usable(p) : 0;
}

void *memcpy(void *restrict d, const void *restrict s, size_t n)
{
	return sh_memcpy(d, s, n);
}

void *memmove(void *d, const void *s, size_t n)
{
	return sh_memmove(d, s, n);
}

/* musl's open() follows every O_CLOEXEC open with fcntl(F_SETFD), for
 * kernels older than 2.6.23 that ignored the flag: one system call more for
 * each of the hundred-odd opens of a launch (Landlock's rule paths, opendir).
 * Every kernel safehouse runs on honours O_CLOEXEC. */
int open(const char *path, int flags, ...)
{
	mode_t mode = 0;
	if ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE) {
		va_list ap;
		va_start(ap, flags);
		mode = va_arg(ap, mode_t);
		va_end(ap);
	}
	return (int)syscall(SYS_openat, AT_FDCWD, path, flags, mode);
}

#ifdef SH_HAVE_FAST_STR
size_t strlen(const char *s)
{
	return sh_strlen(s);
}

void *memchr(const void *s, int c, size_t n)
{
	return sh_memchr(s, c, n);
}

int strcmp(const char *a, const char *b)
{
	return sh_strcmp(a, b);
}

int strncmp(const char *a, const char *b, size_t n)
{
	return sh_strncmp(a, b, n);
}

int memcmp(const void *a, const void *b, size_t n)
{
	return sh_memcmp(a, b, n);
}
#endif
