/**
 * Shared pieces of the benchmark: start the real service on an ephemeral loopback port (service.ts),
 * a logger that counts the pool's events, /proc readers, CPU accounting, percentiles and table
 * printing. Nothing here leaves 127.0.0.1.
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { app, serverOptions } from "../src/app.js";
import { loadConfig, type Config } from "../src/config.js";
import type { Feedback } from "../src/grading/feedback.js";
import { packageRoot } from "../src/paths.js";

export const ASSIGNMENT = "gradient-checking";

export function packFile(file: string): string {
  return readFileSync(path.join(packageRoot, "graders", ASSIGNMENT, file), "utf8");
}

export const referenceSource = (): string => packFile("reference/solution.mjs");

// ---- command line -----------------------------------------------------------------------------------

/** `--name value`, `--name=value` and bare `--flag` (true). */
export function parseArgs(argv: string[]): Map<string, string | true> {
  const args = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (!arg.startsWith("--")) throw new Error(`unexpected argument: ${arg}`);
    const eq = arg.indexOf("=");
    if (eq > 0) {
      args.set(arg.slice(2, eq), arg.slice(eq + 1));
    } else {
      const next = argv[i + 1];
      if (next !== undefined && !next.startsWith("--")) {
        args.set(arg.slice(2), next);
        i++;
      } else {
        args.set(arg.slice(2), true);
      }
    }
  }
  return args;
}

export function numberArg(args: Map<string, string | true>, name: string, fallback: number): number {
  const value = args.get(name);
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value === true || !Number.isFinite(n) || n < 0) throw new Error(`--${name} needs a non-negative number`);
  return n;
}

// ---- a logger that counts the pool's events ------------------------------------------------------------

export interface PoolEvents {
  /** "grading worker ready" messages: workers spawned and started. */
  spawned: number;
  workerPids: number[];
  /** "retiring grading worker", by reason (recycled, tainted: isolate disposed while running). */
  retired: Record<string, number>;
  /** "grading worker stopped during a grading", by reason. */
  diedDuringGrading: Record<string, number>;
  /** warn/error/fatal messages, by message. */
  problems: Record<string, number>;
  lastProblems: Array<{ level: string; msg: string; fields: string }>;
}

/**
 * A Fastify logger that is silent like LOG_LEVEL=silent, except that it counts the sandbox pool's
 * debug messages (pool.ts logs "grading worker ready" with the pid of every worker that starts) and
 * every warning or error. Request-level info messages are dropped without being formatted.
 */
export function probeLogger(): { logger: FastifyBaseLogger; events: PoolEvents } {
  const events: PoolEvents = { spawned: 0, workerPids: [], retired: {}, diedDuringGrading: {}, problems: {}, lastProblems: [] };
  const bump = (record: Record<string, number>, key: string): void => {
    record[key] = (record[key] ?? 0) + 1;
  };
  const noop = (): void => undefined;
  const make = (bindings: Record<string, unknown>): FastifyBaseLogger => {
    const sandbox = bindings.component === "sandbox";
    const take = (level: string) => (a?: unknown, b?: unknown): void => {
      const fields = (typeof a === "object" && a !== null ? a : {}) as Record<string, unknown>;
      const msg = typeof a === "string" ? a : typeof b === "string" ? b : "";
      if (sandbox) {
        if (msg === "grading worker ready") {
          events.spawned++;
          if (typeof fields.pid === "number") events.workerPids.push(fields.pid);
        } else if (msg === "retiring grading worker") {
          bump(events.retired, String(fields.reason));
        } else if (msg === "grading worker stopped during a grading") {
          bump(events.diedDuringGrading, String(fields.reason));
        }
      }
      if (level === "warn" || level === "error" || level === "fatal") {
        if (msg !== "grading worker stopped during a grading") bump(events.problems, `${level}: ${msg}`);
        const err = fields.err instanceof Error ? `${fields.err.name}: ${fields.err.message}` : "";
        const shown = { ...fields, err: err || undefined };
        events.lastProblems.push({ level, msg, fields: JSON.stringify(shown).slice(0, 300) });
        if (events.lastProblems.length > 20) events.lastProblems.shift();
      }
    };
    const logger = {
      level: "debug",
      trace: noop,
      debug: sandbox ? take("debug") : noop,
      info: noop,
      warn: take("warn"),
      error: take("error"),
      fatal: take("fatal"),
      silent: noop,
      child: (more: Record<string, unknown>) => make({ ...bindings, ...more }),
    };
    return logger as unknown as FastifyBaseLogger;
  };
  return { logger: make({}), events };
}

// ---- the service ---------------------------------------------------------------------------------------------

export interface Service {
  app: FastifyInstance;
  /** The app plugin's own (encapsulated) instance, which holds the sandbox pool and the packs. */
  inner: FastifyInstance;
  config: Config;
  port: number;
  events: PoolEvents;
  startupMs: number;
  close(): Promise<void>;
}

/**
 * Builds the app as server.ts and test/helpers/app.ts do (Fastify(serverOptions(config)) + app),
 * with LOG_LEVEL=silent and the counting logger in place of pino, and listens on 127.0.0.1:0.
 * The environment may set any other variable of src/config.ts (WORKERS, CALL_TIMEOUT_MS…).
 */
export async function startService(): Promise<Service> {
  const started = performance.now();
  // Submissions are stored: in DATA_DIR if the environment names one, else in memory (a bench run leaves nothing behind).
  // The bench measures grading, not the rate limiter: one loopback client sends far more than 600 a minute.
  const config = loadConfig({ RATE_LIMIT_PER_MIN: "1000000", STORE: process.env.DATA_DIR === undefined ? "memory" : "sqlite", ...process.env, LOG_LEVEL: "silent", HOST: "127.0.0.1", PORT: "0" });
  const { logger: _pinoOptions, ...options } = serverOptions(config);
  const probe = probeLogger();
  const server = Fastify({ ...options, loggerInstance: probe.logger });
  // `app` is an encapsulated plugin: its decorators (sandbox, packs) live on its own instance.
  const contexts: FastifyInstance[] = [];
  server.addHook("onRegister", (instance) => {
    contexts.push(instance);
  });
  await server.register(app, { config });
  await server.ready();
  const inner = contexts.find((c) => c.hasDecorator("sandbox") && c.hasDecorator("packs"));
  if (inner === undefined) throw new Error("could not find the app's instance (with the sandbox and packs decorators)");
  await server.listen({ port: 0, host: "127.0.0.1" });
  const address = server.server.address();
  if (address === null || typeof address === "string") throw new Error("the server has no TCP address");
  return {
    app: server,
    inner,
    config,
    port: address.port,
    events: probe.events,
    startupMs: performance.now() - started,
    close: () => server.close(),
  };
}

// ---- submissions ------------------------------------------------------------------------------------------------

export function submissionBody(source: string): string {
  return JSON.stringify({ assignment: ASSIGNMENT, source });
}

export interface Graded {
  status: number;
  ms: number;
  feedback?: Feedback;
  error?: string;
}

// ---- /proc and memory -----------------------------------------------------------------------------------------

/** Direct children of a process (this one by default), from /proc; [] where unavailable. */
export async function childPids(pid = process.pid): Promise<number[]> {
  try {
    const text = await readFile(`/proc/${pid}/task/${pid}/children`, "utf8");
    return text.split(/\s+/).filter((s) => s !== "").map(Number);
  } catch {
    return [];
  }
}

export interface ProcMemory {
  pid: number;
  rssKb: number;
  hwmKb: number;
}

export async function procMemory(pid: number): Promise<ProcMemory | undefined> {
  try {
    const status = await readFile(`/proc/${pid}/status`, "utf8");
    const field = (name: string): number => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN);
    return { pid, rssKb: field("VmRSS"), hwmKb: field("VmHWM") };
  } catch {
    return undefined;
  }
}

/** Memory of the children of a process (the service's grading workers). */
export async function workersMemory(parentPid = process.pid): Promise<ProcMemory[]> {
  const pids = await childPids(parentPid);
  const all = await Promise.all(pids.map(procMemory));
  return all.filter((m): m is ProcMemory => m !== undefined && Number.isFinite(m.rssKb));
}

// ---- CPU accounting -------------------------------------------------------------------------------------------

export interface CpuMark {
  at: number;
  /** CPU of the whole machine, busy and total (all cores), ms. */
  machineBusyMs: number;
  machineTotalMs: number;
  /** CPU of this process and its children (live workers, and the reaped ones), ms. */
  treeMs: number;
}

const TICK_MS = 10; // USER_HZ is 100 on Linux

function statTicks(text: string): number[] {
  return text.slice(text.lastIndexOf(")") + 2).split(" ").map(Number);
}

/**
 * A CPU reading from /proc (undefined where there is none), of the process tree under `pid`: every live
 * process in it counts its own time and its reaped children's (cutime, cstime), so that a process that
 * exited is counted once, in its parent's, whichever level of the tree it ran at. Confined grading workers
 * are not the service's children (bubblewrap's processes sit between), and a recycled worker's time sits in
 * a bubblewrap process's cutime until that one is reaped in turn.
 */
export async function cpuMark(pid = process.pid): Promise<CpuMark | undefined> {
  try {
    const at = performance.now();
    const machine = (await readFile("/proc/stat", "utf8")).split("\n")[0]?.trim().split(/\s+/).slice(1).map(Number) ?? [];
    const total = machine.slice(0, 8).reduce((a, b) => a + b, 0);
    const idle = (machine[3] ?? 0) + (machine[4] ?? 0);
    // Fields 14–17 of /proc/<pid>/stat (utime, stime, cutime, cstime) are at 11–14 after the name.
    const self = statTicks(await readFile(`/proc/${pid}/stat`, "utf8"));
    let tree = (self[11] ?? 0) + (self[12] ?? 0) + (self[13] ?? 0) + (self[14] ?? 0);
    const seen = new Set([pid]);
    const queue = await childPids(pid);
    while (queue.length > 0) {
      const child = queue.shift() as number;
      if (seen.has(child)) continue;
      seen.add(child);
      try {
        const ticks = statTicks(await readFile(`/proc/${child}/stat`, "utf8"));
        tree += (ticks[11] ?? 0) + (ticks[12] ?? 0) + (ticks[13] ?? 0) + (ticks[14] ?? 0);
        queue.push(...(await childPids(child)));
      } catch {
        // exited between the listing and the read: counted in its parent's cutime once reaped
      }
    }
    return { at, machineBusyMs: (total - idle) * TICK_MS, machineTotalMs: total * TICK_MS, treeMs: tree * TICK_MS };
  } catch {
    return undefined;
  }
}

export interface CpuUse {
  /** Cores kept busy by the measured process tree (the service and its workers). */
  serviceCores: number;
  /** Cores kept busy by everything else on the machine: noise in the figures. */
  otherCores: number;
  machineBusyPct: number;
}

export function cpuUse(from: CpuMark | undefined, to: CpuMark | undefined): CpuUse | undefined {
  if (from === undefined || to === undefined) return undefined;
  const wall = to.at - from.at;
  const total = to.machineTotalMs - from.machineTotalMs;
  if (wall <= 0 || total <= 0) return undefined;
  const busy = to.machineBusyMs - from.machineBusyMs;
  const cores = total / wall; // /proc/stat counts every core
  const serviceCores = (to.treeMs - from.treeMs) / wall;
  const machineCores = (busy / total) * cores;
  return { serviceCores, otherCores: Math.max(0, machineCores - serviceCores), machineBusyPct: (100 * busy) / total };
}

export function describeCpu(use: CpuUse | undefined): string {
  return use === undefined ? "–" : `${fixed(use.serviceCores, 2)} / ${fixed(use.otherCores, 2)}`;
}

// ---- outcomes ---------------------------------------------------------------------------------------------------

/** "ok" for a 100/100 feedback, else what went wrong (HTTP 503, transport error, score 75…). */
export function honestOutcome(r: Graded): string {
  if (r.status === 0) return `transport: ${r.error ?? "?"}`.slice(0, 80);
  if (r.status !== 200) {
    let code = "";
    try {
      code = (JSON.parse(r.error ?? "{}") as { error?: { code?: string } }).error?.code ?? "";
    } catch {
      // not JSON: the status is enough
    }
    return `HTTP ${r.status}${code === "" ? "" : ` ${code}`}`;
  }
  const f = r.feedback;
  if (f === undefined) return "no feedback";
  if (f.status !== "graded") return `${f.status}: ${f.reason?.code ?? "?"}`;
  return f.score === 100 && f.maxScore === 100 ? "ok" : `score ${f.score}/${f.maxScore}`;
}

let gcFunction: (() => void) | undefined;

/** A full GC, when it can be had without a command-line flag (V8's --expose-gc set at run time). */
export function collectGarbage(): boolean {
  if (gcFunction === undefined) {
    try {
      setFlagsFromString("--expose-gc");
      gcFunction = runInNewContext("gc") as () => void;
    } catch {
      return false;
    }
  }
  gcFunction();
  return true;
}

export const mb = (bytes: number): number => Math.round((bytes / 1048576) * 10) / 10;
export const kbToMb = (kb: number): number => Math.round((kb / 1024) * 10) / 10;

// ---- statistics and printing ------------------------------------------------------------------------------------

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] as number;
}

export interface Summary {
  n: number;
  mean: number;
  min: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export function summarize(values: number[]): Summary {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  const sum = sorted.reduce((a, b) => a + b, 0);
  return {
    n: sorted.length,
    mean: sorted.length === 0 ? NaN : sum / sorted.length,
    min: sorted[0] ?? NaN,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1] ?? NaN,
  };
}

export function fixed(value: number, digits = 1): string {
  return Number.isFinite(value) ? value.toFixed(digits) : "–";
}

/** A plain-text table with right-aligned numeric columns. */
export function table(headers: string[], rows: Array<Array<string | number>>): string {
  const cells = rows.map((r) => r.map((c) => (typeof c === "number" ? (Number.isInteger(c) ? String(c) : fixed(c)) : c)));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]): string => r.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join("  ").trimEnd();
  return [line(headers), widths.map((w) => "-".repeat(w)).join("  "), ...cells.map(line)].join("\n");
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function machine(): Record<string, string | number> {
  const cpus = os.cpus();
  let ivmVersion = "?";
  let fastifyVersion = "?";
  try {
    ivmVersion = (JSON.parse(readFileSync(path.join(packageRoot, "node_modules/isolated-vm/package.json"), "utf8")) as { version: string }).version;
    fastifyVersion = (JSON.parse(readFileSync(path.join(packageRoot, "node_modules/fastify/package.json"), "utf8")) as { version: string }).version;
  } catch {
    // not installed where expected: reported as "?"
  }
  return {
    cpus: cpus.length,
    availableParallelism: os.availableParallelism(),
    cpuModel: cpus[0]?.model.trim() ?? "?",
    memoryGB: Math.round(os.totalmem() / 1024 ** 3),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    v8: process.versions.v8,
    isolatedVm: ivmVersion,
    fastify: fastifyVersion,
    execArgv: process.execArgv.join(" "),
  };
}

/** The settings that shape the figures. */
export function configSummary(config: Config, service: Service): Record<string, string | number> {
  const pack = service.inner.packs.get(ASSIGNMENT)?.pack;
  const calls = pack?.cases.length ?? 0;
  const gcn = pack?.cases.filter((c) => c.exercise === "gradient_check_n").length ?? 0;
  return {
    workers: config.workers,
    workerMaxGradings: config.workerMaxGradings,
    workerRssMb: config.workerRssMb,
    queueLength: config.queueLength,
    callTimeoutMs: config.limits.callTimeoutMs,
    evalTimeoutMs: config.limits.evalTimeoutMs,
    submissionWallMs: config.limits.submissionWallMs,
    isolateMemoryMb: config.limits.isolateMemoryMb,
    killGraceMs: config.killGraceMs,
    logLevel: config.logLevel,
    workload: `${ASSIGNMENT} reference solution: ${calls} calls per grading (${gcn}× gradient_check_n)`,
  };
}
