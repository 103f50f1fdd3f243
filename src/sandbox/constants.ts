/** The URL the submission module is compiled under; stack traces name it, and feedback locates errors by it. */
export const SUBMISSION_URL = "file:///submission.mjs";

/**
 * How much text about a value or an error crosses the sandbox boundary (characters). The prelude cuts
 * what student code throws or returns to these, and the host cuts isolated-vm's own errors to the
 * same: a message is for reading, and a long one only costs memory and bandwidth.
 */
export const TEXT_LIMITS = {
  errorName: 200,
  errorMessage: 2000,
  errorStack: 4000,
  /** The primitive inside a boxed value (new String("…")). */
  boxedValue: 200,
  functionName: 100,
} as const;

export type TextLimits = { readonly [K in keyof typeof TEXT_LIMITS]: number };

/**
 * The longest strings the service accepts in a worker's message (characters). Well above TEXT_LIMITS,
 * which an honest worker keeps to: a message over them comes from a worker that is not behaving, and
 * is refused as a whole.
 */
export const WORKER_TEXT_BOUNDS = {
  errorName: 1000,
  text: 10000,
} as const;
