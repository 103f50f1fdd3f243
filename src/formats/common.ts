import type { ExerciseFeedback, Feedback, TestFeedback } from "../grading/feedback.js";
import { summarize } from "../grading/summary.js";
import { DEFAULT_HIDDEN_HINT, NOT_LOADED } from "../grading/verdicts.js";

/**
 * What the format adapters read of the native feedback: a structural subset (a hand-built feedback in
 * a test needs no more), plus what the pack says that the feedback does not carry: each exercise's
 * hint for its hidden tests. Adapters are pure functions of this input.
 */
export type FormatTest = Pick<TestFeedback, "id" | "visibility" | "status" | "message" | "description" | "expected" | "received" | "output">
  & Partial<Pick<TestFeedback, "detail" | "tolerance" | "line" | "column" | "stack" | "durationMs" | "points" | "maxPoints">>;

export type FormatExercise = Pick<ExerciseFeedback, "name" | "title" | "score" | "maxScore" | "passed" | "scoring"> & {
  tests: FormatTest[];
  /**
   * The pack's hint for this exercise's hidden tests (assignment.json's hiddenHint), shown with a
   * failed one. It is the exercise's, never a test's: a hint read from a hidden test could be about its case.
   */
  hiddenHint?: string;
};

export type FormatInput = Pick<Feedback, "id" | "assignment" | "assignmentVersion" | "status" | "reason" | "score" | "maxScore" | "output" | "outputTruncated" | "durationMs"> & {
  exercises: FormatExercise[];
  /** One sentence on the whole grading ("All tests passed."); computed here when absent. */
  summary?: string;
};

/** What every test of a rejected module says: none of them ran. */
export const NOT_RUN = NOT_LOADED;

export function hiddenTestName(exercise: string, rank: number): string {
  return `${exercise} (hidden test ${rank})`;
}

/**
 * The one sentence every format shows about a hidden test, whatever went wrong in it: a hidden test is
 * named by its exercise and its rank among that exercise's hidden tests, never by its case id, and
 * nothing it was called with, expected or received (not even whether it threw or timed out) reaches
 * the student; a failed one adds the exercise's hint.
 */
export function hiddenTestSentence(exercise: FormatExercise, rank: number, passed: boolean): string {
  if (passed) return `Hidden test ${rank} of ${exercise.name} passed.`;
  return `Hidden test ${rank} of ${exercise.name} failed. ${exercise.hiddenHint ?? DEFAULT_HIDDEN_HINT}`;
}

/** The feedback with each exercise's hint for its hidden tests, from the pack's assignment.json, for the formats. */
export function withHiddenHints<T extends { exercises: FormatExercise[] }>(feedback: T, exercises: ReadonlyArray<{ name: string; hiddenHint?: string }>): T {
  const hints = new Map(exercises.flatMap((e) => (e.hiddenHint !== undefined ? [[e.name, e.hiddenHint] as const] : [])));
  return {
    ...feedback,
    exercises: feedback.exercises.map((exercise) => {
      const hiddenHint = hints.get(exercise.name);
      return hiddenHint === undefined ? exercise : { ...exercise, hiddenHint };
    }),
  };
}

/** One test as the adapters see it: public tests with their details, hidden ones reduced to what may be shown. */
export type ShownTest =
  | { kind: "public"; exercise: FormatExercise; passed: boolean; points: number; maxPoints: number; test: FormatTest }
  | { kind: "hidden"; exercise: FormatExercise; passed: boolean; points: number; maxPoints: number; rank: number };

/** Rounds points to 4 decimals, so that a share such as 25/3 prints as 8.3333. */
export function round4(value: number): number {
  return Math.round(value * 10000) / 10000;
}

/**
 * The tests of an exercise, public ones first, with the exercise's points spread over its tests
 * (evenly, or by the weights of its cases when the feedback gives each test's maxPoints): a test earns
 * its share when it passes (proportional scoring), or when the whole exercise passes (all-or-nothing
 * scoring), so that the tests' points add up to the exercise's score.
 */
export function shownTests(exercise: FormatExercise, graded: boolean): ShownTest[] {
  const even = exercise.tests.length === 0 ? 0 : exercise.maxScore / exercise.tests.length;
  const share = (test: FormatTest) => round4(test.maxPoints ?? even);
  const earns = (passed: boolean) => graded && (exercise.scoring === "all-or-nothing" ? exercise.passed : passed);
  const shown: ShownTest[] = [];
  for (const test of exercise.tests.filter((t) => t.visibility !== "hidden")) {
    const passed = graded && test.status === "passed";
    shown.push({ kind: "public", exercise, passed, points: earns(passed) ? share(test) : 0, maxPoints: share(test), test });
  }
  exercise.tests.filter((t) => t.visibility === "hidden").forEach((test, i) => {
    const passed = graded && test.status === "passed";
    shown.push({ kind: "hidden", exercise, passed, points: earns(passed) ? share(test) : 0, maxPoints: share(test), rank: i + 1 });
  });
  return shown;
}

export function allShownTests(input: FormatInput): ShownTest[] {
  return input.exercises.flatMap((exercise) => shownTests(exercise, input.status === "graded"));
}

interface Counts {
  publicTotal: number;
  publicFailed: number;
  hiddenTotal: number;
  hiddenFailed: number;
}

function counts(input: FormatInput): Counts {
  const tests = input.exercises.flatMap((e) => e.tests);
  const hidden = tests.filter((t) => t.visibility === "hidden");
  const visible = tests.filter((t) => t.visibility !== "hidden");
  return {
    publicTotal: visible.length,
    publicFailed: visible.filter((t) => t.status !== "passed").length,
    hiddenTotal: hidden.length,
    hiddenFailed: hidden.filter((t) => t.status !== "passed").length,
  };
}

/** Whether the submission earned everything: it loaded and every test, public and hidden, passed. */
export function fullyPassed(input: FormatInput): boolean {
  const c = counts(input);
  return input.status === "graded" && c.publicFailed === 0 && c.hiddenFailed === 0;
}

function tests(n: number): string {
  return n === 1 ? "1 test" : `${n} tests`;
}

/** The rejection, as the student reads it: "SyntaxError: Unexpected token (line 5, column 1)". */
export function rejectionText(input: FormatInput): string {
  const reason = input.reason;
  if (reason === undefined) return "The module could not be loaded.";
  const where = reason.line !== undefined && !reason.message.includes(`line ${reason.line}`)
    ? ` (line ${reason.line}${reason.column !== undefined ? `, column ${reason.column}` : ""})`
    : "";
  return `${reason.message}${where}`;
}

/** The summary computed from the tests, for feedback that has none (the same sentence the native feedback carries). */
export function computeSummary(input: FormatInput): string {
  return summarize(input.exercises, input.status === "rejected" ? input.reason ?? "rejected" : undefined);
}

/**
 * The feedback's own summary when it has one, else one computed here. A summary that claims every
 * test passed while one did not is never used.
 */
export function summaryOf(input: FormatInput): string {
  const given = input.summary?.trim();
  if (given !== undefined && given !== "" && (fullyPassed(input) || !/all tests passed/i.test(given))) return given;
  return computeSummary(input);
}

const ANSI = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u001b[@-Z\\-_]/g;
// C0 controls but tab and newline, DEL and C1 controls: they make text unreadable and XML invalid.
const CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;
const LONE_SURROGATES = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * Text a student produced or that quotes their code, made safe for any plain-text field: ANSI colours
 * and other control characters removed, \r\n made \n, lone surrogates replaced. It is not escaped for
 * HTML; see escapeHtml.
 */
export function plain(text: string): string {
  return text.replace(/\r\n?/g, "\n").replace(ANSI, "").replace(CONTROLS, "").replace(LONE_SURROGATES, "\uFFFD");
}

/** Escapes text for HTML and XML, text and attribute values alike. */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");
}

/** The lines a public test shows: its message, the expectation, what was received, its output. */
export function publicDetails(test: FormatTest): string[] {
  const lines = [plain(test.message)];
  if (test.detail !== undefined) lines.push(plain(test.detail));
  if (test.line !== undefined) lines.push(`At line ${test.line}${test.column !== undefined ? `, column ${test.column}` : ""}`);
  if (test.expected !== undefined) lines.push(`Expected: ${plain(test.expected)}`);
  if (test.received !== undefined) lines.push(`Received: ${plain(test.received)}`);
  if (test.tolerance !== undefined) lines.push(`Tolerance: ${plain(test.tolerance)}`);
  if (test.stack !== undefined) lines.push(`Stack:\n${plain(test.stack)}`);
  if (test.output !== undefined && test.output !== "") lines.push(`Output:\n${plain(test.output).replace(/\n$/, "")}`);
  return lines;
}

/** The console output of the whole submission (module load and public calls only); a cut piece already ends with its marker. */
export function consoleOutput(input: FormatInput): string {
  if (input.output === "") return "";
  return plain(input.output).replace(/\n$/, "");
}

export function exerciseLabel(exercise: FormatExercise): string {
  return exercise.title ?? exercise.name;
}

/** The fraction of the points earned, in [0, 1]. */
export function fraction(input: FormatInput): number {
  if (input.status !== "graded") return 0;
  if (input.maxScore <= 0) return fullyPassed(input) ? 1 : 0;
  return Math.min(1, Math.max(0, round4(input.score / input.maxScore)));
}

/** A plain-text report of the whole grading: what Coursera shows, and the outline of the other formats. */
export function textReport(input: FormatInput): string {
  const parts = [summaryOf(input)];
  if (input.status === "rejected") parts.push(plain(rejectionText(input)));
  parts.push(`Score: ${input.score} / ${input.maxScore}`);
  const graded = input.status === "graded";
  for (const exercise of input.exercises) {
    const lines = [`${exerciseLabel(exercise)}: ${graded ? exercise.score : 0} / ${exercise.maxScore}`];
    // A rejected module ran no test: the exercises' scores are all there is to say.
    for (const shown of graded ? shownTests(exercise, graded) : []) {
      if (shown.kind === "hidden") {
        lines.push(`  [${shown.passed ? "passed" : "FAILED"}] ${hiddenTestSentence(exercise, shown.rank, shown.passed)}`);
      } else {
        const [first, ...rest] = publicDetails(shown.test);
        lines.push(`  [${shown.passed ? "passed" : "FAILED"}] ${shown.test.id}: ${first ?? ""}`);
        for (const line of rest) lines.push(line.replace(/^/gm, "      "));
      }
    }
    parts.push(lines.join("\n"));
  }
  const output = consoleOutput(input);
  if (output !== "") parts.push(`Console output:\n${output}`);
  return parts.join("\n\n");
}
