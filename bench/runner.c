/* A command runner for bench/paired.py: for every line read on stdin it runs
 * argv[1..] once (stdout and stderr to /dev/null) and prints
 * "<wall-clock ns> <wait status>".  Kept running inside one session, it lets
 * the driver time a command inside and outside the sandbox run by run. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

int main(int argc, char **argv)
{
	char line[64];
	int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (argc < 2 || devnull < 0) {
		fprintf(stderr, "usage: runner COMMAND [ARG...]\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	while (fgets(line, sizeof(line), stdin)) {
		long long a = now_ns();
		pid_t p = fork();
		if (p < 0) {
			perror("runner: fork");
			return 1;
		}
		if (p == 0) {
			dup2(devnull, 1);
			dup2(devnull, 2);
			execvp(argv[1], argv + 1);
			_exit(127);
		}
		int st = 0;
		if (waitpid(p, &st, 0) < 0) {
			perror("runner: waitpid");
			return 1;
		}
		printf("%lld %d\n", now_ns() - a, st);
	}
	return 0;
}
