#!/bin/sh
# Post-session audit timing (docs/audit.md): builds bench/audit-bench.c
# against src/audit and src/util, then times snapshot + compare of a
# 100k-file tree generated under BUILD/bench-audit/ (kept between runs; not
# /tmp, which may be a small tmpfs).  Budget: 50 ms; exit 1 when over.
#   bench/audit.sh [BUILD] [RUNS]
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-build}
RUNS=${2:-15}
case $BUILD in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
mkdir -p "$BUILD" || exit 2
${CC:-cc} -std=gnu11 -D_GNU_SOURCE -O2 -I"$ROOT/src" -Wall -Wextra \
	"$ROOT/bench/audit-bench.c" "$ROOT"/src/audit/*.c "$ROOT"/src/util/*.c \
	-o "$BUILD/audit-bench" || exit 2
exec "$BUILD/audit-bench" "$BUILD/bench-audit" "$RUNS"
