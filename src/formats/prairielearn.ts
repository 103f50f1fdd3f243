import {
  consoleOutput,
  exerciseLabel,
  fraction,
  hiddenTestName,
  hiddenTestSentence,
  NOT_RUN,
  plain,
  publicDetails,
  rejectionText,
  shownTests,
  summaryOf,
  type FormatExercise,
  type FormatInput,
  type ShownTest,
} from "./common.js";
import { cutToFit, jsonBytes } from "./fit.js";

/**
 * PrairieLearn's external-grader results.json
 * (https://prairielearn.readthedocs.io/en/latest/externalGrading/#grading-results), published fields
 * only. score is the fraction of the points, in [0, 1]. PrairieLearn shows these strings as text.
 *
 * Test points tell the truth. PrairieLearn's results element has no per-test status: it draws a test
 * green only when points == max_points. So an entry's points equal its max_points exactly when what it
 * stands for earned them:
 * - a proportional exercise gives one entry per test, each with its share of the exercise's points;
 * - an all-or-nothing exercise gives one entry for the whole exercise, worth its points, with its
 *   tests listed in the entry's output. Spread over its tests, a passed public test of a failed
 *   exercise would show "[0/2.78]" in red beside "Passed.".
 *
 * results.json is limited to 1 MB by PrairieLearn's grader host: the answer is kept within
 * PRAIRIELEARN_MAX_BYTES, cutting the console output first, then the tests' outputs and messages.
 *
 * A module that does not compile or link (syntax_error, unsupported_typescript, forbidden_import,
 * link_error) is not gradable,
 * as PrairieLearn's documentation prescribes for "a syntax error that prevented compilation": the
 * student is not charged an attempt and sees format_errors. A module that loads but fails at run time
 * (it throws, loops or runs out of memory at top level) is gradable and scores 0.
 */
export interface PrairieLearnTest {
  name: string;
  description: string;
  points: number;
  max_points: number;
  message: string;
  output: string;
}

export type PrairieLearnResults =
  | { gradable: true; score: number; message: string; output: string; tests: PrairieLearnTest[] }
  | { gradable: false; message: string; output: string; format_errors: string[] };

const NOT_COMPILED = new Set(["syntax_error", "unsupported_typescript", "forbidden_import", "link_error"]);

/** Below 1 MiB and below 1 MB, whichever PrairieLearn's "1 MB" means, with room to spare. */
export const PRAIRIELEARN_MAX_BYTES = 1_000_000;

export const OUTPUT_CUT = "\n… (output cut: PrairieLearn accepts results of at most 1 MB)";

function testEntry(shown: ShownTest, graded: boolean): PrairieLearnTest {
  const points = { points: shown.points, max_points: shown.maxPoints };
  if (shown.kind === "hidden") {
    return {
      name: hiddenTestName(shown.exercise.name, shown.rank),
      description: `A hidden test of ${shown.exercise.name}: its arguments and expected value are not shown.`,
      ...points,
      message: graded ? hiddenTestSentence(shown.exercise, shown.rank, shown.passed) : NOT_RUN,
      output: "",
    };
  }
  const [first, ...rest] = graded ? publicDetails(shown.test) : [NOT_RUN];
  return {
    name: `${shown.exercise.name}: ${shown.test.id}`,
    description: plain(shown.test.description ?? `A public test of ${shown.exercise.name}.`),
    ...points,
    message: first ?? "",
    output: rest.join("\n"),
  };
}

/** One entry for an all-or-nothing exercise: its points, and its tests one line each (hidden ones only by rank). */
function exerciseEntry(exercise: FormatExercise, graded: boolean): PrairieLearnTest {
  const shown = shownTests(exercise, graded);
  const failed = shown.filter((s) => !s.passed).length;
  const lines: string[] = [];
  for (const s of graded ? shown : []) {
    const mark = s.passed ? "[passed]" : "[FAILED]";
    if (s.kind === "hidden") {
      lines.push(`${mark} ${hiddenTestSentence(exercise, s.rank, s.passed)}`);
    } else {
      const [first, ...rest] = publicDetails(s.test);
      lines.push(`${mark} ${s.test.id}: ${first ?? ""}`, ...rest.map((line) => line.replace(/^/gm, "    ")));
    }
  }
  const message = !graded
    ? NOT_RUN
    : failed === 0
      ? `All ${shown.length} tests passed.`
      : `${failed} of ${shown.length} tests failed: this exercise earns its points only when every test passes.`;
  return {
    name: exercise.name,
    description: `${plain(exerciseLabel(exercise))}: all-or-nothing, its ${shown.length} tests are listed below.`,
    points: graded ? exercise.score : 0,
    max_points: exercise.maxScore,
    message,
    output: lines.join("\n"),
  };
}

function entries(input: FormatInput): PrairieLearnTest[] {
  const graded = input.status === "graded";
  return input.exercises.flatMap((exercise) =>
    exercise.scoring === "all-or-nothing" ? [exerciseEntry(exercise, graded)] : shownTests(exercise, graded).map((shown) => testEntry(shown, graded)));
}

/**
 * The results within PRAIRIELEARN_MAX_BYTES: the console output is cut first; then every test's
 * output and message are cut to one common length, the longest that fits.
 */
function fit(results: PrairieLearnResults): PrairieLearnResults {
  const fits = (candidate: PrairieLearnResults) => jsonBytes(candidate) <= PRAIRIELEARN_MAX_BYTES;
  if (fits(results)) return results;
  const output = cutToFit(results.output, OUTPUT_CUT, (o) => fits({ ...results, output: o }));
  const smaller = { ...results, output };
  if (fits(smaller) || !smaller.gradable) return smaller;
  const cap = (text: string, length: number) => (text.length <= length ? text : cutToFit(text, OUTPUT_CUT, (t) => t.length <= length + OUTPUT_CUT.length));
  const capped = (length: number): PrairieLearnResults => ({
    ...smaller,
    tests: smaller.tests.map((test) => ({ ...test, output: cap(test.output, length), message: cap(test.message, length) })),
  });
  let lo = 0;
  let hi = Math.max(...smaller.tests.map((test) => Math.max(test.output.length, test.message.length)));
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (fits(capped(mid))) lo = mid;
    else hi = mid - 1;
  }
  return capped(lo);
}

export function prairielearn(input: FormatInput): PrairieLearnResults {
  const output = consoleOutput(input);
  if (input.status === "rejected" && input.reason !== undefined && NOT_COMPILED.has(input.reason.code)) {
    return fit({
      gradable: false,
      message: `The submission could not be graded: ${plain(rejectionText(input))}`,
      output,
      format_errors: [plain(rejectionText(input))],
    });
  }
  const graded = input.status === "graded";
  const message = graded ? summaryOf(input) : `${summaryOf(input)} ${plain(rejectionText(input))}`;
  return fit({ gradable: true, score: fraction(input), message, output, tests: entries(input) });
}
