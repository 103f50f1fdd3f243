import { randomUUID } from "node:crypto";
import type { Limits } from "../config.js";
import type { Case, GradablePack } from "../packs/types.js";
import type { JobReport, SandboxPool } from "../sandbox/pool.js";
import type { Feedback } from "./feedback.js";
import { feedbackFrom, type SubmissionInfo } from "./feedback-from.js";
import { casesToRun, jobFor, type PackSource } from "./job.js";
import { jobBudget } from "../packs/budgets.js";
import type { StripPool } from "./strip-pool.js";
import { stripTypes } from "./typescript.js";

export interface GradeOptions {
  pool: SandboxPool;
  resultMaxDepth: number;
  /** A pack's self-test, not a student's submission: not refused when the queue is full. */
  internal?: boolean;
  /** Where TypeScript is stripped: the service's threads; without it (the command-line tool), in this thread. */
  typescript?: StripPool;
}

/**
 * Grades one source against a pack in the sandbox: the service's one path from a source to feedback
 * (the routes, the self-test and the CLI all take it). Student faults become feedback; only service
 * faults throw.
 */
export async function grade(gradable: GradablePack, source: string, limits: Limits, options: GradeOptions, submission?: SubmissionInfo): Promise<{ feedback: Feedback; report: JobReport; cases: Case[] }> {
  const started = Date.now();
  const cases = casesToRun(gradable.pack, submission?.exercises);
  const { assignment, files } = gradable.pack;
  const report = await runJob({ assignment, files, ...(gradable.budgets !== undefined ? { budgets: gradable.budgets } : {}) }, cases, source, limits, options, submission);
  // With budgets, the time a submission may use up is its total CPU budget, and "Not run" says that one.
  const budget = gradable.budgets?.enforced !== true ? undefined : jobBudget(gradable.budgets, cases, limits).totalMs;
  const shown = budget === undefined ? limits : { ...limits, submissionWallMs: Math.min(limits.submissionWallMs, budget) };
  const feedback = feedbackFrom({ gradable, cases, report, limits: shown, resultMaxDepth: options.resultMaxDepth, id: randomUUID(), durationMs: Date.now() - started, submission });
  return { feedback, report, cases };
}

/** Runs the cases on a source in the sandbox; TypeScript that cannot run once its types are removed never reaches it. */
export async function runJob(pack: PackSource, cases: readonly Case[], source: string, limits: Limits, options: GradeOptions, submission?: Pick<SubmissionInfo, "language">): Promise<JobReport> {
  const stripped = submission?.language === "typescript" ? await (options.typescript?.strip(source) ?? stripTypes(source)) : { ok: true as const, source };
  if (!stripped.ok) return { load: stripped.outcome, loadOutput: "", calls: [], droppedOutput: 0, workerId: 0, durationMs: 0 };
  return options.pool.run(jobFor(pack, cases, stripped.source, limits), { internal: options.internal === true });
}
