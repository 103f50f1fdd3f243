import {
  allShownTests,
  consoleOutput,
  fraction,
  hiddenTestName,
  hiddenTestSentence,
  NOT_RUN,
  plain,
  publicDetails,
  rejectionText,
  summaryOf,
  type FormatInput,
} from "./common.js";

/**
 * PrairieLearn's external-grader results.json
 * (https://prairielearn.readthedocs.io/en/latest/externalGrading/#grading-results), published fields
 * only. score is the fraction of the points, in [0, 1]; each test carries its share of its exercise's
 * points. PrairieLearn shows these strings as text.
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

export function prairielearn(input: FormatInput): PrairieLearnResults {
  const output = consoleOutput(input);
  if (input.status === "rejected" && input.reason !== undefined && NOT_COMPILED.has(input.reason.code)) {
    return {
      gradable: false,
      message: `The submission could not be graded: ${plain(rejectionText(input))}`,
      output,
      format_errors: [plain(rejectionText(input))],
    };
  }
  const graded = input.status === "graded";
  const message = graded ? summaryOf(input) : `${summaryOf(input)} ${plain(rejectionText(input))}`;
  const tests = allShownTests(input).map((shown): PrairieLearnTest => {
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
  });
  return { gradable: true, score: fraction(input), message, output, tests };
}
