/* Post-session audit timing: snapshot + compare of a 100k-file workdir.
 *   audit-bench DIR [RUNS]
 * Builds DIR (once; reused while its marker exists) as 1000 directories x
 * 100 files plus a repository-like .git, a .vscode/ and a venv, then times,
 * RUNS times each (default 15), with a warm page cache:
 *   steady   snapshot + compare, nothing changed (the tree is older than the
 *            racy window, as a real workdir is)
 *   changed  snapshot, plant 5 findings + touch 20 source dirs, compare
 *   worst    snapshot treating every timestamp as racy, compare (every
 *            directory re-read: the bound when the whole tree was just
 *            written, e.g. right after a checkout)
 * Prints the median and the best of each, in ms, and "budget: ok" when the
 * steady and changed medians are under 50 ms.  Exit 1 when over budget. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit/audit.h"
#include "audit/audit_int.h"

#define NDIRS 1000
#define NFILES 100
#define BUDGET_MS 50.0

static void die(const char *what)
{
	fprintf(stderr, "audit-bench: %s: %s\n", what, strerror(errno));
	exit(2);
}

static void mk(const char *p)
{
	if (mkdir(p, 0755) < 0 && errno != EEXIST)
		die(p);
}

static void put(const char *p, const char *s)
{
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, s, strlen(s)) < 0 || close(fd) < 0)
		die(p);
}

static void build(const char *root)
{
	static const char *const dirs[] = { ".git", ".git/hooks", ".git/info", ".git/objects",
					    ".git/objects/info", ".git/refs", ".vscode", "src",
					    ".venv", ".venv/lib", ".venv/lib/site-packages" };
	static const char *const hooks[] = { "pre-commit", "pre-push", "commit-msg", "post-update",
					     "pre-rebase", "fsmonitor-watchman", "update" };
	char p[4096];
	char *marker = NULL;

	if (asprintf(&marker, "%s/.bench-complete", root) < 0)
		die("asprintf");
	if (access(marker, F_OK) == 0) {
		free(marker);
		return;
	}
	fprintf(stderr, "audit-bench: building %d dirs x %d files in %s\n", NDIRS, NFILES, root);
	mk(root);
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", root, dirs[i]);
		mk(p);
	}
	snprintf(p, sizeof(p), "%s/.git/config", root);
	put(p, "[core]\n\trepositoryformatversion = 0\n\tbare = false\n");
	for (size_t i = 0; i < sizeof(hooks) / sizeof(hooks[0]); i++) {
		snprintf(p, sizeof(p), "%s/.git/hooks/%s.sample", root, hooks[i]);
		put(p, "#!/bin/sh\n");
	}
	snprintf(p, sizeof(p), "%s/.vscode/settings.json", root);
	put(p, "{}\n");
	snprintf(p, sizeof(p), "%s/.venv/lib/site-packages/distutils-precedence.pth", root);
	put(p, "import os\n");
	for (int d = 0; d < NDIRS; d++) {
		/* two levels: src/gNN/dNNNN, 20 groups */
		snprintf(p, sizeof(p), "%s/src/g%02d", root, d % 20);
		mk(p);
		snprintf(p, sizeof(p), "%s/src/g%02d/d%04d", root, d % 20, d);
		mk(p);
		for (int f = 0; f < NFILES; f++) {
			snprintf(p, sizeof(p), "%s/src/g%02d/d%04d/file%03d.c", root, d % 20, d, f);
			put(p, "int x;\n");
		}
	}
	put(marker, "");
	free(marker);
	/* A real workdir is older than the racy window: let the tree age. */
	sleep((unsigned)(AU_RACY_NS / 1000000000LL) + 1);
}

static double ms_since(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

static int dcmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

enum scenario { STEADY, CHANGED, WORST };

/* One snapshot + compare; returns ms (the mutation in between not counted). */
static double one(const char *root, enum scenario sc, int run, size_t *findings)
{
	struct sh_audit_manifest m = { 0 };
	struct sh_audit_report r = { 0 };
	struct sh_err e = { 0 };
	struct timespec t0;
	double ms;
	int rc;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = sc == WORST ? au_snapshot(root, INT64_MIN, &m, &e) : sh_audit_snapshot(root, &m, &e);
	if (rc < 0) {
		fprintf(stderr, "audit-bench: %s\n", e.msg);
		exit(2);
	}
	ms = ms_since(&t0);
	if (sc == CHANGED) {
		char p[4096];
		static const char *const plant[] = { ".envrc", ".mcp.json", ".vscode/tasks.json",
						     ".git/hooks/post-checkout", ".npmrc" };
		for (size_t i = 0; i < sizeof(plant) / sizeof(plant[0]); i++) {
			snprintf(p, sizeof(p), "%s/%s", root, plant[i]);
			put(p, "x\n");
		}
		for (int d = 0; d < 20; d++) {
			int k = d * 50 + d;
			snprintf(p, sizeof(p), "%s/src/g%02d/d%04d/new-%d.c", root, k % 20, k, run);
			put(p, "\n");
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (sh_audit_compare(root, &m, &r, &e) < 0) {
		fprintf(stderr, "audit-bench: %s\n", e.msg);
		exit(2);
	}
	ms += ms_since(&t0);
	*findings = r.count;
	sh_audit_report_free(&r);
	sh_audit_manifest_free(&m);
	if (sc == CHANGED) {
		char p[4096];
		static const char *const plant[] = { ".envrc", ".mcp.json", ".vscode/tasks.json",
						     ".git/hooks/post-checkout", ".npmrc" };
		for (size_t i = 0; i < sizeof(plant) / sizeof(plant[0]); i++) {
			snprintf(p, sizeof(p), "%s/%s", root, plant[i]);
			unlink(p);
		}
		for (int d = 0; d < 20; d++) {
			int k = d * 50 + d;
			snprintf(p, sizeof(p), "%s/src/g%02d/d%04d/new-%d.c", root, k % 20, k, run);
			unlink(p);
		}
	}
	return ms;
}

int main(int argc, char **argv)
{
	static const char *const names[] = { "steady", "changed", "worst" };
	int runs = argc > 2 ? atoi(argv[2]) : 15;
	bool over = false;

	if (argc < 2 || runs < 1) {
		fprintf(stderr, "usage: audit-bench DIR [RUNS]\n");
		return 2;
	}
	build(argv[1]);
	for (int sc = STEADY; sc <= WORST; sc++) {
		double *t = calloc((size_t)runs, sizeof(double));
		size_t findings = 0;

		if (!t)
			die("calloc");
		one(argv[1], (enum scenario)sc, -1, &findings); /* warm the cache */
		for (int i = 0; i < runs; i++)
			t[i] = one(argv[1], (enum scenario)sc, i, &findings);
		qsort(t, (size_t)runs, sizeof(double), dcmp);
		printf("audit %-8s %d dirs x %d files: snapshot+compare median %.2f ms, best %.2f ms "
		       "(%zu findings)\n",
		       names[sc], NDIRS, NFILES, t[runs / 2], t[0], findings);
		if (sc != WORST && t[runs / 2] >= BUDGET_MS)
			over = true;
		free(t);
	}
	printf("audit budget (%.0f ms, steady and changed): %s\n", BUDGET_MS, over ? "OVER" : "ok");
	return over ? 1 : 0;
}
