/* Terminal-safe output of untrusted text. */
#ifndef SH_ESCAPE_H
#define SH_ESCAPE_H

#include <stdbool.h>
#include <stdio.h>

/* Write s to f with every byte a terminal could act on escaped as \xNN:
 * C0 controls and DEL, and in UTF-8 the C1 controls, bidi overrides,
 * isolates and marks, zero-width and other invisible characters, line
 * separators, and anything not valid UTF-8.  quoted: also '\\' and '\''
 * (for text printed between single quotes).  For text that may come from
 * the sandboxed side: file names, link targets, config values. */
void sh_fput_escaped(FILE *f, const char *s, bool quoted);

#endif
