import { randomUUID } from "node:crypto";
import type { Limits } from "../config.js";
import type { Case, Pack } from "../graders/pack.js";
import type { JobReport, JobSpec, SandboxPool } from "../sandbox/pool.js";
import type { ExerciseFeedback, Feedback, Rejection, SubmissionLanguage, TestFeedback } from "./feedback.js";
import { summarize } from "./summary.js";
import type { StripPool } from "./strip-pool.js";
import { stripTypes } from "./typescript.js";
import { DEFAULT_HIDDEN_HINT, NOT_LOADED, rejection, testFeedback } from "./verdicts.js";

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
  /** Where TypeScript is stripped: the service's threads; without it (the command-line tool), in this thread. */
  typescript?: StripPool;
}

export function helperModules(pack: Pack): JobSpec["helpers"] {
  return Object.entries(pack.assignment.imports).map(([specifier, file]) => ({ specifier, source: pack.files.get(file) ?? "" }));
}

/** The sandbox job for a source: one call per case of the chosen exercises, public cases before hidden ones. */
export function jobFor(pack: Pack, source: string, limits: Limits, exercises?: readonly string[]): { spec: JobSpec; cases: Case[] } {
  const chosen = pack.cases.filter((c) => exercises === undefined || exercises.includes(c.exercise));
  const cases = [...chosen.filter((c) => c.visibility === "public"), ...chosen.filter((c) => c.visibility === "hidden")];
  const allOrNothing = new Set(pack.assignment.exercises.filter((e) => e.scoring === "all-or-nothing").map((e) => e.name));
  return {
    cases,
    spec: {
      source,
      helpers: helperModules(pack),
      keepGlobals: pack.assignment.sandbox?.keepGlobals ?? [],
      calls: cases.map((c) => ({
        exportName: c.exercise,
        argsJson: JSON.stringify(c.args),
        keepOutput: c.visibility === "public",
        ...(allOrNothing.has(c.exercise) ? { stopGroup: c.exercise } : {}),
      })),
      limits,
    },
  };
}

/** Marks where output was cut, so a student does not mistake a truncated log for the whole of it. */
export function truncationMarker(limitKiB: number): string {
  return `\n[output truncated: over the ${limitKiB} KiB limit]\n`;
}

/**
 * Cuts each piece of output to what is left of one budget of `limitKiB`, in order. A piece that lost
 * text ends with the truncation marker, and markers count against the budget too.
 */
function budgetOutputs(pieces: Array<{ text: string; dropped: boolean }>, limitKiB: number): { kept: string[]; truncated: boolean } {
  const marker = truncationMarker(limitKiB);
  const markerBytes = Buffer.byteLength(marker);
  let left = limitKiB * 1024;
  let truncated = false;
  const kept = pieces.map(({ text, dropped }) => {
    const bytes = Buffer.byteLength(text);
    if (bytes <= left && !dropped) {
      left -= bytes;
      return text;
    }
    truncated = true;
    if (left < markerBytes) {
      left = 0;
      return "";
    }
    const room = Math.min(bytes, left - markerBytes);
    const cut = Buffer.from(text).subarray(0, room).toString("utf8").replace(/\uFFFD$/, "");
    left -= Buffer.byteLength(cut) + markerBytes;
    return cut + marker;
  });
  return { kept, truncated };
}

function round(points: number): number {
  return Math.round(points * 100) / 100;
}

/** What the service knows of the submission besides the code it runs. */
export interface SubmissionInfo {
  language: SubmissionLanguage;
  /** The source as the student wrote it (TypeScript before stripping). */
  text: string;
  /** Only these exercises are graded (all when absent). */
  exercises?: readonly string[];
}

/** Builds the feedback from a sandbox report. Pure: the same report gives the same feedback. */
export function feedbackFrom(gradable: GradablePack, cases: Case[], report: JobReport, limits: Limits, resultMaxDepth: number, id: string, durationMs: number, submission?: SubmissionInfo): Feedback {
  const { pack } = gradable;
  const language = submission?.language ?? "javascript";
  const source = { fileName: language === "typescript" ? "submission.ts" : "submission.js", text: submission?.text ?? "" };
  const byCase = new Map<string, TestFeedback>();
  const loaded = report.load.kind === "loaded";
  // Hidden calls' output never left the worker; the rest shares one OUTPUT_KIB budget, in call order.
  const outputs = budgetOutputs([
    { text: report.loadOutput, dropped: report.droppedOutput > report.calls.reduce((sum, c) => sum + (c?.droppedOutput ?? 0), 0) },
    ...cases.map((c, i) => (c.visibility === "public"
      ? { text: report.calls[i]?.output ?? "", dropped: (report.calls[i]?.droppedOutput ?? 0) > 0 }
      : { text: "", dropped: false })),
  ], limits.outputKiB);
  const hiddenRanks = new Map<string, number>();
  for (const exercise of pack.assignment.exercises) {
    pack.cases.filter((c) => c.exercise === exercise.name && c.visibility === "hidden").forEach((c, i) => hiddenRanks.set(c.id, i + 1));
  }
  const hints = new Map(pack.assignment.exercises.map((e) => [e.name, e.hiddenHint ?? DEFAULT_HIDDEN_HINT]));
  cases.forEach((testCase, index) => {
    const call = report.calls[index];
    const outcome = loaded && call !== undefined ? call.outcome : { kind: "not-run" as const, reason: "sandbox-lost" as const };
    const feedback = testFeedback(testCase, outcome, {
      hiddenRank: hiddenRanks.get(testCase.id) ?? 0,
      hiddenHint: hints.get(testCase.exercise) ?? DEFAULT_HIDDEN_HINT,
      output: outputs.kept[index + 1] ?? "",
      ...(loaded && call?.durationMs !== undefined ? { durationMs: call.durationMs } : {}),
      referenceValue: gradable.referenceValues.get(testCase.id),
      limits: { resultKiB: limits.resultKiB, resultMaxDepth, submissionWallMs: limits.submissionWallMs },
      source,
    });
    if (!loaded) {
      byCase.set(testCase.id, testCase.visibility === "hidden"
        ? { id: feedback.id, visibility: "hidden", status: "failed", message: NOT_LOADED }
        : { id: feedback.id, visibility: "public", status: "error", message: NOT_LOADED, ...(feedback.description !== undefined ? { description: feedback.description } : {}) });
      return;
    }
    byCase.set(testCase.id, feedback);
  });
  const graded = pack.assignment.exercises.filter((e) => submission?.exercises === undefined || submission.exercises.includes(e.name));
  const exercises: ExerciseFeedback[] = graded.map((exercise): ExerciseFeedback => {
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
  const reason = report.load.kind !== "loaded" ? rejection(report.load, Object.keys(pack.assignment.imports), source) : undefined;
  const feedback: Feedback = {
    id,
    assignment: pack.id,
    assignmentVersion: pack.hash,
    language,
    status: loaded ? "graded" : "rejected",
    summary: summarize(exercises, reason),
    score: round(exercises.reduce((sum, e) => sum + e.score, 0)),
    maxScore: round(exercises.reduce((sum, e) => sum + e.maxScore, 0)),
    exercises,
    output: outputs.kept.join(""),
    outputTruncated: outputs.truncated,
    durationMs,
  };
  if (reason !== undefined) feedback.reason = reason;
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
export async function grade(gradable: GradablePack, source: string, limits: Limits, options: GradeOptions, submission?: SubmissionInfo): Promise<{ feedback: Feedback; report: JobReport }> {
  const started = Date.now();
  const { spec, cases } = jobFor(gradable.pack, source, limits, submission?.exercises);
  let report: JobReport;
  const stripped = submission?.language === "typescript" ? await (options.typescript?.strip(source) ?? stripTypes(source)) : { ok: true as const, source };
  if (stripped.ok) {
    report = await options.pool.run({ ...spec, source: stripped.source }, { internal: options.internal === true });
  } else {
    report = { load: stripped.outcome, loadOutput: "", calls: [], droppedOutput: 0, workerId: 0, durationMs: 0 };
  }
  const feedback = feedbackFrom(gradable, cases, report, limits, options.resultMaxDepth, randomUUID(), Date.now() - started, submission);
  return { feedback, report };
}
