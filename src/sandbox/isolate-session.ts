import ivm from "isolated-vm";
import type { CallOutcome, WorkerLoadOutcome } from "./outcomes.js";
import { preludeSource, type PreludeOptions } from "./prelude.js";
import type { Limits } from "../config.js";
import type { HelperModule, JobBudget } from "./protocol.js";
import { SUBMISSION_URL, TEXT_LIMITS } from "./constants.js";
import { decodeSpecifier } from "./specifiers.js";

/**
 * The host side of one isolate, used inside a worker process: the other half of the trust boundary
 * (prelude.ts is the half inside). What crosses it: source strings in; the prelude's harness, called
 * with strings; strings out. Never a host Reference, Callback or ExternalCopy, never cachedData.
 *
 * isolated-vm pitfalls this file works around (5.0.4):
 * - A thrown value or an unhandled rejection is copied by reading its `message`/`stack` on the
 *   calling thread with no timeout, so a spinning getter hangs it. All student code therefore runs
 *   through the async API, and a watchdog disposes the isolate when a call overruns its limit by
 *   KILL_GRACE_MS. A disposed isolate's thread is not always stopped, so the session is then
 *   "tainted" and the worker exits after answering.
 * - `timeout` does not cover waiting on promises: the prelude resolves promises within the call's
 *   microtask drain, and a promise still pending after it can never settle (there are no timers).
 * - `instantiate` (async) with a throwing resolver can crash; `instantiateSync` is used and the
 *   resolver never throws because every import is checked beforehand.
 */

const SUBMISSION_SPECIFIER = "gradebox:submission";
// isolated-vm's timeout and Date.now() may disagree by a clock tick; a timeout error that comes sooner
// than the limit minus this was thrown by the student (see classify).
const TIMER_SLACK_MS = 5;
// How often a running call's CPU time is read against its budget: a call overruns its budget by about this much.
const CPU_POLL_MS = 5;
// Evaluating this module evaluates the submission; `done` is initialised only once the submission's
// top-level code (await included) has finished, and `submission` hands its exports to the harness.
const PROBE_SOURCE = `import * as submission from ${JSON.stringify(SUBMISSION_SPECIFIER)};\nexport { submission };\nexport const done = true;\n`;

export interface LoadRequest {
  source: string;
  helpers: HelperModule[];
}

type Guarded<T> =
  | { ok: true; value: T }
  | { ok: false; fault: "timeout" }
  /** The operation overran its budget of CPU time, and the isolate was stopped. */
  | { ok: false; fault: "cpu" }
  | { ok: false; fault: "memory" }
  | { ok: false; fault: "error"; name: string; message: string; stack: string };

/**
 * What an isolate is set up with before any submission's code runs. A session prepared ahead of its job
 * (while the worker is idle) is used only if the job asks for the same setup; it is still fresh: no
 * submission has run in it.
 */
export interface SessionSetup {
  isolateMemoryMb: number;
  prelude: PreludeOptions;
}

export function sessionSetup(limits: Limits, resultMaxDepth: number, keepGlobals: string[]): SessionSetup {
  return {
    isolateMemoryMb: limits.isolateMemoryMb,
    prelude: { outputLimit: limits.outputKiB * 1024, resultLimit: limits.resultKiB * 1024, maxDepth: resultMaxDepth, keepGlobals: [...keepGlobals], textLimits: TEXT_LIMITS },
  };
}

export function sameSetup(a: SessionSetup, b: SessionSetup): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** How long a session's own steps took (ms), for the benchmark's phases. */
export interface SessionTimings {
  isolateMs: number;
  /** Creating the context and evaluating the prelude in it. */
  contextMs: number;
  /** Compiling, linking and evaluating the submission and its helpers. */
  loadMs: number;
  /** The worker's CPU time during the load, once the job has run it. */
  loadCpuMs?: number;
}

/**
 * V8 code cache of the prelude, produced by this process from its own prelude text (never received from
 * anyone; nothing of a submission has run when it is made), keyed by the exact script text.
 */
const preludeCache = new Map<string, ivm.ExternalCopy<ArrayBuffer>>();
const PRELUDE_CACHE_ENTRIES = 8;

export class IsolateSession {
  /** True once the isolate was disposed while student code may still be running on its thread. */
  tainted = false;
  /** True once a call or the load overran its CPU budget and the isolate was stopped for it. */
  cpuStopped = false;
  readonly timings: SessionTimings = { isolateMs: 0, contextMs: 0, loadMs: 0 };
  private readonly isolate: ivm.Isolate;
  private context: ivm.Context | undefined;
  /** The prelude's harness function: called with strings (and once the submission's namespace), it answers strings. */
  private harness: ivm.Reference | undefined;
  private preludeFault: string | undefined;
  private lost: "timeout" | "memory" | undefined;
  private limits: Limits;
  private deadline: number;
  /** The worker's resident memory when this session began, to tell a memory bomb from a spin. */
  private rssAtStart: number;
  /** CPU-time budgets of the job (learnt from the reference), and the CPU time its earlier sessions used. */
  private budget: JobBudget | undefined;
  /** CPU ms of the job's load and calls so far, this session's and earlier sessions'. */
  private cpuSpent = 0;
  /** The CPU time (ms) of the last load or call. */
  lastCpuMs = 0;

  private constructor(
    limits: Limits,
    private readonly killGraceMs: number,
  ) {
    const started = performance.now();
    this.limits = limits;
    this.isolate = new ivm.Isolate({ memoryLimit: limits.isolateMemoryMb });
    this.timings.isolateMs = performance.now() - started;
    this.deadline = Date.now() + limits.submissionWallMs;
    this.rssAtStart = process.memoryUsage.rss();
  }

  /**
   * A session whose isolate, context and prelude are ready, made before its job arrives (or when it
   * does). No submission's code runs in it before `begin` and `load`.
   */
  static async prepare(setup: SessionSetup, limits: Limits, killGraceMs: number): Promise<IsolateSession> {
    const session = new IsolateSession({ ...limits, isolateMemoryMb: setup.isolateMemoryMb }, killGraceMs);
    await session.setUp(setup.prelude);
    return session;
  }

  /**
   * Starts the job's wall-clock budget, CPU budgets and memory baseline: call it when the job starts. A session
   * that takes over a job (after a call overran its CPU budget) keeps the job's deadline and CPU time used.
   */
  begin(limits: Limits, options: { budget?: JobBudget; deadline?: number; cpuUsedMs?: number } = {}): void {
    this.limits = limits;
    this.deadline = options.deadline ?? Date.now() + limits.submissionWallMs;
    this.rssAtStart = process.memoryUsage.rss();
    this.budget = options.budget;
    this.cpuSpent = options.cpuUsedMs ?? 0;
  }

  /** The job's wall-clock deadline (Date.now() scale). */
  get jobDeadline(): number {
    return this.deadline;
  }

  /** CPU time (ms) the job has used in isolates so far, earlier sessions included. */
  cpuUsedMs(): number {
    return this.cpuSpent;
  }

  /**
   * CPU time is read from the worker process (all its threads), not from the isolate: isolated-vm's
   * `cpuTime` counts a running isolate's time by the clock (a thread's CPU clock can only be read once
   * it pauses), so it would fail an honest call on a busy machine just as a wall-clock limit does. The
   * process runs one job at a time and its main thread waits while a call runs, so nearly all of its CPU
   * time during a call is the call's (garbage collection included).
   */
  private cpuTime(): number {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1000;
  }

  /** Creates the context and runs the prelude in it; `prepare` does it once, before any submission's code. */
  private async setUp(options: PreludeOptions): Promise<void> {
    const started = performance.now();
    const { limits } = this;
    const context = await this.isolate.createContext();
    this.context = context;
    const code = `${preludeSource}(${JSON.stringify(options)})`;
    const cachedData = preludeCache.get(code);
    const prelude = await this.guard(async () => {
      const script: ivm.Script & ivm.CachedDataResult & { cachedDataRejected?: boolean } = await this.isolate.compileScript(code, { filename: "file:///gradebox-prelude.js", cachedData, produceCachedData: cachedData === undefined });
      if (script.cachedDataRejected === true) preludeCache.delete(code);
      else if (cachedData === undefined && script.cachedData !== undefined && preludeCache.size < PRELUDE_CACHE_ENTRIES) preludeCache.set(code, script.cachedData);
      return script.run(context, { reference: true, timeout: limits.evalTimeoutMs });
    }, limits.evalTimeoutMs);
    if (prelude.ok) this.harness = prelude.value as ivm.Reference;
    else this.preludeFault = `prelude: ${describeFault(prelude)}`;
    this.timings.contextMs = performance.now() - started;
  }

  async load(request: LoadRequest): Promise<WorkerLoadOutcome> {
    const started = performance.now();
    const cpuStarted = this.cpuTime();
    try {
      return await this.loadModules(request);
    } finally {
      this.timings.loadMs = performance.now() - started;
      this.lastCpuMs = this.cpuTime() - cpuStarted;
      this.cpuSpent += this.lastCpuMs;
    }
  }

  private async loadModules(request: LoadRequest): Promise<WorkerLoadOutcome> {
    const { limits } = this;
    const context = this.context as ivm.Context;
    if (this.harness === undefined) return { kind: "crashed", detail: this.preludeFault ?? "prelude: not run" };

    let submission: ivm.Module;
    try {
      submission = this.isolate.compileModuleSync(request.source, { filename: SUBMISSION_URL });
    } catch (error) {
      return syntaxError(error);
    }
    const modules = new Map<string, ivm.Module>([[SUBMISSION_SPECIFIER, submission]]);
    for (const helper of request.helpers) {
      modules.set(helper.specifier, this.isolate.compileModuleSync(helper.source, { filename: `file:///${helper.specifier}.mjs` }));
    }
    const allowed = request.helpers.map((h) => h.specifier);
    for (const specifier of submission.dependencySpecifiers.map(decodeSpecifier)) {
      if (!allowed.includes(specifier)) return { kind: "forbidden-import", specifier, allowed };
    }
    for (const helper of request.helpers) {
      const bad = modules.get(helper.specifier)?.dependencySpecifiers.map(decodeSpecifier).find((s) => !allowed.includes(s));
      if (bad !== undefined) return { kind: "link-error", message: `helper module '${helper.specifier}' imports '${bad}', which is not a helper of this assignment` };
    }
    const probe = this.isolate.compileModuleSync(PROBE_SOURCE, { filename: "file:///gradebox-probe.mjs" });
    try {
      // Every specifier was checked above, so this resolver never throws.
      probe.instantiateSync(context, (specifier) => modules.get(decodeSpecifier(specifier)) as ivm.Module);
    } catch (error) {
      return { kind: "link-error", message: hostErrorText(error).message };
    }

    const cpuBudget = this.budget === undefined ? undefined : Math.min(this.budget.loadMs, limits.evalTimeoutMs);
    const evaluated = await this.guard(() => probe.evaluate({ timeout: limits.evalTimeoutMs }), limits.evalTimeoutMs, cpuBudget);
    if (!evaluated.ok) return loadFault(evaluated, limits, cpuBudget);
    const bound = await this.harnessCall(["bind", probe.namespace.derefInto()], limits.evalTimeoutMs);
    if (!bound.ok) return loadFault(bound, limits);
    if (bound.value !== "ok") return { kind: "never-settled" };
    return { kind: "loaded" };
  }

  /**
   * Calls one export with JSON-encoded arguments; never throws for anything the student does. With
   * `watchArgs`, a value outcome carries the arguments as the call left them (read by the prelude).
   */
  async call(exportName: string, argsJson: string, watchArgs = false, budgetMs?: number): Promise<CallOutcome> {
    this.lastCpuMs = 0;
    if (this.lost !== undefined || this.harness === undefined) return { kind: "not-run", reason: "sandbox-lost" };
    const remaining = this.deadline - Date.now();
    if (remaining <= 0) return { kind: "not-run", reason: "budget" };
    const cpuLeft = this.budget === undefined ? undefined : this.budget.totalMs - this.cpuUsedMs();
    if (cpuLeft !== undefined && cpuLeft <= 0) return { kind: "not-run", reason: "budget" };
    const limitMs = Math.min(this.limits.callTimeoutMs, remaining);
    // The CPU budget: the call's own, within what is left of the job's, and never above the wall-clock limit.
    const cpuBudget = budgetMs === undefined && cpuLeft === undefined ? undefined : Math.min(budgetMs ?? Infinity, cpuLeft ?? Infinity, limitMs);
    const cpuStarted = this.cpuTime();
    let result = await this.harnessCall(["invoke", exportName, argsJson, watchArgs], limitMs, cpuBudget);
    if (result.ok && result.value === '{"kind":"pending"}') {
      const used = this.cpuTime() - cpuStarted;
      result = await this.harnessCall(["settle"], limitMs, cpuBudget === undefined ? undefined : Math.max(0, cpuBudget - used));
    }
    this.lastCpuMs = this.cpuTime() - cpuStarted;
    this.cpuSpent += this.lastCpuMs;
    if (!result.ok) {
      if (result.fault === "cpu") return { kind: "timeout", limitMs: Math.round(cpuBudget ?? limitMs) };
      if (result.fault === "timeout") return { kind: "timeout", limitMs };
      if (result.fault === "memory") return { kind: "memory", limitMb: this.limits.isolateMemoryMb };
      // The call itself returned, but isolated-vm then reported a promise the student left rejected.
      return { kind: "threw", during: "call", error: { name: result.name, message: result.message, stack: result.stack } };
    }
    return JSON.parse(result.value) as CallOutcome;
  }

  /** Console output since the last take (bounded by the prelude). */
  async takeOutput(): Promise<{ text: string; dropped: number }> {
    if (this.lost !== undefined || this.harness === undefined) return { text: "", dropped: 0 };
    const result = await this.harnessCall(["output"], this.limits.callTimeoutMs);
    return result.ok ? (JSON.parse(result.value) as { text: string; dropped: number }) : { text: "", dropped: 0 };
  }

  dispose(): void {
    if (!this.isolate.isDisposed) this.isolate.dispose();
  }

  private async harnessCall(args: unknown[], limitMs: number, cpuBudgetMs?: number): Promise<Guarded<string>> {
    const harness = this.harness as ivm.Reference;
    return this.guard(async () => {
      const value: unknown = await harness.apply(undefined, args as never[], { timeout: limitMs });
      if (typeof value !== "string") throw new Error("the harness returned a non-string");
      return value;
    }, limitMs, cpuBudgetMs);
  }

  /**
   * Runs an isolate operation under its own timeout plus a watchdog: isolated-vm's timeout does not
   * cover the copying of thrown values, where student getters can spin.
   */
  private async guard<T>(operation: () => Promise<T>, limitMs: number, cpuBudgetMs?: number): Promise<Guarded<T>> {
    let timer: NodeJS.Timeout | undefined;
    let cpuTimer: NodeJS.Timeout | undefined;
    const started = Date.now();
    const watchdog = new Promise<"watchdog">((resolve) => {
      timer = setTimeout(() => resolve("watchdog"), limitMs + this.killGraceMs);
    });
    // isolated-vm's timeout counts the clock; a budget of CPU time is read here, from the worker's CPU time
    // (cpuTime above), and an overrun stops the isolate (it has no other way to stop running code than disposing).
    const cpuStarted = this.cpuTime();
    const overrun = cpuBudgetMs === undefined ? undefined : new Promise<"cpu">((resolve) => {
      cpuTimer = setInterval(() => {
        if (this.cpuTime() - cpuStarted >= cpuBudgetMs) resolve("cpu");
      }, Math.max(1, Math.min(CPU_POLL_MS, cpuBudgetMs / 4)));
    });
    const running = operation().then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    );
    try {
      const settled = await Promise.race(overrun === undefined ? [running, watchdog] : [running, watchdog, overrun]);
      if (settled === "cpu") {
        // As for the watchdog below: a worker that grew by the isolate's whole heap limit was filling memory.
        if ((process.memoryUsage.rss() - this.rssAtStart) / (1024 * 1024) >= this.limits.isolateMemoryMb) {
          this.lose("memory");
          return { ok: false, fault: "memory" };
        }
        this.cpuStopped = true;
        this.lose("timeout");
        // Disposing stops plain JavaScript at once; a thread still busy past the grace (in C++) taints the worker.
        const stopped = await Promise.race([running.then(() => true), new Promise<false>((resolve) => setTimeout(() => resolve(false), this.killGraceMs))]);
        if (!stopped) this.tainted = true;
        return { ok: false, fault: "cpu" };
      }
      if (settled === "watchdog") {
        this.tainted = true;
        // Some allocations (new Array(1e8).fill(0)) run in C++ and garbage collection that the
        // timeout cannot interrupt; on a busy machine the watchdog may fire before V8 gives up on
        // memory. A worker that grew by the isolate's whole heap limit was stopped for memory.
        const grewMb = (process.memoryUsage.rss() - this.rssAtStart) / (1024 * 1024);
        const fault = grewMb >= this.limits.isolateMemoryMb ? "memory" : "timeout";
        this.lose(fault);
        return { ok: false, fault };
      }
      if ("value" in settled) return { ok: true, value: settled.value };
      return this.classify(settled.error, Date.now() - started >= limitMs - TIMER_SLACK_MS);
    } finally {
      clearTimeout(timer);
      clearInterval(cpuTimer);
    }
  }

  /**
   * Tells isolated-vm's own errors from the student's. A student can throw (or leave rejected) an Error
   * whose message is isolated-vm's, so the message alone is not believed: a real memory-limit error
   * comes with the isolate disposed, and a real timeout only once the limit has elapsed.
   */
  private classify(error: unknown, limitElapsed: boolean): Guarded<never> {
    const { name, message, stack } = hostErrorText(error);
    if (message.includes("memory limit") && this.isolate.isDisposed) {
      this.lose("memory");
      return { ok: false, fault: "memory" };
    }
    if (message === "Script execution timed out." && limitElapsed) return { ok: false, fault: "timeout" };
    if (this.isolate.isDisposed) {
      this.lose("timeout");
      return { ok: false, fault: "timeout" };
    }
    return { ok: false, fault: "error", name, message, stack };
  }

  private lose(why: "timeout" | "memory"): void {
    this.lost ??= why;
    if (why === "memory") this.tainted = true;
    this.dispose();
  }
}

function loadFault(fault: Exclude<Guarded<unknown>, { ok: true }>, limits: Limits, cpuBudgetMs?: number): WorkerLoadOutcome {
  if (fault.fault === "cpu") return { kind: "timeout", limitMs: Math.round(cpuBudgetMs ?? limits.evalTimeoutMs) };
  if (fault.fault === "timeout") return { kind: "timeout", limitMs: limits.evalTimeoutMs };
  if (fault.fault === "memory") return { kind: "memory", limitMb: limits.isolateMemoryMb };
  return { kind: "threw", error: { name: fault.name, message: fault.message, stack: fault.stack } };
}

function describeFault(fault: Exclude<Guarded<unknown>, { ok: true }>): string {
  return fault.fault === "error" ? `${fault.name}: ${fault.message}` : fault.fault === "cpu" ? "timeout" : fault.fault;
}

/**
 * Reads an error that isolated-vm created on the host. Its fields are plain strings copied out of
 * the isolate (no student code runs here), but they can be long, so they are cut.
 */
function hostErrorText(error: unknown): { name: string; message: string; stack: string } {
  if (error instanceof Error) {
    return {
      name: String(error.name).slice(0, TEXT_LIMITS.errorName),
      message: String(error.message).slice(0, TEXT_LIMITS.errorMessage),
      stack: String(error.stack ?? "").slice(0, TEXT_LIMITS.errorStack),
    };
  }
  return { name: "Error", message: String(error).slice(0, TEXT_LIMITS.errorMessage), stack: "" };
}

/** Where isolated-vm puts a compile error's position: "SyntaxError: … [file:///submission.mjs:LINE:COLUMN]". */
const SYNTAX_ERROR_AT = new RegExp(`\\s*\\[${SUBMISSION_URL.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}:(\\d+):(\\d+)\\]\\s*$`);

function syntaxError(error: unknown): WorkerLoadOutcome {
  const { message } = hostErrorText(error);
  const at = SYNTAX_ERROR_AT.exec(message);
  if (at === null) return { kind: "syntax-error", message };
  return { kind: "syntax-error", message: message.slice(0, at.index), line: Number(at[1]), column: Number(at[2]) };
}
