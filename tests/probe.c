/* probe: a static helper run INSIDE the sandbox by the integration tests.
 *
 *   probe SUBCOMMAND ARGS...
 *
 * Exit 0: the operation succeeded (some subcommands also print a result).
 * Exit 1: it failed; stdout carries the errno name ("EACCES") on one line.
 * Exit 2: usage error (message on stderr).
 *
 * Plain libc only, no NSS (connect-tcp takes numeric addresses or
 * "localhost"), so it can be linked -static and needs nothing from the
 * sandbox's view.  Probes that could harm the caller if the sandbox failed
 * are built to be harmless: tiocsti uses fd -1 unless told otherwise (EBADF
 * then means "not filtered"), ptrace-parent uses PTRACE_SEIZE (no stop; the
 * kernel detaches when we exit), mount-tmpfs unmounts what it mounted. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif
#ifndef PTRACE_SEIZE
#define PTRACE_SEIZE 0x4206
#endif

static const char *errno_name(int e)
{
#define E(x) { x, #x }
	static const struct {
		int e;
		const char *n;
	} t[] = {
		E(EPERM),  E(ENOENT),  E(ESRCH),  E(EINTR),  E(EIO),     E(ENXIO),   E(E2BIG),
		E(ENOEXEC), E(EBADF),  E(ECHILD), E(EAGAIN), E(ENOMEM),  E(EACCES),  E(EFAULT),
		E(EBUSY),  E(EEXIST),  E(EXDEV),  E(ENODEV), E(ENOTDIR), E(EISDIR),  E(EINVAL),
		E(ENFILE), E(EMFILE),  E(ENOTTY), E(ETXTBSY), E(EFBIG),  E(ENOSPC),  E(ESPIPE),
		E(EROFS),  E(EMLINK),  E(EPIPE),  E(ERANGE), E(ENAMETOOLONG), E(ENOSYS),
		E(ENOTEMPTY), E(ELOOP), E(ENOKEY), E(ENOTSOCK), E(EPROTOTYPE),
		E(ENOPROTOOPT), E(EPROTONOSUPPORT), E(ESOCKTNOSUPPORT), E(EOPNOTSUPP),
		E(EAFNOSUPPORT), E(EADDRINUSE), E(EADDRNOTAVAIL), E(ENETDOWN), E(ENETUNREACH),
		E(ECONNABORTED), E(ECONNRESET), E(EISCONN), E(ENOTCONN), E(ETIMEDOUT),
		E(ECONNREFUSED), E(EHOSTUNREACH), E(EALREADY), E(EINPROGRESS), E(ESTALE),
		E(EDQUOT), E(ENOMEDIUM), E(EOVERFLOW), E(EKEYREJECTED),
	};
#undef E
	static char buf[32];
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (t[i].e == e)
			return t[i].n;
	snprintf(buf, sizeof(buf), "E%d", e);
	return buf;
}

static int fail(void)
{
	int e = errno;
	printf("%s\n", errno_name(e));
	fflush(stdout);
	return 1;
}

/* r < 0 -> fail() with errno, else 0 */
static int res(long r)
{
	return r < 0 ? fail() : 0;
}

static int usage(const char *msg)
{
	fprintf(stderr, "probe: %s\n", msg);
	fputs("usage: probe read PATH | write [--no-create] PATH | create PATH | ls PATH |\n"
	      "  stat PATH | exec PATH [ARGS] | unlink PATH | rename A B | mkdir PATH |\n"
	      "  symlink TARGET LINK | connect-tcp HOST PORT | connect-unix PATH|@ABSTRACT |\n"
	      "  socket FAMILY TYPE [PROTO] | syscall NAME [ARG] | kill PID SIG | status |\n"
	      "  fds | pid1 | env NAME\n"
	      "syscall names: unshare-user mount-tmpfs [DIR] bpf perf userfaultfd keyctl\n"
	      "  io_uring ptrace-parent [PID] tiocsti [FD] tiocsti-high [FD] open-by-handle\n"
	      "  personality clone-newuser clone3 x32\n",
	      stderr);
	return 2;
}

static int p_read(const char *p)
{
	char buf[4096];
	ssize_t n;
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail();
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		;
	if (n < 0)
		return fail();
	close(fd);
	return 0;
}

static int p_open(const char *p, int flags)
{
	int fd = open(p, flags | O_CLOEXEC, 0644);
	if (fd < 0)
		return fail();
	if (close(fd) < 0)
		return fail();
	return 0;
}

static int p_ls(const char *p)
{
	DIR *d = opendir(p);
	struct dirent *de;
	if (!d)
		return fail();
	errno = 0;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			printf("%s\n", de->d_name);
	if (errno)
		return fail();
	closedir(d);
	return 0;
}

static int p_stat(const char *p)
{
	struct stat st;
	if (stat(p, &st) < 0)
		return fail();
	const char *type = S_ISDIR(st.st_mode)    ? "directory"
			   : S_ISREG(st.st_mode)  ? "file"
			   : S_ISCHR(st.st_mode)  ? "char"
			   : S_ISBLK(st.st_mode)  ? "block"
			   : S_ISFIFO(st.st_mode) ? "fifo"
			   : S_ISSOCK(st.st_mode) ? "socket"
						  : "other";
	printf("%s %o %ld\n", type, (unsigned)(st.st_mode & 07777), (long)st.st_size);
	return 0;
}

static int connect_fd(int fd, const struct sockaddr *sa, socklen_t len)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	int err = 0;
	socklen_t el = sizeof(err);

	if (connect(fd, sa, len) == 0)
		return 0;
	if (errno != EINPROGRESS)
		return fail();
	int r = poll(&pfd, 1, 5000);
	if (r == 0) {
		errno = ETIMEDOUT;
		return fail();
	}
	if (r < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
		return fail();
	if (err) {
		errno = err;
		return fail();
	}
	return 0;
}

static int p_connect_tcp(const char *host, const char *port_s)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t len;
	char *end;
	long port = strtol(port_s, &end, 10);

	if (*end || port < 0 || port > 65535)
		return usage("bad port");
	if (!strcmp(host, "localhost"))
		host = "127.0.0.1";
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		len = sizeof(*s4);
	} else if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		len = sizeof(*s6);
	} else {
		return usage("connect-tcp takes a numeric address or localhost");
	}
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return fail();
	int r = connect_fd(fd, (struct sockaddr *)&ss, len);
	close(fd);
	return r;
}

static int p_connect_unix(const char *p)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t n = strlen(p);
	socklen_t len;

	if (n >= sizeof(sa.sun_path))
		return usage("unix socket path too long");
	memcpy(sa.sun_path, p, n);
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
	if (p[0] == '@') { /* abstract */
		sa.sun_path[0] = '\0';
		len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return fail();
	int r = connect_fd(fd, (struct sockaddr *)&sa, len);
	if (r && errno == EPROTOTYPE) { /* a datagram socket */
		close(fd);
		fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return fail();
		r = res(connect(fd, (struct sockaddr *)&sa, len));
	}
	close(fd);
	return r;
}

static int p_socket(const char *fam_s, const char *type_s, const char *proto_s)
{
	static const struct {
		const char *n;
		int v;
	} fams[] = { { "unix", AF_UNIX },       { "inet", AF_INET },     { "inet6", AF_INET6 },
		     { "netlink", AF_NETLINK }, { "packet", AF_PACKET }, { "vsock", AF_VSOCK } },
	  types[] = { { "stream", SOCK_STREAM }, { "dgram", SOCK_DGRAM }, { "raw", SOCK_RAW },
		      { "seqpacket", SOCK_SEQPACKET } };
	int fam = -1, type = -1, proto = proto_s ? atoi(proto_s) : 0;

	for (size_t i = 0; i < sizeof(fams) / sizeof(fams[0]); i++)
		if (!strcmp(fam_s, fams[i].n))
			fam = fams[i].v;
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (!strcmp(type_s, types[i].n))
			type = types[i].v;
	if (fam < 0 || type < 0)
		return usage("unknown socket family or type");
	/* raw inet without a protocol: ICMP, what ping tunnels use */
	if (!proto_s && type == SOCK_RAW && fam == AF_INET)
		proto = IPPROTO_ICMP;
	if (!proto_s && type == SOCK_RAW && fam == AF_INET6)
		proto = IPPROTO_ICMPV6;
	int fd = socket(fam, type | SOCK_CLOEXEC, proto);
	if (fd < 0)
		return fail();
	close(fd);
	return 0;
}

static int sys_mount_tmpfs(const char *dir)
{
	if (mount("none", dir, "tmpfs", MS_NOSUID | MS_NODEV, "size=4k") < 0)
		return fail();
	(void)umount2(dir, MNT_DETACH);
	return 0;
}

static int sys_bpf(void)
{
	/* BPF_PROG_LOAD of "r0 = 0; exit" as a socket filter */
	uint64_t insns[2] = { 0x00000000000000b7ULL, 0x0000000000000095ULL };
	union {
		struct {
			uint32_t prog_type, insn_cnt;
			uint64_t insns, license;
		} a;
		char pad[144];
	} attr;
	memset(&attr, 0, sizeof(attr));
	attr.a.prog_type = 1; /* BPF_PROG_TYPE_SOCKET_FILTER */
	attr.a.insn_cnt = 2;
	attr.a.insns = (uint64_t)(uintptr_t)insns;
	attr.a.license = (uint64_t)(uintptr_t) "GPL";
	return res(syscall(SYS_bpf, 5 /* BPF_PROG_LOAD */, &attr, sizeof(attr)));
}

static int sys_perf(void)
{
	uint32_t attr[32] = { 0 }; /* struct perf_event_attr, 128 bytes */
	attr[0] = 1;               /* type PERF_TYPE_SOFTWARE */
	attr[1] = 128;             /* size */
	/* config = 0 (PERF_COUNT_SW_CPU_CLOCK); flags at byte 40:
	 * disabled | exclude_kernel | exclude_hv */
	attr[10] = (1u << 0) | (1u << 5) | (1u << 6);
	return res(syscall(SYS_perf_event_open, attr, 0, -1, -1, 0));
}

static int sys_ptrace(const char *pid_s)
{
	pid_t pid = pid_s ? (pid_t)atoi(pid_s) : getppid();
	/* SEIZE does not stop the tracee; we exit right away, which detaches */
	return res(syscall(SYS_ptrace, PTRACE_SEIZE, pid, 0, 0));
}

static int sys_tiocsti(const char *fd_s, unsigned long high)
{
	char c = '#';
	int fd = fd_s ? atoi(fd_s) : -1;
	return res(syscall(SYS_ioctl, fd, high | TIOCSTI, &c));
}

static int sys_open_by_handle(void)
{
	struct {
		unsigned int handle_bytes;
		int handle_type;
		unsigned char f_handle[64];
	} h;
	int mount_fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int id;
	memset(&h, 0, sizeof(h));
	h.handle_bytes = sizeof(h.f_handle);
	if (syscall(SYS_name_to_handle_at, AT_FDCWD, "/", &h, &id, 0) < 0)
		return fail();
	return res(syscall(SYS_open_by_handle_at, mount_fd, &h, O_RDONLY | O_CLOEXEC));
}

static int sys_clone(unsigned long flags)
{
	long r = syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);
	if (r == 0)
		_exit(0);
	if (r < 0)
		return fail();
	waitpid((pid_t)r, NULL, 0);
	return 0;
}

static int sys_clone3(void)
{
	struct {
		uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
	} a = { .flags = CLONE_NEWUSER, .exit_signal = SIGCHLD };
	long r = syscall(SYS_clone3, &a, sizeof(a));
	if (r == 0)
		_exit(0);
	if (r < 0)
		return fail();
	waitpid((pid_t)r, NULL, 0);
	return 0;
}

static int p_syscall(const char *name, const char *arg)
{
	if (!strcmp(name, "unshare-user"))
		return res(unshare(CLONE_NEWUSER));
	if (!strcmp(name, "mount-tmpfs"))
		return sys_mount_tmpfs(arg ? arg : "/tmp");
	if (!strcmp(name, "bpf"))
		return sys_bpf();
	if (!strcmp(name, "perf"))
		return sys_perf();
	if (!strcmp(name, "userfaultfd"))
		return res(syscall(SYS_userfaultfd, O_CLOEXEC | 1 /* UFFD_USER_MODE_ONLY */));
	if (!strcmp(name, "keyctl"))
		return res(syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -4 /* @u */, 0));
	if (!strcmp(name, "io_uring")) {
		char params[120] = { 0 };
		return res(syscall(425 /* io_uring_setup */, 4, params));
	}
	if (!strcmp(name, "ptrace-parent"))
		return sys_ptrace(arg);
	if (!strcmp(name, "tiocsti"))
		return sys_tiocsti(arg, 0);
	if (!strcmp(name, "tiocsti-high"))
		return sys_tiocsti(arg, 1UL << 32);
	if (!strcmp(name, "open-by-handle"))
		return sys_open_by_handle();
	if (!strcmp(name, "personality"))
		return res(syscall(SYS_personality, (unsigned long)ADDR_NO_RANDOMIZE));
	if (!strcmp(name, "clone-newuser"))
		return sys_clone(CLONE_NEWUSER);
	if (!strcmp(name, "clone3"))
		return sys_clone3();
	if (!strcmp(name, "x32")) /* expected: killed by SIGSYS */
		return res(syscall(SYS_getpid | 0x40000000L));
	return usage("unknown syscall name");
}

static int p_kill(const char *pid_s, const char *sig_s)
{
	static const struct {
		const char *n;
		int v;
	} sigs[] = { { "0", 0 },          { "HUP", SIGHUP },   { "INT", SIGINT },
		     { "KILL", SIGKILL }, { "TERM", SIGTERM }, { "STOP", SIGSTOP },
		     { "CONT", SIGCONT }, { "USR1", SIGUSR1 } };
	int sig = -1;
	const char *s = strncmp(sig_s, "SIG", 3) ? sig_s : sig_s + 3;
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (!strcmp(s, sigs[i].n))
			sig = sigs[i].v;
	if (sig < 0) {
		char *end;
		long v = strtol(s, &end, 10);
		if (*end || v < 0 || v > 64)
			return usage("bad signal");
		sig = (int)v;
	}
	return res(kill((pid_t)atol(pid_s), sig));
}

static int p_status(void)
{
	char line[512];
	FILE *f = fopen("/proc/self/status", "re");
	if (!f)
		return fail();
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "NoNewPrivs:", 11) || !strncmp(line, "Seccomp:", 8) ||
		    !strncmp(line, "Seccomp_filters:", 16) || !strncmp(line, "CapEff:", 7) ||
		    !strncmp(line, "CapPrm:", 7) || !strncmp(line, "CapBnd:", 7) ||
		    !strncmp(line, "CapAmb:", 7))
			fputs(line, stdout);
	fclose(f);
	return 0;
}

/* Descriptors other than 0-2 that this process inherited (LAUNCH-02).  Uses
 * fcntl rather than /proc so that it works without procfs. */
static int p_fds(void)
{
	struct rlimit rl;
	int max = 1024, found = 0;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		max = rl.rlim_cur > 65536 ? 65536 : (int)rl.rlim_cur;
	for (int fd = 3; fd < max; fd++) {
		if (fcntl(fd, F_GETFD) < 0)
			continue;
		char link[64], target[PATH_MAX];
		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		ssize_t n = readlink(link, target, sizeof(target) - 1);
		target[n > 0 ? n : 0] = '\0';
		printf("%d %s\n", fd, n > 0 ? target : "?");
		found++;
	}
	return found ? 1 : 0;
}

static int p_pid1(void)
{
	char buf[4096];
	int fd = open("/proc/1/cmdline", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail();
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0)
		return fail();
	close(fd);
	for (ssize_t i = 0; i < n; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
	while (n > 0 && buf[n - 1] == ' ')
		n--;
	buf[n] = '\0';
	printf("%s\n", buf);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* Run as "codex", the probe receives what safehouse inserts for Codex
	 * (-c sandbox_mode=...); consume it as Codex would. */
	while (argc > 2 && strcmp(argv[1], "-c") == 0 && strchr(argv[2], '=')) {
		argv += 2;
		argc -= 2;
	}
	if (argc < 2)
		return usage("missing subcommand");
	const char *cmd = argv[1];
	const char *a = argc > 2 ? argv[2] : NULL, *b = argc > 3 ? argv[3] : NULL;
#define NEED(n)                                       \
	do {                                          \
		if (argc < (n) + 2)                   \
			return usage("missing argument"); \
	} while (0)

	if (!strcmp(cmd, "read")) {
		NEED(1);
		return p_read(a);
	}
	if (!strcmp(cmd, "write")) {
		NEED(1);
		int flags = O_WRONLY | O_APPEND | O_CREAT;
		const char *p = a;
		if (!strcmp(a, "--no-create") || (b && !strcmp(b, "--no-create"))) {
			NEED(2);
			flags &= ~O_CREAT;
			p = strcmp(a, "--no-create") ? a : b;
		}
		return p_open(p, flags);
	}
	if (!strcmp(cmd, "create")) {
		NEED(1);
		return p_open(a, O_WRONLY | O_CREAT | O_EXCL);
	}
	if (!strcmp(cmd, "ls")) {
		NEED(1);
		return p_ls(a);
	}
	if (!strcmp(cmd, "stat")) {
		NEED(1);
		return p_stat(a);
	}
	if (!strcmp(cmd, "exec")) {
		NEED(1);
		execv(a, argv + 2);
		return fail();
	}
	if (!strcmp(cmd, "unlink")) {
		NEED(1);
		return res(unlink(a));
	}
	if (!strcmp(cmd, "rename")) {
		NEED(2);
		return res(rename(a, b));
	}
	if (!strcmp(cmd, "mkdir")) {
		NEED(1);
		return res(mkdir(a, 0755));
	}
	if (!strcmp(cmd, "symlink")) {
		NEED(2);
		return res(symlink(a, b));
	}
	if (!strcmp(cmd, "connect-tcp")) {
		NEED(2);
		return p_connect_tcp(a, b);
	}
	if (!strcmp(cmd, "connect-unix")) {
		NEED(1);
		return p_connect_unix(a);
	}
	if (!strcmp(cmd, "socket")) {
		NEED(2);
		return p_socket(a, b, argc > 4 ? argv[4] : NULL);
	}
	if (!strcmp(cmd, "syscall")) {
		NEED(1);
		return p_syscall(a, b);
	}
	if (!strcmp(cmd, "kill")) {
		NEED(2);
		return p_kill(a, b);
	}
	if (!strcmp(cmd, "status"))
		return p_status();
	if (!strcmp(cmd, "fds"))
		return p_fds();
	if (!strcmp(cmd, "pid1"))
		return p_pid1();
	if (!strcmp(cmd, "env")) {
		NEED(1);
		const char *v = getenv(a);
		if (!v) {
			printf("UNSET\n");
			return 1;
		}
		printf("%s\n", v);
		return 0;
	}
	return usage("unknown subcommand");
}
