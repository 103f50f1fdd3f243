import type { FromSchema } from "json-schema-to-ts";
import type { feedbackSchema } from "../generated/schemas.js";

/** The feedback's TypeScript shape, derived from submissions-schema/api/feedback.schema.json. */
export type Feedback = FromSchema<typeof feedbackSchema>;

export type ExerciseFeedback = Feedback["exercises"][number];
export type TestFeedback = ExerciseFeedback["tests"][number];
export type TestStatus = TestFeedback["status"];

/** What kind of mistake a test or a rejected module shows; students and platforms can branch on it. */
export type ErrorKind = NonNullable<TestFeedback["errorKind"]>;

/** Where in the student's own source (JavaScript or TypeScript) an error happened, with the student's frames only. */
export type SourceLocation = Pick<TestFeedback, "line" | "column" | "stack">;

export type Rejection = NonNullable<Feedback["reason"]>;
export type RejectionCode = Rejection["code"];
export type SubmissionLanguage = Feedback["language"];
