/* bench/timeline: run a command N times and print, per run, when it was
 * started and when it ended, on the same clock (CLOCK_MONOTONIC) as the
 * SH_TP() points of a safehouse built with -DSH_TIMING (src/util/tpoint.h);
 * bench/timeline.sh turns both into a per-step median.
 *   timeline N COMMAND [ARG...]      (the lines go to stderr) */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: timeline N COMMAND [ARG...]\n");
		return 2;
	}
	int n = atoi(argv[1]);
	for (int i = 0; i < n; i++) {
		fprintf(stderr, "T %lld run-start\n", now());
		pid_t p = fork();
		if (p < 0) {
			perror("timeline: fork");
			return 1;
		}
		if (p == 0) {
			execv(argv[2], argv + 2);
			perror("timeline: exec");
			_exit(127);
		}
		int st;
		if (waitpid(p, &st, 0) < 0) {
			perror("timeline: waitpid");
			return 1;
		}
		fprintf(stderr, "T %lld run-end\n", now());
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			fprintf(stderr, "timeline: the command failed (status %d)\n", st);
			return 1;
		}
	}
	return 0;
}
