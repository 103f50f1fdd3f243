import t from "tap";
import { existsSync, readFileSync, readlinkSync } from "node:fs";
import { createServer } from "node:net";
import { homedir } from "node:os";
import path from "node:path";
import request from "supertest";
import { buildApp, root } from "../helpers/app.js";
import { checkConfinement, NO_EXEC_SHIM, seccompFilterCount, spawnConfined } from "../../src/sandbox/confinement.js";
import type { ProbeAttempt } from "../../src/sandbox/probe.js";
import { SandboxPool, workerExecArgv, type PoolOptions } from "../../src/sandbox/pool.js";

// Issue 18, the second wall: every grading worker runs under bubblewrap (namespaces, a read-only view of only
// what it needs), a seccomp filter and rlimits. Tested from inside a worker, as an attacker who escaped V8 would
// act (the test-only probe), and from outside, through the worker's /proc.

const silent = { debug() {}, info() {}, warn() {}, error() {} };
const workerScript = path.join(root, "dist", "src", "sandbox", "worker.js");

function pool(options: Partial<PoolOptions> = {}): SandboxPool {
  return new SandboxPool({ size: 1, maxGradings: 50, rssMb: 512, spawnTimeoutMs: 20_000, killGraceMs: 300, queueLength: 10, resultMaxDepth: 32, logger: silent, ...options });
}

function status(pid: number, field: string): string | undefined {
  return new RegExp(`^${field}:\\s*(.*)$`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]?.trim();
}

/** Starts the real worker, confined as the pool does, with the probe enabled; resolves with its attempts. */
async function probeFromInside(request: { port: number; secrets: string[]; readOnly: string[] }): Promise<ProbeAttempt[]> {
  const check = checkConfinement();
  if ("error" in check) throw new Error(check.error);
  const { child } = spawnConfined(["--no-node-snapshot", "--jitless", workerScript, "--probes"], check.tools);
  try {
    return await new Promise<ProbeAttempt[]>((resolve, reject) => {
      child.on("exit", (code, signal) => reject(new Error(`the probe worker exited (${signal ?? code})`)));
      child.on("message", (message: { type: string; attempts?: ProbeAttempt[] }) => {
        if (message.type === "ready") child.send({ type: "probe", parentPid: process.pid, ...request });
        if (message.type === "probe-result" && message.attempts !== undefined) resolve(message.attempts);
      });
    });
  } finally {
    child.kill("SIGKILL");
  }
}

t.test("from inside a worker: no name resolution, no connection, no secret file, no other process, no new program, no write outside a small tmpfs", async (t) => {
  const listener = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
  t.teardown(() => listener.close());
  const port = (listener.address() as { port: number }).port;
  const secrets = [
    path.join(root, "graders"),
    path.join(root, "graders", "gradient-checking", "cases", "backward-fraction.json"),
    path.join(root, "test"),
    path.join(root, "src"),
    homedir(),
  ];
  // Each is there for the service: the probe's failure to read it is the wall's doing.
  for (const secret of secrets) t.ok(existsSync(secret), `${secret} exists on the host`);
  const readOnly = [path.join(root, "dist", "src"), root];

  const attempts = await probeFromInside({ port, secrets, readOnly });
  const allowed = attempts.filter((a) => a.attempt.endsWith("(allowed)"));
  t.equal(allowed.length, 1);
  t.same(allowed.map((a) => a.stopped), [false], "the worker can write a small file to its tmpfs");
  for (const a of attempts.filter((x) => !x.attempt.endsWith("(allowed)"))) {
    t.ok(a.stopped, `it cannot ${a.attempt}${a.stopped ? ` (${a.by})` : ""}`);
  }
  const by = Object.fromEntries(attempts.map((a) => [a.attempt, a.by]));
  t.equal(by[`connect to 127.0.0.1:${port}`], "EPERM", "sockets are denied by the seccomp filter");
  t.equal(by["start a program"], "EPERM", "fork is denied by the seccomp filter");
  // execve itself (the worker replacing itself by another program) cannot be attempted from JavaScript on
  // Node 20 (no process.execve; child_process forks first): the probe tries it only where Node offers it, and
  // the second filter is checked from outside below and in confinement-no-exec.test.ts.
  const execve = by["replace itself by another program (execve)"];
  if (execve !== undefined) t.equal(execve, "EPERM", "execve is denied by the worker's own second filter");
  t.equal(by["read /etc/shadow"], "ENOENT", "/etc is not in its view");
  t.equal(by[`read ${path.join(root, "graders")}`], "ENOENT", "graders/ is not in its view");
  t.equal(by["write to /"], "EROFS", "its root is read-only");
  t.equal(by["write a file larger than the limit to /tmp"], "EFBIG", "RLIMIT_FSIZE caps a file");
});

t.test("from outside: a worker runs under two seccomp filters (bubblewrap's and its own, against execve) with no-new-privileges and no capabilities, in its own network, mount and PID namespaces, with rlimits", async (t) => {
  const p = pool();
  t.teardown(() => p.close());
  await p.ready();
  const [pid] = p.workerPids();
  t.ok(pid !== undefined && pid > 0 && pid !== process.pid, `the worker's host pid is known (${pid})`);
  if (pid === undefined) return;
  t.equal(status(pid, "Name"), "node", "the pid is the worker's node, not bubblewrap's");
  t.equal(status(pid, "Seccomp"), "2", "Seccomp: 2 (filter mode)");
  t.equal(status(pid, "NoNewPrivs"), "1", "NoNewPrivs: 1");
  // Two filters: bubblewrap's, and the one the worker installs before node's main (native/no-exec.c) to forbid
  // execve. Counted over this process's own (a host's filter would be inherited by both); kernels >= 5.9 show it.
  const own = seccompFilterCount(readFileSync("/proc/self/status", "utf8"));
  const filters = seccompFilterCount(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (own !== null) t.equal(filters, own + 2, `Seccomp_filters: ${filters} (this process: ${own}): bubblewrap's and the worker's own`);
  t.match(readFileSync(`/proc/${pid}/maps`, "utf8"), /\/gradebox\/no-exec\.so/, `the worker has loaded the shim (${NO_EXEC_SHIM})`);
  t.equal(status(pid, "CapEff"), "0000000000000000", "no effective capability");
  t.equal(status(pid, "CapBnd"), "0000000000000000", "an empty bounding set");
  for (const ns of ["net", "mnt", "pid", "user", "ipc", "uts"]) {
    t.not(readlinkSync(`/proc/${pid}/ns/${ns}`), readlinkSync(`/proc/self/ns/${ns}`), `its ${ns} namespace differs from the service's`);
  }
  const limits = readFileSync(`/proc/${pid}/limits`, "utf8");
  t.match(limits, /Max processes\s+4096\s+4096/, "at most 4096 processes and threads");
  t.match(limits, /Max file size\s+1048576\s+1048576/, "no file over 1 MiB");
  t.match(limits, /Max core file size\s+0\s+0/, "no core dump");
  const state = p.confinementState();
  t.equal(state.inForce, "bubblewrap+seccomp");
  t.match(state.cgroup, /not applied/, "the report says cgroup limits are not applied");
});

t.test("CONFINEMENT=off runs workers unconfined, with a loud warning", async (t) => {
  const warnings: string[] = [];
  const p = pool({ confinement: "off", logger: { ...silent, warn: (_obj: unknown, message?: string) => void warnings.push(String(message)) } });
  t.teardown(() => p.close());
  await p.ready();
  t.match(warnings.join("\n"), /CONFINEMENT=off: grading workers run without the second wall/);
  const [pid] = p.workerPids();
  if (pid === undefined) return t.fail("no worker");
  t.equal(readlinkSync(`/proc/${pid}/ns/net`), readlinkSync("/proc/self/ns/net"), "the worker shares the service's network");
  t.notMatch(readFileSync(`/proc/${pid}/maps`, "utf8"), /no-exec\.so/, "and does not preload the no-exec shim");
  t.equal(p.confinementState().execve, "allowed");
  t.equal(p.confinementState().inForce, "none");
});

t.test("without bubblewrap, or when it cannot confine, the check says why", async (t) => {
  const missing = checkConfinement({ bwrap: "/nonexistent/bwrap" });
  t.ok("error" in missing, "a missing bwrap fails the check");
  const failing = checkConfinement({ bwrap: "/bin/false" });
  t.match("error" in failing ? failing.error : "", /^a confined test worker failed \(/, "a bwrap that cannot start the worker fails it");
});

t.test("GET /health reports the confinement in force and whether workers run with the JIT", async (t) => {
  const app = await buildApp();
  t.teardown(() => app.close());
  const response = await request(app.server).get("/health");
  t.equal(response.status, 200);
  const { confinement } = response.body as { confinement: Record<string, unknown> };
  t.equal(confinement.mode, "required");
  t.equal(confinement.inForce, "bubblewrap+seccomp");
  t.same(confinement.namespaces, ["user", "mount", "pid", "ipc", "uts", "cgroup", "net"]);
  t.equal(confinement.seccomp, true);
  t.equal(confinement.execve, "denied", "execve is denied by the second filter");
  t.match(confinement.execveReason, /second seccomp filter/);
  t.same(confinement.rlimits, { processes: 4096, fileSizeBytes: 1048576, core: 0 });
  t.match(confinement.cgroup, /not applied/);
  t.equal(confinement.jit, false, "workers run --jitless (WORKER_JIT=off, the default)");
});

t.test("WORKER_JIT=on turns V8's JIT on in workers, with WebAssembly still off; off runs them --jitless", async (t) => {
  t.same(workerExecArgv("on"), ["--no-node-snapshot", "--no-expose-wasm"]);
  t.same(workerExecArgv("off"), ["--no-node-snapshot", "--jitless"]);
});
