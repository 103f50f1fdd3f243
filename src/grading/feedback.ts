/** The feedback's TypeScript shape; submissions-schema/feedback.schema.json describes the same (a test checks real feedback against it). */

export type TestStatus = "passed" | "failed" | "error" | "timeout" | "memory";

export interface TestFeedback {
  id: string;
  visibility: "public" | "hidden";
  status: TestStatus;
  message: string;
  description?: string;
  expected?: string;
  received?: string;
  output?: string;
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
  | "forbidden_import"
  | "link_error"
  | "module_threw"
  | "module_timeout"
  | "module_memory"
  | "module_never_settled"
  | "sandbox_crashed";

export interface Rejection {
  code: RejectionCode;
  message: string;
  line?: number;
  column?: number;
}

export interface Feedback {
  id: string;
  assignment: string;
  assignmentVersion: string;
  status: "graded" | "rejected";
  reason?: Rejection;
  score: number;
  maxScore: number;
  exercises: ExerciseFeedback[];
  output: string;
  outputTruncated: boolean;
  durationMs: number;
}
