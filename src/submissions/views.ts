import { render, withHiddenHints, type ResultFormat } from "../formats/index.js";
import type { Grading, SubmissionRecord, SubmissionSummary, WebhookState } from "../store/store.js";

/** What clients see of a stored submission: the same shapes for GET and for the webhook's data. */

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

export function webhookView(webhook: WebhookState | null): { state: string; attempts: number; lastStatus: number | null; nextAttemptAt: string | null } | undefined {
  if (webhook === null) return undefined;
  return { state: webhook.state, attempts: webhook.attempts, lastStatus: webhook.lastStatus, nextAttemptAt: iso(webhook.nextAttemptAt) };
}

/** The 202's body, and GET's while the submission waits or runs. */
export function pendingView(record: SubmissionRecord): Record<string, unknown> {
  return {
    id: record.id,
    status: record.status,
    assignment: record.assignment,
    receivedAt: iso(record.receivedAt),
    ...(record.startedAt !== null ? { startedAt: iso(record.startedAt) } : {}),
  };
}

export function failedView(record: SubmissionRecord): Record<string, unknown> {
  return {
    id: record.id,
    status: "failed",
    assignment: record.assignment,
    receivedAt: iso(record.receivedAt),
    finishedAt: iso(record.finishedAt),
    error: record.error ?? { code: "internal_error", message: "unknown" },
  };
}

/** The pack's exercises, for the hint each non-native format shows with a failed hidden test (assignment.json's hiddenHint). */
export type HintedExercises = ReadonlyArray<{ name: string; hiddenHint?: string }>;

/** A finished submission's answer: the feedback in `format`, or the failed record. */
export function resultView(record: SubmissionRecord, format: ResultFormat, exercises: HintedExercises = []): unknown {
  if (record.status === "failed" || record.feedback === null) return failedView(record);
  return render(format, withHiddenHints(record.feedback, exercises));
}

/** GET /v1/submissions/:id: the result (or pending/failed record), with the webhook's state in gradebox's own shapes. */
export function recordView(record: SubmissionRecord, format: ResultFormat, exercises: HintedExercises = []): unknown {
  const body = record.status === "queued" || record.status === "running" ? pendingView(record) : resultView(record, format, exercises);
  const webhook = webhookView(record.webhook);
  // Platform formats keep the platform's shape; gradebox's own shapes carry the webhook's state.
  const own = record.status !== "graded" && record.status !== "rejected" ? true : format === "native";
  return webhook !== undefined && own ? { ...(body as object), webhook } : body;
}

export function summaryView(summary: SubmissionSummary): Record<string, unknown> {
  return { ...summary, receivedAt: iso(summary.receivedAt) };
}

/** The webhook's body: the same bytes on every retry of one event. */
export function webhookPayload(record: SubmissionRecord, exercises: HintedExercises = []): string {
  return JSON.stringify({
    type: "submission.completed",
    timestamp: iso(record.finishedAt),
    data: resultView(record, record.format as ResultFormat, exercises),
  });
}

/** A grading in GET /v1/submissions/:id's `gradings` (its feedback is the submission's own for the latest). */
export function gradingView(grading: Grading): Record<string, unknown> {
  return {
    version: grading.version,
    score: grading.score,
    maxScore: grading.maxScore,
    gradedAt: iso(grading.gradedAt),
    reason: grading.reason,
    ...(grading.regrade !== null ? { regrade: grading.regrade } : {}),
  };
}

/**
 * The `submission.regraded` webhook's body: the old and the new score, and the new result as the
 * submission's format renders it. Built from the history, so every retry sends the same bytes.
 */
export function regradedPayload(record: SubmissionRecord, previous: Grading, latest: Grading, exercises: HintedExercises = []): string {
  return JSON.stringify({
    type: "submission.regraded",
    timestamp: iso(latest.gradedAt),
    data: {
      id: record.id,
      assignment: record.assignment,
      student: record.student,
      regrade: latest.regrade,
      before: { score: previous.score, maxScore: previous.maxScore, version: previous.version },
      after: { score: latest.score, maxScore: latest.maxScore, version: latest.version },
      result: render(record.format as ResultFormat, withHiddenHints(latest.feedback, exercises)),
    },
  });
}
