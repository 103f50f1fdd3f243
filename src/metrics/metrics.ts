import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { Feedback } from "../grading/feedback.js";
import type { JobReport, PoolEvent, WorkerState } from "../sandbox/pool.js";
import { createRegradeMetrics, type RegradeMetrics } from "./regrades.js";

/**
 * The service's Prometheus metrics, one registry per app (tests build many apps in one process).
 * Labels carry only bounded values: assignment ids (installed packs), statuses, kinds, route
 * patterns — never a student, a submission id, a source or a raw URL.
 */

/** 20 ms (a cached small grading) to 10 s (a submission at its wall-clock limit, past the default 5 s). */
export const GRADING_SECONDS_BUCKETS = [0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** How a grading ended, for gradebox_gradings_total. */
export type GradingStatus = "passed" | "failed" | "rejected" | "error";

export function gradingStatus(feedback: Pick<Feedback, "status" | "score" | "maxScore">): GradingStatus {
  if (feedback.status === "rejected") return "rejected";
  return feedback.score === feedback.maxScore ? "passed" : "failed";
}

/** Call and load outcomes the sandbox imposed (rather than the student's code returning or throwing). */
const SANDBOX_VERDICTS = new Set(["timeout", "memory", "crashed", "never-settled", "unserializable"]);

export interface Metrics extends RegradeMetrics {
  registry: Registry;
  gradings: Counter<"assignment" | "status">;
  gradingDuration: Histogram<never>;
  queueDepth: Gauge<"mode">;
  workers: Gauge<"state">;
  workerExits: Counter<"cause">;
  sandboxVerdicts: Counter<"kind">;
  /** For the webhook sender: outcome is delivered, failed (will retry) or abandoned. */
  webhookDeliveries: Counter<"outcome">;
  httpRequests: Counter<"route" | "status">;
  /** Counts a grading that ended in feedback, and its duration. */
  observeFeedback(feedback: Pick<Feedback, "assignment" | "status" | "score" | "maxScore" | "durationMs">): void;
  /** Counts a grading the service could not do (queue full, sandbox unavailable, shutting down). */
  observeFailure(assignment: string): void;
  /** Feeds the pool's events (PoolOptions.onEvent). */
  onPoolEvent(event: PoolEvent): void;
}

export interface MetricSources {
  /** Sync submissions waiting for a worker now. */
  syncQueueDepth(): number;
  /** Async submissions (and resumed ones) waiting in the store. */
  asyncQueueDepth(): number;
  workerStates(): Record<WorkerState, number>;
}

export function createMetrics(): Metrics & { bind(sources: MetricSources): void } {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  let sources: MetricSources | undefined;

  const gradings = new Counter({ name: "gradebox_gradings_total", help: "Gradings finished, by assignment and how they ended (passed: full marks; failed; rejected: the module could not be loaded; error: the service could not grade).", labelNames: ["assignment", "status"] as const, registers: [registry] });
  const gradingDuration = new Histogram({ name: "gradebox_grading_duration_seconds", help: "Time to grade one submission: waiting for a worker, TypeScript stripping and the sandbox run.", buckets: GRADING_SECONDS_BUCKETS, registers: [registry] });
  const queueDepth = new Gauge({
    name: "gradebox_queue_depth",
    help: "Submissions waiting to be graded, by mode (sync: a client waits for the answer; async: queued in the store).",
    labelNames: ["mode"] as const,
    registers: [registry],
    collect() {
      if (sources === undefined) return;
      this.set({ mode: "sync" }, sources.syncQueueDepth());
      this.set({ mode: "async" }, sources.asyncQueueDepth());
    },
  });
  const workers = new Gauge({
    name: "gradebox_workers",
    help: "Grading worker processes, by state.",
    labelNames: ["state"] as const,
    registers: [registry],
    collect() {
      if (sources === undefined) return;
      for (const [state, count] of Object.entries(sources.workerStates())) this.set({ state }, count);
    },
  });
  const workerExits = new Counter({ name: "gradebox_worker_exits_total", help: "Grading worker processes that exited, by cause.", labelNames: ["cause"] as const, registers: [registry] });
  const sandboxVerdicts = new Counter({ name: "gradebox_sandbox_verdicts_total", help: "Module loads and calls the sandbox stopped or could not read, by kind (timeout, memory, crashed, never-settled, unserializable).", labelNames: ["kind"] as const, registers: [registry] });
  const webhookDeliveries = new Counter({ name: "gradebox_webhook_deliveries_total", help: "Webhook delivery attempts, by outcome.", labelNames: ["outcome"] as const, registers: [registry] });
  const httpRequests = new Counter({ name: "gradebox_http_requests_total", help: "HTTP requests answered, by route pattern (method and path; unmatched for a 404) and status code.", labelNames: ["route", "status"] as const, registers: [registry] });

  const countVerdicts = (report: JobReport) => {
    if (SANDBOX_VERDICTS.has(report.load.kind)) sandboxVerdicts.inc({ kind: report.load.kind });
    for (const call of report.calls) {
      if (call !== undefined && SANDBOX_VERDICTS.has(call.outcome.kind)) sandboxVerdicts.inc({ kind: call.outcome.kind });
    }
  };

  return {
    ...createRegradeMetrics(registry),
    registry,
    gradings,
    gradingDuration,
    queueDepth,
    workers,
    workerExits,
    sandboxVerdicts,
    webhookDeliveries,
    httpRequests,
    observeFeedback(feedback) {
      gradings.inc({ assignment: feedback.assignment, status: gradingStatus(feedback) });
      gradingDuration.observe(feedback.durationMs / 1000);
    },
    observeFailure(assignment) {
      gradings.inc({ assignment, status: "error" });
    },
    onPoolEvent(event) {
      if (event.type === "worker-exit") workerExits.inc({ cause: event.cause });
      else countVerdicts(event.report);
    },
    bind(given) {
      sources = given;
    },
  };
}
