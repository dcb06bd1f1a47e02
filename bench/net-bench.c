/* Network proxy benchmarks (issue: network, item 6), all on 127.0.0.1:
 *
 *   throughput  a download of --bytes (default 1 GiB) from a loopback server,
 *               direct and through the proxy, in rounds that alternate which
 *               goes first; the same client code and the same server for
 *               both.  Figure: median proxied / median direct (target >= 90%).
 *   setup       connect + CONNECT (or SOCKS5) + a 1-byte echo, minus the same
 *               without the proxy (connect + 1-byte echo); medians over
 *               --setup-runs (target <= 1 ms).
 *   hold        --hold (default 1000) tunnels open at once, each checked
 *               with an echo; the proxy's peak RSS (VmHWM) and open fds
 *               (target <= 16 MiB).
 *
 * The proxy is the real one (src/proxy, sh_proxy_run) in its own process,
 * with a resolver hook that maps "bench.test" to 127.0.0.1 and the private
 * addresses allowed, as a session with --allow-domains=bench.test:*
 * --allow-private-network would run it.  The servers and the client are
 * processes of their own, so the proxy competes for the CPUs exactly as it
 * would in a session.
 *
 * Output: "key value" lines (bench/net.sh turns them into the README table).
 *   net-bench [--bytes N] [--rounds N] [--setup-runs N] [--hold N]
 *             [--only throughput|setup|hold] [--path direct|proxy]
 * --path runs only one side of the download, for profiling (perf record). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "proxy/proxy.h"

#define IOBUF (256 * 1024) /* the client's and the server's buffer, both paths */

static const char *g_only_path; /* --path direct|proxy: only that one, for profiling */

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "net-bench: %s: %s\n", what, errno ? strerror(errno) : "unexpected end of stream");
	exit(1);
}

static void raise_nofile(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int listen_lo(uint16_t *port)
{
	struct sh_err e = { 0 };
	int fd = sh_proxy_listen_loopback(0, port, &e);
	if (fd < 0) {
		fprintf(stderr, "net-bench: %s\n", e.msg);
		exit(1);
	}
	if (fcntl(fd, F_SETFL, 0) < 0)
		die("fcntl");
	return fd;
}

static int connect_lo(uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	if (fd < 0)
		die("socket");
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("connect");
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

static void send_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	while (n > 0) {
		ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			die("send");
		c += w;
		n -= (size_t)w;
	}
}

static void recv_exact(int fd, void *p, size_t n)
{
	char *c = p;
	while (n > 0) {
		ssize_t r = recv(fd, c, n, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0)
			errno = 0;
		if (r <= 0)
			die("recv");
		c += r;
		n -= (size_t)r;
	}
}

/* ---- servers ---- */

/* A server or proxy child: dies with the benchmark, and does not hold its
 * stdout (a pipe someone may be waiting on). */
static void child_setup(const char *name)
{
	prctl(PR_SET_NAME, name, 0, 0, 0); /* told apart in perf and top */
	int nul = open("/dev/null", O_WRONLY | O_CLOEXEC);
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	if (nul >= 0) {
		dup2(nul, 1);
		close(nul);
	}
}

/* Download server: for each connection, read one byte (the "request"), then
 * send `bytes` from a buffer and close.  One connection at a time. */
static pid_t start_download_server(uint16_t *port, unsigned long long bytes)
{
	int lfd = listen_lo(port);
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid > 0) {
		close(lfd);
		return pid;
	}
	child_setup("nb-download");
	char *buf = malloc(IOBUF);
	if (!buf)
		_exit(1);
	memset(buf, 'x', IOBUF);
	for (;;) {
		int fd = accept(lfd, NULL, NULL);
		char req;
		if (fd < 0)
			continue;
		if (recv(fd, &req, 1, MSG_WAITALL) == 1) {
			unsigned long long left = bytes;
			while (left > 0) {
				size_t n = left < IOBUF ? (size_t)left : IOBUF;
				ssize_t w = send(fd, buf, n, MSG_NOSIGNAL);
				if (w < 0 && errno == EINTR)
					continue;
				if (w <= 0)
					break;
				left -= (unsigned long long)w;
			}
		}
		close(fd);
	}
}

/* Echo server for many connections at once (epoll). */
static pid_t start_echo_server(uint16_t *port)
{
	int lfd = listen_lo(port);
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid > 0) {
		close(lfd);
		return pid;
	}
	child_setup("nb-echo");
	raise_nofile();
	int ep = epoll_create1(0);
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = lfd }, evs[64];
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) < 0)
		_exit(1);
	for (;;) {
		int n = epoll_wait(ep, evs, 64, -1);
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			if (fd == lfd) {
				int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
				if (c >= 0) {
					int one = 1;
					setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
					ev = (struct epoll_event){ .events = EPOLLIN, .data.fd = c };
					epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
				}
				continue;
			}
			char b[4096];
			ssize_t r = recv(fd, b, sizeof(b), MSG_DONTWAIT);
			if (r > 0)
				(void)!send(fd, b, (size_t)r, MSG_NOSIGNAL);
			else if (r == 0 || (errno != EAGAIN && errno != EINTR))
				close(fd);
		}
	}
}

/* ---- the proxy ---- */

static int resolve_bench(void *ctx, const char *name, struct sockaddr_storage *out, size_t max)
{
	(void)ctx;
	if (strcmp(name, "bench.test") != 0 || max == 0)
		return 0;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&out[0];
	memset(out, 0, sizeof(*out));
	s4->sin_family = AF_INET;
	s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return 1;
}

struct proxy {
	pid_t pid;
	uint16_t port;
	int stop_w;
};

static void start_proxy(struct proxy *p)
{
	static const struct sh_proxy_rulespec allow[] = { { "bench.test:*", "net-bench" } };
	int stop[2];
	int lfd = listen_lo(&p->port);

	if (pipe(stop) < 0)
		die("pipe");
	p->pid = fork();
	if (p->pid < 0)
		die("fork");
	if (p->pid == 0) {
		struct sh_err e = { 0 };
		child_setup("nb-proxy");
		struct sh_proxy_config cfg = {
			.allow = allow, .n_allow = 1, .allow_private = true,
			.resolve = resolve_bench,
		};
		close(stop[1]);
		int rc = sh_proxy_run(&cfg, &lfd, 1, stop[0], &e);
		if (rc < 0)
			fprintf(stderr, "net-bench: proxy: %s\n", e.msg);
		_exit(rc < 0);
	}
	close(lfd);
	close(stop[0]);
	p->stop_w = stop[1];
}

/* Proxy CPU seconds (user + system) so far, from /proc. */
static double proc_cpu_s(pid_t pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *p = strrchr(buf, ')');
	unsigned long ut = 0, st = 0;
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static long proc_status_kb(pid_t pid, const char *key)
{
	char path[64], line[256];
	long v = -1;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, key, strlen(key)) == 0 && line[strlen(key)] == ':')
			v = strtol(line + strlen(key) + 1, NULL, 10);
	fclose(f);
	return v;
}

static int count_fds(pid_t pid)
{
	char cmd[96];
	snprintf(cmd, sizeof(cmd), "ls /proc/%d/fd 2>/dev/null | wc -l", (int)pid);
	FILE *p = popen(cmd, "r");
	int n = -1;
	if (p) {
		if (fscanf(p, "%d", &n) != 1)
			n = -1;
		pclose(p);
	}
	return n;
}

static void stop_proxy(struct proxy *p)
{
	int st;
	if (write(p->stop_w, "q", 1) != 1)
		kill(p->pid, SIGKILL);
	close(p->stop_w);
	waitpid(p->pid, &st, 0);
}

/* Open a tunnel to bench.test:port through the proxy: HTTP CONNECT. */
static int tunnel_connect(uint16_t pport, uint16_t port)
{
	char req[128], rep[64];
	static const char ok[] = "HTTP/1.1 200 Connection established\r\n\r\n";
	int fd = connect_lo(pport);
	int n = snprintf(req, sizeof(req), "CONNECT bench.test:%u HTTP/1.1\r\n\r\n", port);
	send_all(fd, req, (size_t)n);
	recv_exact(fd, rep, sizeof(ok) - 1);
	if (memcmp(rep, ok, sizeof(ok) - 1) != 0) {
		fprintf(stderr, "net-bench: CONNECT refused\n");
		exit(1);
	}
	return fd;
}

/* The same through SOCKS5 (domain name). */
static int tunnel_socks(uint16_t pport, uint16_t port)
{
	unsigned char req[64], rep[16];
	static const unsigned char greet[] = { 5, 1, 0 };
	int fd = connect_lo(pport);
	size_t n = 0;
	send_all(fd, greet, sizeof(greet));
	recv_exact(fd, rep, 2);
	req[n++] = 5, req[n++] = 1, req[n++] = 0, req[n++] = 3, req[n++] = 10;
	memcpy(req + n, "bench.test", 10);
	n += 10;
	req[n++] = (unsigned char)(port >> 8), req[n++] = (unsigned char)port;
	send_all(fd, req, n);
	recv_exact(fd, rep, 10);
	if (rep[1] != 0) {
		fprintf(stderr, "net-bench: SOCKS5 refused (%u)\n", rep[1]);
		exit(1);
	}
	return fd;
}

/* ---- measurements ---- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* One download: send the request byte, read until EOF.  Returns seconds. */
static double download(int fd, char *buf, unsigned long long bytes)
{
	unsigned long long got = 0;
	double t0 = now_s();
	send_all(fd, "g", 1);
	for (;;) {
		ssize_t r = recv(fd, buf, IOBUF, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			die("recv (download)");
		if (r == 0)
			break;
		got += (unsigned long long)r;
	}
	double t = now_s() - t0;
	close(fd);
	if (got != bytes) {
		fprintf(stderr, "net-bench: got %llu of %llu bytes\n", got, bytes);
		exit(1);
	}
	return t;
}

static void bench_throughput(unsigned long long bytes, int rounds)
{
	uint16_t sport;
	struct proxy px;
	pid_t srv = start_download_server(&sport, bytes);
	char *buf = malloc(IOBUF);
	double *d = calloc((size_t)rounds, sizeof(double)), *p = calloc((size_t)rounds, sizeof(double));
	/* with --path, the other path's times stay 0 (printed as inf) */
	double cpu = 0;

	if (!buf || !d || !p)
		die("malloc");
	start_proxy(&px);
	/* warm-up, not counted */
	if (!g_only_path || strcmp(g_only_path, "proxy") != 0)
		download(connect_lo(sport), buf, bytes);
	if (!g_only_path || strcmp(g_only_path, "direct") != 0)
		download(tunnel_connect(px.port, sport), buf, bytes);
	for (int r = 0; r < rounds; r++) {
		for (int k = 0; k < 2; k++) {
			bool via = (r + k) % 2 == 1; /* rounds alternate which goes first */
			if (g_only_path && via != (strcmp(g_only_path, "proxy") == 0))
				continue; /* profiling one path (--path) */
			if (via) {
				double c0 = proc_cpu_s(px.pid);
				p[r] = download(tunnel_connect(px.port, sport), buf, bytes);
				cpu += proc_cpu_s(px.pid) - c0;
			} else {
				d[r] = download(connect_lo(sport), buf, bytes);
			}
		}
		printf("throughput_round %d direct_gbs %.3f proxy_gbs %.3f\n", r + 1,
		       (double)bytes / d[r] / 1e9, (double)bytes / p[r] / 1e9);
		fflush(stdout);
	}
	double md = median(d, (size_t)rounds), mp = median(p, (size_t)rounds);
	printf("throughput_bytes %llu\nthroughput_rounds %d\n", bytes, rounds);
	printf("throughput_direct_gbs %.3f\nthroughput_proxy_gbs %.3f\n", (double)bytes / md / 1e9,
	       (double)bytes / mp / 1e9);
	printf("throughput_ratio %.3f\n", md / mp);
	printf("throughput_proxy_cpu_s_per_gib %.3f\n",
	       cpu / rounds / ((double)bytes / (1024.0 * 1024 * 1024)));
	stop_proxy(&px);
	kill(srv, SIGKILL);
	waitpid(srv, NULL, 0);
	free(buf);
	free(d);
	free(p);
}

static double echo_once(int fd)
{
	char c = 'e';
	double t0 = now_s();
	send_all(fd, &c, 1);
	recv_exact(fd, &c, 1);
	return now_s() - t0;
}

static void bench_setup(int runs)
{
	uint16_t eport;
	struct proxy px;
	pid_t srv = start_echo_server(&eport);
	double *d = calloc((size_t)runs, sizeof(double)), *c = calloc((size_t)runs, sizeof(double)),
	       *s = calloc((size_t)runs, sizeof(double));
	if (!d || !c || !s)
		die("malloc");
	start_proxy(&px);
	for (int i = -20; i < runs; i++) { /* 20 warm-up rounds */
		double t0 = now_s();
		int fd = connect_lo(eport);
		echo_once(fd);
		double td = now_s() - t0;
		close(fd);
		t0 = now_s();
		fd = tunnel_connect(px.port, eport);
		echo_once(fd);
		double tc = now_s() - t0;
		close(fd);
		t0 = now_s();
		fd = tunnel_socks(px.port, eport);
		echo_once(fd);
		double ts = now_s() - t0;
		close(fd);
		if (i >= 0)
			d[i] = td, c[i] = tc, s[i] = ts;
	}
	double md = median(d, (size_t)runs), mc = median(c, (size_t)runs), ms = median(s, (size_t)runs);
	printf("setup_runs %d\nsetup_direct_ms %.3f\n", runs, md * 1e3);
	printf("setup_connect_ms %.3f\nsetup_connect_overhead_ms %.3f\n", mc * 1e3, (mc - md) * 1e3);
	printf("setup_socks_ms %.3f\nsetup_socks_overhead_ms %.3f\n", ms * 1e3, (ms - md) * 1e3);
	stop_proxy(&px);
	kill(srv, SIGKILL);
	waitpid(srv, NULL, 0);
	free(d);
	free(c);
	free(s);
}

static void bench_hold(int n)
{
	uint16_t eport;
	struct proxy px;
	int *fds = calloc((size_t)n, sizeof(int)), ok = 0;
	if (!fds)
		die("malloc");
	pid_t srv = start_echo_server(&eport);
	start_proxy(&px);
	for (int i = 0; i < n; i++)
		fds[i] = tunnel_connect(px.port, eport);
	for (int i = 0; i < n; i++) {
		char c = (char)('a' + i % 26), back = 0; /* never 0x16: a TLS record start waits for a whole ClientHello */
		send_all(fds[i], &c, 1);
		recv_exact(fds[i], &back, 1);
		ok += back == c;
	}
	printf("hold_conns %d\nhold_ok %d\n", n, ok);
	printf("hold_proxy_rss_kib %ld\nhold_proxy_hwm_kib %ld\nhold_proxy_fds %d\n",
	       proc_status_kb(px.pid, "VmRSS"), proc_status_kb(px.pid, "VmHWM"), count_fds(px.pid));
	for (int i = 0; i < n; i++)
		close(fds[i]);
	stop_proxy(&px);
	kill(srv, SIGKILL);
	waitpid(srv, NULL, 0);
	free(fds);
}

int main(int argc, char **argv)
{
	unsigned long long bytes = 1ULL << 30;
	int rounds = 5, setup_runs = 1000, hold = 1000;
	const char *only = NULL;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--bytes"))
			bytes = strtoull(argv[i + 1], NULL, 0);
		else if (!strcmp(argv[i], "--rounds"))
			rounds = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--setup-runs"))
			setup_runs = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--hold"))
			hold = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--path"))
			g_only_path = argv[i + 1];
		else if (!strcmp(argv[i], "--only"))
			only = argv[i + 1];
		else {
			fprintf(stderr, "usage: net-bench [--bytes N] [--rounds N] [--setup-runs N] "
					"[--hold N] [--only throughput|setup|hold] "
					"[--path direct|proxy]\n");
			return 2;
		}
	}
	if (rounds < 1 || setup_runs < 1 || hold < 1) {
		fprintf(stderr, "net-bench: counts must be >= 1\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	raise_nofile();
	if (!only || !strcmp(only, "throughput"))
		bench_throughput(bytes, rounds);
	if (!only || !strcmp(only, "setup"))
		bench_setup(setup_runs);
	if (!only || !strcmp(only, "hold"))
		bench_hold(hold);
	return 0;
}
