#include "harness.h"

#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

struct t_case {
	const char *name;
	t_fn fn;
	bool fork;
};

static struct t_case *t_cases;
static size_t t_ncases, t_cap;
static int t_failed_checks;
static bool t_skipped;
static char t_skip_reason[512];

void t_register(const char *name, t_fn fn, bool fork)
{
	if (t_ncases == t_cap) {
		t_cap = t_cap ? t_cap * 2 : 64;
		t_cases = realloc(t_cases, t_cap * sizeof(*t_cases));
		if (!t_cases)
			abort();
	}
	t_cases[t_ncases++] = (struct t_case){ name, fn, fork };
}

const char *t_errno_name(int e)
{
	static const struct {
		int e;
		const char *n;
	} names[] = {
		{ 0, "0" },           { EPERM, "EPERM" },   { ENOENT, "ENOENT" },
		{ EACCES, "EACCES" }, { EEXIST, "EEXIST" }, { ENOTDIR, "ENOTDIR" },
		{ EISDIR, "EISDIR" }, { EINVAL, "EINVAL" }, { EROFS, "EROFS" },
		{ EXDEV, "EXDEV" },   { ENOSYS, "ENOSYS" }, { EBUSY, "EBUSY" },
		{ ELOOP, "ELOOP" },   { EAFNOSUPPORT, "EAFNOSUPPORT" },
		{ ENETUNREACH, "ENETUNREACH" }, { ECONNREFUSED, "ECONNREFUSED" },
		{ ESRCH, "ESRCH" },   { ENOTSUP, "ENOTSUP" }, { EFAULT, "EFAULT" },
		{ EBADF, "EBADF" },   { EPROTONOSUPPORT, "EPROTONOSUPPORT" },
	};
	static char buf[32];
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].e == e)
			return names[i].n;
	snprintf(buf, sizeof(buf), "errno %d", e);
	return buf;
}

bool t_check(bool ok, const char *expr, const char *file, int line)
{
	if (!ok) {
		t_failed_checks++;
		printf("#   %s:%d: check failed: %s (errno now %s)\n", file, line, expr,
		       t_errno_name(errno));
	}
	return ok;
}

bool t_check_int(long long a, const char *op, long long b, bool ok, const char *ea,
		 const char *eb, const char *file, int line)
{
	if (!ok) {
		t_failed_checks++;
		printf("#   %s:%d: check failed: %s %s %s (%lld vs %lld)\n", file, line, ea, op, eb,
		       a, b);
	}
	return ok;
}

bool t_check_str(const char *a, const char *b, bool want_eq, const char *ea, const char *eb,
		 const char *file, int line)
{
	bool eq = (a && b) ? strcmp(a, b) == 0 : a == b;
	if (eq != want_eq) {
		t_failed_checks++;
		printf("#   %s:%d: check failed: %s %s %s\n#     left:  \"%s\"\n#     right: \"%s\"\n",
		       file, line, ea, want_eq ? "==" : "!=", eb, a ? a : "(null)", b ? b : "(null)");
		return false;
	}
	return true;
}

bool t_check_contains(const char *hay, const char *needle, const char *eh, const char *file,
		      int line)
{
	if (!hay || !strstr(hay, needle)) {
		t_failed_checks++;
		printf("#   %s:%d: check failed: %s does not contain \"%s\"\n#     it is: \"%s\"\n",
		       file, line, eh, needle, hay ? hay : "(null)");
		return false;
	}
	return true;
}

void t_skip(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(t_skip_reason, sizeof(t_skip_reason), fmt, ap);
	va_end(ap);
	t_skipped = true;
}

char *t_mkdtemp(void)
{
	const char *tmp = getenv("TMPDIR");
	char *p;
	if (asprintf(&p, "%s/sh-test-XXXXXX", tmp && *tmp ? tmp : "/tmp") < 0)
		abort();
	if (!mkdtemp(p)) {
		perror("mkdtemp");
		abort();
	}
	return p;
}

static int rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void t_rmtree(const char *path)
{
	if (path)
		nftw(path, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

bool t_write_file(const char *path, const char *content)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		printf("#   cannot write %s\n", path);
		t_failed_checks++;
		return false;
	}
	fputs(content, f);
	return fclose(f) == 0;
}

/* Result of one case: 0 pass, 1 fail, 77 skip. */
static int run_inline(const struct t_case *c)
{
	t_failed_checks = 0;
	t_skipped = false;
	c->fn();
	if (t_failed_checks)
		return 1;
	return t_skipped ? 77 : 0;
}

static int run_forked(const struct t_case *c)
{
	int pfd[2], status;
	pid_t pid;

	fflush(stdout);
	if (pipe(pfd) < 0)
		return 1;
	pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		close(pfd[0]);
		alarm(60);
		int r = run_inline(c);
		if (r == 77) {
			ssize_t w = write(pfd[1], t_skip_reason, strlen(t_skip_reason));
			(void)w;
		}
		fflush(stdout);
		_exit(r);
	}
	close(pfd[1]);
	ssize_t n = read(pfd[0], t_skip_reason, sizeof(t_skip_reason) - 1);
	t_skip_reason[n > 0 ? n : 0] = '\0';
	close(pfd[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return 1;
	if (WIFSIGNALED(status)) {
		printf("#   killed by signal %d\n", WTERMSIG(status));
		return 1;
	}
	return WEXITSTATUS(status);
}

int main(int argc, char **argv)
{
	int passed = 0, failed = 0, skipped = 0, num = 0;
	bool must_work = getenv("SH_MUST_WORK") && strcmp(getenv("SH_MUST_WORK"), "1") == 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (size_t i = 0; i < t_ncases; i++) {
		const struct t_case *c = &t_cases[i];
		if (argc > 1 && !strstr(c->name, argv[1]))
			continue;
		num++;
		int r = c->fork ? run_forked(c) : run_inline(c);
		if (r == 77 && must_work) {
			printf("not ok %d - %s # SKIP not allowed (SH_MUST_WORK=1): %s\n", num, c->name,
			       t_skip_reason);
			failed++;
		} else if (r == 77) {
			printf("ok %d - %s # SKIP %s\n", num, c->name, t_skip_reason);
			skipped++;
		} else if (r == 0) {
			printf("ok %d - %s\n", num, c->name);
			passed++;
		} else {
			printf("not ok %d - %s\n", num, c->name);
			failed++;
		}
	}
	printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
	return failed ? 1 : 0;
}
