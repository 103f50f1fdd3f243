/**
 * The seccomp filter bubblewrap installs on a grading worker, assembled here as classic BPF.
 *
 * Why assembled in TypeScript rather than produced by libseccomp (python3-seccomp, a build step): the
 * program is a short deny list, the format is a stable kernel ABI (`struct sock_filter`, 8 bytes per
 * instruction), and assembling it here needs no package, no build step and no file to ship or to get
 * out of date; `test/sandbox/seccomp.test.ts` checks every syscall number against the kernel headers
 * when they are installed, and the confinement tests check that the kernel accepts and enforces it.
 *
 * The filter denies (EPERM) what a grading worker never needs: new sockets (its IPC channel is
 * inherited), ptrace and reading other processes' memory, mount and namespace changes, bpf, keyctl,
 * kernel modules, io_uring, perf, clock and host settings, and new processes: `clone` is allowed only
 * with CLONE_THREAD (V8's and libuv's threads) and never with a namespace flag, `fork`/`vfork` are
 * denied and `clone3` answers ENOSYS so that glibc falls back to `clone`, whose flags a classic filter
 * can read (clone3 passes them in memory). A syscall from another ABI (x32 on x86-64, or any foreign
 * architecture) kills the process.
 *
 * `execve` stays allowed here: bubblewrap installs this filter and then executes node, and a filter
 * cannot tell that one call from a later one. The worker closes it itself with a second filter, installed
 * before node's main by a preloaded C shim (native/no-exec.c: Node 20 has no seccomp or prctl API).
 */

export type SeccompArch = "x64" | "arm64";

/** Denied syscalls, by name, with their numbers on each supported architecture (absent: no such call). */
export const DENIED_SYSCALLS: Record<string, { x64?: number; arm64?: number; errno?: number }> = {
  socket: { x64: 41, arm64: 198 },
  socketpair: { x64: 53, arm64: 199 },
  connect: { x64: 42, arm64: 203 },
  accept: { x64: 43, arm64: 202 },
  accept4: { x64: 288, arm64: 242 },
  bind: { x64: 49, arm64: 200 },
  listen: { x64: 50, arm64: 201 },
  ptrace: { x64: 101, arm64: 117 },
  process_vm_readv: { x64: 310, arm64: 270 },
  process_vm_writev: { x64: 311, arm64: 271 },
  pidfd_getfd: { x64: 438, arm64: 438 },
  kcmp: { x64: 312, arm64: 272 },
  mount: { x64: 165, arm64: 40 },
  umount2: { x64: 166, arm64: 39 },
  pivot_root: { x64: 155, arm64: 41 },
  chroot: { x64: 161, arm64: 51 },
  open_tree: { x64: 428, arm64: 428 },
  move_mount: { x64: 429, arm64: 429 },
  fsopen: { x64: 430, arm64: 430 },
  fsconfig: { x64: 431, arm64: 431 },
  fsmount: { x64: 432, arm64: 432 },
  fspick: { x64: 433, arm64: 433 },
  mount_setattr: { x64: 442, arm64: 442 },
  name_to_handle_at: { x64: 303, arm64: 264 },
  open_by_handle_at: { x64: 304, arm64: 265 },
  unshare: { x64: 272, arm64: 97 },
  setns: { x64: 308, arm64: 268 },
  fork: { x64: 57 },
  vfork: { x64: 58 },
  // ENOSYS, not EPERM: glibc then falls back to clone(2), whose flags the filter checks.
  clone3: { x64: 435, arm64: 435, errno: 38 },
  bpf: { x64: 321, arm64: 280 },
  keyctl: { x64: 250, arm64: 219 },
  add_key: { x64: 248, arm64: 217 },
  request_key: { x64: 249, arm64: 218 },
  perf_event_open: { x64: 298, arm64: 241 },
  userfaultfd: { x64: 323, arm64: 282 },
  // ENOSYS: libuv probes io_uring and falls back to its thread pool.
  io_uring_setup: { x64: 425, arm64: 425, errno: 38 },
  io_uring_enter: { x64: 426, arm64: 426, errno: 38 },
  io_uring_register: { x64: 427, arm64: 427, errno: 38 },
  kexec_load: { x64: 246, arm64: 104 },
  kexec_file_load: { x64: 320, arm64: 294 },
  init_module: { x64: 175, arm64: 105 },
  finit_module: { x64: 313, arm64: 273 },
  delete_module: { x64: 176, arm64: 106 },
  lookup_dcookie: { x64: 212, arm64: 18 },
  fanotify_init: { x64: 300, arm64: 262 },
  personality: { x64: 135, arm64: 92 },
  acct: { x64: 163, arm64: 89 },
  swapon: { x64: 167, arm64: 224 },
  swapoff: { x64: 168, arm64: 225 },
  reboot: { x64: 169, arm64: 142 },
  sethostname: { x64: 170, arm64: 161 },
  setdomainname: { x64: 171, arm64: 162 },
  iopl: { x64: 172 },
  ioperm: { x64: 173 },
  uselib: { x64: 134 },
  settimeofday: { x64: 164, arm64: 170 },
  clock_settime: { x64: 227, arm64: 112 },
  clock_adjtime: { x64: 305, arm64: 266 },
  adjtimex: { x64: 159, arm64: 171 },
  quotactl: { x64: 179, arm64: 60 },
  syslog: { x64: 103, arm64: 116 },
  vhangup: { x64: 153, arm64: 58 },
};

const CLONE = { x64: 56, arm64: 220 } as const;
const AUDIT_ARCH = { x64: 0xc000003e, arm64: 0xc00000b7 } as const;
/** x32 syscalls on x86-64 carry this bit in their number. */
const X32_SYSCALL_BIT = 0x40000000;
const CLONE_THREAD = 0x00010000;
/** CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET | NEWTIME. */
const CLONE_NEW_NAMESPACES = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000 | 0x00000080;
const EPERM = 1;

// Classic BPF opcodes (linux/filter.h, linux/seccomp.h).
const LD_W_ABS = 0x20;
const JEQ_K = 0x15;
const JGE_K = 0x35;
const JSET_K = 0x45;
const RET_K = 0x06;
const RET_KILL_PROCESS = 0x80000000;
const RET_ERRNO = 0x00050000;
const RET_ALLOW = 0x7fff0000;
// Offsets in struct seccomp_data: nr, arch, then the arguments (the low 32 bits of arg0 on little-endian).
const DATA_NR = 0;
const DATA_ARCH = 4;
const DATA_ARG0_LOW = 16;

interface Instruction { code: number; jt: number; jf: number; k: number }

const op = (code: number, k: number, jt = 0, jf = 0): Instruction => ({ code, jt, jf, k });

/** The architecture of this process, if the filter supports it. */
export function seccompArch(arch: string = process.arch): SeccompArch | undefined {
  return arch === "x64" || arch === "arm64" ? arch : undefined;
}

/** The filter's instructions; every jump is to the next instruction or the one after. */
export function seccompInstructions(arch: SeccompArch): Instruction[] {
  const program: Instruction[] = [
    op(LD_W_ABS, DATA_ARCH),
    op(JEQ_K, AUDIT_ARCH[arch], 1, 0),
    op(RET_K, RET_KILL_PROCESS),
    op(LD_W_ABS, DATA_NR),
  ];
  if (arch === "x64") program.push(op(JGE_K, X32_SYSCALL_BIT, 0, 1), op(RET_K, RET_KILL_PROCESS));
  for (const numbers of Object.values(DENIED_SYSCALLS)) {
    const nr = numbers[arch];
    if (nr === undefined) continue;
    program.push(op(JEQ_K, nr, 0, 1), op(RET_K, RET_ERRNO | (numbers.errno ?? EPERM)));
  }
  // clone: threads only (CLONE_THREAD set), and no new namespace.
  program.push(
    op(JEQ_K, CLONE[arch], 0, 6),
    op(LD_W_ABS, DATA_ARG0_LOW),
    op(JSET_K, CLONE_NEW_NAMESPACES, 0, 1),
    op(RET_K, RET_ERRNO | EPERM),
    op(JSET_K, CLONE_THREAD, 1, 0),
    op(RET_K, RET_ERRNO | EPERM),
    op(RET_K, RET_ALLOW),
  );
  program.push(op(RET_K, RET_ALLOW));
  return program;
}

/** The filter as the kernel (and bubblewrap's --seccomp) reads it: an array of struct sock_filter. */
export function seccompProgram(arch: SeccompArch): Buffer {
  const instructions = seccompInstructions(arch);
  const buffer = Buffer.alloc(instructions.length * 8);
  instructions.forEach(({ code, jt, jf, k }, i) => {
    buffer.writeUInt16LE(code, i * 8);
    buffer.writeUInt8(jt, i * 8 + 2);
    buffer.writeUInt8(jf, i * 8 + 3);
    buffer.writeUInt32LE(k >>> 0, i * 8 + 4);
  });
  return buffer;
}
