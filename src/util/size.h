/* Sizes written by people: "512M", "2G", "1048576" (K, M, G, T: powers of 1024). */
#ifndef SH_SIZE_H
#define SH_SIZE_H

#include <stdint.h>

#include "util/err.h"

/* Errors name what (e.g. "--max-memory") and exit 1. */
int sh_parse_size(const char *s, uint64_t *out, const char *what, struct sh_err *e);

#endif
