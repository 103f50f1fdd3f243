/**
 * The service under test, in its own process (forked by bench.ts with --no-node-snapshot, as
 * `npm start` runs it): the real app on 127.0.0.1 with an ephemeral port, LOG_LEVEL silent, and every
 * other setting from the environment. Keeping it apart from the load generator keeps autocannon off the
 * service's event loop and makes the service's RSS its own.
 *
 * It answers bench.ts over IPC: `info`, `stats` (gradings so far, pool, memory), `sandbox` (N gradings
 * through the grading core, `grade()`, without HTTP) and `close`.
 */
import { grade } from "../src/grading/grade.js";
import type { Feedback } from "../src/grading/feedback.js";
import type { JobPhases } from "../src/sandbox/protocol.js";
import type { JobReport, JobSpec } from "../src/sandbox/pool.js";
import { ASSIGNMENT, collectGarbage, configSummary, referenceSource, startService } from "./lib.js";

export type ServiceRequest =
  | { id: number; cmd: "info" }
  | { id: number; cmd: "stats"; gc?: boolean }
  | { id: number; cmd: "sandbox"; n: number; warmup: number }
  | { id: number; cmd: "close" };

export interface ServiceInfo {
  pid: number;
  port: number;
  startupMs: number;
  workers: number;
  config: Record<string, string | number>;
  limits: { callTimeoutMs: number; evalTimeoutMs: number; submissionWallMs: number; isolateMemoryMb: number; killGraceMs: number; workerRssMb: number };
  /** The settings issue #18 compares, as the service read them, and what is in force in its pool. */
  settings: ServiceSettings;
}

export interface ServiceSettings {
  /** WORKER_JIT as configured ("on", "off", or whatever the config allows, e.g. "auto"). */
  workerJit: string;
  /** Whether the workers actually run with V8's JIT (no --jitless in their flags). */
  jit: boolean;
  budgets: "learnt" | "off";
  /** CONFINEMENT as configured, and the confinement in force ("bubblewrap+seccomp" or "none"). */
  confinement: string;
  confinementInForce: string;
}

export interface ServiceStats {
  /** Jobs the pool finished (any submission, honest or not, HTTP or not). */
  gradings: number;
  pool: { workers: number; ready: number; busy: number; queued: number; healthy: boolean };
  workersStarted: number;
  retired: Record<string, number>;
  diedDuringGrading: Record<string, number>;
  problems: Record<string, number>;
  memory: NodeJS.MemoryUsage;
  /** The workers' own pids on the host (under bubblewrap they are not the service's children). */
  workerPids: number[];
  jit: boolean;
}

export interface SandboxSample {
  /** grade(): from the call to the feedback, ms. */
  wallMs: number;
  /** The worker's phases (JobReport.phases). */
  phases?: JobPhases;
  /** Sum of the calls' own durations (JobReport.calls[i].durationMs). */
  callsMs: number;
  full: boolean;
  /** Without full marks: the tests that did not pass, as "<test id>: <status>" (the bench's own log, not a client's). */
  problem?: string;
}

const service = await startService();
let gradings = 0;
const pool = service.inner.sandbox;
// Counts every job the pool finishes, whoever asked for it.
const run = pool.run.bind(pool);
pool.run = (spec: JobSpec, options?: { internal?: boolean }): Promise<JobReport> =>
  run(spec, options).then((report) => {
    gradings++;
    return report;
  });

async function sandboxOnly(n: number, warmup: number): Promise<SandboxSample[]> {
  const gradable = service.inner.packs.get(ASSIGNMENT);
  if (gradable === undefined) throw new Error(`the ${ASSIGNMENT} pack is not loaded`);
  const source = referenceSource();
  const samples: SandboxSample[] = [];
  for (let i = 0; i < warmup + n; i++) {
    const started = performance.now();
    const { feedback, report } = await grade(gradable, source, gradable.limits, { pool, resultMaxDepth: service.config.resultMaxDepth });
    const wallMs = performance.now() - started;
    if (i < warmup) continue;
    samples.push({
      wallMs,
      ...(report.phases !== undefined ? { phases: report.phases } : {}),
      callsMs: report.calls.reduce((a, c) => a + (c.durationMs ?? 0), 0),
      full: feedback.status === "graded" && feedback.score === feedback.maxScore,
      ...(feedback.status === "graded" && feedback.score === feedback.maxScore ? {} : { problem: problemOf(feedback) }),
    });
  }
  return samples;
}

function problemOf(feedback: Feedback): string {
  if (feedback.status !== "graded") return `${feedback.status}: ${feedback.reason?.code ?? "?"}`;
  const failed = feedback.exercises.flatMap((e) => e.tests).filter((t) => t.status !== "passed");
  return failed.map((t) => `${t.id}: ${t.status}`).join(", ") || `score ${feedback.score}/${feedback.maxScore}`;
}

async function answer(request: ServiceRequest): Promise<unknown> {
  switch (request.cmd) {
    case "info": {
      const c = service.config;
      const info: ServiceInfo = {
        pid: process.pid,
        port: service.port,
        startupMs: service.startupMs,
        workers: c.workers,
        config: configSummary(c, service),
        limits: { ...c.limits, killGraceMs: c.killGraceMs, workerRssMb: c.workerRssMb },
        settings: {
          workerJit: String(c.workerJit),
          jit: pool.jitEnabled(),
          budgets: c.budget.enforce ? "learnt" : "off",
          confinement: String(c.confinement),
          confinementInForce: pool.confinementState().inForce,
        },
      };
      return info;
    }
    case "stats": {
      if (request.gc === true) collectGarbage();
      const e = service.events;
      const stats: ServiceStats = {
        gradings,
        pool: pool.stats(),
        workersStarted: e.spawned,
        retired: e.retired,
        diedDuringGrading: e.diedDuringGrading,
        problems: e.problems,
        memory: process.memoryUsage(),
        workerPids: pool.workerPids(),
        jit: pool.jitEnabled(),
      };
      return stats;
    }
    case "sandbox":
      return sandboxOnly(request.n, request.warmup);
    case "close":
      await service.close();
      return "closed";
  }
}

process.on("message", (request: ServiceRequest) => {
  answer(request).then(
    (result) => process.send?.({ id: request.id, result }, () => {
      if (request.cmd === "close") process.exit(0);
    }),
    (error: unknown) => process.send?.({ id: request.id, error: error instanceof Error ? error.stack : String(error) }),
  );
});
process.on("disconnect", () => process.exit(0));
process.send?.({ ready: true });
