/* seccomp: the kernel attack-surface filter (threats.md section 6, style.md
 * P10), installed last, after no_new_privs and Landlock.
 *
 * Default ALLOW with explicit denials: an allowlist breaks agents (they run
 * arbitrary toolchains), so instead we deny the syscall families that give
 * reachable kernel attack surface or cross the sandbox boundary.  A
 * hand-written head (build_head) answers ENOSYS for syscall numbers newer
 * than the last kernel this list was reviewed against (KERN-11: "new
 * syscalls not denied"), allowlists personality() values, which libseccomp
 * 2.5 cannot express (one comparison per argument per rule), and sends the
 * calls that create names to the creation supervisor when there is one.
 * Head and libseccomp's program are one filter: one load, one run per call.
 *
 * Errors: EPERM for "not allowed here"; ENOSYS where callers are expected to
 * fall back (clone3 -> clone, listmount/statmount -> /proc); EAFNOSUPPORT for
 * socket families outside the allowlist; EPROTONOSUPPORT for netlink
 * protocols other than NETLINK_ROUTE (see socket_rules()).  A foreign
 * architecture (ia32 int 0x80, x32 via the 0x40000000 bit, which libseccomp
 * treats as a separate ABI that we never add) kills the process.
 *
 * Integer arguments the kernel truncates to 32 bits (ioctl cmd, socket
 * family/type/protocol, personality) are matched on their low 32 bits where
 * the rule denies, and on all 64 bits where the rule lets something through,
 * so high garbage can only ever make a call more denied (KERN-11).
 *
 * Contract: the caller has set PR_SET_NO_NEW_PRIVS (we do not let libseccomp
 * set it behind the caller's back); the filter is synchronised to every
 * thread (TSYNC) where the kernel allows that together with a listener.
 * Any failure is fatal to the caller (the post-fork child exits). */
#include "enforce/seccomp.h"
#include "enforce/supervise.h"
#include "util/fdio.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <netinet/in.h>
#include <linux/netlink.h>

#ifndef CLONE_NEWCGROUP
#define CLONE_NEWCGROUP 0x02000000
#endif
#ifndef TIOCLINUX
#define TIOCLINUX 0x541C
#endif
#ifndef TIOCSETD
#define TIOCSETD 0x5423
#endif

/* libseccomp builds the main filter at build time only (tools/gen-seccomp.c
 * includes this file with SH_SECCOMP_GENERATOR): the launcher loads the
 * programs it generated and prints the descriptions it exported, so the
 * binary does not link libseccomp. */
#ifdef SH_SECCOMP_GENERATOR
#include <seccomp.h>
#endif

#define LOW32 0xffffffffULL
/* Above every address family the kernel knows (AF_MAX is 46 in 6.18). */
#define SH_AF_LIMIT 64

/* Syscall numbers >= 424 are the same on every architecture but alpha, so a
 * fallback number is safe for the syscalls libseccomp 2.5 does not know. */
#if defined(__x86_64__) || defined(__aarch64__)
#define SH_HAVE_UNIFIED_NR 1
/* Highest syscall number of Linux 6.18 (file_setattr).  Anything above
 * returns ENOSYS.  Review the deny list before raising it. */
#define SH_LAST_REVIEWED_NR 469
#if defined(__x86_64__)
#define SH_AUDIT_ARCH AUDIT_ARCH_X86_64
#else
#define SH_AUDIT_ARCH AUDIT_ARCH_AARCH64
#endif
#endif

#ifdef SH_SECCOMP_GENERATOR
struct sh_deny {
	const char *name;
	int fallback_nr; /* used when libseccomp does not know the name; 0: none */
	int err;
};

/* Unconditional denials.  Names the running libseccomp cannot resolve and
 * that have no fallback number are skipped (they are then unknown to the
 * headers too, and above SH_LAST_REVIEWED_NR they get ENOSYS anyway). */
static const struct sh_deny sh_denials[] = {
	/* KERN-01/12, FS-06: namespaces and mounts (clone is filtered by flags) */
	{ "unshare", 0, EPERM },
	{ "setns", 0, EPERM },
	{ "clone3", 0, ENOSYS }, /* flags live in memory: unfilterable; libc falls back to clone */
	{ "mount", 0, EPERM },
	{ "umount", 0, EPERM },
	{ "umount2", 0, EPERM },
	{ "pivot_root", 0, EPERM },
	{ "chroot", 0, EPERM },
	{ "fsopen", 430, EPERM },
	{ "fsconfig", 431, EPERM },
	{ "fsmount", 432, EPERM },
	{ "fspick", 433, EPERM },
	{ "open_tree", 428, EPERM },
	{ "move_mount", 429, EPERM },
	{ "mount_setattr", 442, EPERM },
	{ "open_tree_attr", 467, EPERM },
	{ "statmount", 457, ENOSYS }, /* read-only; libmount falls back on ENOSYS */
	{ "listmount", 458, ENOSYS },
	/* KERN-02..06 */
	{ "bpf", 0, EPERM },
	{ "perf_event_open", 0, EPERM },
	{ "userfaultfd", 0, EPERM },
	{ "keyctl", 0, EPERM },
	{ "add_key", 0, EPERM },
	{ "request_key", 0, EPERM },
	{ "io_uring_setup", 425, EPERM }, /* KERN-05: io_uring bypasses this filter */
	{ "io_uring_enter", 426, EPERM },
	{ "io_uring_register", 427, EPERM },
	/* PROC-01/03, INFO-02 */
	{ "ptrace", 0, EPERM },
	{ "process_vm_readv", 0, EPERM },
	{ "process_vm_writev", 0, EPERM },
	{ "pidfd_getfd", 438, EPERM },
	{ "process_madvise", 440, EPERM },
	/* FS-05 Shocker */
	{ "open_by_handle_at", 0, EPERM },
	{ "name_to_handle_at", 0, EPERM },
	/* KERN-08/09 */
	{ "kexec_load", 0, EPERM },
	{ "kexec_file_load", 0, EPERM },
	{ "reboot", 0, EPERM },
	{ "init_module", 0, EPERM },
	{ "finit_module", 0, EPERM },
	{ "delete_module", 0, EPERM },
	/* host administration and obsolete interfaces */
	{ "swapon", 0, EPERM },
	{ "swapoff", 0, EPERM },
	{ "acct", 0, EPERM },
	{ "syslog", 0, EPERM }, /* INFO-04 */
	{ "quotactl", 0, EPERM },
	{ "quotactl_fd", 443, EPERM },
	{ "lookup_dcookie", 0, EPERM },
	{ "vhangup", 0, EPERM },
	{ "nfsservctl", 0, EPERM },
	{ "uselib", 0, EPERM },
	{ "ustat", 0, EPERM },
	{ "sysfs", 0, EPERM },
	{ "_sysctl", 0, EPERM },
	{ "iopl", 0, EPERM },
	{ "ioperm", 0, EPERM },
	{ "modify_ldt", 0, EPERM },
	{ "settimeofday", 0, EPERM },
	{ "clock_settime", 0, EPERM },
	{ "clock_adjtime", 0, EPERM },
	{ "adjtimex", 0, EPERM },
};

static int rule(scmp_filter_ctx ctx, uint32_t action, int nr, unsigned n,
		const struct scmp_arg_cmp *cmp, const char *what, struct sh_err *e)
{
	int r = seccomp_rule_add_array(ctx, action, nr, n, cmp);
	if (r < 0)
		return sh_fail(e, SH_EXIT_SETUP, -r, "cannot add seccomp rule for %s", what);
	return 0;
}

static int deny_all(scmp_filter_ctx ctx, const struct sh_deny *d, struct sh_err *e)
{
	int nr = seccomp_syscall_resolve_name(d->name);
#ifdef SH_HAVE_UNIFIED_NR
	if (nr == __NR_SCMP_ERROR && d->fallback_nr)
		nr = d->fallback_nr;
#endif
	if (nr < 0) /* unknown, or a pseudo-number: not a syscall of this arch */
		return 0;
	return rule(ctx, SCMP_ACT_ERRNO((uint32_t)d->err), nr, 0, NULL, d->name, e);
}

/* clone: deny any CLONE_NEW* flag (each flag is its own rule: rules of one
 * syscall are ORed, comparisons within one rule ANDed).  CLONE_NEWTIME
 * (0x80) is not a clone() flag: there it is part of the exit signal. */
static int deny_clone_ns(scmp_filter_ctx ctx, struct sh_err *e)
{
	static const uint64_t ns_flags[] = {
		CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC,
		CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET,
	};
	for (size_t i = 0; i < sizeof(ns_flags) / sizeof(ns_flags[0]); i++) {
		struct scmp_arg_cmp c = SCMP_A0(SCMP_CMP_MASKED_EQ, ns_flags[i], ns_flags[i]);
		if (rule(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1, &c, "clone", e) < 0)
			return -1;
	}
	return 0;
}

/* TERM-01/02: the kernel truncates cmd to 32 bits, so compare the low 32
 * bits only (TIOCSTI | 1<<32 is TIOCSTI).  TIOCSETD: line disciplines are a
 * large, bug-prone surface (n_gsm, n_hdlc) reachable through /dev/ptmx. */
static int deny_ioctls(scmp_filter_ctx ctx, struct sh_err *e)
{
	static const uint64_t cmds[] = { TIOCSTI, TIOCLINUX, TIOCSETD };
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		struct scmp_arg_cmp c = SCMP_A1(SCMP_CMP_MASKED_EQ, LOW32, cmds[i]);
		if (rule(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1, &c, "ioctl", e) < 0)
			return -1;
	}
	return 0;
}

/* NET-01..04, KERN-09: socket family allowlist.
 *   always:           AF_UNIX, and AF_NETLINK with NETLINK_ROUTE only:
 *                     getifaddrs(), if_nameindex(), glibc AI_ADDRCONFIG, Go
 *                     net.Interfaces and node os.networkInterfaces() (which
 *                     throws without it) need it.  In a private netns it
 *                     shows only lo; in fallback mode (host netns) it shows
 *                     what /proc/net already shows; changing anything needs
 *                     CAP_NET_ADMIN, which the sandbox does not hold.
 *                     sock_diag (NET-03: lists host sockets), audit, uevent,
 *                     netfilter, xfrm, generic, ... get EPROTONOSUPPORT.
 *   FULL / FILTERED:  AF_INET, AF_INET6, without SOCK_RAW / SOCK_PACKET and
 *                     without ICMP "ping" sockets (NET-01): EPERM.
 * Everything else (AF_PACKET, AF_VSOCK, AF_ALG, AF_BLUETOOTH, AF_KEY, RDS,
 * TIPC, ..., and AF_INET/6 in NONE mode) gets EAFNOSUPPORT, which also
 * avoids module autoloading. */
static int socket_rules(scmp_filter_ctx ctx, enum sh_net_mode net, struct sh_err *e)
{
	struct scmp_arg_cmp pair = SCMP_A0(SCMP_CMP_NE, AF_UNIX);
	bool inet = false;

	switch (net) {
	case SH_NETMODE_NONE:
		break;
	case SH_NETMODE_FULL:
	case SH_NETMODE_FILTERED:
		inet = true;
		break;
	default:
		return sh_fail(e, SH_EXIT_SETUP, 0, "seccomp: unknown network mode %d", (int)net);
	}
	if (rule(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT), SCMP_SYS(socketpair), 1, &pair, "socketpair",
		 e) < 0)
		return -1;

	/* libseccomp allows one comparison per argument in a rule, so "not in
	 * {...}" is spelled as one rule per denied family below SH_AF_LIMIT plus
	 * one for everything at or above it (including high garbage: all 64
	 * bits are compared, so AF_INET | 1<<32 is refused, never let through). */
	for (uint64_t f = 0; f < SH_AF_LIMIT; f++) {
		if (f == AF_UNIX || f == AF_NETLINK || (inet && (f == AF_INET || f == AF_INET6)))
			continue;
		struct scmp_arg_cmp c = SCMP_A0(SCMP_CMP_EQ, f);
		if (rule(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT), SCMP_SYS(socket), 1, &c, "socket",
			 e) < 0)
			return -1;
	}
	struct scmp_arg_cmp big = SCMP_A0(SCMP_CMP_GE, SH_AF_LIMIT);
	if (rule(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT), SCMP_SYS(socket), 1, &big, "socket", e) < 0)
		return -1;

	struct scmp_arg_cmp nl[] = {
		SCMP_A0(SCMP_CMP_MASKED_EQ, LOW32, AF_NETLINK),
		SCMP_A2(SCMP_CMP_NE, NETLINK_ROUTE),
	};
	if (rule(ctx, SCMP_ACT_ERRNO(EPROTONOSUPPORT), SCMP_SYS(socket), 2, nl, "netlink", e) < 0)
		return -1;
	if (!inet)
		return 0;

	static const struct {
		int family;
		int proto; /* ICMP protocol of this family */
	} inets[] = { { AF_INET, IPPROTO_ICMP }, { AF_INET6, IPPROTO_ICMPV6 } };
	for (size_t i = 0; i < 2; i++) {
		/* type & 0xf: ignore SOCK_NONBLOCK | SOCK_CLOEXEC */
		struct scmp_arg_cmp raw[] = {
			SCMP_A0(SCMP_CMP_MASKED_EQ, LOW32, (uint64_t)inets[i].family),
			SCMP_A1(SCMP_CMP_MASKED_EQ, 0xf, SOCK_RAW),
		};
		struct scmp_arg_cmp pkt[] = {
			SCMP_A0(SCMP_CMP_MASKED_EQ, LOW32, (uint64_t)inets[i].family),
			SCMP_A1(SCMP_CMP_MASKED_EQ, 0xf, SOCK_PACKET),
		};
		struct scmp_arg_cmp ping[] = {
			SCMP_A0(SCMP_CMP_MASKED_EQ, LOW32, (uint64_t)inets[i].family),
			SCMP_A2(SCMP_CMP_MASKED_EQ, LOW32, (uint64_t)inets[i].proto),
		};
		if (rule(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(socket), 2, raw, "SOCK_RAW", e) < 0 ||
		    rule(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(socket), 2, pkt, "SOCK_PACKET", e) < 0 ||
		    rule(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(socket), 2, ping, "ICMP", e) < 0)
			return -1;
	}
	return 0;
}

static int attr(scmp_filter_ctx ctx, enum scmp_filter_attr a, uint32_t v, const char *what,
		struct sh_err *e)
{
	int r = seccomp_attr_set(ctx, a, v);
	if (r < 0)
		return sh_fail(e, SH_EXIT_SETUP, -r, "cannot set seccomp attribute %s", what);
	return 0;
}

static scmp_filter_ctx build(const struct sh_seccomp_config *c, struct sh_err *e)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx) {
		sh_fail(e, SH_EXIT_SETUP, ENOMEM, "cannot create the seccomp filter");
		return NULL;
	}
	/* Only the native architecture is added (seccomp_init does that): every
	 * other one, including x32 on x86_64, hits ACT_BADARCH. */
	if (attr(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS, "badarch", e) < 0 ||
	    attr(ctx, SCMP_FLTATR_CTL_TSYNC, 1, "tsync", e) < 0 ||
	    /* no_new_privs is the caller's job, in its documented order */
	    attr(ctx, SCMP_FLTATR_CTL_NNP, 0, "nnp", e) < 0 ||
	    attr(ctx, SCMP_FLTATR_API_SYSRAWRC, 1, "sysrawrc", e) < 0)
		goto fail;
	/* A binary tree over syscall numbers instead of a linear chain: the
	 * filter runs on every syscall.  Only a speed-up, so failure is ignored. */
	(void)seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	for (size_t i = 0; i < sizeof(sh_denials) / sizeof(sh_denials[0]); i++)
		if (deny_all(ctx, &sh_denials[i], e) < 0)
			goto fail;
	if (deny_clone_ns(ctx, e) < 0 || deny_ioctls(ctx, e) < 0 ||
	    socket_rules(ctx, c->net, e) < 0)
		goto fail;
	return ctx;
fail:
	seccomp_release(ctx);
	return NULL;
}

#else /* the launcher */
#ifndef SH_SECCOMP_PREBUILT
#error "seccomp.c needs the build-time programs (-DSH_SECCOMP_PREBUILT, build/gen)"
#endif
/* The programs build() gives for each network mode, and libseccomp's
 * description of each, generated at build time by tools/gen-seccomp.c, so
 * no launch spends a millisecond rebuilding them. */
#include "seccomp_bpf.h"

#if defined(SH_AUDIT_ARCH) && SH_SECCOMP_PREBUILT_ARCH != SH_AUDIT_ARCH
#error "build/gen/seccomp_bpf.h was generated for another architecture"
#endif

#ifndef SECCOMP_FILTER_FLAG_TSYNC_ESRCH
#define SECCOMP_FILTER_FLAG_TSYNC_ESRCH (1UL << 4)
#endif
#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif
#ifndef SECCOMP_RET_USER_NOTIF
#define SECCOMP_RET_USER_NOTIF 0x7fc00000U
#endif

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define ARG_LO(i) (offsetof(struct seccomp_data, args[i]))
#define ARG_HI(i) (offsetof(struct seccomp_data, args[i]) + 4)
#else
#define ARG_LO(i) (offsetof(struct seccomp_data, args[i]) + 4)
#define ARG_HI(i) (offsetof(struct seccomp_data, args[i]))
#endif

int sh_seccomp_main_program(enum sh_net_mode net, const struct sock_filter **f, size_t *len,
			    const char **pfc, struct sh_err *e)
{
#define PROG(a, d) (*f = (a), *len = sizeof(a) / sizeof((a)[0]), *pfc = (d))
	switch (net) {
	case SH_NETMODE_NONE:
		PROG(sh_bpf_none, sh_pfc_none);
		return 0;
	case SH_NETMODE_FULL:
		PROG(sh_bpf_full, sh_pfc_full);
		return 0;
	case SH_NETMODE_FILTERED:
		PROG(sh_bpf_filtered, sh_pfc_filtered);
		return 0;
	default:
		return sh_fail(e, SH_EXIT_SETUP, EINVAL, "no seccomp filter for network mode %d",
			       (int)net);
	}
#undef PROG
}

/* ------------------------------------------------ the checks before it
 *
 * One program, so each system call runs one filter, and the command loads
 * one: a hand-written head, then the libseccomp program above.  The head
 * does what libseccomp 2.5 cannot express (one comparison per argument per
 * rule), and the creation supervisor's part:
 *   - syscall numbers above the reviewed range -> ENOSYS (KERN-11);
 *   - personality() only for PER_LINUX (0) and the 0xffffffff query (KERN-07),
 *     as Docker does.  The kernel takes an unsigned int; glibc zero-extends
 *     the query, a raw caller may sign-extend it: both pass;
 *   - seccomp() asking for a listener (SECCOMP_FILTER_FLAG_NEW_LISTENER)
 *     -> EPERM: a process inside could otherwise answer its own creations
 *     (the newest filter wins a tie of USER_NOTIF) once init's listener is
 *     gone, and nothing inside needs one;
 *   - in fallback mode, socket(AF_UNIX) -> EPERM (deny_unix): without a
 *     mount view every socket file on the host (tmux, the D-Bus session
 *     bus, ssh-agent, docker) would be a connect() away; and
 *     socketpair(AF_UNIX, SOCK_DGRAM) too, whose ends can still sendto()
 *     any datagram socket (journald, /dev/log).  Stream and seqpacket
 *     pairs cannot connect again and stay;
 *   - with a supervisor, the calls that create names (sh_supervise_calls)
 *     -> USER_NOTIF: init performs or refuses them (supervise.c); open and
 *     openat only with O_CREAT and without O_PATH (which makes the kernel
 *     ignore O_CREAT: nothing is created, the caller opens it itself);
 *     openat2 -> ENOSYS (its flags are behind a pointer, and init cannot
 *     open a path in the caller's stead without also lending it init's
 *     own rights in /proc: callers fall back to openat, checked above).
 * Everything else, and every other architecture (including x32's numbers),
 * goes on to the main program, which kills foreign ABIs.  The head answers
 * only calls that the main program allows, so the one program decides
 * exactly what the head as a filter of its own plus the main filter would
 * (tests/unit/test_seccomp.c checks this call by call). */

enum { L_NEXT, L_MAIN, L_ENOSYS, L_EPERM, L_NOTIFY, L_PERS, L_PLO, L_PHI, L_SECC, L_SOCK, L_SOCKP,
       L_ARG0,
       L_TREE = L_ARG0 + 6, L_N = L_TREE + 32 };
#define HEAD_MAX 96

struct head {
	struct sock_filter f[HEAD_MAX];
	unsigned char jt[HEAD_MAX], jf[HEAD_MAX];
	int label[L_N];
	unsigned n;
	int ntree; /* labels L_TREE.. used by emit_tree */
};

static void op(struct head *h, uint16_t code, uint32_t k, int jt, int jf)
{
	if (h->n < HEAD_MAX) {
		h->f[h->n] = (struct sock_filter){ code, 0, 0, k };
		h->jt[h->n] = (unsigned char)jt;
		h->jf[h->n] = (unsigned char)jf;
	}
	h->n++;
}

static void here(struct head *h, int l)
{
	h->label[l] = (int)h->n;
}

/* The special numbers, sorted, each with where it goes. */
struct special {
	uint32_t nr;
	int to;
};

/* A binary search over sp[lo..hi) on the number in A, the rest to L_MAIN.
 * The kernel emulates the filter once per syscall number when it is loaded
 * (its cache of calls always allowed): a short path for every number keeps
 * that, and each call, cheap. */
static void emit_tree(struct head *h, const struct special *sp, size_t lo, size_t hi)
{
	if (hi - lo <= 3 || h->ntree >= L_N - L_TREE) {
		for (size_t i = lo; i < hi; i++)
			op(h, BPF_JMP | BPF_JEQ | BPF_K, sp[i].nr, sp[i].to, L_NEXT);
		op(h, BPF_JMP | BPF_JA, 0, L_MAIN, 0);
		return;
	}
	size_t mid = lo + (hi - lo) / 2;
	int right = L_TREE + h->ntree++;
	op(h, BPF_JMP | BPF_JGE | BPF_K, sp[mid].nr, right, L_NEXT);
	emit_tree(h, sp, lo, mid);
	here(h, right);
	emit_tree(h, sp, mid, hi);
}

static int special_cmp(const void *a, const void *b)
{
	const struct special *x = a, *y = b;
	return x->nr < y->nr ? -1 : x->nr > y->nr;
}

#define LD(off) op(h, BPF_LD | BPF_W | BPF_ABS, (uint32_t)(off), 0, 0)
#define JEQ(k, t, f) op(h, BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)(k), t, f)
#define RET(k) op(h, BPF_RET | BPF_K, (uint32_t)(k), 0, 0)

static int build_head(struct head *h, bool notify, bool deny_unix, struct sh_err *e)
{
	bool uses_arg[6] = { false };
	memset(h, 0, sizeof(*h));
	LD(offsetof(struct seccomp_data, arch));
	JEQ(SH_SECCOMP_PREBUILT_ARCH, L_NEXT, L_MAIN);
	LD(offsetof(struct seccomp_data, nr));
#ifdef __x86_64__
	op(h, BPF_JMP | BPF_JGE | BPF_K, 0x40000000U, L_MAIN, L_NEXT); /* x32: killed there */
#endif
	struct special sp[40] = { { 0, 0 } };
	size_t nsp = 0;
#ifdef SH_LAST_REVIEWED_NR
	op(h, BPF_JMP | BPF_JGT | BPF_K, SH_LAST_REVIEWED_NR, L_ENOSYS, L_NEXT);
	sp[nsp++] = (struct special){ __NR_personality, L_PERS };
#endif
	sp[nsp++] = (struct special){ __NR_seccomp, L_SECC };
	if (deny_unix) {
		sp[nsp++] = (struct special){ __NR_socket, L_SOCK };
		sp[nsp++] = (struct special){ __NR_socketpair, L_SOCKP };
	}
	if (notify) {
		sp[nsp++] = (struct special){ __NR_openat2, L_ENOSYS };
		const struct sh_supervise_call *calls;
		size_t n = sh_supervise_calls(&calls);
		for (size_t i = 0; i < n && nsp < sizeof(sp) / sizeof(sp[0]); i++) {
			if (calls[i].flags_arg < 0) {
				sp[nsp++] = (struct special){ (uint32_t)calls[i].nr, L_NOTIFY };
			} else if (calls[i].flags_arg < 6) {
				sp[nsp++] = (struct special){ (uint32_t)calls[i].nr,
							      L_ARG0 + calls[i].flags_arg };
				uses_arg[calls[i].flags_arg] = true;
			}
		}
	}
	qsort(sp, nsp, sizeof(sp[0]), special_cmp);
	emit_tree(h, sp, 0, nsp);
#ifdef SH_LAST_REVIEWED_NR
	here(h, L_PERS);
	LD(ARG_HI(0));
	JEQ(0, L_PLO, L_NEXT);
	JEQ(0xffffffffU, L_PHI, L_EPERM);
	here(h, L_PLO);
	LD(ARG_LO(0));
	JEQ(0, L_MAIN, L_NEXT);
	JEQ(0xffffffffU, L_MAIN, L_EPERM);
	here(h, L_PHI); /* high half all ones: only the sign-extended query */
	LD(ARG_LO(0));
	JEQ(0xffffffffU, L_MAIN, L_EPERM);
#endif
	if (deny_unix) {
		here(h, L_SOCK); /* the family: an int */
		LD(ARG_LO(0));
		JEQ(AF_UNIX, L_EPERM, L_MAIN);
		here(h, L_SOCKP);
		LD(ARG_LO(0));
		JEQ(AF_UNIX, L_NEXT, L_MAIN);
		LD(ARG_LO(1)); /* the type, without SOCK_NONBLOCK / SOCK_CLOEXEC */
		op(h, BPF_ALU | BPF_AND | BPF_K, 0xf, 0, 0);
		JEQ(SOCK_DGRAM, L_EPERM, L_MAIN);
	}
	here(h, L_SECC); /* flags: an unsigned int */
	LD(ARG_LO(1));
	op(h, BPF_JMP | BPF_JSET | BPF_K, SECCOMP_FILTER_FLAG_NEW_LISTENER, L_EPERM, L_MAIN);
	for (int a = 0; a < 6; a++) {
		if (!uses_arg[a])
			continue;
		here(h, L_ARG0 + a);
		LD(ARG_LO(a)); /* the kernel takes an int */
		op(h, BPF_JMP | BPF_JSET | BPF_K, O_PATH, L_MAIN, L_NEXT);
		op(h, BPF_JMP | BPF_JSET | BPF_K, O_CREAT, L_NOTIFY, L_MAIN);
	}
	here(h, L_ENOSYS);
	RET(SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA));
	here(h, L_EPERM);
	RET(SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA));
	here(h, L_NOTIFY);
	RET(SECCOMP_RET_USER_NOTIF);
	here(h, L_MAIN); /* the main program starts right after the head */
	if (h->n > HEAD_MAX)
		return sh_fail(e, SH_EXIT_SETUP, E2BIG, "seccomp: the filter's head is too long");
	/* labels to offsets */
	for (unsigned i = 0; i < h->n; i++) {
		struct sock_filter *f = &h->f[i];
		if (BPF_CLASS(f->code) != BPF_JMP)
			continue;
		if (BPF_OP(f->code) == BPF_JA) {
			f->k = (uint32_t)(h->label[h->jt[i]] - (int)i - 1);
			continue;
		}
		int t = h->jt[i] ? h->label[h->jt[i]] - (int)i - 1 : 0;
		int fl = h->jf[i] ? h->label[h->jf[i]] - (int)i - 1 : 0;
		if (t < 0 || t > 255 || fl < 0 || fl > 255)
			return sh_fail(e, SH_EXIT_SETUP, E2BIG, "seccomp: a jump in the filter's head is too long");
		f->jt = (uint8_t)t;
		f->jf = (uint8_t)fl;
	}
	return 0;
}
#undef LD
#undef JEQ
#undef RET

int sh_seccomp_program(const struct sh_seccomp_config *c, struct sock_filter **out, size_t *len,
		       struct sh_err *e)
{
	const struct sock_filter *main_f = NULL;
	const char *pfc = NULL;
	size_t main_n = 0;
	struct head h;

	if (sh_seccomp_main_program(c->net, &main_f, &main_n, &pfc, e) < 0 ||
	    build_head(&h, c->notify, c->deny_unix, e) < 0)
		return -1;
	if (h.n + main_n > BPF_MAXINSNS)
		return sh_fail(e, SH_EXIT_SETUP, E2BIG, "seccomp: the filter is too long");
	struct sock_filter *f = malloc((h.n + main_n) * sizeof(*f));
	if (!f)
		return sh_fail(e, SH_EXIT_SETUP, ENOMEM, "seccomp: cannot build the filter");
	memcpy(f, h.f, h.n * sizeof(*f));
	memcpy(f + h.n, main_f, main_n * sizeof(*f));
	*out = f;
	*len = h.n + main_n;
	return 0;
}

/* seccomp(2) with the flags this kernel knows: TSYNC (and TSYNC_ESRCH, 5.7),
 * plus the listener when notifying (WAIT_KILLABLE_RECV, 5.19).  Before 5.7
 * TSYNC and NEW_LISTENER exclude each other; a notifying caller is the
 * freshly forked, single-threaded command, so TSYNC goes.  -errno, or the
 * listener (notify) / 0. */
static long load(const struct sock_fprog *prog, bool notify)
{
	unsigned long tsync = SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_TSYNC_ESRCH;
	unsigned long listen = notify ? SECCOMP_FILTER_FLAG_NEW_LISTENER |
					       SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV : 0;
	long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, tsync | listen, prog);
	if (r < 0 && errno == EINVAL && notify) { /* before 5.19 */
		listen = SECCOMP_FILTER_FLAG_NEW_LISTENER;
		r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, tsync | listen, prog);
	}
	if (r < 0 && errno == EINVAL) { /* before 5.7 */
		tsync = notify ? 0 : SECCOMP_FILTER_FLAG_TSYNC;
		r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, tsync | listen, prog);
		if (r > 0 && !notify)
			return -ESRCH; /* TSYNC failed: r is the offending thread */
	}
	return r < 0 ? -errno : r;
}

int sh_seccomp_apply(const struct sh_seccomp_config *c, int *listener, struct sh_err *e)
{
	struct sock_filter *f = NULL;
	size_t n = 0;

	*listener = -1;
	if (sh_seccomp_program(c, &f, &n, e) < 0)
		return -1;
	struct sock_fprog prog = { .len = (unsigned short)n, .filter = f };
	long r = load(&prog, c->notify);
	free(f);
	if (r < 0) {
		sh_fail(e, SH_EXIT_SETUP, (int)-r, "cannot load the seccomp filter");
		if (r == -EACCES && prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
			return sh_hint(e, "internal ordering bug: PR_SET_NO_NEW_PRIVS must be set "
					  "before sh_seccomp_apply() (or CAP_SYS_ADMIN held)");
		if (r == -ESRCH)
			return sh_hint(e, "another thread has an incompatible seccomp filter "
					  "(TSYNC failed)");
		if (r == -EINVAL || r == -ENOSYS)
			return sh_hint(e, "the kernel lacks seccomp filters (CONFIG_SECCOMP_FILTER)");
		return -1;
	}
	if (c->notify)
		*listener = (int)r;
	return 0;
}

int sh_seccomp_export_pfc(const struct sh_seccomp_config *c, int fd, struct sh_err *e)
{
	const struct sock_filter *f = NULL;
	const char *pfc = NULL;
	size_t n = 0;
	if (sh_seccomp_main_program(c->net, &f, &n, &pfc, e) < 0)
		return -1;
	if (dprintf(fd, "# native arch, before the filter below:\n"
#ifdef SH_LAST_REVIEWED_NR
		       "#   syscall > %d -> ERRNO(ENOSYS)\n"
		       "#   personality: a0 not in {0, 0xffffffff, 0xffffffffffffffff} -> ERRNO(EPERM)\n"
#endif
		       "%s",
#ifdef SH_LAST_REVIEWED_NR
		    SH_LAST_REVIEWED_NR,
#endif
		    c->notify ? "#   calls that create names -> USER_NOTIF (the creation supervisor)\n"
			      : "") < 0 ||
	    (c->deny_unix && dprintf(fd, "#   socket(AF_UNIX), socketpair(AF_UNIX, SOCK_DGRAM) -> "
				     "ERRNO(EPERM) (fallback mode)\n") < 0) ||
	    sh_write_all(fd, pfc, strlen(pfc)) < 0)
		return sh_fail(e, SH_EXIT_SETUP, errno, "cannot export the seccomp filter");
	return 0;
}
#endif /* !SH_SECCOMP_GENERATOR */
