import type { FormatInput } from "./common.js";
import { coursera } from "./coursera.js";
import { gradescope } from "./gradescope.js";
import { prairielearn } from "./prairielearn.js";
import { xqueue } from "./xqueue.js";

/**
 * The result shapes POST /v1/submissions can answer in (`?format=` or the body's `format`): gradebox's
 * own feedback, or what a course platform's autograder interface consumes. Each adapter is a pure
 * function of the native feedback and shows a student what the native feedback shows, never more:
 * hidden tests only as "hidden test N of <exercise> passed/failed" with a generic hint.
 */
export const FORMATS = ["native", "gradescope", "prairielearn", "xqueue", "coursera"] as const;

export type ResultFormat = (typeof FORMATS)[number];

export type { FormatInput } from "./common.js";
export { withHiddenHints } from "./common.js";

const adapters: Record<Exclude<ResultFormat, "native">, (input: FormatInput) => unknown> = {
  gradescope,
  prairielearn,
  xqueue,
  coursera,
};

/** The feedback in the given format; native returns it unchanged. */
export function render(format: ResultFormat, feedback: FormatInput): unknown {
  return format === "native" ? feedback : adapters[format](feedback);
}
