/** The feedback's TypeScript shape; submissions-schema/api/feedback.schema.json describes the same (a test checks real feedback against it). */

export type TestStatus = "passed" | "failed" | "error" | "timeout" | "memory";

/** What kind of mistake a test or a rejected module shows; students and platforms can branch on it. */
export type ErrorKind =
  | "syntax_error"
  | "reference_error"
  | "type_error"
  | "range_error"
  | "exception"
  | "missing_export"
  | "wrong_return_type"
  | "wrong_value"
  | "result_too_large"
  | "timeout"
  | "memory_limit"
  | "forbidden_import"
  | "unsupported_typescript"
  | "sandbox_error";

/** Where in the student's own source (JavaScript or TypeScript) an error happened, with the student's frames only. */
export interface SourceLocation {
  line?: number;
  column?: number;
  stack?: string;
}

export interface TestFeedback extends SourceLocation {
  id: string;
  visibility: "public" | "hidden";
  status: TestStatus;
  message: string;
  detail?: string;
  errorKind?: ErrorKind;
  description?: string;
  expected?: string;
  received?: string;
  tolerance?: string;
  output?: string;
  durationMs?: number;
  hint?: string;
}

export interface ExerciseFeedback {
  name: string;
  title?: string;
  score: number;
  maxScore: number;
  passed: boolean;
  scoring: "all-or-nothing" | "proportional";
  tests: TestFeedback[];
}

export type RejectionCode =
  | "syntax_error"
  | "unsupported_typescript"
  | "forbidden_import"
  | "link_error"
  | "module_threw"
  | "module_timeout"
  | "module_memory"
  | "module_never_settled"
  | "sandbox_crashed";

export interface Rejection extends SourceLocation {
  code: RejectionCode;
  errorKind: ErrorKind;
  message: string;
}

export type SubmissionLanguage = "javascript" | "typescript";

export interface Feedback {
  id: string;
  assignment: string;
  assignmentVersion: string;
  language: SubmissionLanguage;
  status: "graded" | "rejected";
  summary: string;
  reason?: Rejection;
  score: number;
  maxScore: number;
  exercises: ExerciseFeedback[];
  output: string;
  outputTruncated: boolean;
  durationMs: number;
}
