/* A small in-tree test harness.
 *
 * TEST(name) { ... }          runs in-process.
 * TEST_FORK(name) { ... }     runs in a forked child (for anything irreversible:
 *                             landlock, seccomp, unshare, no_new_privs).
 * Tests register themselves at load time, so a new unit test file needs no
 * central list.  Output is TAP-like ("ok N - name", "not ok N - name",
 * "ok N - name # SKIP reason") and ends with "N passed, N failed, N skipped".
 * SKIP() with SH_MUST_WORK=1 in the environment counts as a failure: CI uses
 * that to refuse skips of features the machine must have. */
#ifndef SH_HARNESS_H
#define SH_HARNESS_H

#include <errno.h>
#include <stdbool.h>
#include <string.h>

typedef void (*t_fn)(void);
void t_register(const char *name, t_fn fn, bool fork);

#define T_CAT2(a, b) a##b
#define T_CAT(a, b) T_CAT2(a, b)
#define T_DEFINE(name, fork)                                              \
	static void T_CAT(t_body_, name)(void);                           \
	__attribute__((constructor)) static void T_CAT(t_reg_, name)(void) \
	{                                                                 \
		t_register(#name, T_CAT(t_body_, name), fork);            \
	}                                                                 \
	static void T_CAT(t_body_, name)(void)
#define TEST(name) T_DEFINE(name, false)
#define TEST_FORK(name) T_DEFINE(name, true)

bool t_check(bool ok, const char *expr, const char *file, int line);
bool t_check_int(long long a, const char *op, long long b, bool ok, const char *ea,
		 const char *eb, const char *file, int line);
bool t_check_str(const char *a, const char *b, bool want_eq, const char *ea, const char *eb,
		 const char *file, int line);
bool t_check_contains(const char *hay, const char *needle, const char *eh, const char *file,
		      int line);
void t_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *t_errno_name(int e);

#define CHECK(c) t_check(!!(c), #c, __FILE__, __LINE__)
/* Each operand is evaluated exactly once (calls with side effects are fine);
 * the value is true when the check passed. */
#define CHECK_INT(a, op, b)                                                          \
	__extension__({                                                              \
		long long t_a_ = (long long)(a), t_b_ = (long long)(b);              \
		t_check_int(t_a_, #op, t_b_, t_a_ op t_b_, #a, #b, __FILE__, __LINE__); \
	})
#define CHECK_STR(a, b) t_check_str((a), (b), true, #a, #b, __FILE__, __LINE__)
#define CHECK_STR_NE(a, b) t_check_str((a), (b), false, #a, #b, __FILE__, __LINE__)
#define CHECK_CONTAINS(hay, needle) t_check_contains((hay), (needle), #hay, __FILE__, __LINE__)
/* Evaluate call (expected to return -1) and check errno. */
#define CHECK_ERRNO(call, err)                                                            \
	do {                                                                              \
		errno = 0;                                                                \
		long long t_r_ = (long long)(call);                                       \
		int t_e_ = errno;                                                         \
		t_check_int(t_r_, "==", -1, t_r_ == -1, #call, "-1", __FILE__, __LINE__); \
		if (t_r_ == -1)                                                           \
			t_check_str(t_errno_name(t_e_), t_errno_name(err), true, "errno",  \
				    #err, __FILE__, __LINE__);                            \
	} while (0)
#define SKIP(...)                       \
	do {                            \
		t_skip(__VA_ARGS__);    \
		return;                 \
	} while (0)

/* Temp directory helpers: a fresh directory under $TMPDIR (or /tmp), removed
 * recursively by t_rmtree.  Returned strings are owned by the caller. */
char *t_mkdtemp(void);
void t_rmtree(const char *path);
/* Write a file (creating parents is the caller's job); aborts the test on error. */
bool t_write_file(const char *path, const char *content);

#endif
