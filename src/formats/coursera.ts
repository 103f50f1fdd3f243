import { consoleOutput, fraction, textReport, type FormatInput } from "./common.js";
import { cutToFit, jsonBytes } from "./fit.js";

/**
 * A Coursera custom grader's feedback.json: `{fractionalScore, feedback}`, fractionalScore in [0, 1]
 * and feedback as plain text. The optional feedbackType ("HTML" or "TXT") points Coursera at a
 * separate rich-feedback file in /shared, which an HTTP answer cannot write, so it is never set (and
 * the schema does not allow it).
 */
export interface CourseraResult {
  fractionalScore: number;
  feedback: string;
}

/**
 * Coursera shows at most 64 KB of feedback and cuts the rest silently, so the end of a noisy report
 * (and the marker saying it was cut) would be lost. The whole feedback.json is kept within 64,000
 * bytes: under 64 KB whether a KB is 1,000 or 1,024 bytes.
 */
export const COURSERA_MAX_BYTES = 64_000;

export const OUTPUT_CUT = "\n… (console output cut: Coursera shows at most 64 KB of feedback)";
export const REPORT_CUT = "\n… (feedback cut: Coursera shows at most 64 KB of feedback)";

export function coursera(input: FormatInput): CourseraResult {
  const fractionalScore = fraction(input);
  const fits = (feedback: string) => jsonBytes({ fractionalScore, feedback }) <= COURSERA_MAX_BYTES;
  const feedback = textReport(input);
  if (fits(feedback)) return { fractionalScore, feedback };
  // The console output goes first: the summary, the score and the tests matter more than what was printed.
  const output = consoleOutput(input);
  const withoutOutput = { ...input, output: "", outputTruncated: true };
  const cutOutput = output === "" ? "" : cutToFit(output, OUTPUT_CUT, (o) => fits(textReport({ ...withoutOutput, output: o })));
  const smaller = textReport({ ...withoutOutput, output: cutOutput });
  // Tests with long messages can still overflow: then the report's end goes, its beginning (summary, score) stays.
  return { fractionalScore, feedback: fits(smaller) ? smaller : cutToFit(smaller, REPORT_CUT, fits) };
}
