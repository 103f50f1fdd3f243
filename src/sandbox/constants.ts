/** The URL the submission module is compiled under; stack traces name it, and feedback locates errors by it. */
export const SUBMISSION_URL = "file:///submission.mjs";
