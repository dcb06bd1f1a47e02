/* deny-userns: run a command the way a restrictive container would, so the
 * fallback path of safehouse can be tested on a host that has everything.
 *
 *   deny-userns [--no-landlock] [--] CMD [ARGS...]
 *
 * Installs a seccomp filter (raw BPF, inherited by CMD and everything it
 * starts) that makes
 *   clone3                         fail with ENOSYS (as Docker's default
 *                                  profile does: glibc then falls back to clone)
 *   clone / unshare with CLONE_NEWUSER   fail with EPERM
 *   setns                          fail with EPERM
 * and, with --no-landlock, landlock_create_ruleset / add_rule / restrict_self
 * fail with ENOSYS (a kernel without Landlock).  Sets no_new_privs (needed
 * to load a filter without CAP_SYS_ADMIN), then execs CMD.  Exit 125 when the
 * filter cannot be installed, 127 when CMD cannot be run. */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__)
#define ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define ARCH AUDIT_ARCH_AARCH64
#elif defined(__riscv) && __riscv_xlen == 64
#define ARCH AUDIT_ARCH_RISCV64
#else
#error "deny-userns: unsupported architecture"
#endif
#ifndef SYS_clone3
#define SYS_clone3 435
#endif
#define NR_LANDLOCK_CREATE_RULESET 444
#define NR_LANDLOCK_ADD_RULE 445
#define NR_LANDLOCK_RESTRICT_SELF 446

#define LD(off) BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (off))
#define JEQ(k, t, f) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (k), (t), (f))
#define RET(v) BPF_STMT(BPF_RET | BPF_K, (v))

int main(int argc, char **argv)
{
	int no_landlock = 0, i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--no-landlock"))
			no_landlock = 1;
		else if (!strcmp(argv[i], "--")) {
			i++;
			break;
		} else {
			fprintf(stderr, "deny-userns: unknown option %s\n", argv[i]);
			return 2;
		}
	}
	if (i >= argc) {
		fprintf(stderr, "usage: deny-userns [--no-landlock] [--] CMD [ARGS...]\n");
		return 2;
	}

	/* Offsets into struct seccomp_data; args[0] low 32 bits (little endian
	 * on every architecture above). */
	const unsigned nr = offsetof(struct seccomp_data, nr);
	const unsigned arch = offsetof(struct seccomp_data, arch);
	const unsigned arg0 = offsetof(struct seccomp_data, args[0]);
	const unsigned none = 0xffffffffu; /* no such syscall number */
	struct sock_filter prog[] = {
		/* 0 */ LD(arch),
		/* 1 */ JEQ(ARCH, 0, 11),                 /* another ABI: 13, allow */
		/* 2 */ LD(nr),
		/* 3 */ JEQ(SYS_clone3, 11, 0),           /* 15: ENOSYS */
		/* 4 */ JEQ(SYS_unshare, 6, 0),           /* 11: look at the flags */
		/* 5 */ JEQ(SYS_clone, 5, 0),             /* 11 */
		/* 6 */ JEQ(SYS_setns, 7, 0),             /* 14: EPERM */
		/* 7 */ JEQ(no_landlock ? NR_LANDLOCK_CREATE_RULESET : none, 7, 0), /* 15 */
		/* 8 */ JEQ(no_landlock ? NR_LANDLOCK_ADD_RULE : none, 6, 0),
		/* 9 */ JEQ(no_landlock ? NR_LANDLOCK_RESTRICT_SELF : none, 5, 0),
		/* 10 */ RET(SECCOMP_RET_ALLOW),
		/* 11 */ LD(arg0),                        /* clone flags / unshare flags */
		/* 12 */ BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, CLONE_NEWUSER, 1, 0), /* 14 */
		/* 13 */ RET(SECCOMP_RET_ALLOW),
		/* 14 */ RET(SECCOMP_RET_ERRNO | EPERM),
		/* 15 */ RET(SECCOMP_RET_ERRNO | ENOSYS),
	};
	struct sock_fprog fp = { .len = sizeof(prog) / sizeof(prog[0]), .filter = prog };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		perror("deny-userns: no_new_privs");
		return 125;
	}
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fp) < 0 &&
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fp) < 0) {
		perror("deny-userns: seccomp");
		return 125;
	}
	execvp(argv[i], argv + i);
	fprintf(stderr, "deny-userns: %s: %s\n", argv[i], strerror(errno));
	return 127;
}
