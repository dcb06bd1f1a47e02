/* seccomp enforcement tests: each installs the real filter in a forked child
 * (TEST_FORK) and checks the errno of raw syscalls, so glibc cannot get in
 * the way.  Arguments are chosen so that, without the filter, the call would
 * fail differently (EBADF, EFAULT, ESRCH, ...) or succeed harmlessly. */
#include "../harness.h"

#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <ifaddrs.h>
#include <linux/netlink.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <unistd.h>

#include "enforce/seccomp.h"
#include "enforce/supervise.h"

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif
#ifndef AF_ALG
#define AF_ALG 38
#endif
#ifndef TIOCLINUX
#define TIOCLINUX 0x541C
#endif
#ifndef TIOCSETD
#define TIOCSETD 0x5423
#endif
#ifndef NETLINK_SOCK_DIAG
#define NETLINK_SOCK_DIAG 4
#endif

/* Set no_new_privs (the sandbox's order) and load the filter; abort the
 * test on failure. */
static bool load(enum sh_net_mode net)
{
	struct sh_err e = { 0 };
	struct sh_seccomp_config c = { .net = net };

	if (!CHECK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0))
		return false;
	int listener = 0;
	if (sh_seccomp_apply(&c, &listener, &e) < 0 || !CHECK(listener == -1)) {
		printf("#   sh_seccomp_apply: %s\n", e.msg);
		CHECK(!"sh_seccomp_apply failed");
		return false;
	}
	return true;
}

/* Close a socket() result if it unexpectedly succeeded. */
static long sock(long fam, long type, long proto)
{
	long r = syscall(SYS_socket, fam, type, proto);
	if (r >= 0) {
		close((int)r);
		return 0;
	}
	return r;
}

/* Run fn in a grandchild and return its wait status. */
static int in_grandchild(void (*fn)(void))
{
	int st = 0;
	fflush(stdout);
	pid_t p = fork();
	if (p == 0) {
		fn();
		_exit(0);
	}
	if (p < 0 || waitpid(p, &st, 0) != p)
		return -1;
	return st;
}

TEST_FORK(seccomp_namespaces_denied)
{
	if (!load(SH_NETMODE_NONE))
		return;
	CHECK_ERRNO(syscall(SYS_unshare, CLONE_NEWUSER), EPERM);
	CHECK_ERRNO(syscall(SYS_unshare, CLONE_NEWNS), EPERM);
	CHECK_ERRNO(syscall(SYS_setns, -1, 0), EPERM);
	/* CLONE_NEW* with a high garbage bit too: the mask is on the flag only */
	static const unsigned long ns[] = { CLONE_NEWUSER, CLONE_NEWNS,  CLONE_NEWNET,
					    CLONE_NEWPID,  CLONE_NEWIPC, CLONE_NEWUTS,
					    CLONE_NEWCGROUP };
	for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
		errno = 0;
		long r = syscall(SYS_clone, ns[i] | SIGCHLD | (1UL << 40), 0, 0, 0, 0);
		if (r == 0)
			_exit(0); /* only if the filter failed */
		if (!CHECK_INT(r, ==, -1) || !CHECK_INT(errno, ==, EPERM))
			printf("#   clone flag %#lx\n", ns[i]);
	}
	struct {
		uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
	} args = { .flags = CLONE_NEWUSER, .exit_signal = SIGCHLD };
	long r = syscall(SYS_clone3, &args, sizeof(args));
	if (r == 0)
		_exit(0);
	CHECK_INT(r, ==, -1);
	CHECK_STR(t_errno_name(errno), "ENOSYS");
}

TEST_FORK(seccomp_mount_api_denied)
{
	if (!load(SH_NETMODE_NONE))
		return;
	CHECK_ERRNO(syscall(SYS_mount, "none", "/nonexistent", "tmpfs", 0L, NULL), EPERM);
	CHECK_ERRNO(syscall(SYS_umount2, "/nonexistent", 0L), EPERM);
	CHECK_ERRNO(syscall(SYS_pivot_root, "/nonexistent", "/nonexistent"), EPERM);
	CHECK_ERRNO(syscall(SYS_chroot, "/nonexistent"), EPERM);
	CHECK_ERRNO(syscall(428 /* open_tree */, -1, "/", 0L), EPERM);
	CHECK_ERRNO(syscall(429 /* move_mount */, -1, "", -1, "", 0L), EPERM);
	CHECK_ERRNO(syscall(430 /* fsopen */, "tmpfs", 0L), EPERM);
	CHECK_ERRNO(syscall(431 /* fsconfig */, -1, 0L, NULL, NULL, 0L), EPERM);
	CHECK_ERRNO(syscall(432 /* fsmount */, -1, 0L, 0L), EPERM);
	CHECK_ERRNO(syscall(433 /* fspick */, -1, "/", 0L), EPERM);
	CHECK_ERRNO(syscall(442 /* mount_setattr */, -1, "", 0L, NULL, 0L), EPERM);
	CHECK_ERRNO(syscall(467 /* open_tree_attr */, -1, "/", 0L, NULL, 0L), EPERM);
	CHECK_ERRNO(syscall(457 /* statmount */, NULL, NULL, 0L, 0L), ENOSYS);
	CHECK_ERRNO(syscall(458 /* listmount */, NULL, NULL, 0L, 0L), ENOSYS);
}

TEST_FORK(seccomp_kernel_surface_denied)
{
	if (!load(SH_NETMODE_NONE))
		return;
	CHECK_ERRNO(syscall(SYS_bpf, 5 /* BPF_PROG_LOAD */, NULL, 0), EPERM);
	CHECK_ERRNO(syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0), EPERM);
	CHECK_ERRNO(syscall(SYS_userfaultfd, O_CLOEXEC | 1 /* UFFD_USER_MODE_ONLY */), EPERM);
	CHECK_ERRNO(syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -4 /* @u */, 0), EPERM);
	CHECK_ERRNO(syscall(SYS_add_key, "user", "sh-test", "x", 1, -3 /* @s */), EPERM);
	CHECK_ERRNO(syscall(SYS_request_key, "user", "sh-test", NULL, 0), EPERM);
	char params[120] = { 0 };
	CHECK_ERRNO(syscall(425 /* io_uring_setup */, 4, params), EPERM);
	CHECK_ERRNO(syscall(426 /* io_uring_enter */, -1, 0, 0, 0, NULL, 0), EPERM);
	CHECK_ERRNO(syscall(427 /* io_uring_register */, -1, 0, NULL, 0), EPERM);
	CHECK_ERRNO(syscall(SYS_open_by_handle_at, AT_FDCWD, NULL, 0), EPERM);
	CHECK_ERRNO(syscall(SYS_name_to_handle_at, AT_FDCWD, "/", NULL, NULL, 0), EPERM);
	CHECK_ERRNO(syscall(SYS_kexec_load, 0, 0, NULL, 0), EPERM);
	CHECK_ERRNO(syscall(SYS_reboot, 0, 0, 0, NULL), EPERM);
	CHECK_ERRNO(syscall(SYS_finit_module, -1, "", 0), EPERM);
	CHECK_ERRNO(syscall(SYS_delete_module, "sh_none", 0), EPERM);
	CHECK_ERRNO(syscall(SYS_syslog, 3 /* SYSLOG_ACTION_READ_ALL */, NULL, 0), EPERM);
	CHECK_ERRNO(syscall(SYS_acct, NULL), EPERM);
	CHECK_ERRNO(syscall(SYS_swapoff, "/nonexistent"), EPERM);
	CHECK_ERRNO(syscall(SYS_iopl, 0), EPERM);
	CHECK_ERRNO(syscall(SYS_ioperm, 0, 0, 0), EPERM);
	CHECK_ERRNO(syscall(SYS_modify_ldt, 0, NULL, 0), EPERM);
	CHECK_ERRNO(syscall(SYS_settimeofday, NULL, NULL), EPERM);
	CHECK_ERRNO(syscall(SYS_clock_settime, 0, NULL), EPERM);
	CHECK_ERRNO(syscall(SYS_adjtimex, NULL), EPERM);
	CHECK_ERRNO(syscall(SYS_quotactl, 0, NULL, 0, NULL), EPERM);
	CHECK_ERRNO(syscall(SYS_vhangup), EPERM);
	/* numbers above the reviewed range: ENOSYS (the filter's head) */
	CHECK_ERRNO(syscall(470), ENOSYS);
	CHECK_ERRNO(syscall(1000), ENOSYS);
}

TEST_FORK(seccomp_process_access_denied)
{
	char buf[8] = { 0 }, src[8] = "abcdefg";
	struct iovec l = { buf, sizeof(buf) }, r = { src, sizeof(src) };

	if (!load(SH_NETMODE_NONE))
		return;
	/* PEEKUSER on ourselves: ESRCH without the filter (not traced) */
	CHECK_ERRNO(syscall(SYS_ptrace, PTRACE_PEEKUSER, getpid(), 0, 0), EPERM);
	CHECK_ERRNO(syscall(SYS_ptrace, PTRACE_TRACEME, 0, 0, 0), EPERM);
	/* on ourselves this would succeed without the filter */
	CHECK_ERRNO(syscall(SYS_process_vm_readv, getpid(), &l, 1, &r, 1, 0), EPERM);
	CHECK_ERRNO(syscall(SYS_process_vm_writev, getpid(), &r, 1, &l, 1, 0), EPERM);
	CHECK_ERRNO(syscall(438 /* pidfd_getfd */, -1, 0, 0), EPERM);
	CHECK_ERRNO(syscall(440 /* process_madvise */, -1, NULL, 0, 0, 0), EPERM);
}

TEST_FORK(seccomp_personality)
{
	if (!load(SH_NETMODE_NONE))
		return;
	CHECK_ERRNO(syscall(SYS_personality, ADDR_NO_RANDOMIZE), EPERM);
	CHECK_ERRNO(syscall(SYS_personality, READ_IMPLIES_EXEC), EPERM);
	CHECK_ERRNO(syscall(SYS_personality, PER_LINUX32), EPERM);
	CHECK_ERRNO(syscall(SYS_personality, 0xfffffffeUL), EPERM);
	/* high garbage over PER_LINUX: the kernel would see 0, we refuse */
	CHECK_ERRNO(syscall(SYS_personality, 1UL << 32), EPERM);
	CHECK_ERRNO(syscall(SYS_personality, 0xffffffff00000000UL), EPERM);
	CHECK_INT(syscall(SYS_personality, 0xffffffffUL), ==, PER_LINUX);
	CHECK_INT(syscall(SYS_personality, 0xffffffffffffffffUL), ==, PER_LINUX);
	CHECK_INT(syscall(SYS_personality, 0UL), ==, PER_LINUX);
	CHECK_INT(personality(0xffffffff), ==, PER_LINUX);
}

TEST_FORK(seccomp_tty_ioctls_denied)
{
	char c = '#';
	if (!load(SH_NETMODE_NONE))
		return;
	/* fd -1: without the filter these are EBADF, never an injection */
	CHECK_ERRNO(syscall(SYS_ioctl, -1, TIOCSTI, &c), EPERM);
	CHECK_ERRNO(syscall(SYS_ioctl, -1, (1UL << 32) | TIOCSTI, &c), EPERM);
	CHECK_ERRNO(syscall(SYS_ioctl, -1, 0xdeadbeef00000000UL | TIOCSTI, &c), EPERM);
	CHECK_ERRNO(syscall(SYS_ioctl, -1, TIOCLINUX, &c), EPERM);
	CHECK_ERRNO(syscall(SYS_ioctl, -1, (1UL << 32) | TIOCLINUX, &c), EPERM);
	CHECK_ERRNO(syscall(SYS_ioctl, -1, TIOCSETD, &c), EPERM);
	/* other ioctls pass */
	CHECK_ERRNO(syscall(SYS_ioctl, -1, TCGETS, NULL), EBADF);
	CHECK_ERRNO(syscall(SYS_ioctl, -1, TIOCSTI + 1, &c), EBADF);
}

TEST_FORK(seccomp_sockets_none)
{
	if (!load(SH_NETMODE_NONE))
		return;
	CHECK_INT(sock(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), ==, 0);
	CHECK_INT(sock(AF_UNIX, SOCK_DGRAM, 0), ==, 0);
	CHECK_ERRNO(sock(AF_INET, SOCK_STREAM, 0), EAFNOSUPPORT);
	CHECK_ERRNO(sock(AF_INET6, SOCK_DGRAM, 0), EAFNOSUPPORT);
	CHECK_ERRNO(sock(AF_INET6, SOCK_STREAM, 0), EAFNOSUPPORT);
	CHECK_ERRNO(sock(AF_INET, SOCK_RAW, IPPROTO_ICMP), EAFNOSUPPORT);
	/* getifaddrs() keeps working; the dangerous netlink protocols do not */
	CHECK_INT(sock(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE), ==, 0);
	CHECK_ERRNO(sock(AF_NETLINK, SOCK_RAW, NETLINK_SOCK_DIAG), EPROTONOSUPPORT);
	CHECK_ERRNO(sock(AF_NETLINK, SOCK_DGRAM, 9 /* AUDIT */), EPROTONOSUPPORT);
	CHECK_ERRNO(sock((1L << 32) | AF_NETLINK, SOCK_RAW, NETLINK_ROUTE), EAFNOSUPPORT);
	CHECK_ERRNO(sock(AF_PACKET, SOCK_RAW, 0), EAFNOSUPPORT);
	CHECK_ERRNO(sock(AF_VSOCK, SOCK_STREAM, 0), EAFNOSUPPORT);
	CHECK_ERRNO(sock(AF_ALG, SOCK_SEQPACKET, 0), EAFNOSUPPORT);
	CHECK_ERRNO(sock((1L << 32) | AF_UNIX, SOCK_STREAM, 0), EAFNOSUPPORT);
	int sv[2];
	CHECK_INT(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), ==, 0);
	CHECK_ERRNO(syscall(SYS_socketpair, AF_INET, SOCK_STREAM, 0, sv), EAFNOSUPPORT);
	CHECK_ERRNO(syscall(SYS_socketpair, AF_NETLINK, SOCK_RAW, 0, sv), EAFNOSUPPORT);
}

/* getifaddrs() (netlink route) works in every mode: node's
 * os.networkInterfaces() throws without it. */
TEST_FORK(seccomp_getifaddrs_works_in_none)
{
	struct ifaddrs *ifa = NULL;
	if (!load(SH_NETMODE_NONE))
		return;
	CHECK_INT(getifaddrs(&ifa), ==, 0);
	if (ifa)
		freeifaddrs(ifa);
}

TEST_FORK(seccomp_sockets_full)
{
	if (!load(SH_NETMODE_FULL))
		return;
	CHECK_INT(sock(AF_UNIX, SOCK_STREAM, 0), ==, 0);
	CHECK_INT(sock(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), ==, 0);
	CHECK_INT(sock(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0), ==, 0);
	CHECK_INT(sock(AF_INET6, SOCK_STREAM, 0), ==, 0);
	CHECK_INT(sock(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE), ==, 0);
	CHECK_INT(sock(AF_NETLINK, SOCK_DGRAM, NETLINK_ROUTE), ==, 0);
	CHECK_ERRNO(sock(AF_NETLINK, SOCK_RAW, NETLINK_SOCK_DIAG), EPROTONOSUPPORT);
	CHECK_ERRNO(sock(AF_NETLINK, SOCK_RAW, 15 /* KOBJECT_UEVENT */), EPROTONOSUPPORT);
	CHECK_ERRNO(sock(AF_NETLINK, SOCK_RAW, 12 /* NETFILTER */), EPROTONOSUPPORT);
	CHECK_ERRNO(sock(AF_NETLINK, SOCK_RAW, (1L << 32) | NETLINK_ROUTE), EPROTONOSUPPORT);
	/* NET-01: raw and ICMP, with flag bits and high garbage */
	CHECK_ERRNO(sock(AF_INET, SOCK_RAW, IPPROTO_ICMP), EPERM);
	CHECK_ERRNO(sock(AF_INET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, IPPROTO_TCP), EPERM);
	CHECK_ERRNO(sock(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6), EPERM);
	CHECK_ERRNO(sock(AF_INET, (1L << 32) | SOCK_RAW, 0), EPERM);
	CHECK_ERRNO(sock(AF_INET, SOCK_PACKET, 0), EPERM);
	CHECK_ERRNO(sock(AF_INET, SOCK_DGRAM, IPPROTO_ICMP), EPERM);
	CHECK_ERRNO(sock(AF_INET6, SOCK_DGRAM, IPPROTO_ICMPV6), EPERM);
	CHECK_ERRNO(sock((1L << 32) | AF_INET, SOCK_STREAM, 0), EAFNOSUPPORT);
	/* NET-02..04, KERN-09 */
	CHECK_ERRNO(sock(AF_PACKET, SOCK_RAW, 0), EAFNOSUPPORT);
	CHECK_ERRNO(sock(AF_PACKET, SOCK_DGRAM, 0), EAFNOSUPPORT);
	CHECK_ERRNO(sock(AF_VSOCK, SOCK_STREAM, 0), EAFNOSUPPORT);
	CHECK_ERRNO(sock(AF_ALG, SOCK_SEQPACKET, 0), EAFNOSUPPORT);
	CHECK_ERRNO(sock(AF_KEY, SOCK_RAW, 2), EAFNOSUPPORT);
	CHECK_ERRNO(sock(AF_BLUETOOTH, SOCK_STREAM, 0), EAFNOSUPPORT);
	CHECK_ERRNO(sock(63, SOCK_STREAM, 0), EAFNOSUPPORT);
	CHECK_ERRNO(sock(64, SOCK_STREAM, 0), EAFNOSUPPORT);
	CHECK_ERRNO(sock(-1, SOCK_STREAM, 0), EAFNOSUPPORT);
	int sv[2];
	CHECK_ERRNO(syscall(SYS_socketpair, AF_INET, SOCK_STREAM, 0, sv), EAFNOSUPPORT);
}

TEST_FORK(seccomp_sockets_filtered_like_full)
{
	if (!load(SH_NETMODE_FILTERED))
		return;
	CHECK_INT(sock(AF_INET, SOCK_STREAM, 0), ==, 0);
	CHECK_ERRNO(sock(AF_INET, SOCK_RAW, IPPROTO_ICMP), EPERM);
	CHECK_ERRNO(sock(AF_PACKET, SOCK_RAW, 0), EAFNOSUPPORT);
}

static void x32_getpid(void)
{
	syscall(SYS_getpid | 0x40000000L);
}

static void ia32_getpid(void)
{
#if defined(__x86_64__)
	long ret = 20; /* i386 __NR_getpid */
	__asm__ volatile("int $0x80" : "+a"(ret) : : "memory");
#endif
}

TEST_FORK(seccomp_foreign_abi_killed)
{
#if !defined(__x86_64__)
	SKIP("x86_64 only");
#else
	if (!load(SH_NETMODE_NONE))
		return;
	int st = in_grandchild(x32_getpid);
	if (!CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS))
		printf("#   x32: status %#x\n", st);
	st = in_grandchild(ia32_getpid);
	if (WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV)
		SKIP("no ia32 emulation in this kernel (int 0x80 faults)");
	if (!CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS))
		printf("#   ia32: status %#x\n", st);
#endif
}

static void *thread_unshare(void *arg)
{
	volatile int *go = arg;
	while (!__atomic_load_n(go, __ATOMIC_ACQUIRE))
		usleep(1000);
	errno = 0;
	long r = syscall(SYS_unshare, CLONE_NEWUSER);
	return (void *)(intptr_t)(r == -1 ? errno : 0);
}

/* LAUNCH-05: a thread that exists before the filter is loaded is filtered
 * too (TSYNC). */
TEST_FORK(seccomp_tsync_covers_existing_threads)
{
	pthread_t t;
	volatile int go = 0;
	void *res;

	if (!CHECK(pthread_create(&t, NULL, thread_unshare, (void *)&go) == 0))
		return;
	if (!load(SH_NETMODE_NONE))
		return;
	__atomic_store_n(&go, 1, __ATOMIC_RELEASE);
	CHECK(pthread_join(t, &res) == 0);
	CHECK_STR(t_errno_name((int)(intptr_t)res), "EPERM");
}

static void *thread_ok(void *arg)
{
	return arg;
}

TEST_FORK(seccomp_ordinary_things_work)
{
	int p[2], sv[2], st;
	char b;

	if (!load(SH_NETMODE_NONE))
		return;
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0);
	close(fd);
	CHECK(pipe2(p, O_CLOEXEC) == 0);
	CHECK(write(p[1], "x", 1) == 1 && read(p[0], &b, 1) == 1 && b == 'x');
	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	/* fork (glibc: clone without CLONE_NEW*), exec */
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		execl("/bin/true", "true", (char *)NULL);
		_exit(99);
	}
	CHECK(pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	/* threads: glibc tries clone3 first, gets ENOSYS, falls back to clone */
	pthread_t t;
	void *r = NULL;
	CHECK(pthread_create(&t, NULL, thread_ok, (void *)&st) == 0);
	CHECK(pthread_join(t, &r) == 0 && r == (void *)&st);
	/* nesting our own sandbox is allowed: seccomp and prctl still work */
	CHECK(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1);
	CHECK(syscall(SYS_kcmp, getpid(), getpid(), 0 /* KCMP_FILE */, 0, 0) == 0);
	void *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(m != MAP_FAILED);
}

/* Baseline without the filter, so the tests above prove the filter: the
 * same calls fail differently (or succeed). */
TEST_FORK(seccomp_baseline_without_filter)
{
	char c = '#';
	CHECK_ERRNO(syscall(SYS_ioctl, -1, TIOCSTI, &c), EBADF);
	CHECK_ERRNO(syscall(SYS_ptrace, PTRACE_PEEKUSER, getpid(), 0, 0), ESRCH);
	long k = syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -4 /* @u */, 0);
	CHECK(k >= 0 || errno != EPERM);
	CHECK_INT(syscall(SYS_personality, 0xffffffffUL), ==, PER_LINUX);
	long fd = syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
	CHECK(fd >= 0);
	if (fd >= 0)
		close((int)fd);
}

TEST(seccomp_export_pfc)
{
	struct sh_err e = { 0 };
	struct sh_seccomp_config c = { .net = SH_NETMODE_NONE };
	char buf[1 << 16];
	FILE *f = tmpfile();

	if (!CHECK(f))
		return;
	if (!CHECK(sh_seccomp_export_pfc(&c, fileno(f), &e) == 0)) {
		printf("#   %s\n", e.msg);
		fclose(f);
		return;
	}
	rewind(f);
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	CHECK_CONTAINS(buf, "\"unshare\"");
	CHECK_CONTAINS(buf, "\"io_uring_setup\"");
	CHECK_CONTAINS(buf, "\"socket\"");
	CHECK_CONTAINS(buf, "KILL_PROCESS");
	CHECK_CONTAINS(buf, "personality");
}

TEST(seccomp_bad_net_mode)
{
	struct sh_err e = { 0 };
	struct sh_seccomp_config c = { .net = (enum sh_net_mode)42 };
	CHECK(sh_seccomp_export_pfc(&c, -1, &e) == -1);
	CHECK_CONTAINS(e.msg, "network mode");
}

/* ---- the one program, checked call by call against its parts ----------- */

/* A classic-BPF seccomp interpreter: the instructions our programs use.
 * const_path: set false when the path reads anything but nr and arch (the
 * kernel's action cache then cannot answer for the call without running
 * the filter). */
static uint32_t run_bpf(const struct sock_filter *f, size_t n, const struct seccomp_data *d,
			bool *const_path)
{
	uint32_t a = 0;
	size_t pc = 0;
	while (pc < n) {
		const struct sock_filter *i = &f[pc++];
		switch (i->code) {
		case BPF_LD | BPF_W | BPF_ABS:
			if (i->k + 4 > sizeof(*d) || (i->k & 3))
				return 0xdeadbeef;
			memcpy(&a, (const char *)d + i->k, 4);
			if (const_path && i->k != offsetof(struct seccomp_data, nr) &&
			    i->k != offsetof(struct seccomp_data, arch))
				*const_path = false;
			break;
		case BPF_ALU | BPF_AND | BPF_K:
			a &= i->k;
			break;
		case BPF_JMP | BPF_JA:
			pc += i->k;
			break;
		case BPF_JMP | BPF_JEQ | BPF_K:
			pc += a == i->k ? i->jt : i->jf;
			break;
		case BPF_JMP | BPF_JGT | BPF_K:
			pc += a > i->k ? i->jt : i->jf;
			break;
		case BPF_JMP | BPF_JGE | BPF_K:
			pc += a >= i->k ? i->jt : i->jf;
			break;
		case BPF_JMP | BPF_JSET | BPF_K:
			pc += (a & i->k) ? i->jt : i->jf;
			break;
		case BPF_RET | BPF_K:
			return i->k;
		default:
			return 0xdeadbeef; /* an instruction this interpreter does not know */
		}
	}
	return 0xdeadbeef; /* fell off the end */
}

/* The kernel's choice between filters: the lower action (as a signed
 * number) wins; on a tie the first one run (the newest) does. */
static uint32_t stronger(uint32_t first, uint32_t later)
{
	return (int32_t)(later & SECCOMP_RET_ACTION_FULL) < (int32_t)(first & SECCOMP_RET_ACTION_FULL)
		       ? later
		       : first;
}

#if defined(__x86_64__)
#define T_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define T_ARCH AUDIT_ARCH_AARCH64
#endif

#ifdef T_ARCH
/* What the head does as a filter of its own (the rules in seccomp.c). */
static uint32_t head_ref(const struct seccomp_data *d, bool notify, bool deny_unix)
{
	if (d->arch != T_ARCH)
		return SECCOMP_RET_ALLOW;
	if (d->nr > 469) /* SH_LAST_REVIEWED_NR, x32's numbers included */
		return SECCOMP_RET_ERRNO | ENOSYS;
	if (d->nr == __NR_personality) {
		uint64_t v = d->args[0];
		return v == 0 || v == 0xffffffffULL || v == ~0ULL ? SECCOMP_RET_ALLOW
								  : SECCOMP_RET_ERRNO | EPERM;
	}
	if (d->nr == __NR_seccomp && (d->args[1] & SECCOMP_FILTER_FLAG_NEW_LISTENER))
		return SECCOMP_RET_ERRNO | EPERM;
	if (deny_unix && d->nr == __NR_socket && (uint32_t)d->args[0] == AF_UNIX)
		return SECCOMP_RET_ERRNO | EPERM;
	if (deny_unix && d->nr == __NR_socketpair && (uint32_t)d->args[0] == AF_UNIX &&
	    (d->args[1] & 0xf) == SOCK_DGRAM)
		return SECCOMP_RET_ERRNO | EPERM;
	if (notify) {
		if (d->nr == __NR_openat2)
			return SECCOMP_RET_ERRNO | ENOSYS;
		const struct sh_supervise_call *c;
		size_t n = sh_supervise_calls(&c);
		for (size_t i = 0; i < n; i++)
			if (d->nr == c[i].nr &&
			    (c[i].flags_arg < 0 || ((d->args[c[i].flags_arg] & O_CREAT) &&
						    !(d->args[c[i].flags_arg] & O_PATH))))
				return SECCOMP_RET_USER_NOTIF;
	}
	return SECCOMP_RET_ALLOW;
}
#endif

TEST(seccomp_one_program_decides_as_its_parts)
{
#ifndef T_ARCH
	SKIP("the reference rules are written for x86_64 and aarch64");
#else
	static const uint64_t argv[] = { 0, 1, 2 /* AF_UNIX, SOCK_DGRAM */, O_CREAT, O_CREAT | O_WRONLY, 0xffffffffULL,
					 0xffffffff00000000ULL, ~0ULL, 0xffffffff00000000ULL | O_CREAT,
					 8 /* NEW_LISTENER */, 0x100000000ULL, O_CREAT | O_PATH,
					 O_PATH };
	const size_t nargv = sizeof(argv) / sizeof(argv[0]);
	static const uint32_t arches[] = { T_ARCH, AUDIT_ARCH_I386, 0 };
	enum sh_net_mode modes[] = { SH_NETMODE_NONE, SH_NETMODE_FULL, SH_NETMODE_FILTERED };
	long checked = 0, wrong = 0;
	for (size_t m = 0; m < 3; m++)
		for (int variant = 0; variant < 4; variant++) {
			bool notify = variant & 1, deny_unix = variant & 2;
			struct sh_err e = { 0 };
			struct sh_seccomp_config c = { .net = modes[m], .notify = notify,
						       .deny_unix = deny_unix };
			struct sock_filter *f = NULL;
			const struct sock_filter *mf = NULL;
			const char *pfc = NULL;
			size_t n = 0, mn = 0;
			if (!CHECK(sh_seccomp_program(&c, &f, &n, &e) == 0) ||
			    !CHECK(sh_seccomp_main_program(modes[m], &mf, &mn, &pfc, &e) == 0))
				return;
			for (size_t a = 0; a < sizeof(arches) / sizeof(arches[0]); a++)
				for (uint32_t nr = 0; nr < 1100; nr++) {
					/* x32's numbers too, and a few far ones */
					uint32_t nrs[] = { nr, nr | 0x40000000U, nr + 0x7fff0000U };
					for (size_t k = 0; k < 3; k++)
						for (size_t i = 0; i < nargv; i++) {
							struct seccomp_data d = { .nr = (int)nrs[k],
										  .arch = arches[a] };
							for (int j = 0; j < 6; j++)
								d.args[j] = argv[(i + (size_t)j) % nargv];
							uint32_t one = run_bpf(f, n, &d, NULL);
							uint32_t ref = stronger(head_ref(&d, notify, deny_unix),
										run_bpf(mf, mn, &d, NULL));
							checked++;
							if (one != ref && wrong++ < 5)
								printf("#   net %d notify %d arch %#x nr %#x "
								       "args %#llx: %#x, parts say %#x\n",
								       (int)modes[m], notify, d.arch, d.nr,
								       (unsigned long long)d.args[0], one, ref);
						}
				}
			free(f);
		}
	CHECK(wrong == 0);
	CHECK(checked > 100000);
#endif
}

/* The calls a build or git status makes by the thousand must be answered
 * by the kernel's action cache, without running the filter: on their path
 * the program reads only the number and the architecture, and allows. */
TEST(seccomp_hot_calls_are_constant_allow)
{
#ifndef T_ARCH
	SKIP("x86_64 and aarch64 only");
#else
	static const int hot[] = {
		SYS_read, SYS_write, SYS_close, SYS_fstat, SYS_newfstatat, SYS_lseek, SYS_mmap,
		SYS_munmap, SYS_mprotect, SYS_brk, SYS_getdents64, SYS_futex, SYS_pread64,
		SYS_readlinkat, SYS_faccessat, SYS_getpid, SYS_rt_sigaction, SYS_rt_sigprocmask,
		SYS_wait4, SYS_pipe2, SYS_dup3, SYS_fcntl, SYS_statx, SYS_unlinkat, SYS_execve,
		SYS_exit_group, SYS_clock_gettime,
#ifdef SYS_lstat
		SYS_lstat, SYS_stat, SYS_access,
#endif
	};
	for (int notify = 0; notify < 2; notify++) {
		struct sh_err e = { 0 };
		struct sh_seccomp_config c = { .net = SH_NETMODE_NONE, .notify = notify };
		struct sock_filter *f = NULL;
		size_t n = 0;
		if (!CHECK(sh_seccomp_program(&c, &f, &n, &e) == 0))
			return;
		for (size_t i = 0; i < sizeof(hot) / sizeof(hot[0]); i++) {
			struct seccomp_data d = { .nr = hot[i], .arch = T_ARCH };
			bool const_path = true;
			uint32_t r = run_bpf(f, n, &d, &const_path);
			if (!CHECK(r == SECCOMP_RET_ALLOW && const_path))
				printf("#   notify %d: syscall %d -> %#x, %s\n", notify, hot[i], r,
				       const_path ? "constant" : "reads its arguments");
		}
		free(f);
	}
#endif
}

/* The kernel emulates the filter for every syscall number when it is loaded
 * (its action cache), and runs it for every call the cache cannot answer:
 * the head before libseccomp's program stays short for every number. */
TEST(seccomp_head_path_is_short_for_every_number)
{
#ifndef T_ARCH
	SKIP("x86_64 and aarch64 only");
#else
	struct sh_err e = { 0 };
	struct sh_seccomp_config c = { .net = SH_NETMODE_NONE, .notify = true };
	struct sock_filter *f = NULL;
	const struct sock_filter *mf = NULL;
	const char *pfc = NULL;
	size_t n = 0, mn = 0, worst = 0;
	if (!CHECK(sh_seccomp_program(&c, &f, &n, &e) == 0) ||
	    !CHECK(sh_seccomp_main_program(SH_NETMODE_NONE, &mf, &mn, &pfc, &e) == 0))
		return;
	size_t head = n - mn;
	for (uint32_t nr = 0; nr < 470; nr++) {
		size_t pc = 0, steps = 0;
		uint32_t a = 0;
		struct seccomp_data d = { .nr = (int)nr, .arch = T_ARCH };
		/* the head only loads arch and nr on the way to the main program */
		while (pc < head && steps < 1000) {
			const struct sock_filter *i = &f[pc++];
			steps++;
			if (i->code == (BPF_LD | BPF_W | BPF_ABS))
				memcpy(&a, (const char *)&d + i->k, 4);
			else if (i->code == (BPF_JMP | BPF_JA))
				pc += i->k;
			else if (i->code == (BPF_JMP | BPF_JEQ | BPF_K))
				pc += a == i->k ? i->jt : i->jf;
			else if (i->code == (BPF_JMP | BPF_JGE | BPF_K))
				pc += a >= i->k ? i->jt : i->jf;
			else if (i->code == (BPF_JMP | BPF_JGT | BPF_K))
				pc += a > i->k ? i->jt : i->jf;
			else
				break; /* a special call's own checks: not the common path */
		}
		if (steps > worst)
			worst = steps;
	}
	free(f);
	if (!CHECK(worst <= 16)) /* a linear head took 24 */
		printf("#   longest path through the head: %zu instructions\n", worst);
#endif
}

/* With a listener, a creating call waits for init; here nobody answers, so
 * closing the listener fails it with ENOSYS, while other calls go on. */
TEST_FORK(seccomp_notify_sends_creations_to_the_listener)
{
	struct sh_err e = { 0 };
	struct sh_seccomp_config c = { .net = SH_NETMODE_NONE, .notify = true };
	int listener = -1;
	if (!CHECK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0))
		return;
	if (!CHECK(sh_seccomp_apply(&c, &listener, &e) == 0)) {
		printf("#   %s\n", e.msg);
		return;
	}
	CHECK(listener >= 0);
	close(listener);
	CHECK_ERRNO(syscall(SYS_mkdirat, AT_FDCWD, "/nonexistent-dir/x", 0700), ENOSYS);
	CHECK_ERRNO(syscall(SYS_openat, AT_FDCWD, "/nonexistent-dir/x", O_CREAT | O_WRONLY, 0600),
		    ENOSYS);
	/* no O_CREAT: not the supervisor's */
	CHECK_ERRNO(syscall(SYS_openat, AT_FDCWD, "/nonexistent-dir/x", O_RDONLY), ENOENT);
	CHECK_ERRNO(syscall(SYS_personality, 8), EPERM);
	CHECK_ERRNO(syscall(470), ENOSYS);
	CHECK_ERRNO(syscall(SYS_unshare, CLONE_NEWUSER), EPERM);
}
