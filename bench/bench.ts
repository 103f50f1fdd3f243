/**
 * `npm run bench`: how close sandboxed grading comes to running the same student code with no sandbox,
 * on this machine, in one run (issue #7). Everything is on 127.0.0.1; every phase is bounded in count
 * and time, and the run stops by itself. It prints a table and writes bench/results.json.
 *
 *   1. Floor: the reference solution's whole grading, in-process, no sandbox, JIT on and warm (floor.ts).
 *   2. Sandbox only: whole gradings through the grading core (`grade()`: pool, worker, fresh isolate,
 *      feedback), no HTTP, one at a time, with the worker's phases.
 *   3. End to end: POST /v1/submissions driven by autocannon at 1, 10 and 50 connections.
 *   4. Under attack: 10 connections, one submission in ten hostile (infinite loops, a memory bomb);
 *      each hostile kind is also sent alone on an idle service, for its time to verdict.
 *   5. Memory: RSS of the service (parent + workers), the parent and each worker at the start, after
 *      1,000 gradings and after 10,000 (the run keeps grading until then, up to a time cap).
 * Then each target of the issue, met or not.
 *
 * Issue #18 (today's service against the new one, in the same run): before the service above, and alternating
 * with it, the service as it was before issue #18 ("today": WORKER_JIT=off, i.e. --jitless workers, and
 * BUDGETS=off, still CONFINEMENT=required) and the service with its current defaults ("new") are each started
 * in turn: today, new, today, …, and the last "new" round is the issue #7 service itself. Each round measures
 * the sandbox-only p50, 10 connections clean, 10 connections under the 10% hostile mix (honest only) and the
 * looping export's time to verdict alone on an idle service. The floor divides both columns.
 *
 *   --quick          a short run (~2 min): fewer gradings, 3 s phases, one round each, memory marks at 200 and 1,000
 *   --duration S     seconds per autocannon phase (default 10, quick 3)
 *   --rounds R       issue #18 rounds per setting (default 2, quick 1)
 *   --memory-cap S   seconds the memory phase may take from its warm-up on (default 150, quick 30): 10,000
 *                    gradings need a longer cap than ~10 minutes of bench allow; the run says how many it reached
 *   --json           print the JSON document instead of the tables (progress goes to stderr either way)
 * Service settings come from the environment as for the server (e.g. WORKERS=3 npm run bench), except
 * LOG_LEVEL (silent), HOST (127.0.0.1) and PORT (ephemeral); the "today" rounds override WORKER_JIT, BUDGETS
 * and CONFINEMENT (TODAY_ENV).
 */
import autocannon from "autocannon";
import { fork, type ChildProcess } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { FloorReply, FloorRequest } from "./floor.js";
import { asExpected, attackKinds, honest, loopInExport, type Kind } from "./hostile.js";
import {
  ASSIGNMENT, cpuMark, cpuUse, describeCpu, fixed, kbToMb, machine, mb, numberArg, parseArgs, procMemory, sleep, type ProcMemory,
  submissionBody, summarize, table, type CpuMark, type CpuUse, type Graded, type Summary,
} from "./lib.js";
import type { SandboxSample, ServiceInfo, ServiceRequest, ServiceSettings, ServiceStats } from "./service.js";
import { renderStoreBench, storeBench, type StoreBenchResult } from "./store.js";
import type { Feedback } from "../src/grading/feedback.js";

const args = parseArgs(process.argv.slice(2));
const quick = args.has("quick");
const asJson = args.has("json");
const opts = {
  quick,
  floorN: quick ? 200 : 1000,
  floorWarmup: quick ? 100 : 300,
  sandboxN: quick ? 60 : 300,
  durationS: numberArg(args, "duration", quick ? 3 : 10),
  connections: [1, 10, 50],
  attackConnections: 10,
  hostileEvery: 10,
  hostileAloneRepeats: quick ? 1 : 3,
  memoryMarks: quick ? [200, 1000] : [1000, 10_000],
  memoryTimeCapS: numberArg(args, "memory-cap", quick ? 30 : 150),
  /** Issue #18: rounds of each setting; gradings in a "today" or extra "new" round's sandbox-only phase; loop repeats. */
  rounds: Math.max(1, Math.round(numberArg(args, "rounds", quick ? 1 : 2))),
  roundSandboxN: quick ? 30 : 100,
  loopAloneRepeats: quick ? 2 : 3,
};

/** The service before issue #18: --jitless workers, no learnt budgets, still confined. */
const TODAY_ENV = { WORKER_JIT: "off", BUDGETS: "off", CONFINEMENT: "required" } as const;

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const started = performance.now();
const progress = (text: string): void => {
  process.stderr.write(`[bench ${((performance.now() - started) / 1000).toFixed(1)} s] ${text}\n`);
};

// ---- the floor ------------------------------------------------------------------------------------------------------

interface FloorResult {
  flags: string;
  firstMs: number;
  latency: Summary;
  gradingsPerS: number;
  allFull: boolean;
}

/**
 * The floor is a plain Node process with the JIT on, as the student code would run unsandboxed. With
 * `interpreterOnly`, the same process runs with the workers' --jitless: no sandbox, but V8's interpreter
 * only, which tells the cost of the sandbox apart from the cost of running without a JIT.
 */
async function floor(interpreterOnly = false): Promise<FloorResult> {
  const execArgv = interpreterOnly ? ["--jitless"] : [];
  const child = fork(path.join(benchDir, "floor.js"), [], { execArgv, stdio: ["ignore", "ignore", "pipe", "ipc"], serialization: "json" });
  // Kept for a failure only (--jitless makes Node warn that it disables --expose-wasm).
  let stderr = "";
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  const scale = interpreterOnly ? 5 : 1;
  const request: FloorRequest = { assignment: ASSIGNMENT, warmup: Math.ceil(opts.floorWarmup / scale), n: Math.ceil(opts.floorN / scale) };
  const reply = await new Promise<FloorReply & { error?: string }>((resolve, reject) => {
    child.once("message", (m) => resolve(m as FloorReply & { error?: string }));
    child.once("exit", (code, signal) => reject(new Error(`the floor process exited (${signal ?? code}) without an answer: ${stderr}`)));
    child.send(request);
  });
  child.removeAllListeners("exit");
  if (reply.error !== undefined) throw new Error(`floor: ${reply.error} ${stderr}`);
  const total = reply.samples.reduce((a, b) => a + b, 0);
  return { flags: reply.flags, firstMs: reply.firstMs, latency: summarize(reply.samples), gradingsPerS: (1000 * reply.samples.length) / total, allFull: reply.allFull };
}

// ---- the service, in its own process ----------------------------------------------------------------------------------

class ServiceProcess {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private constructor(readonly child: ChildProcess) {
    child.on("message", (m: { id?: number; result?: unknown; error?: string }) => {
      if (m.id === undefined) return;
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      if (m.error !== undefined) p?.reject(new Error(m.error));
      else p?.resolve(m.result);
    });
    child.on("exit", (code, signal) => {
      for (const p of this.pending.values()) p.reject(new Error(`the service process exited (${signal ?? code})`));
      this.pending.clear();
    });
  }

  /** `env` overrides this process's environment for the service (the "today" settings of issue #18). */
  static async start(env: Record<string, string> = {}): Promise<ServiceProcess> {
    const child = fork(path.join(benchDir, "service.js"), [], { execArgv: ["--no-node-snapshot"], env: { ...process.env, ...env }, stdio: ["ignore", "inherit", "inherit", "ipc"], serialization: "json" });
    await new Promise<void>((resolve, reject) => {
      child.once("message", () => resolve());
      child.once("exit", (code, signal) => reject(new Error(`the service process exited (${signal ?? code}) before it was ready`)));
    });
    child.removeAllListeners("exit");
    return new ServiceProcess(child);
  }

  ask<T>(request: ServiceRequest extends infer R ? (R extends ServiceRequest ? Omit<R, "id"> : never) : never): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.child.send({ ...request, id });
    });
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
    try {
      await Promise.race([this.ask({ cmd: "close" }), sleep(10_000)]);
    } catch {
      // it exited already
    }
    await Promise.race([exited, sleep(5_000)]);
    this.child.kill("SIGKILL");
  }
}

/** A CPU mark of the service and its whole process tree (confined workers are its grandchildren and below). */
async function serviceCpuMark(info: ServiceInfo): Promise<CpuMark | undefined> {
  return cpuMark(info.pid);
}

// ---- sandbox only -------------------------------------------------------------------------------------------------------

interface SandboxResult {
  n: number;
  allFull: boolean;
  /** What went wrong in gradings without full marks, by count. */
  problems: Record<string, number>;
  wall: Summary;
  /** Everything but the calls' own time: wall − Σ calls.durationMs, per grading. */
  overhead: Summary;
  calls: Summary;
  /** CPU of the service and its workers per grading, ms. */
  serviceCpuMsPerGrading?: number;
  phases: { isolate: Summary; context: Summary; setupWait: Summary; load: Summary; tests: Summary; dispose: Summary; preparedAheadPct: number };
}

function sandboxResult(samples: SandboxSample[]): SandboxResult {
  const ph = samples.map((s) => s.phases).filter((p) => p !== undefined);
  return {
    n: samples.length,
    allFull: samples.every((s) => s.full),
    problems: tally(sandboxProblems(samples).map((p) => [p, 1] as const)),
    wall: summarize(samples.map((s) => s.wallMs)),
    overhead: summarize(samples.map((s) => s.wallMs - s.callsMs)),
    calls: summarize(samples.map((s) => s.callsMs)),
    phases: {
      isolate: summarize(ph.map((p) => p.isolateMs)),
      context: summarize(ph.map((p) => p.contextMs)),
      setupWait: summarize(ph.map((p) => p.setupWaitMs)),
      load: summarize(ph.map((p) => p.loadMs)),
      tests: summarize(ph.map((p) => p.testsMs)),
      dispose: summarize(ph.map((p) => p.previousDisposeMs ?? NaN)),
      preparedAheadPct: ph.length === 0 ? NaN : (100 * ph.filter((p) => p.preparedAhead).length) / ph.length,
    },
  };
}

// ---- autocannon ---------------------------------------------------------------------------------------------------------

interface LoadResult {
  label: string;
  connections: number;
  seconds: number;
  requests: number;
  /** Honest submissions answered 200 with full marks, per second. */
  gradingsPerS: number;
  honestLatency: Summary;
  /** Every honest full-marks latency, ms (0.1 ms), to pool rounds. */
  honestMs: number[];
  errors: Record<string, number>;
  hostile: Record<string, { sent: number; latency: Summary; asExpected: number; verdicts: Record<string, number>; unexpected: Record<string, number> }>;
  serviceCpu?: CpuUse;
  /** CPU of the service and its workers per honest grading, ms (less sensitive to other load than throughput). */
  serviceCpuMsPerGrading: number;
}

const honestBody = submissionBody(honest.source(0));
// The feedback's first fields, in the schema's order: the summary sits between status and score.
const FULL_MARKS = /"status":"graded",(?:"summary":"(?:[^"\\]|\\.)*",)?"score":(\d+(?:\.\d+)?),"maxScore":(\d+(?:\.\d+)?)/;

/** "ok" for full marks (read cheaply from the text), else what went wrong. */
function outcomeFromText(status: number, body: string): string {
  if (status !== 200) return `HTTP ${status}`;
  const m = FULL_MARKS.exec(body.slice(0, 2048));
  if (m === null) return "not graded";
  return m[1] === m[2] ? "ok" : `score ${m[1]}/${m[2]}`;
}

function count(record: Record<string, number>, key: string): void {
  record[key] = (record[key] ?? 0) + 1;
}

/**
 * One autocannon run. With `hostileKinds`, every `hostileEvery`-th request (counted over all connections)
 * is a hostile one, rotating through the kinds. `amount` ends the run after that many requests instead
 * of after `seconds`.
 */
async function load(port: number, mark: () => Promise<CpuMark | undefined>, label: string, connections: number, seconds: number, hostileKinds: Kind[] = [], amount?: number, stopAfterS?: number): Promise<LoadResult> {
  const honestMs: number[] = [];
  const errors: Record<string, number> = {};
  const hostile: LoadResult["hostile"] = {};
  const hostileMs = new Map<string, number[]>();
  let sent = 0;
  let good = 0;
  // autocannon calls onResponse and then emits "response" (with the latency) synchronously, per client.
  let lastKind: Kind = honest;
  let lastVerdict = "";
  const bodies = new Map<Kind, string>();
  const bodyOf = (kind: Kind): string => {
    let body = bodies.get(kind);
    if (body === undefined) {
      body = submissionBody(kind.source(0));
      bodies.set(kind, body);
    }
    return body;
  };
  const from = await mark();
  const t0 = performance.now();
  // Without a callback autocannon returns its event emitter, which is also a promise of the result.
  const instance = autocannon({
    url: `http://127.0.0.1:${port}`,
    connections,
    pipelining: 1,
    timeout: 60,
    ...(amount !== undefined ? { amount } : { duration: seconds }),
    requests: [{
      method: "POST",
      path: "/v1/submissions",
      headers: { "content-type": "application/json" },
      setupRequest: (request, ctx: object) => {
        const context = ctx as Record<string, unknown>;
        const i = sent++;
        const kind = hostileKinds.length > 0 && i % opts.hostileEvery === opts.hostileEvery - 1
          ? hostileKinds[Math.floor(i / opts.hostileEvery) % hostileKinds.length] as Kind
          : honest;
        context.kind = kind;
        return { ...request, body: kind === honest ? honestBody : bodyOf(kind) };
      },
      onResponse: (status, body, ctx: object) => {
        const context = ctx as Record<string, unknown>;
        const kind = (context.kind as Kind | undefined) ?? honest;
        lastKind = kind;
        if (kind === honest) {
          lastVerdict = outcomeFromText(status, body);
        } else {
          let feedback: Feedback | undefined;
          try {
            feedback = status === 200 ? (JSON.parse(body) as Feedback) : undefined;
          } catch {
            feedback = undefined;
          }
          const graded: Graded = { status, ms: NaN, ...(feedback !== undefined ? { feedback } : { error: body.slice(0, 300) }) };
          lastVerdict = kind.verdict(graded);
        }
      },
    }],
  }) as unknown as autocannon.Instance & PromiseLike<autocannon.Result>;
  instance.on("response", (_client: unknown, _status: number, _bytes: number, ms: number) => {
    if (lastKind === honest) {
      if (lastVerdict === "ok") {
        good++;
        honestMs.push(ms);
      } else {
        count(errors, lastVerdict);
      }
      return;
    }
    const h = (hostile[lastKind.name] ??= { sent: 0, latency: summarize([]), asExpected: 0, verdicts: {}, unexpected: {} });
    h.sent++;
    if (asExpected(lastKind, lastVerdict)) h.asExpected++;
    else count(h.unexpected, lastVerdict);
    count(h.verdicts, lastVerdict);
    const list = hostileMs.get(lastKind.name) ?? [];
    list.push(ms);
    hostileMs.set(lastKind.name, list);
  });
  const stopper = stopAfterS !== undefined ? setTimeout(() => instance.stop(), stopAfterS * 1000) : undefined;
  const result = await instance;
  clearTimeout(stopper);
  const elapsed = (performance.now() - t0) / 1000;
  for (const [name, list] of hostileMs) {
    const h = hostile[name];
    if (h !== undefined) h.latency = summarize(list);
  }
  const serviceCpu = cpuUse(from, await mark());
  if (result.errors > 0) errors["transport errors"] = result.errors;
  if (result.timeouts > 0) errors.timeouts = result.timeouts;
  return {
    label,
    connections,
    seconds: elapsed,
    requests: result.requests.total,
    gradingsPerS: good / elapsed,
    honestLatency: summarize(honestMs),
    honestMs: honestMs.map((ms) => Math.round(ms * 10) / 10),
    errors,
    hostile,
    serviceCpu,
    serviceCpuMsPerGrading: serviceCpu !== undefined && good > 0 ? (serviceCpu.serviceCores * elapsed * 1000) / good : NaN,
  };
}

// ---- hostile submissions alone: time to verdict against their limit --------------------------------------------------

interface HostileAlone {
  name: string;
  expected: string;
  verdicts: Record<string, number>;
  /** How many of the repeats got an expected verdict, and the verdicts that were not expected. */
  asExpected: number;
  unexpected: string[];
  /** Time to verdict (HTTP round trip on an idle service), ms. */
  timeToVerdict: Summary;
  timesMs: number[];
  /** The time limit the submission ran into: the load's (EVAL_TIMEOUT_MS, or its learnt budget), else each stopped call's (at most the wall budget). */
  limitMs: number;
  /** limit + KILL_GRACE_MS: the bound the service documents for enforcing a limit. */
  allowedMs: number;
  /** The worst time to verdict over the limit, ms. */
  worstOverLimitMs: number;
}

async function post(port: number, body: string): Promise<{ status: number; text: string; ms: number }> {
  const t = performance.now();
  const response = await fetch(`http://127.0.0.1:${port}/v1/submissions`, { method: "POST", headers: { "content-type": "application/json" }, body });
  const text = await response.text();
  return { status: response.status, text, ms: performance.now() - t };
}

/** The limit a message names ("… did not finish within 50 ms."): with learnt budgets, the budget that stopped the code. */
function namedLimit(message: string | undefined): number | undefined {
  const ms = /within (\d+) ms\.$/.exec(message ?? "")?.[1];
  return ms === undefined ? undefined : Number(ms);
}

function limitOf(feedback: Feedback | undefined, info: ServiceInfo): number {
  const l = info.limits;
  if (feedback === undefined) return l.submissionWallMs;
  if (feedback.status === "rejected") return namedLimit(feedback.reason?.message) ?? l.evalTimeoutMs;
  // A hidden test's message names no limit: its call's is at most CALL_TIMEOUT_MS.
  const stopped = feedback.exercises.flatMap((e) => e.tests).filter((t) => t.status === "timeout" || t.status === "memory");
  const sum = stopped.reduce((total, t) => total + (t.status === "timeout" ? namedLimit(t.message) ?? l.callTimeoutMs : l.callTimeoutMs), 0);
  return Math.min(l.submissionWallMs, Math.max(sum, stopped.length === 0 ? l.callTimeoutMs : 0));
}

async function waitForIdlePool(service: ServiceProcess, workers: number): Promise<void> {
  const until = performance.now() + 30_000;
  while (performance.now() < until) {
    const s = await service.ask<ServiceStats>({ cmd: "stats" });
    if (s.pool.ready === workers && s.pool.busy === 0 && s.pool.queued === 0) return;
    await sleep(20);
  }
}

async function hostileAlone(service: ServiceProcess, info: ServiceInfo, kind: Kind, repeats: number): Promise<HostileAlone> {
  const times: number[] = [];
  const verdicts: Record<string, number> = {};
  let limitMs = 0;
  let worst = -Infinity;
  for (let i = 0; i < repeats; i++) {
    await waitForIdlePool(service, info.workers);
    const r = await post(info.port, submissionBody(kind.source(i)));
    let feedback: Feedback | undefined;
    try {
      feedback = r.status === 200 ? (JSON.parse(r.text) as Feedback) : undefined;
    } catch {
      feedback = undefined;
    }
    count(verdicts, kind.verdict({ status: r.status, ms: r.ms, ...(feedback !== undefined ? { feedback } : { error: r.text.slice(0, 300) }) }));
    const limit = limitOf(feedback, info);
    limitMs = Math.max(limitMs, limit);
    worst = Math.max(worst, r.ms - limit);
    times.push(r.ms);
  }
  const expectedCount = Object.entries(verdicts).reduce((a, [verdict, n]) => a + (asExpected(kind, verdict) ? n : 0), 0);
  return { name: kind.name, expected: kind.expected, verdicts, asExpected: expectedCount, unexpected: Object.keys(verdicts).filter((verdict) => !asExpected(kind, verdict)), timeToVerdict: summarize(times), timesMs: times.map((ms) => Math.round(ms * 10) / 10), limitMs, allowedMs: limitMs + info.limits.killGraceMs, worstOverLimitMs: worst };
}

// ---- memory ----------------------------------------------------------------------------------------------------------------

interface MemoryMark {
  label: string;
  gradings: number;
  seconds: number;
  parentRssMb: number;
  parentHeapUsedMb: number;
  workersRssMb: number[];
  serviceRssMb: number;
  workersStarted: number;
}

async function memoryMark(service: ServiceProcess, info: ServiceInfo, label: string): Promise<MemoryMark> {
  const stats = await service.ask<ServiceStats>({ cmd: "stats" });
  const parent = await procMemory(info.pid);
  // Confined workers are not the service's children (bubblewrap sits between): read them by their host pids.
  const workers = (await Promise.all(stats.workerPids.map(procMemory))).filter((w): w is ProcMemory => w !== undefined && Number.isFinite(w.rssKb));
  const parentRssMb = parent !== undefined ? kbToMb(parent.rssKb) : mb(stats.memory.rss);
  const workersRssMb = workers.map((w) => kbToMb(w.rssKb));
  return {
    label,
    gradings: stats.gradings,
    seconds: (performance.now() - started) / 1000,
    parentRssMb,
    parentHeapUsedMb: mb(stats.memory.heapUsed),
    workersRssMb,
    serviceRssMb: Math.round((parentRssMb + workersRssMb.reduce((a, b) => a + b, 0)) * 10) / 10,
    workersStarted: stats.workersStarted,
  };
}

/** Grades honest submissions at 10 connections until the service has done `target` gradings or the deadline passes. */
async function gradeUntil(service: ServiceProcess, info: ServiceInfo, mark: () => Promise<CpuMark | undefined>, target: number, deadline: number): Promise<void> {
  for (;;) {
    const { gradings } = await service.ask<ServiceStats>({ cmd: "stats" });
    const left = target - gradings;
    const secondsLeft = (deadline - performance.now()) / 1000;
    if (left <= 0 || secondsLeft <= 1) return;
    // In chunks, so that the time cap is honoured whatever the rate.
    const chunk = Math.min(left, 2000);
    await load(info.port, mark, "memory", 10, 0, [], chunk, secondsLeft);
  }
}

// ---- targets -----------------------------------------------------------------------------------------------------------------

interface Target {
  target: string;
  measured: string;
  met: boolean | undefined;
}

function targets(r: Results): Target[] {
  const c1 = r.endToEnd.find((e) => e.connections === 1);
  const c10 = r.endToEnd.find((e) => e.connections === 10);
  const list: Target[] = [];
  const t = (target: string, measured: string, met: boolean | undefined): void => {
    list.push({ target, measured, met });
  };
  t("≥ 150 honest gradings/s sustained at 10 connections", c10 ? `${fixed(c10.gradingsPerS)} /s` : "–", c10 ? c10.gradingsPerS >= 150 : undefined);
  t("p50 ≤ 10 ms at 1 connection", c1 ? `${fixed(c1.honestLatency.p50)} ms` : "–", c1 ? c1.honestLatency.p50 <= 10 : undefined);
  t("p99 ≤ 120 ms at 10 connections", c10 ? `${fixed(c10.honestLatency.p99)} ms` : "–", c10 ? c10.honestLatency.p99 <= 120 : undefined);
  const worst = r.hostileAlone.reduce((m, h) => (h.timeToVerdict.max - h.allowedMs > m.over ? { over: h.timeToVerdict.max - h.allowedMs, h } : m), { over: -Infinity, h: undefined as HostileAlone | undefined });
  t(
    "each hostile submission costs no more than its own limit (time to verdict ≤ limit + KILL_GRACE_MS)",
    r.hostileAlone.map((h) => `${h.name}: ${fixed(h.timeToVerdict.max, 0)} ms / ${h.allowedMs}`).join("; "),
    r.hostileAlone.length > 0 ? worst.over <= 0 && r.hostileAlone.every((h) => h.asExpected === h.timeToVerdict.n) : undefined,
  );
  const a = r.underAttack;
  t(
    "under a 10% hostile mix, honest p99 at most doubles (vs 10 connections without)",
    a && c10 ? `${fixed(a.honestLatency.p99)} ms vs ${fixed(c10.honestLatency.p99)} ms (×${fixed(a.honestLatency.p99 / c10.honestLatency.p99)}); ${fixed(a.gradingsPerS)} honest/s` : "–",
    a && c10 ? a.honestLatency.p99 <= 2 * c10.honestLatency.p99 : undefined,
  );
  const m1 = r.memory.marks.find((m) => m.label === `after ${opts.memoryMarks[0]}`);
  const m2 = r.memory.marks.find((m) => m.label === `after ${opts.memoryMarks[1]}`);
  const reached = m2 !== undefined && m2.gradings >= (opts.memoryMarks[1] ?? Infinity);
  t(
    `service RSS after ${opts.memoryMarks[1]?.toLocaleString("en")} gradings within 10% of RSS after ${opts.memoryMarks[0]?.toLocaleString("en")}`,
    m1 && m2 ? `${m1.serviceRssMb} → ${m2.serviceRssMb} MB (${m2.serviceRssMb >= m1.serviceRssMb ? "+" : ""}${fixed((100 * (m2.serviceRssMb - m1.serviceRssMb)) / m1.serviceRssMb)} %); parent ${m1.parentRssMb} → ${m2.parentRssMb} MB${reached ? "" : `; only ${m2.gradings} gradings within the time cap`}` : "–",
    m1 && m2 ? Math.abs(m2.serviceRssMb - m1.serviceRssMb) <= 0.1 * m1.serviceRssMb : undefined,
  );
  t(
    "fixed per-submission overhead ≤ 5 ms at p50 (everything but the student's calls)",
    r.sandbox ? `${fixed(r.sandbox.overhead.p50)} ms in the grading core (grade() − Σ calls, IPC and feedback included; whole grading p50 ${fixed(r.sandbox.wall.p50)} ms there, ${fixed(c1?.honestLatency.p50 ?? NaN)} ms over HTTP at 1 connection)` : "–",
    r.sandbox ? r.sandbox.overhead.p50 <= 5 : undefined,
  );
  return list;
}

// ---- issue #18: today's service against the new one, in the same run ---------------------------------------------------

type Setting = "today" | "new";

/** One service started with one setting, measured as issue #18's targets ask. */
interface Issue18Round {
  setting: Setting;
  round: number;
  /** The settings the service ran with, as it read them, and what was in force. */
  settings: ServiceSettings;
  workers: number;
  /** Sandbox-only gradings (grade(), one at a time, no HTTP), wall ms. */
  sandboxMs: number[];
  /** What went wrong in sandbox-only gradings without full marks, one entry per such grading. */
  sandboxProblems: string[];
  clean: LoadResult;
  attack: LoadResult;
  loopAlone: HostileAlone;
}

/** Which of the compared settings came from this process's environment rather than the service's defaults. */
function fromEnvironment(): string[] {
  return (["WORKER_JIT", "BUDGETS", "CONFINEMENT"] as const).filter((name) => process.env[name] !== undefined).map((name) => `${name}=${process.env[name]}`);
}

/** Refuses to compare a "today" service that does not run as today's did (the env override did not take). */
function checkToday(settings: ServiceSettings): void {
  if (settings.jit || settings.budgets !== "off" || settings.confinementInForce === "none") {
    throw new Error(`the "today" service does not run as before issue #18 (--jitless, no budgets, confined): ${JSON.stringify(settings)}`);
  }
}

/** A round on a service of its own: started, measured, closed. */
async function issue18Round(setting: Setting, round: number): Promise<Issue18Round> {
  const env: Record<string, string> = setting === "today" ? { ...TODAY_ENV } : {};
  progress(`issue #18, round ${round}, ${setting}: starting the service${setting === "today" ? ` with ${Object.entries(env).map(([k, v]) => `${k}=${v}`).join(" ")}` : fromEnvironment().length === 0 ? " with its defaults" : ` with its defaults but ${fromEnvironment().join(" ")} from the environment`}`);
  const service = await ServiceProcess.start(env);
  try {
    const info = await service.ask<ServiceInfo>({ cmd: "info" });
    if (setting === "today") checkToday(info.settings);
    const kinds = attackKinds(info.settings.budgets === "learnt");
    const mark = (): Promise<CpuMark | undefined> => serviceCpuMark(info);
    await waitForIdlePool(service, info.workers);
    progress(`issue #18, round ${round}, ${setting}: ${opts.roundSandboxN} sandbox-only gradings`);
    const samples = await service.ask<SandboxSample[]>({ cmd: "sandbox", n: opts.roundSandboxN, warmup: 10 });
    await waitForIdlePool(service, info.workers);
    progress(`issue #18, round ${round}, ${setting}: ${opts.attackConnections} connections for ${opts.durationS} s, clean`);
    const clean = await load(info.port, mark, `${opts.attackConnections} connections`, opts.attackConnections, opts.durationS);
    await waitForIdlePool(service, info.workers);
    progress(`issue #18, round ${round}, ${setting}: the same, 1 in ${opts.hostileEvery} hostile`);
    const attack = await load(info.port, mark, "under attack", opts.attackConnections, opts.durationS, kinds);
    progress(`issue #18, round ${round}, ${setting}: ${loopInExport.name} alone ×${opts.loopAloneRepeats}`);
    const loopAlone = await hostileAlone(service, info, loopInExport, opts.loopAloneRepeats);
    return { setting, round, settings: info.settings, workers: info.workers, sandboxMs: samples.map((x) => x.wallMs), sandboxProblems: sandboxProblems(samples), clean, attack, loopAlone };
  } finally {
    await service.close();
  }
}

/** What one setting measured over all its rounds: samples pooled, rates over the summed time. */
interface Issue18Figures {
  rounds: number;
  settings: ServiceSettings[];
  sandboxP50: number;
  floorRatio: number;
  cleanPerS: number;
  cleanP99: number;
  attackPerS: number;
  attackP99: number;
  loop: Summary;
  /** Hostile submissions (under attack and alone) with the verdict expected for this setting's budgets, of those sent. */
  hostileAsExpected: number;
  hostileSent: number;
  /** Unexpected hostile verdicts, "<kind>: <verdict>" → count. */
  unexpected: Record<string, number>;
  /** Honest submissions without full marks or with errors, clean and under attack, by outcome. */
  honestProblems: Record<string, number>;
  /** Sandbox-only gradings without full marks, by what went wrong. */
  sandboxProblems: Record<string, number>;
}

function tally(entries: ReadonlyArray<readonly [string, number]>): Record<string, number> {
  const record: Record<string, number> = {};
  for (const [key, n] of entries) record[key] = (record[key] ?? 0) + n;
  return record;
}

function rate(loads: LoadResult[]): number {
  const seconds = loads.reduce((a, l) => a + l.seconds, 0);
  return loads.reduce((a, l) => a + l.gradingsPerS * l.seconds, 0) / seconds;
}

function issue18Figures(rounds: Issue18Round[], floorP50: number): Issue18Figures {
  const sandboxP50 = summarize(rounds.flatMap((r) => r.sandboxMs)).p50;
  const verdicts = rounds.flatMap((r) => [
    ...Object.values(r.attack.hostile).map((h) => ({ sent: h.sent, ok: h.asExpected })),
    { sent: r.loopAlone.timeToVerdict.n, ok: r.loopAlone.asExpected },
  ]);
  return {
    rounds: rounds.length,
    settings: rounds.map((r) => r.settings),
    sandboxP50,
    floorRatio: sandboxP50 / floorP50,
    cleanPerS: rate(rounds.map((r) => r.clean)),
    cleanP99: summarize(rounds.flatMap((r) => r.clean.honestMs)).p99,
    attackPerS: rate(rounds.map((r) => r.attack)),
    attackP99: summarize(rounds.flatMap((r) => r.attack.honestMs)).p99,
    loop: summarize(rounds.flatMap((r) => r.loopAlone.timesMs)),
    hostileAsExpected: verdicts.reduce((a, v) => a + v.ok, 0),
    hostileSent: verdicts.reduce((a, v) => a + v.sent, 0),
    unexpected: tally(rounds.flatMap((r) => [
      ...Object.entries(r.attack.hostile).flatMap(([name, h]) => Object.entries(h.unexpected).map(([v, n]) => [`${name} (under attack): ${v}`, n] as const)),
      ...r.loopAlone.unexpected.map((v) => [`${r.loopAlone.name} (alone): ${v}`, r.loopAlone.verdicts[v] ?? 0] as const),
    ])),
    honestProblems: tally(rounds.flatMap((r) => [...Object.entries(r.clean.errors).map(([k, n]) => [`clean: ${k}`, n] as const), ...Object.entries(r.attack.errors).map(([k, n]) => [`under attack: ${k}`, n] as const)])),
    sandboxProblems: tally(rounds.flatMap((r) => r.sandboxProblems.map((p) => [p, 1] as const))),
  };
}

interface Issue18Target {
  measure: string;
  today: string;
  new: string;
  target: string;
  met: boolean | undefined;
}

interface Issue18Result {
  /** The order the services ran in. */
  order: string[];
  /** The compared settings this process's environment set (the "new" column then is not only the defaults). */
  environment: string[];
  rounds: Issue18Round[];
  today?: Issue18Figures;
  new?: Issue18Figures;
  targets: Issue18Target[];
}

function issue18Targets(today: Issue18Figures, next: Issue18Figures, floorP50: number): Issue18Target[] {
  const x = (v: number): string => `×${fixed(v, 2)}`;
  const ms = (v: number): string => `${Math.round(v).toLocaleString("en")} ms`;
  return [
    {
      measure: "sandbox-only p50 / warm no-sandbox floor",
      today: `${x(today.floorRatio)} (${fixed(today.sandboxP50)} / ${fixed(floorP50)} ms)`,
      new: `${x(next.floorRatio)} (${fixed(next.sandboxP50)} / ${fixed(floorP50)} ms)`,
      target: "≤ ×3",
      met: next.floorRatio <= 3,
    },
    {
      measure: "throughput at 10 connections / today's --jitless figure in the same run",
      today: `${fixed(1, 2)} (${fixed(today.cleanPerS)} /s)`,
      new: `${fixed(next.cleanPerS / today.cleanPerS, 2)} (${fixed(next.cleanPerS)} /s)`,
      target: "≥ 3.0",
      met: next.cleanPerS / today.cleanPerS >= 3,
    },
    {
      measure: "infinite loop in an export: time to verdict, alone (p50; max)",
      today: `${ms(today.loop.p50)} (max ${ms(today.loop.max)})`,
      new: `${ms(next.loop.p50)} (max ${ms(next.loop.max)})`,
      target: "≤ 150 ms",
      met: next.loop.p50 <= 150,
    },
    {
      measure: "under a 10% hostile mix: honest throughput / clean throughput",
      today: `${fixed(today.attackPerS / today.cleanPerS, 2)} (${fixed(today.attackPerS)} / ${fixed(today.cleanPerS)} /s)`,
      new: `${fixed(next.attackPerS / next.cleanPerS, 2)} (${fixed(next.attackPerS)} / ${fixed(next.cleanPerS)} /s)`,
      target: "≥ 0.9",
      met: next.attackPerS / next.cleanPerS >= 0.9,
    },
    {
      measure: "under a 10% hostile mix: honest p99 / clean p99",
      today: `${x(today.attackP99 / today.cleanP99)} (${ms(today.attackP99)} / ${ms(today.cleanP99)})`,
      new: `${x(next.attackP99 / next.cleanP99)} (${ms(next.attackP99)} / ${ms(next.cleanP99)})`,
      target: "≤ ×1.2",
      met: next.attackP99 / next.cleanP99 <= 1.2,
    },
  ];
}

/** The issue #7 service's own phases, read as the last "new" round (same phases, same settings). */
function roundFromMain(results: Results, samples: SandboxSample[], round: number): Issue18Round | undefined {
  const clean = results.endToEnd.find((e) => e.connections === opts.attackConnections);
  const attack = results.underAttack;
  const loopAlone = results.hostileAlone.find((h) => h.name === loopInExport.name);
  const service = results.service;
  if (clean === undefined || attack === undefined || loopAlone === undefined || service === undefined) return undefined;
  return { setting: "new", round, settings: service.settings, workers: service.workers, sandboxMs: samples.map((x) => x.wallMs), sandboxProblems: sandboxProblems(samples), clean, attack, loopAlone };
}

function sandboxProblems(samples: SandboxSample[]): string[] {
  return samples.filter((x) => !x.full).map((x) => x.problem ?? "not full marks");
}

function describeSettings(list: ServiceSettings[]): string {
  const distinct = [...new Set(list.map((s) => JSON.stringify(s)))].map((j) => JSON.parse(j) as ServiceSettings);
  return distinct.map((s) => `WORKER_JIT=${s.workerJit} (workers ${s.jit ? "with the JIT" : "--jitless"}), BUDGETS=${s.budgets}, CONFINEMENT=${s.confinement} (${s.confinementInForce})`).join("; AND ");
}

function renderIssue18(r: Issue18Result, workers: number | undefined): string {
  const out: string[] = [];
  out.push(`Issue #18: today's service against the new one, in this run (services in this order: ${r.order.join(", ")}; the last "new" is the service measured above)`);
  if (r.today !== undefined) out.push(`  today: ${describeSettings(r.today.settings)}: the service before issue #18; ${r.today.rounds} round${r.today.rounds === 1 ? "" : "s"}`);
  if (r.new !== undefined) out.push(`  new:   ${describeSettings(r.new.settings)}: ${r.environment.length === 0 ? "the service's defaults" : `the defaults except ${r.environment.join(", ")} from the environment`}; ${r.new.rounds} round${r.new.rounds === 1 ? "" : "s"}`);
  out.push(`  both: ${workers ?? "?"} workers; each round: sandbox-only gradings one at a time, ${opts.attackConnections} connections for ${opts.durationS} s clean and under the 10% hostile mix (${attackKinds(false).map((k) => k.id).join(", ")}; honest only), and the looping export alone on an idle service; samples pooled over rounds`);
  out.push("");
  out.push(table(["round", "setting", "sandbox p50 ms", `${opts.attackConnections} conn. /s`, "p99 ms", "attacked /s", "p99 ms", "loop alone p50 / max ms", "hostile as expected"], r.rounds.map((x) => {
    const hostile = Object.values(x.attack.hostile);
    const sent = hostile.reduce((a, h) => a + h.sent, 0) + x.loopAlone.timeToVerdict.n;
    const ok = hostile.reduce((a, h) => a + h.asExpected, 0) + x.loopAlone.asExpected;
    return [
      x.round, x.setting, fixed(summarize(x.sandboxMs).p50), fixed(x.clean.gradingsPerS), fixed(x.clean.honestLatency.p99, 0), fixed(x.attack.gradingsPerS),
      fixed(x.attack.honestLatency.p99, 0), `${fixed(x.loopAlone.timeToVerdict.p50, 0)} / ${fixed(x.loopAlone.timeToVerdict.max, 0)}`, `${ok}/${sent}${ok === sent ? "" : " (UNEXPECTED)"}`,
    ];
  })));
  out.push("");
  out.push(table(["measure", "today (this run)", "new (this run)", "target", "met?"], r.targets.map((t) => [t.measure, t.today, t.new, t.target, t.met === undefined ? "not measured" : t.met ? "MET" : "NOT MET"])));
  for (const [name, f] of [["today", r.today], ["new", r.new]] as const) {
    if (f === undefined) continue;
    const problems: string[] = [];
    if (f.hostileAsExpected !== f.hostileSent) problems.push(`hostile verdicts as expected ${f.hostileAsExpected}/${f.hostileSent}, UNEXPECTED: ${describe(f.unexpected)}`);
    if (Object.keys(f.honestProblems).length > 0) problems.push(`honest submissions over HTTP without full marks or with errors: ${describe(f.honestProblems)}`);
    if (Object.keys(f.sandboxProblems).length > 0) problems.push(`sandbox-only gradings without full marks: ${describe(f.sandboxProblems)}`);
    out.push(`${name}: ${problems.length === 0 ? `every hostile verdict as expected (${f.hostileAsExpected}/${f.hostileSent}), every honest grading 100/100` : `every hostile verdict as expected? ${f.hostileAsExpected}/${f.hostileSent}; ${problems.join("; ")}`}`);
  }
  return out.join("\n");
}

// ---- main ----------------------------------------------------------------------------------------------------------------------

interface Results {
  date: string;
  machine: Record<string, string | number>;
  options: typeof opts;
  service?: ServiceInfo;
  floor?: FloorResult;
  floorInterpreter?: FloorResult;
  sandbox?: SandboxResult;
  endToEnd: LoadResult[];
  underAttack?: LoadResult;
  hostileAlone: HostileAlone[];
  memory: { marks: MemoryMark[]; timeCapS: number };
  pool?: ServiceStats;
  store?: StoreBenchResult;
  targets: Target[];
  issue18?: Issue18Result;
  totalSeconds: number;
}

async function main(): Promise<void> {
  const results: Results = { date: new Date().toISOString(), machine: machine(), options: opts, endToEnd: [], hostileAlone: [], memory: { marks: [], timeCapS: opts.memoryTimeCapS }, targets: [], totalSeconds: 0 };
  // A last resort: the run stops by itself even if something hangs.
  const hardStop = setTimeout(() => {
    process.stderr.write("bench: still running after 30 minutes; giving up\n");
    process.exit(2);
  }, 30 * 60_000);
  hardStop.unref();

  progress(`floor: ${opts.floorWarmup} warm-up + ${opts.floorN} gradings of the reference, no sandbox, JIT on`);
  results.floor = await floor();
  progress(`the same with --jitless (the workers' flag): ${Math.ceil(opts.floorWarmup / 5)} warm-up + ${Math.ceil(opts.floorN / 5)} gradings, no sandbox, interpreter only`);
  results.floorInterpreter = await floor(true);

  // Issue #18: today, new, today, … (alternating, so that the machine's drift falls on both); the last "new"
  // round is the service below.
  const issue18: Issue18Result = { order: [], environment: fromEnvironment(), rounds: [], targets: [] };
  results.issue18 = issue18;
  for (let round = 1; round <= opts.rounds; round++) {
    issue18.rounds.push(await issue18Round("today", round));
    issue18.order.push("today");
    if (round < opts.rounds) {
      issue18.rounds.push(await issue18Round("new", round));
      issue18.order.push("new");
    }
  }

  progress("starting the service (its own process; every pack is self-tested at start)");
  const service = await ServiceProcess.start();
  let mainSamples: SandboxSample[] = [];
  try {
    const info = await service.ask<ServiceInfo>({ cmd: "info" });
    results.service = info;
    const mark = (): Promise<CpuMark | undefined> => serviceCpuMark(info);
    progress(`listening on 127.0.0.1:${info.port} after ${fixed(info.startupMs, 0)} ms; ${info.workers} workers; ${info.config.workload}; ${describeSettings([info.settings])}`);
    await waitForIdlePool(service, info.workers);
    results.memory.marks.push(await memoryMark(service, info, "start"));

    progress(`sandbox only: ${opts.sandboxN} gradings through grade(), one at a time, no HTTP`);
    const sandboxMark = await mark();
    const sandboxStarted = performance.now();
    mainSamples = await service.ask<SandboxSample[]>({ cmd: "sandbox", n: opts.sandboxN, warmup: 10 });
    results.sandbox = sandboxResult(mainSamples);
    const sandboxCpu = cpuUse(sandboxMark, await mark());
    if (sandboxCpu !== undefined) results.sandbox.serviceCpuMsPerGrading = (sandboxCpu.serviceCores * (performance.now() - sandboxStarted)) / (opts.sandboxN + 10);

    const memoryDeadline = performance.now() + opts.memoryTimeCapS * 1000;
    progress(`warm-up to ${opts.memoryMarks[0]} gradings (10 connections), then a memory mark`);
    await gradeUntil(service, info, mark, opts.memoryMarks[0] ?? 1000, memoryDeadline);
    results.memory.marks.push(await memoryMark(service, info, `after ${opts.memoryMarks[0]}`));

    for (const c of opts.connections) {
      progress(`end to end: ${c} connection${c === 1 ? "" : "s"} for ${opts.durationS} s`);
      await waitForIdlePool(service, info.workers);
      results.endToEnd.push(await load(info.port, mark, `${c} connection${c === 1 ? "" : "s"}`, c, opts.durationS));
    }

    // The verdicts expected of a memory bomb depend on the service's budgets, not on this process's environment.
    const hostileKinds = attackKinds(info.settings.budgets === "learnt");
    progress(`under attack: ${opts.attackConnections} connections for ${opts.durationS} s, 1 in ${opts.hostileEvery} hostile (${hostileKinds.map((k) => k.id).join(", ")})`);
    await waitForIdlePool(service, info.workers);
    results.underAttack = await load(info.port, mark, "under attack", opts.attackConnections, opts.durationS, hostileKinds);

    for (const kind of hostileKinds) {
      // The looping export is also issue #18's time to verdict: as many repeats as the other rounds have, at least.
      const repeats = kind === loopInExport ? Math.max(opts.hostileAloneRepeats, opts.loopAloneRepeats) : opts.hostileAloneRepeats;
      progress(`hostile alone: ${kind.name} ×${repeats}`);
      results.hostileAlone.push(await hostileAlone(service, info, kind, repeats));
    }
    const mainRound = roundFromMain(results, mainSamples, opts.rounds);
    if (mainRound !== undefined) {
      issue18.rounds.push(mainRound);
      issue18.order.push("new (the service above)");
    }

    const last = opts.memoryMarks[1] ?? 10_000;
    const { gradings } = await service.ask<ServiceStats>({ cmd: "stats" });
    progress(`memory: grading on to ${last} gradings (${Math.max(0, last - gradings)} more, 10 connections), up to ${fixed(Math.max(0, (memoryDeadline - performance.now()) / 1000), 0)} s more`);
    await gradeUntil(service, info, mark, last, Math.max(memoryDeadline, performance.now() + 30_000));
    await waitForIdlePool(service, info.workers);
    results.memory.marks.push(await memoryMark(service, info, `after ${last}`));
    results.pool = await service.ask<ServiceStats>({ cmd: "stats" });
  } finally {
    await service.close();
  }
  // Issue #13: the store's own services (in-memory and SQLite), started after the main one is closed.
  results.store = await storeBench({ durationS: opts.durationS, backlog: quick ? 300 : 2000, asyncConnections: 50 }, progress);
  results.targets = targets(results);
  const todayRounds = issue18.rounds.filter((x) => x.setting === "today");
  const newRounds = issue18.rounds.filter((x) => x.setting === "new");
  if (results.floor !== undefined && todayRounds.length > 0 && newRounds.length > 0) {
    issue18.today = issue18Figures(todayRounds, results.floor.latency.p50);
    issue18.new = issue18Figures(newRounds, results.floor.latency.p50);
    issue18.targets = issue18Targets(issue18.today, issue18.new, results.floor.latency.p50);
  }
  results.totalSeconds = (performance.now() - started) / 1000;
  writeFileSync(path.join(benchDir, "..", "..", "bench", "results.json"), `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(asJson ? `${JSON.stringify(results, null, 2)}\n` : `${render(results)}\n`);
  clearTimeout(hardStop);
}

// ---- printing -----------------------------------------------------------------------------------------------------------------

function render(r: Results): string {
  const out: string[] = [];
  const m = r.machine;
  out.push(`gradebox bench, ${r.date.slice(0, 16).replace("T", " ")} UTC${r.options.quick ? " (--quick)" : ""}: ${m.cpus} cpus (${m.cpuModel}), ${m.memoryGB} GB, ${m.os}; node ${m.node}, isolated-vm ${m.isolatedVm}, fastify ${m.fastify}`);
  if (r.service !== undefined) {
    const c = r.service.config;
    out.push(`service: its own process, ${c.workers} workers (recycled after ${c.workerMaxGradings} gradings), limits: call ${c.callTimeoutMs} ms, eval ${c.evalTimeoutMs} ms, isolate ${c.isolateMemoryMb} MB, kill grace ${c.killGraceMs} ms; started in ${fixed(r.service.startupMs, 0)} ms`);
    out.push(`settings: ${describeSettings([r.service.settings])}${r.issue18 !== undefined && r.issue18.environment.length > 0 ? ` (${r.issue18.environment.join(", ")} from the environment)` : " (the defaults)"}`);
    out.push(`workload: ${c.workload}; the load generator (autocannon) shares the machine`);
  }
  out.push("");
  const f = r.floor;
  const s = r.sandbox;
  const rows: Array<Array<string | number>> = [];
  if (f !== undefined) rows.push(["floor: no sandbox, in-process, warm JIT", f.latency.p50, f.latency.p99, f.gradingsPerS, "1 thread", f.allFull ? "yes" : "NO"]);
  const fi = r.floorInterpreter;
  if (fi !== undefined) rows.push(["no sandbox, in-process, --jitless (warm)", fi.latency.p50, fi.latency.p99, fi.gradingsPerS, "1 thread; the workers' interpreter, no sandbox", fi.allFull ? "yes" : "NO"]);
  if (s !== undefined) rows.push(["sandbox only: grade() through the pool, no HTTP", s.wall.p50, s.wall.p99, 1000 / s.wall.mean, `1 at a time; ${fixed(s.serviceCpuMsPerGrading ?? NaN)} ms CPU/grading${s.allFull ? "" : `; not 100/100: ${describe(s.problems)}`}`, s.allFull ? "yes" : "NO"]);
  for (const e of r.endToEnd) rows.push([`end to end: ${e.label}`, e.honestLatency.p50, e.honestLatency.p99, e.gradingsPerS, `max ${fixed(e.honestLatency.max, 0)} ms; errors ${describe(e.errors)}; CPU ${describeCpu(e.serviceCpu)}, ${fixed(e.serviceCpuMsPerGrading)} ms/grading`, Object.keys(e.errors).length === 0 ? "yes" : "NO"]);
  const a = r.underAttack;
  if (a !== undefined) rows.push([`under attack: ${a.connections} connections, 10% hostile (honest only)`, a.honestLatency.p50, a.honestLatency.p99, a.gradingsPerS, `max ${fixed(a.honestLatency.max, 0)} ms; errors ${describe(a.errors)}`, Object.keys(a.errors).length === 0 ? "yes" : "NO"]);
  out.push(table(["grading", "p50 ms", "p99 ms", "gradings/s", "notes (CPU: cores busy in service+workers / elsewhere; service CPU per grading)", "all 100/100"], rows));
  if (f !== undefined && s !== undefined) {
    out.push(`sandbox / floor: ×${fixed(s.wall.p50 / f.latency.p50)} at p50 (the floor's first, cold grading in its fresh process: ${fixed(f.firstMs)} ms)${fi !== undefined ? `; sandbox / no-sandbox --jitless: ×${fixed(s.wall.p50 / fi.latency.p50)}` : ""}`);
  }
  out.push("");
  if (s !== undefined) {
    const p = s.phases;
    out.push(`Sandbox-only phases, p50 / p99 ms (${fixed(p.preparedAheadPct, 0)} % of isolates were made while the worker was idle; dispose happens after the reply)`);
    out.push(table(["isolate", "context + prelude", "wait for setup", "module load", "tests", "dispose", "Σ calls", "everything but calls", "whole grading"], [[
      pair(p.isolate), pair(p.context), pair(p.setupWait), pair(p.load), pair(p.tests), pair(p.dispose), pair(s.calls), pair(s.overhead), pair(s.wall),
    ]]));
    out.push("");
  }
  if (r.hostileAlone.length > 0 || a !== undefined) {
    out.push("Hostile submissions: time to verdict, alone on an idle service and within the attack");
    out.push(table(["submission", "verdicts (alone)", "alone p50 / max ms", "limit ms", "allowed ms", "under attack: n, p50 / max ms, as expected"], r.hostileAlone.map((h) => {
      const under = a?.hostile[h.name];
      return [
        h.name,
        Object.entries(h.verdicts).map(([k, v]) => `${k} ×${v}${h.unexpected.includes(k) ? " (UNEXPECTED)" : ""}`).join(" | "),
        `${fixed(h.timeToVerdict.p50, 0)} / ${fixed(h.timeToVerdict.max, 0)}`,
        h.limitMs,
        h.allowedMs,
        under ? `${under.sent}, ${fixed(under.latency.p50, 0)} / ${fixed(under.latency.max, 0)}, ${under.asExpected}/${under.sent}` : "–",
      ];
    })));
    out.push("");
  }
  out.push(`Memory (RSS MB; service = parent + workers; workers are recycled after ${r.service?.config.workerMaxGradings ?? "?"} gradings)`);
  out.push(table(["mark", "gradings", "at s", "service", "parent", "parent heapUsed", "each worker", "workers started"], r.memory.marks.map((mm) => [
    mm.label, mm.gradings, fixed(mm.seconds, 0), mm.serviceRssMb, mm.parentRssMb, mm.parentHeapUsedMb, mm.workersRssMb.join(", "), mm.workersStarted,
  ])));
  if (r.pool !== undefined) out.push(`pool at the end: ${r.pool.workersStarted} workers started in all; retired ${JSON.stringify(r.pool.retired)}; died during a grading ${JSON.stringify(r.pool.diedDuringGrading)}; warnings/errors logged ${JSON.stringify(r.pool.problems)}`);
  out.push("");
  if (r.store !== undefined) out.push(renderStoreBench(r.store), "");
  out.push("Targets (issue #7; the service measured above, with its defaults)");
  out.push(table(["target", "measured", "verdict"], r.targets.map((t) => [t.target, t.measured, t.met === undefined ? "not measured" : t.met ? "MET" : "NOT MET"])));
  out.push("");
  if (r.issue18 !== undefined) out.push(renderIssue18(r.issue18, r.service?.workers), "");
  out.push(`total ${fixed(r.totalSeconds, 0)} s; written to bench/results.json`);
  return out.join("\n");
}

function pair(x: Summary): string {
  return `${fixed(x.p50)} / ${fixed(x.p99)}`;
}

function describe(errors: Record<string, number>): string {
  const entries = Object.entries(errors);
  return entries.length === 0 ? "0" : entries.map(([k, n]) => `${k} ×${n}`).join(", ");
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
