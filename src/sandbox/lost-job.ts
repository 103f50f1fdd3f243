import type { Limits } from "../config.js";
import type { CallOutcome, LoadOutcome } from "./outcomes.js";

/** What the pool knows of a job whose worker stopped before reporting all of it. */
export interface LostJob {
  spec: { limits: Limits; calls: readonly unknown[] };
  report: { load: LoadOutcome; calls: Array<{ outcome: CallOutcome; output: string }>; workerDeath?: string };
  /** Whether the worker had reported the submission's load, and how many calls it reported. */
  loaded: boolean;
  callsDone: number;
  /** Why the pool killed the worker, if it did; undefined when the worker died on its own. */
  killedFor?: "deadline" | "rss";
}

/**
 * Fills in the outcomes a lost worker never reported, blaming the step it was on: the load if it had
 * not finished, else the call it was running; the calls after it were not run. The student reads the
 * limit that stopped the code: the time budget, the worker's RSS cap (killed for it) or the isolate's
 * heap limit (the process died out of memory).
 */
export function completeLostJob(job: LostJob, why: string, context: { memoryFault: boolean; rssMb: number }): void {
  const { limits } = job.spec;
  const memory = job.killedFor === "rss" || (job.killedFor === undefined && context.memoryFault);
  const culprit: CallOutcome = job.killedFor === "deadline"
    ? { kind: "timeout", limitMs: limits.submissionWallMs }
    : memory
      ? { kind: "memory", limitMb: job.killedFor === "rss" ? context.rssMb : limits.isolateMemoryMb }
      : { kind: "crashed", detail: why };
  job.report.workerDeath = why;
  if (!job.loaded) {
    job.report.load = culprit.kind === "timeout"
      ? { kind: "timeout", limitMs: limits.evalTimeoutMs }
      : culprit.kind === "memory" ? culprit : { kind: "crashed", detail: why };
    return;
  }
  for (let i = job.callsDone; i < job.spec.calls.length; i++) {
    const outcome: CallOutcome = i === job.callsDone
      ? culprit
      : { kind: "not-run", reason: job.killedFor === "deadline" ? "budget" : "sandbox-lost" };
    job.report.calls[i] = { outcome, output: "" };
  }
}
