import { fraction, textReport, type FormatInput } from "./common.js";

/**
 * A Coursera custom grader's feedback.json: `{fractionalScore, feedback}`, fractionalScore in [0, 1]
 * and feedback as plain text. The optional feedbackType ("HTML" or "TXT") points Coursera at a
 * separate rich-feedback file in /shared, which an HTTP answer cannot write, so it is never set.
 */
export interface CourseraResult {
  fractionalScore: number;
  feedback: string;
}

export function coursera(input: FormatInput): CourseraResult {
  return { fractionalScore: fraction(input), feedback: textReport(input) };
}
