import { fork, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import type { Config, Limits } from "../config.js";
import type { Log } from "../logger.js";
import type { CallOutcome, LoadOutcome } from "./outcomes.js";
import { isWorkerMessage, type CheckVerdicts, type GradeJob, type JobBudget, type JobCall, type HelperModule, type JobPhases, type WorkerMessage } from "./protocol.js";
import { classifyCrash } from "./crash.js";
import { completeLostJob } from "./lost-job.js";
import { checkConfinement, CONFINEMENT_FIX, ConfinementError, confinementState, exitOfConfined, spawnConfined, type ConfinementMode, type ConfinementState } from "./confinement.js";

/**
 * Supervises the worker processes that run student code. The HTTP process never runs it.
 * Per submission it enforces a wall-clock deadline and an RSS cap from outside, kills a worker that
 * misses either or dies, answers the submission from what the worker had reported so far, and
 * replaces the worker. Workers are also recycled after `maxGradings`. Waiting submissions form a
 * bounded queue; past it, `run` refuses at once.
 */

export interface PoolOptions {
  size: number;
  maxGradings: number;
  rssMb: number;
  spawnTimeoutMs: number;
  killGraceMs: number;
  queueLength: number;
  resultMaxDepth: number;
  logger: Log;
  /** Told when a worker exits and when a job's report is complete (metrics); must not throw. */
  onEvent?: (event: PoolEvent) => void;
  /** The second wall (confinement.ts): "required" (the default) refuses to start without it. */
  confinement?: ConfinementMode;
  /** V8's JIT in workers (WORKER_JIT, resolved): "off" (the default) runs them --jitless. */
  jit?: "on" | "off";
}

export type WorkerState = "starting" | "idle" | "busy" | "retiring";

/** Why a worker process exited: bounded, for metrics. */
export type WorkerExitCause = "recycled" | "tainted" | "deadline" | "rss" | "out_of_memory" | "crashed" | "spawn_failed" | "shutdown";

export type PoolEvent =
  | { type: "worker-exit"; cause: WorkerExitCause }
  | { type: "job-done"; report: JobReport };

/** The pool the service runs, from its configuration (the CLI uses the same). */
export function poolOptions(config: Config, logger: Log): PoolOptions {
  return {
    size: config.workers,
    maxGradings: config.workerMaxGradings,
    rssMb: config.workerRssMb,
    spawnTimeoutMs: config.workerSpawnTimeoutMs,
    killGraceMs: config.killGraceMs,
    queueLength: config.queueLength,
    resultMaxDepth: config.resultMaxDepth,
    logger,
    confinement: config.confinement,
    jit: config.workerJit,
  };
}

export interface JobSpec {
  source: string;
  helpers: HelperModule[];
  keepGlobals: string[];
  calls: JobCall[];
  limits: Limits;
  /** CPU-time budgets learnt from the reference (the calls carry their own). */
  budget?: JobBudget;
}

export interface JobReport {
  load: LoadOutcome;
  loadOutput: string;
  /** `durationMs` is absent for calls that never reported (not run, or cut off by a dead worker). */
  /** `checks`: the worker's verdicts on output and arguments, for calls that asked for them. */
  /** `cpuMs`: the worker's CPU time during the call. */
  calls: Array<{ outcome: CallOutcome; output: string; durationMs?: number; cpuMs?: number; droppedOutput?: number; checks?: CheckVerdicts }>;
  droppedOutput: number;
  workerId: number;
  /** Why the worker was stopped or died during this job, if it was. */
  workerDeath?: string;
  durationMs: number;
  /** Where the time went in the worker, when it reported it. */
  phases?: JobPhases;
}

export class PoolError extends Error {
  constructor(readonly code: "queue_full" | "unavailable" | "closed", message: string, readonly retryAfterS = 1) {
    super(message);
  }
}

const RSS_POLL_MS = 100; // how often a busy worker's resident memory is read from /proc
const MAX_RESPAWN_DELAY_MS = 10_000;
const STDERR_TAIL_CHARS = 8192; // kept only to classify a crash; never logged or returned

interface ActiveJob {
  id: string;
  spec: JobSpec;
  report: Omit<JobReport, "durationMs" | "workerId">;
  loaded: boolean;
  callsDone: number;
  startedAt: number;
  /** A started job always ends in a report (a dead worker's too): it is never rejected. */
  resolve: (report: JobReport) => void;
  deadline?: NodeJS.Timeout;
  rssTimer?: NodeJS.Timeout;
  killedFor?: "deadline" | "rss";
}

interface Worker {
  id: number;
  child: ChildProcess;
  /** The worker's own pid on the host (under bubblewrap, child.pid is bubblewrap's). */
  pid?: number;
  /** Under bubblewrap: finds `pid` once the worker runs. */
  findPid?: () => Promise<number | undefined>;
  state: WorkerState;
  gradings: number;
  retiredFor?: "recycled" | "tainted";
  stderrTail: string;
  job?: ActiveJob;
  spawnTimer?: NodeJS.Timeout;
}

interface Waiting {
  spec: JobSpec;
  resolve: (report: JobReport) => void;
  reject: (error: Error) => void;
}

const workerScript = new URL("./worker.js", import.meta.url);

/**
 * Node flags of a worker. --no-node-snapshot is required wherever isolated-vm loads. --jitless (no executable
 * memory, no WebAssembly) shrinks what a V8 bug can reach. The JIT keeps WebAssembly off; it halved the
 * sandbox-only p50 under confinement on the development machine (bench/jit.ts), and WORKER_JIT=auto turns it
 * on where the second wall stands; it is off by default until the learnt budgets' margin is re-measured under it.
 */
export function workerExecArgv(jit: "on" | "off"): string[] {
  return jit === "on" ? ["--no-node-snapshot", "--no-expose-wasm"] : ["--no-node-snapshot", "--jitless"];
}

export class SandboxPool {
  private readonly workers = new Set<Worker>();
  private readonly queue: Waiting[] = [];
  private nextWorkerId = 1;
  private closing = false;
  private consecutiveSpawnFailures = 0;
  private averageGradingMs = 50;
  private respawnTimer: NodeJS.Timeout | undefined;
  private readonly confinement: ConfinementState;
  private readonly tools: { bwrap: string; prlimit: string } | undefined;
  private readonly execArgv: string[];

  constructor(private readonly options: PoolOptions) {
    const mode = options.confinement ?? "required";
    if (mode === "required") {
      const check = checkConfinement();
      if ("error" in check) {
        throw new ConfinementError(`CONFINEMENT=required, but grading workers cannot be confined: ${check.error}. ${CONFINEMENT_FIX}`);
      }
      this.tools = check.tools;
      this.confinement = confinementState(mode, check.execve);
      if (check.execve.execve === "allowed") options.logger.warn({ confinement: "required", execve: "allowed" }, `grading workers can call execve: ${check.execve.execveReason}`);
    } else {
      this.confinement = confinementState(mode);
      options.logger.warn({ confinement: "off" }, `${this.confinement.warning}. Set CONFINEMENT=required for untrusted submissions.`);
    }
    this.execArgv = workerExecArgv(options.jit ?? "off");
    for (let i = 0; i < options.size; i++) this.spawn();
  }

  /**
   * Resolves once every worker is ready (or, past the spawn timeout, at least one), or rejects if none can start.
   * Waiting for all of them matters: the pack self-test that follows grades with one lane per worker, and with
   * QUEUE_LENGTH=0 a lane that found its worker still starting was refused queue_full, failing the service's start.
   */
  async ready(): Promise<void> {
    const started = Date.now();
    for (;;) {
      const ready = [...this.workers].filter((w) => w.state === "idle" || w.state === "busy").length;
      if (ready >= this.options.size) return;
      const late = Date.now() - started > this.options.spawnTimeoutMs;
      if (late && ready > 0) return;
      if (this.closing) throw new PoolError("closed", "the sandbox pool is closed");
      if (late) throw new PoolError("unavailable", "no grading worker could be started");
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  stats(): { workers: number; ready: number; busy: number; queued: number; healthy: boolean } {
    const all = [...this.workers];
    const busy = all.filter((w) => w.state === "busy").length;
    const ready = all.filter((w) => w.state === "idle").length + busy;
    // Healthy while it can grade, now or as soon as a worker that is starting is ready.
    const starting = all.filter((w) => w.state === "starting").length;
    const healthy = !this.closing && (ready > 0 || (starting > 0 && this.consecutiveSpawnFailures === 0));
    return { workers: all.length, ready, busy, queued: this.queue.length, healthy };
  }

  /** How many workers are in each state now (for metrics). */
  workerStates(): Record<WorkerState, number> {
    const counts: Record<WorkerState, number> = { starting: 0, idle: 0, busy: 0, retiring: 0 };
    for (const worker of this.workers) counts[worker.state]++;
    return counts;
  }

  /** The confinement in force around every worker (reported by /health). */
  confinementState(): ConfinementState {
    return this.confinement;
  }

  /** Whether workers run with V8's JIT (reported by /health). */
  jitEnabled(): boolean {
    return !this.execArgv.includes("--jitless");
  }

  /** The host pids of the ready workers (tests read their /proc from outside). */
  workerPids(): number[] {
    return [...this.workers].filter((w) => w.state === "idle" || w.state === "busy").map((w) => w.pid ?? w.child.pid ?? 0);
  }

  /**
   * Grades a job on the next free worker. `internal` jobs (a pack's self-test) wait their turn like
   * any other but are never refused for a full queue: an install or a start must not fail because
   * students are submitting.
   */
  run(spec: JobSpec, options: { internal?: boolean } = {}): Promise<JobReport> {
    if (this.closing) return Promise.reject(new PoolError("closed", "the service is shutting down"));
    return new Promise((resolve, reject) => {
      const idle = [...this.workers].find((w) => w.state === "idle");
      if (idle !== undefined) {
        this.dispatch(idle, { spec, resolve, reject });
        return;
      }
      if (options.internal !== true && this.queue.length >= this.options.queueLength) {
        const waitMs = ((this.queue.length + this.options.size) * this.averageGradingMs) / this.options.size;
        reject(new PoolError("queue_full", "the grading queue is full", Math.max(1, Math.ceil(waitMs / 1000))));
        return;
      }
      this.queue.push({ spec, resolve, reject });
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    clearTimeout(this.respawnTimer);
    for (const waiting of this.queue.splice(0)) waiting.reject(new PoolError("closed", "the service is shutting down"));
    const exits = [...this.workers].map((w) => this.stop(w));
    await Promise.all(exits);
  }

  private spawn(): void {
    if (this.closing) return;
    const { execArgv } = this;
    // No secrets (ADMIN_TOKEN…) in the process that runs student code, even though the isolate cannot read them.
    const confined = this.tools === undefined ? undefined : spawnConfined([...execArgv, fileURLToPath(workerScript)], this.tools);
    const child = confined?.child ?? fork(workerScript, [], { execArgv, env: {}, stdio: ["ignore", "ignore", "pipe", "ipc"], serialization: "json" });
    const worker: Worker = { id: this.nextWorkerId++, child, state: "starting", gradings: 0, stderrTail: "" };
    if (confined === undefined) worker.pid = child.pid;
    else worker.findPid = confined.hostPid;
    this.workers.add(worker);
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (chunk: string) => {
      worker.stderrTail = (worker.stderrTail + chunk).slice(-STDERR_TAIL_CHARS);
    });
    child.on("message", (message: unknown) => this.onMessage(worker, message));
    child.on("exit", (code, signal) => this.onExit(worker, code, signal));
    child.on("error", (error) => this.options.logger.error({ workerId: worker.id, err: error }, "grading worker error"));
    worker.spawnTimer = setTimeout(() => {
      if (worker.state === "starting") {
        this.options.logger.error({ workerId: worker.id }, "grading worker did not become ready in time");
        child.kill("SIGKILL");
      }
    }, this.options.spawnTimeoutMs);
  }

  private onMessage(worker: Worker, message: unknown): void {
    if (!isWorkerMessage(message)) {
      this.options.logger.error({ workerId: worker.id }, "grading worker sent an invalid message; killing it");
      worker.child.kill("SIGKILL");
      return;
    }
    const msg = message as WorkerMessage;
    if (msg.type === "ready" && worker.findPid !== undefined && worker.pid === undefined) {
      // Ready once its host pid is known, so that the RSS cap applies from its first grading.
      const findPid = worker.findPid;
      worker.findPid = undefined;
      void findPid().then((pid) => {
        worker.pid = pid;
        if (pid === undefined) this.options.logger.warn({ workerId: worker.id }, "could not find a confined worker's pid: its RSS is not watched");
        this.onMessage(worker, message);
      });
      return;
    }
    if (msg.type === "ready") {
      clearTimeout(worker.spawnTimer);
      this.consecutiveSpawnFailures = 0;
      worker.state = "idle";
      this.options.logger.debug({ workerId: worker.id, pid: msg.pid }, "grading worker ready");
      this.pump(worker);
      return;
    }
    const job = worker.job;
    if (job === undefined || msg.jobId !== job.id) return;
    if (msg.type === "loaded") {
      job.loaded = true;
      job.report.load = msg.outcome;
      job.report.loadOutput = msg.output;
      job.report.droppedOutput += msg.dropped;
    } else if (msg.type === "call") {
      if (msg.index >= job.spec.calls.length) return;
      job.report.calls[msg.index] = { outcome: msg.outcome, output: msg.output, durationMs: msg.ms, ...(msg.cpuMs !== undefined ? { cpuMs: msg.cpuMs } : {}), droppedOutput: msg.dropped, ...(msg.checks !== undefined ? { checks: msg.checks } : {}) };
      job.report.droppedOutput += msg.dropped;
      job.callsDone = msg.index + 1;
    } else {
      if (msg.phases !== undefined) job.report.phases = msg.phases;
      this.finish(worker, job);
      worker.gradings++;
      if (msg.tainted || worker.gradings >= this.options.maxGradings) {
        this.retire(worker, msg.tainted ? "tainted" : "recycled");
      } else {
        worker.state = "idle";
        this.pump(worker);
      }
    }
  }

  private onExit(worker: Worker, exitCode: number | null, exitSignal: NodeJS.Signals | null): void {
    const { code, signal } = this.tools === undefined ? { code: exitCode, signal: exitSignal } : exitOfConfined(exitCode, exitSignal);
    clearTimeout(worker.spawnTimer);
    this.workers.delete(worker);
    const job = worker.job;
    this.emit({ type: "worker-exit", cause: this.exitCause(worker) });
    if (job !== undefined) {
      const why = job.killedFor === "deadline"
        ? `killed: missed the ${job.spec.limits.submissionWallMs} ms deadline`
        : job.killedFor === "rss"
          ? `killed: resident memory over ${this.options.rssMb} MB`
          : `died: ${signal ?? `exit code ${code}`} (${classifyCrash(worker.stderrTail)})`;
      completeLostJob(job, why, { memoryFault: classifyCrash(worker.stderrTail) === "out of memory", rssMb: this.options.rssMb });
      this.finish(worker, job);
      this.options.logger.warn({ workerId: worker.id, reason: why }, "grading worker stopped during a grading");
    } else if (worker.state === "starting") {
      this.consecutiveSpawnFailures++;
      this.options.logger.error({ workerId: worker.id, code, signal, failures: this.consecutiveSpawnFailures }, "grading worker failed to start");
    }
    if (this.closing) return;
    if (this.consecutiveSpawnFailures > 0) {
      if (![...this.workers].some((w) => w.state !== "retiring")) {
        for (const waiting of this.queue.splice(0)) waiting.reject(new PoolError("unavailable", "grading workers cannot be started"));
      }
      const delay = Math.min(MAX_RESPAWN_DELAY_MS, 250 * 2 ** this.consecutiveSpawnFailures);
      clearTimeout(this.respawnTimer);
      this.respawnTimer = setTimeout(() => this.refill(), delay);
    } else {
      this.refill();
    }
  }

  private exitCause(worker: Worker): WorkerExitCause {
    if (worker.retiredFor !== undefined) return worker.retiredFor;
    if (worker.job?.killedFor !== undefined) return worker.job.killedFor;
    if (this.closing) return "shutdown";
    if (worker.state === "starting") return "spawn_failed";
    return classifyCrash(worker.stderrTail) === "out of memory" ? "out_of_memory" : "crashed";
  }

  private emit(event: PoolEvent): void {
    try {
      this.options.onEvent?.(event);
    } catch (error) {
      this.options.logger.error({ err: error }, "a pool event listener threw");
    }
  }

  private refill(): void {
    const live = [...this.workers].filter((w) => w.state !== "retiring").length;
    for (let i = live; i < this.options.size; i++) this.spawn();
  }

  private pump(worker: Worker): void {
    const next = this.queue.shift();
    if (next !== undefined) this.dispatch(worker, next);
  }

  private dispatch(worker: Worker, waiting: Waiting): void {
    const { spec } = waiting;
    const job: ActiveJob = {
      id: randomUUID(),
      spec,
      report: {
        load: { kind: "crashed", detail: "the worker stopped before loading the submission" },
        loadOutput: "",
        calls: [],
        droppedOutput: 0,
      },
      loaded: false,
      callsDone: 0,
      startedAt: Date.now(),
      resolve: waiting.resolve,
    };
    worker.state = "busy";
    worker.job = job;
    const message: GradeJob = {
      type: "grade",
      jobId: job.id,
      source: spec.source,
      helpers: spec.helpers,
      keepGlobals: spec.keepGlobals,
      calls: spec.calls,
      limits: spec.limits,
      killGraceMs: this.options.killGraceMs,
      resultMaxDepth: this.options.resultMaxDepth,
      ...(spec.budget !== undefined ? { budget: spec.budget } : {}),
      last: worker.gradings + 1 >= this.options.maxGradings,
    };
    // The worker enforces the limits itself; this deadline is for when it cannot (a wedged thread).
    job.deadline = setTimeout(() => this.kill(worker, "deadline"), spec.limits.submissionWallMs + 2 * this.options.killGraceMs);
    job.rssTimer = setInterval(() => void this.checkRss(worker), RSS_POLL_MS);
    worker.child.send(message, (error) => {
      if (error) this.kill(worker, "deadline");
    });
  }

  private async checkRss(worker: Worker): Promise<void> {
    const pid = worker.pid;
    if (pid === undefined || worker.job === undefined) return;
    try {
      const status = await readFile(`/proc/${pid}/status`, "utf8");
      const kb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0);
      if (kb > this.options.rssMb * 1024) this.kill(worker, "rss");
    } catch {
      // No /proc (not Linux) or the process is gone: the deadline still applies.
    }
  }

  private kill(worker: Worker, reason: "deadline" | "rss"): void {
    if (worker.job !== undefined && worker.job.killedFor === undefined) worker.job.killedFor = reason;
    worker.child.kill("SIGKILL");
  }

  private finish(worker: Worker, job: ActiveJob): void {
    clearTimeout(job.deadline);
    clearInterval(job.rssTimer);
    worker.job = undefined;
    const durationMs = Date.now() - job.startedAt;
    this.averageGradingMs = 0.9 * this.averageGradingMs + 0.1 * durationMs;
    const report = { ...job.report, workerId: worker.id, durationMs };
    this.emit({ type: "job-done", report });
    job.resolve(report);
  }

  private retire(worker: Worker, reason: "recycled" | "tainted"): void {
    worker.state = "retiring";
    worker.retiredFor = reason;
    this.options.logger.debug({ workerId: worker.id, reason, gradings: worker.gradings }, "retiring grading worker");
    // The replacement starts now, not once the old one has exited, so a one-worker pool is not left empty.
    this.spawn();
    worker.child.kill("SIGKILL");
  }

  private stop(worker: Worker): Promise<void> {
    return new Promise((resolve) => {
      if (worker.child.exitCode !== null || worker.child.signalCode !== null) {
        resolve();
        return;
      }
      worker.child.once("exit", () => resolve());
      worker.child.kill("SIGKILL");
    });
  }
}
