/*
 * no-exec.so: forbids execve(2) and execveat(2), for good, in the process that loads it.
 *
 * Why: a grading worker is started by bubblewrap, whose seccomp filter (src/sandbox/seccomp.ts) must let
 * through the one execve that starts node, and a filter cannot tell that call from a later one. So the
 * worker installs a second filter itself, just after that execve: bubblewrap sets LD_PRELOAD to this
 * object (src/sandbox/confinement.ts), and the dynamic loader runs its constructor before node's main,
 * so before any JavaScript, any student code, and any thread node starts. Filters stack (the kernel runs
 * every one and the strictest answer wins), cannot be removed, and pass to every thread created later.
 * Why C: Node 20 has no seccomp or prctl API.
 *
 * If the filter cannot be installed, the process stops here with a message on stderr, so that the
 * service's start check fails loudly instead of workers running without it.
 *
 * Built by `npm run build` (scripts/build-native.mjs): cc -O2 -shared -fPIC -o dist/native/no-exec.so native/no-exec.c
 */
#include <errno.h>
#include <stddef.h>         /* offsetof */
#include <stdio.h>          /* fprintf */
#include <stdlib.h>         /* abort */
#include <string.h>         /* strerror */
#include <sys/prctl.h>      /* prctl, PR_SET_NO_NEW_PRIVS */
#include <sys/syscall.h>    /* __NR_execve, __NR_execveat, SYS_seccomp: the numbers of the architecture compiled for */
#include <unistd.h>         /* syscall */
#include <linux/audit.h>    /* AUDIT_ARCH_* */
#include <linux/filter.h>   /* struct sock_filter, struct sock_fprog, BPF_* */
#include <linux/seccomp.h>  /* SECCOMP_*, struct seccomp_data */

/* The syscall numbers above hold for one architecture only: the filter checks it is that one. */
#if defined(__x86_64__)
#define THIS_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define THIS_ARCH AUDIT_ARCH_AARCH64
#else
#error "no-exec.c supports x86-64 and arm64, as src/sandbox/seccomp.ts does"
#endif

__attribute__((constructor)) static void forbid_exec(void) {
  struct sock_filter filter[] = {
    /* A syscall of another architecture (e.g. int 0x80 on x86-64) has other numbers: kill the process. */
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, THIS_ARCH, 1, 0),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
#if defined(__x86_64__)
    /* x32 syscalls share x86-64's arch value but carry this bit (x32's execve is 520 | bit): kill. */
    BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, __X32_SYSCALL_BIT, 0, 1),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
#endif
    /* execve or execveat: fail with EPERM (the caller sees an ordinary error); anything else: this
       filter allows it, and bubblewrap's filter still decides. */
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_execve, 1, 0),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_execveat, 0, 1),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog program = { .len = sizeof filter / sizeof filter[0], .filter = filter };
  /* An unprivileged process may install a filter only under no-new-privileges. bubblewrap has set it
     already; setting it again costs nothing and lets the object work on its own (its test runs /bin/sh). */
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) goto failed;
  /* seccomp(2) rather than prctl(PR_SET_SECCOMP): its TSYNC flag puts the filter on every thread of the
     process, should another constructor have started one, or fails. */
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &program) != 0) goto failed;
  return;
failed:
  /* Never run on without the filter: the worker dies at start, its stderr says why, and the service's
     start check (CONFINEMENT=required) refuses to start. */
  fprintf(stderr, "gradebox no-exec.so: cannot install the seccomp filter that forbids execve: %s\n", strerror(errno));
  abort();
}
