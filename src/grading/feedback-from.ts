import type { Limits } from "../config.js";
import type { Case, GradablePack } from "../packs/types.js";
import type { JobReport } from "../sandbox/pool.js";
import type { ExerciseFeedback, Feedback, SubmissionLanguage, TestFeedback } from "./feedback.js";
import { budgetOutputs } from "./output-budget.js";
import { caseWeight, exerciseScore, roundTestPoints, totalPoints } from "./scoring.js";
import { summarize } from "./summary.js";
import { DEFAULT_HIDDEN_HINT, NOT_LOADED, rejection, testFeedback } from "./verdicts.js";

/** What the service knows of the submission besides the code it runs. */
export interface SubmissionInfo {
  language: SubmissionLanguage;
  /** The source as the student wrote it (TypeScript before stripping). */
  text: string;
  /** Only these exercises are graded (all when absent). */
  exercises?: readonly string[];
}

export interface FeedbackInput {
  gradable: GradablePack;
  /** The cases the job ran, in its calls' order. */
  cases: readonly Case[];
  report: JobReport;
  /** The limits the job ran under (the pack's, maybe lowered by the request). */
  limits: Limits;
  resultMaxDepth: number;
  /** The feedback's id. */
  id: string;
  durationMs: number;
  submission?: SubmissionInfo;
}

/** Builds the feedback from a sandbox report. Pure: the same input gives the same feedback. */
export function feedbackFrom({ gradable, cases, report, limits, resultMaxDepth, id, durationMs, submission }: FeedbackInput): Feedback {
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
      extras: { ...(call?.checks !== undefined ? { checks: call.checks } : {}), printed: call?.output ?? "" },
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
    const exerciseCases = pack.cases.filter((c) => c.exercise === exercise.name);
    const tests = exerciseCases.map((c) => byCase.get(c.id) as TestFeedback);
    const passedCount = tests.filter((t) => t.status === "passed").length;
    const passed = loaded && passedCount === tests.length;
    // Weights: a case's share of the points is its weight over the exercise's total (all 1 by default).
    const totalWeight = exerciseCases.reduce((sum, c) => sum + caseWeight(c), 0);
    const passedWeight = exerciseCases.reduce((sum, c, i) => sum + (tests[i]?.status === "passed" ? caseWeight(c) : 0), 0);
    if (exerciseCases.some((c) => c.weight !== undefined)) {
      // Shown per test only where the pack weighs its cases, so unweighted feedback keeps its shape.
      exerciseCases.forEach((c, i) => {
        const test = tests[i] as TestFeedback;
        const worth = (exercise.points * caseWeight(c)) / totalWeight;
        const earns = exercise.scoring === "all-or-nothing" ? passed : loaded && test.status === "passed";
        tests[i] = { ...test, points: earns ? roundTestPoints(worth) : 0, maxPoints: roundTestPoints(worth) };
      });
    }
    return {
      name: exercise.name,
      ...(exercise.title !== undefined ? { title: exercise.title } : {}),
      score: exerciseScore(exercise, loaded, passedCount, tests.length, passedWeight, totalWeight),
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
    score: totalPoints(exercises.map((e) => e.score)),
    maxScore: totalPoints(exercises.map((e) => e.maxScore)),
    exercises,
    output: outputs.kept.join(""),
    outputTruncated: outputs.truncated,
    durationMs,
  };
  if (reason !== undefined) feedback.reason = reason;
  return feedback;
}
