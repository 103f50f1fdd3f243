/**
 * `npm run bench:jit`: V8's JIT against --jitless in the grading workers, each under the same confinement
 * (CONFINEMENT=required), in one run (issue #18, section 3). For each setting the service is started in its
 * own process (bench/service.ts) with WORKER_JIT=on or off, and measured:
 *   - sandbox only: N gradings of the reference through `grade()` (pool, confined worker, fresh isolate),
 *     one at a time, no HTTP: p50 and p99 wall time;
 *   - end to end: POST /v1/submissions by autocannon at 10 connections for D seconds: gradings/s, p50;
 *   - CPU per grading in both phases: the service, its live workers (read from their own /proc, since under
 *     bubblewrap they are not the service's children) and every reaped descendant (cutime).
 * The two settings alternate for R rounds so that the machine's drift falls on both. Prints a table and
 * writes bench/jit-results.json.
 *
 *   --rounds R      rounds (default 2)        --n N         sandbox-only gradings per phase (default 150)
 *   --duration S    autocannon seconds (default 10)
 */
import autocannon from "autocannon";
import { fork, type ChildProcess } from "node:child_process";
import { readFile } from "node:fs/promises";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { fixed, numberArg, parseArgs, referenceSource, submissionBody, summarize, table, type Summary } from "./lib.js";
import type { SandboxSample, ServiceInfo, ServiceStats } from "./service.js";

const args = parseArgs(process.argv.slice(2));
const rounds = numberArg(args, "rounds", 2);
const n = numberArg(args, "n", 150);
const durationS = numberArg(args, "duration", 10);
const benchDir = path.dirname(fileURLToPath(import.meta.url));
const started = performance.now();
const progress = (text: string): void => {
  process.stderr.write(`[bench:jit ${((performance.now() - started) / 1000).toFixed(1)} s] ${text}\n`);
};

const TICK_MS = 10; // USER_HZ

async function ticks(pid: number, withChildren: boolean): Promise<number> {
  try {
    const text = await readFile(`/proc/${pid}/stat`, "utf8");
    const f = text.slice(text.lastIndexOf(")") + 2).split(" ").map(Number);
    return (f[11] ?? 0) + (f[12] ?? 0) + (withChildren ? (f[13] ?? 0) + (f[14] ?? 0) : 0);
  } catch {
    return 0; // exited: its time is in its parent's cutime once reaped
  }
}

/** CPU of the service, its live workers and its reaped descendants, ms. */
async function serviceCpuMs(service: Service): Promise<number> {
  const stats = await service.ask<ServiceStats>({ cmd: "stats" });
  let total = await ticks(service.child.pid ?? 0, true);
  for (const pid of stats.workerPids) total += await ticks(pid, false);
  return total * TICK_MS;
}

class Service {
  private nextId = 1;
  private readonly pending = new Map<number, (value: unknown) => void>();
  constructor(readonly child: ChildProcess) {
    child.on("message", (m: { id?: number; result?: unknown; error?: string }) => {
      if (m.id === undefined) return;
      const resolve = this.pending.get(m.id);
      this.pending.delete(m.id);
      if (m.error !== undefined) throw new Error(m.error);
      resolve?.(m.result);
    });
  }

  static async start(jit: "on" | "off"): Promise<Service> {
    const child = fork(path.join(benchDir, "service.js"), [], {
      execArgv: ["--no-node-snapshot"],
      env: { ...process.env, CONFINEMENT: "required", WORKER_JIT: jit },
      stdio: ["ignore", "inherit", "inherit", "ipc"],
      serialization: "json",
    });
    await new Promise<void>((resolve, reject) => {
      child.once("message", () => resolve());
      child.once("exit", (code) => reject(new Error(`the service exited (${code}) before it was ready`)));
    });
    child.removeAllListeners("exit");
    return new Service(child);
  }

  ask<T>(request: Record<string, unknown>): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve) => {
      this.pending.set(id, resolve as (value: unknown) => void);
      this.child.send({ ...request, id });
    });
  }

  async close(): Promise<void> {
    await Promise.race([this.ask({ cmd: "close" }), new Promise((r) => setTimeout(r, 10_000))]);
    this.child.kill("SIGKILL");
  }
}

interface Measure {
  jit: "on" | "off";
  round: number;
  workers: number;
  sandbox: { wall: Summary; cpuMsPerGrading: number; allFull: boolean };
  http: { gradingsPerS: number; latencyP50: number; cpuMsPerGrading: number; non2xx: number };
}

async function measure(jit: "on" | "off", round: number): Promise<Measure> {
  progress(`round ${round}, WORKER_JIT=${jit}: starting the service`);
  const service = await Service.start(jit);
  try {
    const info = await service.ask<ServiceInfo>({ cmd: "info" });
    const stats = await service.ask<ServiceStats>({ cmd: "stats" });
    if (stats.jit !== (jit === "on")) throw new Error(`the service's workers do not run with WORKER_JIT=${jit}`);
    progress(`round ${round}, WORKER_JIT=${jit}: ${n} sandbox-only gradings`);
    const cpu0 = await serviceCpuMs(service);
    const samples = await service.ask<SandboxSample[]>({ cmd: "sandbox", n, warmup: 10 });
    const cpu1 = await serviceCpuMs(service);
    progress(`round ${round}, WORKER_JIT=${jit}: 10 connections for ${durationS} s`);
    const body = submissionBody(referenceSource());
    const t0 = performance.now();
    const result = await autocannon({
      url: `http://127.0.0.1:${info.port}/v1/submissions`,
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
      connections: 10,
      duration: durationS,
    });
    const elapsedS = (performance.now() - t0) / 1000;
    const cpu2 = await serviceCpuMs(service);
    const ok = result["2xx"];
    return {
      jit,
      round,
      workers: info.workers,
      sandbox: { wall: summarize(samples.map((s) => s.wallMs)), cpuMsPerGrading: (cpu1 - cpu0) / (n + 10), allFull: samples.every((s) => s.full) },
      http: { gradingsPerS: ok / elapsedS, latencyP50: result.latency.p50, cpuMsPerGrading: ok > 0 ? (cpu2 - cpu1) / ok : NaN, non2xx: result.non2xx },
    };
  } finally {
    await service.close();
  }
}

const measures: Measure[] = [];
for (let round = 1; round <= rounds; round++) {
  // Alternate which goes first, so that neither always runs on a warmer (or busier) machine.
  const order: Array<"on" | "off"> = round % 2 === 1 ? ["off", "on"] : ["on", "off"];
  for (const jit of order) measures.push(await measure(jit, round));
}

const median = (values: number[]): number => summarize(values).p50;
const of = (jit: "on" | "off") => measures.filter((m) => m.jit === jit);
const agg = (jit: "on" | "off") => ({
  sandboxP50: median(of(jit).map((m) => m.sandbox.wall.p50)),
  sandboxCpu: median(of(jit).map((m) => m.sandbox.cpuMsPerGrading)),
  throughput: median(of(jit).map((m) => m.http.gradingsPerS)),
  httpCpu: median(of(jit).map((m) => m.http.cpuMsPerGrading)),
});
const off = agg("off");
const on = agg("on");

const rows = measures.map((m) => [
  m.round, m.jit === "on" ? "JIT" : "--jitless", fixed(m.sandbox.wall.p50), fixed(m.sandbox.wall.p99), fixed(m.sandbox.cpuMsPerGrading),
  fixed(m.http.gradingsPerS), fixed(m.http.latencyP50, 0), fixed(m.http.cpuMsPerGrading), m.sandbox.allFull && m.http.non2xx === 0 ? "yes" : "NO",
]);
const output = [
  `JIT against --jitless, both confined (bubblewrap + seccomp), ${measures[0]?.workers ?? "?"} workers, ${n} sandbox-only gradings and ${durationS} s at 10 connections per phase`,
  "",
  table(["round", "setting", "sandbox p50 ms", "p99 ms", "CPU ms/grading", "gradings/s @10", "HTTP p50 ms", "CPU ms/grading @10", "all full marks"], rows),
  "",
  table(["median over rounds", "--jitless", "JIT", "JIT ÷ --jitless"], [
    ["sandbox-only p50, ms", fixed(off.sandboxP50), fixed(on.sandboxP50), fixed(on.sandboxP50 / off.sandboxP50, 2)],
    ["CPU per grading (sandbox only), ms", fixed(off.sandboxCpu), fixed(on.sandboxCpu), fixed(on.sandboxCpu / off.sandboxCpu, 2)],
    ["throughput at 10 connections, gradings/s", fixed(off.throughput), fixed(on.throughput), fixed(on.throughput / off.throughput, 2)],
    ["CPU per grading (10 connections), ms", fixed(off.httpCpu), fixed(on.httpCpu), fixed(on.httpCpu / off.httpCpu, 2)],
  ]),
].join("\n");
writeFileSync(path.join(benchDir, "..", "..", "bench", "jit-results.json"), `${JSON.stringify({ date: new Date().toISOString(), rounds, n, durationS, measures, median: { off, on } }, null, 2)}\n`);
process.stdout.write(`${output}\n`);
