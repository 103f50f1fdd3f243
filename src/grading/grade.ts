import { randomUUID } from "node:crypto";
import type { Limits } from "../config.js";
import type { Case, Pack } from "../graders/pack.js";
import type { JobReport, JobSpec, SandboxPool } from "../sandbox/pool.js";
import type { ExerciseFeedback, Feedback, TestFeedback } from "./feedback.js";
import { rejection, testFeedback } from "./verdicts.js";

/** A pack ready to grade: parsed, self-tested, with the reference's values and its effective limits. */
export interface GradablePack {
  pack: Pack;
  /** Case id → the reference solution's value, for cases that expect {"reference": true}. */
  referenceValues: Map<string, unknown>;
  limits: Limits;
}

export interface GradeOptions {
  pool: SandboxPool;
  resultMaxDepth: number;
  /** A pack's self-test, not a student's submission: not refused when the queue is full. */
  internal?: boolean;
}

export function helperModules(pack: Pack): JobSpec["helpers"] {
  return Object.entries(pack.assignment.imports).map(([specifier, file]) => ({ specifier, source: pack.files.get(file) ?? "" }));
}

/** The sandbox job for a source: one call per case, public cases before hidden ones. */
export function jobFor(pack: Pack, source: string, limits: Limits): { spec: JobSpec; cases: Case[] } {
  const cases = [...pack.cases.filter((c) => c.visibility === "public"), ...pack.cases.filter((c) => c.visibility === "hidden")];
  return {
    cases,
    spec: {
      source,
      helpers: helperModules(pack),
      keepGlobals: pack.assignment.sandbox?.keepGlobals ?? [],
      calls: cases.map((c) => ({ exportName: c.exercise, argsJson: JSON.stringify(c.args), keepOutput: c.visibility === "public" })),
      limits,
    },
  };
}

/** Cuts each piece of output to what is left of one budget of `limitKiB`, in order. */
function budgetOutputs(pieces: string[], limitKiB: number): { kept: string[]; truncated: boolean } {
  let left = limitKiB * 1024;
  let truncated = false;
  const kept = pieces.map((piece) => {
    const bytes = Buffer.byteLength(piece);
    if (bytes <= left) {
      left -= bytes;
      return piece;
    }
    truncated = true;
    const cut = Buffer.from(piece).subarray(0, left).toString("utf8").replace(/\uFFFD$/, "");
    left = 0;
    return cut;
  });
  return { kept, truncated };
}

function round(points: number): number {
  return Math.round(points * 100) / 100;
}

/** Builds the feedback from a sandbox report. Pure: the same report gives the same feedback. */
export function feedbackFrom(gradable: GradablePack, cases: Case[], report: JobReport, limits: Limits, resultMaxDepth: number, id: string, durationMs: number): Feedback {
  const { pack } = gradable;
  const byCase = new Map<string, TestFeedback>();
  const loaded = report.load.kind === "loaded";
  // Hidden calls' output never left the worker; the rest shares one OUTPUT_KIB budget, in call order.
  const outputs = budgetOutputs([report.loadOutput, ...cases.map((c, i) => (c.visibility === "public" ? report.calls[i]?.output ?? "" : ""))], limits.outputKiB);
  const hiddenRanks = new Map<string, number>();
  for (const exercise of pack.assignment.exercises) {
    pack.cases.filter((c) => c.exercise === exercise.name && c.visibility === "hidden").forEach((c, i) => hiddenRanks.set(c.id, i + 1));
  }
  cases.forEach((testCase, index) => {
    const call = report.calls[index];
    const outcome = loaded && call !== undefined ? call.outcome : { kind: "not-run" as const, reason: "sandbox-lost" as const };
    const feedback = testFeedback(testCase, hiddenRanks.get(testCase.id) ?? 0, outcome, outputs.kept[index + 1] ?? "", gradable.referenceValues.get(testCase.id), {
      resultKiB: limits.resultKiB,
      resultMaxDepth,
      submissionWallMs: limits.submissionWallMs,
    });
    if (!loaded) {
      feedback.status = "error";
      feedback.message = "Not run: the module could not be loaded.";
      delete feedback.expected;
      delete feedback.received;
    }
    byCase.set(testCase.id, feedback);
  });
  const exercises: ExerciseFeedback[] = pack.assignment.exercises.map((exercise): ExerciseFeedback => {
    const tests = pack.cases.filter((c) => c.exercise === exercise.name).map((c) => byCase.get(c.id) as TestFeedback);
    const passedCount = tests.filter((t) => t.status === "passed").length;
    const passed = loaded && passedCount === tests.length;
    const score = !loaded ? 0 : exercise.scoring === "all-or-nothing" ? (passed ? exercise.points : 0) : round((exercise.points * passedCount) / tests.length);
    return {
      name: exercise.name,
      ...(exercise.title !== undefined ? { title: exercise.title } : {}),
      score,
      maxScore: exercise.points,
      passed,
      scoring: exercise.scoring,
      tests,
    };
  });
  const feedback: Feedback = {
    id,
    assignment: pack.id,
    assignmentVersion: pack.hash,
    status: loaded ? "graded" : "rejected",
    score: round(exercises.reduce((sum, e) => sum + e.score, 0)),
    maxScore: round(exercises.reduce((sum, e) => sum + e.maxScore, 0)),
    exercises,
    output: outputs.kept.join(""),
    outputTruncated: outputs.truncated || report.droppedOutput > 0,
    durationMs,
  };
  if (report.load.kind !== "loaded") feedback.reason = rejection(report.load, Object.keys(pack.assignment.imports));
  return feedback;
}

/** The case ids (not the ids students see) of the tests that did not pass, for instructors' tools. */
export function failedCaseIds(pack: Pack, feedback: Feedback): string[] {
  return feedback.exercises.flatMap((exercise) => {
    const cases = pack.cases.filter((c) => c.exercise === exercise.name);
    return exercise.tests.flatMap((test, i) => (test.status === "passed" ? [] : [cases[i]?.id ?? test.id]));
  });
}

/** Grades one source against a pack in the sandbox. Student faults become feedback; only service faults throw. */
export async function grade(gradable: GradablePack, source: string, limits: Limits, options: GradeOptions): Promise<{ feedback: Feedback; report: JobReport }> {
  const started = Date.now();
  const { spec, cases } = jobFor(gradable.pack, source, limits);
  const report = await options.pool.run(spec, { internal: options.internal === true });
  const feedback = feedbackFrom(gradable, cases, report, limits, options.resultMaxDepth, randomUUID(), Date.now() - started);
  return { feedback, report };
}
