/* A command runner for bench/paired.py: for every line read on stdin it runs
 * argv[1..] once (stdout and stderr to /dev/null) and prints
 * "<wall-clock ns> <wait status> <CPU us>", the CPU time being the child's
 * user + system time (all its threads).  Kept running inside one session,
 * it lets the driver time a command inside and outside the sandbox run by
 * run. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
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
		struct rusage ru;
		if (wait4(p, &st, 0, &ru) < 0) {
			perror("runner: wait4");
			return 1;
		}
		long long wall = now_ns() - a;
		long long cpu = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000LL +
				ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
		printf("%lld %d %lld\n", wall, st, cpu);
	}
	return 0;
}
