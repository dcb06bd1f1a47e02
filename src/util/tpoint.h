#ifndef SH_TPOINT_H
#define SH_TPOINT_H
#ifdef SH_TIMING
#include <stdio.h>
#include <time.h>
#include <unistd.h>
static inline void sh_tpoint(const char *n)
{
	struct timespec t;
	char b[96];
	clock_gettime(CLOCK_MONOTONIC, &t);
	int k = snprintf(b, sizeof b, "T %lld %s\n", (long long)t.tv_sec * 1000000000LL + t.tv_nsec, n);
	if (write(2, b, (size_t)k) < 0) {
	}
}
#define SH_TP(n) sh_tpoint(n)
#else
#define SH_TP(n) ((void)0)
#endif
#endif
