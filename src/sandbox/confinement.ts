import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { accessSync, constants, existsSync, lstatSync, readdirSync, readFileSync, realpathSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { constants as osConstants } from "node:os";
import path from "node:path";
import { packageRoot } from "../paths.js";
import { cgroupNote } from "./cgroup.js";
import { seccompArch, seccompProgram } from "./seccomp.js";

/**
 * The second wall: the OS confinement of a grading worker, around the isolate (the first wall).
 * A worker runs under bubblewrap (Debian's `bubblewrap`), itself started by `prlimit` (util-linux), in:
 * - new user, mount, PID, IPC, UTS, cgroup and network namespaces: no network at all, no other process
 *   visible (the worker is PID 2 of its own namespace, under bubblewrap's init), uid 65534 inside, every capability dropped,
 *   no-new-privileges, no further user namespace (`--disable-userns`), its own session (no TIOCSTI);
 * - a read-only filesystem holding only the node binary and the shared libraries it maps, the
 *   project's package.json (for ESM), dist/src, node_modules/isolated-vm and node_modules/re2js — no graders/, no data
 *   folder, no home, no /etc — plus its own /proc and a minimal /dev, and a small tmpfs on /tmp;
 * - the seccomp filter of seccomp.ts, and a second one that the worker installs itself at start, before node's
 *   main, to forbid execve (native/no-exec.c, preloaded: bubblewrap's filter must allow the execve of node);
 * - rlimits: a cap on processes/threads, on the size of a written file, and no core dumps.
 * It dies with the service (`--die-with-parent`). The IPC channel is the inherited fd 3.
 */

export type ConfinementMode = "required" | "off";

/** What /health reports. */
export interface ConfinementState {
  mode: ConfinementMode;
  /** "bubblewrap+seccomp" when in force, "none" when off. */
  inForce: "bubblewrap+seccomp" | "none";
  namespaces: string[];
  seccomp: boolean;
  /**
   * "denied" when the second filter (native/no-exec.c) is in force in every worker; "allowed" when it is not
   * (CONFINEMENT=off, or no C compiler at build time): execveReason says why.
   */
  execve: "denied" | "allowed";
  execveReason: string;
  rlimits: { processes: number; fileSizeBytes: number; core: number } | null;
  /** cgroup v2 memory and CPU limits are not applied; why. */
  cgroup: string;
  /** Why confinement is off (CONFINEMENT=off), if it is. */
  warning?: string;
}

export class ConfinementError extends Error {
  override name = "ConfinementError";
}

/**
 * RLIMIT_NPROC. A worker has a dozen threads, and cannot fork (seccomp), so this only bounds a thread bomb.
 * It is not lower because the kernel also checks it, at the level of the user namespace bubblewrap was
 * started from, against every process and thread of the service's user (the service and all its workers:
 * in Docker, uid 10001), so it must leave room for WORKERS (up to 64) workers.
 */
export const RLIMIT_PROCESSES = 4096;
/** The worker writes no files; /tmp is a tmpfs of this size, and no file may be larger. */
export const TMPFS_BYTES = 1024 * 1024;
const NAMESPACES = ["user", "mount", "pid", "ipc", "uts", "cgroup", "net"];
/** The uid and gid of the worker inside its user namespace ("nobody"). */
const SANDBOX_ID = "65534";
/**
 * fds of the spawned command: bubblewrap reads the seccomp program from stdin (so that the start-up
 * check can feed it with spawnSync too), 3 is node's IPC channel, and bubblewrap reports the worker's
 * host pid on 4.
 */
const SECCOMP_FD = 0;
const INFO_FD = 4;
const CHECK_TIMEOUT_MS = 20_000;

/** The second seccomp filter, built by `npm run build` (scripts/build-native.mjs) when a C compiler is there. */
export const NO_EXEC_SHIM = path.join(packageRoot, "dist", "native", "no-exec.so");
/**
 * Where the worker sees it, and what its LD_PRELOAD names: a fixed path, because LD_PRELOAD splits on spaces
 * and colons, which the project's own path may hold.
 */
const SHIM_IN_SANDBOX = "/gradebox/no-exec.so";

/** Whether execve is forbidden in confined workers, and by what or why not. */
export type ExecveState = Pick<ConfinementState, "execve" | "execveReason">;

const EXECVE_DENIED: ExecveState = {
  execve: "denied",
  execveReason: "a second seccomp filter, installed by each worker before node's main (native/no-exec.c), answers EPERM to execve and execveat",
};
const EXECVE_NOT_BUILT: ExecveState = {
  execve: "allowed",
  execveReason: "dist/native/no-exec.so was not built (no C compiler at npm run build: apt-get install gcc libc6-dev, then build again), "
    + "so workers run with bubblewrap's seccomp filter only, which must allow the execve that starts node; "
    + "they still cannot fork, and could only run node or a file they wrote to their 1 MiB /tmp",
};

/** The shim to preload in confined workers: the built one, if any, unless a test names another (null: none). */
function shimOnHost(shim: string | null | undefined): string | undefined {
  if (shim === null) return undefined;
  if (shim !== undefined) return shim;
  return existsSync(NO_EXEC_SHIM) ? NO_EXEC_SHIM : undefined;
}

const FIX = "Install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap) and allow unprivileged user namespaces "
  + "(in Docker: --security-opt seccomp=unconfined --security-opt apparmor=unconfined, see the README's Security model), "
  + "or set CONFINEMENT=off to run without the second wall (not for untrusted submissions).";

function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin").split(":")) {
    const candidate = path.join(dir || ".", name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** The ELF interpreter (e.g. /lib64/ld-linux-x86-64.so.2) of a binary: the loader must be at that path. */
export function elfInterpreter(file: string): string | undefined {
  const elf = readFileSync(file);
  if (elf.readUInt32BE(0) !== 0x7f454c46 || elf[4] !== 2) return undefined; // ELF, 64-bit
  const phoff = Number(elf.readBigUInt64LE(32));
  const phentsize = elf.readUInt16LE(54);
  const phnum = elf.readUInt16LE(56);
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    if (elf.readUInt32LE(at) !== 3) continue; // PT_INTERP
    const offset = Number(elf.readBigUInt64LE(at + 8));
    const size = Number(elf.readBigUInt64LE(at + 32));
    return elf.subarray(offset, offset + size).toString("latin1").replace(/\0.*$/s, "");
  }
  return undefined;
}

/**
 * The shared libraries node needs: those this (same) node process has mapped, each at its real path
 * and at every symlink to it in its folder (the loader looks them up by soname, e.g. libstdc++.so.6).
 */
function sharedLibraryBinds(): Array<[string, string]> {
  const mapped = new Set<string>();
  for (const line of readFileSync("/proc/self/maps", "utf8").split("\n")) {
    const file = line.split(/\s+/)[5];
    // Only system libraries: native addons (.node) that the service itself loads are not the worker's.
    if (file !== undefined && /\.so(\.\d+)*$/.test(file)) mapped.add(file);
  }
  const binds: Array<[string, string]> = [];
  const folders = new Map<string, string[]>();
  for (const lib of mapped) {
    binds.push([lib, lib]);
    const folder = path.dirname(lib);
    if (!folders.has(folder)) folders.set(folder, readdirSync(folder));
    for (const entry of folders.get(folder) ?? []) {
      const alias = path.join(folder, entry);
      try {
        if (alias !== lib && lstatSync(alias).isSymbolicLink() && realpathSync(alias) === lib) binds.push([lib, alias]);
      } catch {
        // a dangling link: not needed
      }
    }
  }
  return binds;
}

/** The folder of the isolated-vm package, resolved as the worker will resolve it. */
function isolatedVmFolder(): string {
  const require = createRequire(import.meta.url);
  return path.dirname(require.resolve("isolated-vm/package.json"));
}

/**
 * The folder of the re2js package (the worker runs a case's output pattern with it), resolved as the
 * worker will resolve it: its entry point is build/index.*, and its exports do not list package.json.
 */
function re2jsFolder(): string {
  const require = createRequire(import.meta.url);
  return path.dirname(path.dirname(require.resolve("re2js")));
}

const argsCache = new Map<boolean, string[]>();

export interface BubblewrapOptions {
  infoFd?: boolean;
  /** The no-exec shim to preload, for tests: by default the built one if there is one; null: none. */
  shim?: string | null;
}

/** bubblewrap's arguments (without the command): what the worker can see and do. Computed once per process. */
export function bubblewrapArgs(options: BubblewrapOptions = {}): string[] {
  const infoFd = options.infoFd !== false;
  if (options.shim !== undefined) return computeBubblewrapArgs(infoFd, shimOnHost(options.shim));
  const cached = argsCache.get(infoFd);
  if (cached !== undefined) return cached;
  const args = computeBubblewrapArgs(infoFd, shimOnHost(undefined));
  argsCache.set(infoFd, args);
  return args;
}

function computeBubblewrapArgs(infoFd: boolean, shim: string | undefined): string[] {
  const node = realpathSync(process.execPath);
  const args = [
    "--unshare-all", "--unshare-user", "--uid", SANDBOX_ID, "--gid", SANDBOX_ID, "--disable-userns",
    // Not --as-pid-1: signals a process sends itself are ignored by a PID 1, so V8's abort() on an
    // out-of-memory crash would end in SIGSEGV (or not end) instead of SIGABRT. bubblewrap's own small
    // init is PID 1, the worker PID 2.
    "--die-with-parent", "--new-session", "--cap-drop", "ALL",
    "--hostname", "gradebox-worker",
    // The worker gets no environment, but a test runner (tap's processinfo) injects NODE_OPTIONS into
    // every child's, with --import of files outside the worker's view.
    "--unsetenv", "NODE_OPTIONS",
    ...(infoFd ? ["--info-fd", String(INFO_FD)] : []), "--seccomp", String(SECCOMP_FD),
    // The tmpfs first: the binds below may lie under /tmp (a checkout there) and must stay on top of it.
    "--size", String(TMPFS_BYTES), "--tmpfs", "/tmp",
    "--proc", "/proc", "--dev", "/dev",
  ];
  const bind = (from: string, to = from): void => {
    args.push("--ro-bind", from, to);
  };
  bind(node);
  if (process.execPath !== node) bind(node, process.execPath);
  const interpreter = elfInterpreter(node);
  if (interpreter !== undefined) bind(realpathSync(interpreter), interpreter);
  for (const [from, to] of sharedLibraryBinds()) bind(from, to);
  bind(path.join(packageRoot, "package.json"));
  bind(path.join(packageRoot, "dist", "src"));
  const ivm = isolatedVmFolder();
  bind(realpathSync(ivm), ivm);
  const re2js = re2jsFolder();
  bind(realpathSync(re2js), re2js);
  // The second filter: the dynamic loader runs the shim's constructor in node, after bubblewrap's execve of it
  // and before node's main. Only the worker's environment gets LD_PRELOAD, not bubblewrap's or prlimit's.
  if (shim !== undefined) {
    bind(shim, SHIM_IN_SANDBOX);
    args.push("--setenv", "LD_PRELOAD", SHIM_IN_SANDBOX);
  }
  args.push("--chdir", "/", "--remount-ro", "/");
  return args;
}

export interface ConfinedCommand {
  command: string;
  args: string[];
}

/** `prlimit … -- bwrap … -- node <nodeArgs>`: the command line of a confined node. */
export function confinedCommand(nodeArgs: string[], tools: { bwrap: string; prlimit: string }, options: BubblewrapOptions = {}): ConfinedCommand {
  return {
    command: tools.prlimit,
    args: [
      `--nproc=${RLIMIT_PROCESSES}`, `--fsize=${TMPFS_BYTES}`, "--core=0", "--",
      tools.bwrap, ...bubblewrapArgs(options), "--", process.execPath, ...nodeArgs,
    ],
  };
}

export interface ConfinedChild {
  child: ChildProcess;
  /** The worker's pid on the host, for reading its /proc (under bubblewrap, child.pid is bubblewrap's). */
  hostPid: () => Promise<number | undefined>;
}

/** Starts `node <nodeArgs>` confined, with an IPC channel, stderr piped and no environment. */
export function spawnConfined(nodeArgs: string[], tools: { bwrap: string; prlimit: string }, arch = seccompArch()): ConfinedChild {
  if (arch === undefined) throw new ConfinementError(`no seccomp filter for this architecture (${process.arch})`);
  const { command, args } = confinedCommand(nodeArgs, tools);
  const child = spawn(command, args, { stdio: ["pipe", "ignore", "pipe", "ipc", "pipe"], env: {}, serialization: "json" });
  const seccompInput = child.stdio[SECCOMP_FD] as NodeJS.WritableStream | null;
  seccompInput?.on("error", () => undefined); // bubblewrap failed before reading it: the exit says why
  seccompInput?.end(seccompProgram(arch));
  const info = child.stdio[INFO_FD] as NodeJS.ReadableStream | null;
  const initPid = new Promise<number | undefined>((resolve) => {
    if (info === null) return resolve(undefined);
    let text = "";
    info.setEncoding("utf8");
    info.on("data", (chunk: string) => {
      text += chunk;
    });
    info.on("error", () => resolve(undefined));
    info.on("end", () => {
      const pid = Number(/"child-pid":\s*(\d+)/.exec(text)?.[1]);
      resolve(Number.isInteger(pid) && pid > 0 ? pid : undefined);
    });
  });
  return { child, hostPid: () => initPid.then((pid) => (pid === undefined ? undefined : onlyChildOf(pid))) };
}

/**
 * The host pid of the one child of bubblewrap's init (its PID 1): the worker. Read from /proc, not asked of
 * the worker, which could lie. Call it once the worker has started (its first message).
 */
async function onlyChildOf(parent: number): Promise<number | undefined> {
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, "utf8");
      // Field 4, ppid, follows the command name in parentheses (which may itself hold spaces or parentheses).
      if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === parent) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

/**
 * bubblewrap exits with 128 + n when the worker died of signal n: the signal, as a plain fork would report it.
 */
export function exitOfConfined(code: number | null, signal: NodeJS.Signals | null): { code: number | null; signal: NodeJS.Signals | null } {
  if (signal !== null || code === null || code <= 128) return { code, signal };
  const name = Object.entries(osConstants.signals).find(([, n]) => n === code - 128)?.[0] as NodeJS.Signals | undefined;
  return name === undefined ? { code, signal } : { code: null, signal: name };
}

export type CheckResult = { tools: { bwrap: string; prlimit: string }; execve: ExecveState } | { error: string };

let checked: CheckResult | undefined;

/**
 * Whether this machine can confine a worker: the tools are there, and a confined node actually starts,
 * loads isolated-vm, finds itself under seccomp and, when the shim is built, under its second filter too.
 * Run once per process (a confined start costs ~0.2 s).
 */
export function checkConfinement(options: { bwrap?: string; prlimit?: string; shim?: string | null } = {}): CheckResult {
  const useCache = options.bwrap === undefined && options.prlimit === undefined && options.shim === undefined;
  if (useCache && checked !== undefined) return checked;
  const result = runCheck(options);
  if (useCache) checked = result;
  return result;
}

/** Seccomp_filters in a /proc/<pid>/status: how many filters the process is under (null: kernel < 5.9 shows none). */
export function seccompFilterCount(status: string): number | null {
  const count = /^Seccomp_filters:\s*(\d+)$/m.exec(status)?.[1];
  return count === undefined ? null : Number(count);
}

/** What the confined test node reports about itself. */
interface Seen { confined: boolean; filters: number | null; shim: boolean }

function runCheck(options: { bwrap?: string; prlimit?: string; shim?: string | null }): CheckResult {
  if (process.platform !== "linux") return { error: `bubblewrap needs Linux (this is ${process.platform})` };
  const arch = seccompArch();
  if (arch === undefined) return { error: `no seccomp filter for this architecture (${process.arch})` };
  const bwrap = options.bwrap ?? findOnPath("bwrap");
  if (bwrap === undefined) return { error: "bubblewrap (bwrap) is not installed" };
  const prlimit = options.prlimit ?? findOnPath("prlimit");
  if (prlimit === undefined) return { error: "prlimit (util-linux) is not installed" };
  const tools = { bwrap, prlimit };
  const shim = shimOnHost(options.shim);
  const probe = "const fs=require('fs');const s=fs.readFileSync('/proc/self/status','utf8');"
    + `require(${JSON.stringify(isolatedVmFolder())});`
    + "const n=/^Seccomp_filters:\\s*(\\d+)$/m.exec(s);"
    + "process.stdout.write(JSON.stringify({confined:/^Seccomp:\\s*2$/m.test(s)&&/^NoNewPrivs:\\s*1$/m.test(s),filters:n?Number(n[1]):null,"
    + `shim:fs.readFileSync('/proc/self/maps','utf8').includes(${JSON.stringify(SHIM_IN_SANDBOX)})}))`;
  let command: ConfinedCommand;
  try {
    command = confinedCommand(["--no-node-snapshot", "-e", probe], tools, { infoFd: false, shim: shim ?? null });
  } catch (error) {
    return { error: `cannot describe the worker's filesystem: ${(error as Error).message}` };
  }
  const result = spawnSync(command.command, command.args, {
    input: seccompProgram(arch),
    stdio: ["pipe", "pipe", "pipe"],
    env: {},
    timeout: CHECK_TIMEOUT_MS,
    encoding: "utf8",
  });
  const said = `${result.stderr ?? ""}`.trim().split("\n").slice(-12).join(" ").slice(0, 1500);
  let seen: Seen | undefined;
  try {
    seen = JSON.parse(result.stdout ?? "") as Seen;
  } catch {
    // no report: it failed before writing one
  }
  if (seen?.confined !== true || result.status !== 0) {
    const how = result.error !== undefined ? result.error.message : result.signal !== null ? `signal ${result.signal}` : `exit code ${result.status}`;
    return { error: `a confined test worker failed (${how})${said ? `: ${said}` : ""}${result.stdout ? ` [${result.stdout}]` : ""}` };
  }
  if (shim === undefined) return { tools, execve: EXECVE_NOT_BUILT };
  // The shim aborts the process when it cannot install its filter, so loaded and running means in force; where
  // the kernel counts filters, the count must also be this process's own (a host's filter is inherited) + 2.
  const own = seccompFilterCount(readFileSync("/proc/self/status", "utf8"));
  const expected = own === null ? null : own + 2;
  if (!seen.shim || (expected !== null && seen.filters !== expected)) {
    const what = !seen.shim ? `did not load ${shim}` : `is under ${seen.filters} seccomp filters, not ${expected}`;
    return { error: `the second seccomp filter (no execve) is not in force: a confined test worker ${what}${said ? `: ${said}` : ""}` };
  }
  return { tools, execve: EXECVE_DENIED };
}

/** The state to report when confinement is in force, or off. */
export function confinementState(mode: "off"): ConfinementState;
export function confinementState(mode: "required", execve: ExecveState): ConfinementState;
export function confinementState(mode: ConfinementMode, execve?: ExecveState): ConfinementState {
  if (mode === "off" || execve === undefined) {
    return {
      mode,
      inForce: "none",
      namespaces: [],
      seccomp: false,
      execve: "allowed",
      execveReason: "CONFINEMENT=off: workers run unconfined",
      rlimits: null,
      cgroup: "not applied",
      warning: "CONFINEMENT=off: grading workers run without the second wall; a V8 escape would reach the host as the service's user",
    };
  }
  return {
    mode,
    inForce: "bubblewrap+seccomp",
    namespaces: NAMESPACES,
    seccomp: true,
    ...execve,
    rlimits: { processes: RLIMIT_PROCESSES, fileSizeBytes: TMPFS_BYTES, core: 0 },
    cgroup: cgroupNote(),
  };
}

export const CONFINEMENT_FIX = FIX;
