import type { Feedback } from "../grading/feedback.js";
import {
  InvalidCursorError,
  REGRADE_OUTCOMES,
  type Grading,
  type GradingReason,
  type RegradeOutcome,
  type RegradeRecord,
  type RegradeScope,
  type RegradeStatus,
  type StoredPack,
  type SubmissionRecord,
  type SubmissionSummary,
  type SubmissionStatus,
  type WebhookEvent,
  type WebhookStateName,
} from "./store.js";

/**
 * A row of the submissions table, as both engines return it: the same columns under the same names
 * (each engine's migrations create them), so one mapping turns a row into a record. BIGINTs come back
 * as numbers on PostgreSQL too (see postgres/database.ts); a boolean is SQLite's 0/1 or PostgreSQL's
 * boolean.
 */
export interface SubmissionRow {
  seq: number;
  id: string;
  assignment: string;
  assignment_version: string;
  language: string;
  exercises: string | null;
  format: string;
  source: string;
  source_sha256: string;
  source_blanked: boolean | number;
  student: string | null;
  metadata: string | null;
  limits: string | null;
  idempotency_key: string | null;
  request_hash: string | null;
  client_id: string | null;
  callback_url: string | null;
  mode: "sync" | "async";
  status: SubmissionStatus;
  attempts: number;
  feedback: string | null;
  error_code: string | null;
  error_message: string | null;
  score: number | null;
  max_score: number | null;
  received_at: number;
  started_at: number | null;
  finished_at: number | null;
  webhook_state: WebhookStateName | null;
  webhook_event_id: string | null;
  webhook_attempts: number;
  webhook_last_status: number | null;
  webhook_last_error: string | null;
  webhook_next_at: number | null;
  webhook_first_at: number | null;
  webhook_event: WebhookEvent | null;
}

export function parseJson<T>(text: string | null): T | null {
  return text === null ? null : (JSON.parse(text) as T);
}

export function toRecord(row: SubmissionRow): SubmissionRecord {
  return {
    id: row.id,
    assignment: row.assignment,
    assignmentVersion: row.assignment_version,
    language: row.language,
    exercises: parseJson<string[]>(row.exercises),
    format: row.format,
    source: row.source,
    sourceSha256: row.source_sha256,
    sourceBlanked: row.source_blanked === true || row.source_blanked === 1,
    student: row.student,
    metadata: parseJson<unknown>(row.metadata),
    limits: parseJson<Record<string, number>>(row.limits),
    idempotencyKey: row.idempotency_key,
    requestHash: row.request_hash,
    clientId: row.client_id,
    callbackUrl: row.callback_url,
    mode: row.mode,
    receivedAt: row.received_at,
    status: row.status,
    attempts: row.attempts,
    feedback: parseJson<Feedback>(row.feedback),
    error: row.error_code === null ? null : { code: row.error_code, message: row.error_message ?? "" },
    score: row.score,
    maxScore: row.max_score,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    webhook: row.webhook_state === null || row.webhook_event_id === null ? null : {
      state: row.webhook_state,
      event: row.webhook_event ?? "submission.completed",
      eventId: row.webhook_event_id,
      attempts: row.webhook_attempts,
      lastStatus: row.webhook_last_status,
      lastError: row.webhook_last_error,
      nextAttemptAt: row.webhook_next_at,
      firstAttemptAt: row.webhook_first_at,
    },
  };
}

/** One cursor shape for both engines: a client cannot tell them apart. */
export function encodeCursor(seq: number): string {
  return Buffer.from(`s${seq}`).toString("base64url");
}

export function decodeCursor(cursor: string): number {
  const match = /^s(\d{1,15})$/.exec(Buffer.from(cursor, "base64url").toString("latin1"));
  if (match === null) throw new InvalidCursorError("the cursor is not one this service handed out");
  return Number(match[1]);
}

/**
 * A page of the list, from rows fetched with one more than the page's limit: the extra row only says that
 * a next page exists, and the cursor points after the page's last row.
 */
export function toSummaryPage(rows: SubmissionRow[], limit: number): { items: SubmissionSummary[]; nextCursor: string | null } {
  const page = rows.slice(0, limit);
  const items: SubmissionSummary[] = page.map((r) => ({
    id: r.id, assignment: r.assignment, student: r.student, status: r.status, score: r.score, maxScore: r.max_score, receivedAt: r.received_at,
  }));
  const last = page.at(-1);
  return { items, nextCursor: rows.length > limit && last !== undefined ? encodeCursor(last.seq) : null };
}

/** A row of the gradings table (a submission's history), as both engines return it. */
export interface GradingRow {
  version: string;
  score: number;
  max_score: number;
  graded_at: number;
  reason: GradingReason;
  regrade_id: string | null;
  feedback: string;
}

export function toGrading(row: GradingRow): Grading {
  return {
    version: row.version, score: row.score, maxScore: row.max_score, gradedAt: row.graded_at, reason: row.reason, regrade: row.regrade_id, feedback: JSON.parse(row.feedback) as Feedback,
  };
}

/** A row of the regrades table, as both engines return it (a boolean is SQLite's 0/1 or PostgreSQL's boolean). */
export interface RegradeRow {
  id: string;
  assignment: string;
  version: string;
  dry_run: boolean | number;
  scope: RegradeScope;
  draft: string | null;
  status: RegradeStatus;
  total: number;
  created_at: number;
  finished_at: number | null;
  error: string | null;
  claims: number;
}

/** A regrade's record from its row and its items' counts per outcome (the regradeCounts query). */
export function toRegrade(row: RegradeRow, countRows: ReadonlyArray<{ outcome: RegradeOutcome; n: number }>): RegradeRecord {
  const counts = Object.fromEntries(REGRADE_OUTCOMES.map((o) => [o, 0])) as Record<RegradeOutcome, number>;
  for (const c of countRows) counts[c.outcome] = c.n;
  return {
    id: row.id, assignment: row.assignment, version: row.version, dryRun: row.dry_run === true || row.dry_run === 1, scope: row.scope,
    draft: parseJson<Record<string, string>>(row.draft), createdAt: row.created_at, status: row.status, total: row.total,
    done: REGRADE_OUTCOMES.reduce((sum, o) => sum + counts[o], 0), counts, finishedAt: row.finished_at, error: row.error,
    claim: row.claims,
  };
}

/** A row of the packs table, as both engines return it. */
export interface PackRow {
  id: string;
  version: string;
  files: string;
  installed_at: number;
  seq: number;
}

export function toStoredPack(row: PackRow): StoredPack {
  return { id: row.id, version: row.version, files: JSON.parse(row.files) as Record<string, string>, installedAt: row.installed_at, seq: row.seq };
}
