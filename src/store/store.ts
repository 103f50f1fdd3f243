import type { Feedback } from "../grading/feedback.js";

/**
 * The one interface every storage engine implements (sqlite.ts today; PostgreSQL later, against the
 * same shared test suite, test/store/suite.ts). The rest of the service sees records, never SQL.
 * Every method is async so an engine that talks to a server fits the same shape. Timestamps are
 * milliseconds since the epoch; the HTTP layer turns them into ISO strings.
 */

export type SubmissionStatus = "queued" | "running" | "graded" | "rejected" | "failed";
export const SUBMISSION_STATUSES: readonly SubmissionStatus[] = ["queued", "running", "graded", "rejected", "failed"];

export type WebhookStateName = "pending" | "delivered" | "gave_up";

/** What a webhook tells: a first grading, or a regrade that changed the score (old and new in its body). */
export type WebhookEvent = "submission.completed" | "submission.regraded";

export interface WebhookState {
  state: WebhookStateName;
  event: WebhookEvent;
  /** Same on every attempt of the one event (the Standard Webhooks `webhook-id`). */
  eventId: string;
  attempts: number;
  /** The receiver's last HTTP status, or null when it did not answer (timeout, refused). */
  lastStatus: number | null;
  lastError: string | null;
  nextAttemptAt: number | null;
  firstAttemptAt: number | null;
}

/** What the service knows of a submission when it accepts it. */
export interface NewSubmission {
  id: string;
  assignment: string;
  assignmentVersion: string;
  language: string;
  exercises: string[] | null;
  format: string;
  source: string;
  sourceSha256: string;
  student: string | null;
  metadata: unknown;
  /** Requested (lowered) limits, re-applied under the pack's limits when graded. */
  limits: Record<string, number> | null;
  idempotencyKey: string | null;
  /** Hash of everything that changes the grading; a replayed key with another hash is a conflict. */
  requestHash: string | null;
  /** The API client that created it (null without API keys): a client reads only its own. */
  clientId: string | null;
  callbackUrl: string | null;
  mode: "sync" | "async";
  receivedAt: number;
}

export interface SubmissionRecord extends NewSubmission {
  status: SubmissionStatus;
  attempts: number;
  feedback: Feedback | null;
  error: { code: string; message: string } | null;
  score: number | null;
  maxScore: number | null;
  startedAt: number | null;
  finishedAt: number | null;
  /** True once SOURCE_RETENTION_DAYS blanked the source (its sha256 and the feedback stay). */
  sourceBlanked: boolean;
  webhook: WebhookState | null;
}

export interface SubmissionSummary {
  id: string;
  assignment: string;
  student: string | null;
  status: SubmissionStatus;
  score: number | null;
  maxScore: number | null;
  receivedAt: number;
}

export interface ListQuery {
  assignment?: string;
  student?: string;
  status?: SubmissionStatus;
  clientId?: string;
  limit: number;
  /** Opaque, from a previous page's nextCursor. */
  cursor?: string;
}

/** How a grading ended: a verdict with feedback, or a service failure. */
export type Outcome =
  | { status: "graded" | "rejected"; feedback: Feedback }
  | { status: "failed"; error: { code: string; message: string } };

export type CreateResult =
  | { kind: "created"; record: SubmissionRecord }
  | { kind: "replayed"; record: SubmissionRecord }
  | { kind: "conflict"; record: SubmissionRecord };

export interface SubmissionStore extends RegradeStore {
  /**
   * Commits a new submission as `queued`. With an idempotency key, an earlier submission with the
   * same key (and client) within `idempotencyWindowMs` that has not failed is returned instead
   * (`replayed`, or `conflict` when its request hash differs); an older or failed one releases the key.
   */
  create(submission: NewSubmission, idempotencyWindowMs: number): Promise<CreateResult>;
  get(id: string, clientId?: string): Promise<SubmissionRecord | undefined>;
  list(query: ListQuery): Promise<{ items: SubmissionSummary[]; nextCursor: string | null }>;
  /** queued -> running for this one submission (a sync request that got a worker); counts an attempt. */
  start(id: string, now: number, leaseMs: number): Promise<SubmissionRecord | undefined>;
  /**
   * Claims the oldest background submission that is queued, or running with an expired lease: it
   * becomes running with a new lease and one more attempt. One that already had `maxAttempts`
   * attempts becomes failed with `exhausted` instead (returned in `failed`, so its webhook goes out).
   */
  claimNext(now: number, leaseMs: number, maxAttempts: number, exhausted: { code: string; message: string }): Promise<{ claimed?: SubmissionRecord; failed: SubmissionRecord[] }>;
  /**
   * running -> graded | rejected | failed. With a callback URL, the webhook becomes pending now. A
   * graded or rejected one starts its grading history (reason `submitted`).
   */
  finish(id: string, outcome: Outcome, now: number, webhookEventId: string | null): Promise<SubmissionRecord | undefined>;
  /** running -> queued in the background lane (the service could not grade it now; the attempt counts). */
  release(id: string): Promise<void>;
  /** At start, on an engine only this process uses: everything queued or running goes to the background lane, leases expired. */
  recover(): Promise<number>;
  /** Background submissions waiting to be claimed (what ASYNC_QUEUE_MAX bounds). */
  countQueued(): Promise<number>;
  /** Pending webhooks whose next attempt is due, oldest first. */
  dueWebhooks(now: number, limit: number): Promise<SubmissionRecord[]>;
  /** When the next pending webhook is due, if any. */
  nextWebhookAt(): Promise<number | null>;
  recordWebhookAttempt(id: string, attempt: { at: number; status: number | null; error: string | null; state: WebhookStateName; nextAttemptAt: number | null }): Promise<void>;
  /** Blanks the source of finished submissions received before `before`; returns how many. */
  blankSources(before: number): Promise<number>;
  /** The applied migrations, for tests and the logs. */
  migrations(): Promise<number[]>;
  close(): Promise<void>;
}

/** Why a submission was graded: when it was received, or by a regrade (issue #16). */
export type GradingReason = "submitted" | "regrade";

/** One grading of a submission; the submission's own feedback and score are its latest. */
export interface Grading {
  /** The pack's version (its hash) the grading used. */
  version: string;
  score: number;
  maxScore: number;
  gradedAt: number;
  reason: GradingReason;
  /** The regrade that made it (null for the first grading). */
  regrade: string | null;
  feedback: Feedback;
}

export type RegradeScope = "latest" | "all";
export type RegradeStatus = "running" | "done" | "failed" | "cancelled";
export const REGRADE_OUTCOMES = ["improved", "worsened", "unchanged", "errored"] as const;
export type RegradeOutcome = (typeof REGRADE_OUTCOMES)[number];

export interface NewRegrade {
  id: string;
  assignment: string;
  /** The pack version the submissions are graded against (the draft's hash for a dry run with a pack). */
  version: string;
  dryRun: boolean;
  scope: RegradeScope;
  /** A dry run's draft pack files (kept so that a restart can prepare it again); null: the live pack. */
  draft: Record<string, string> | null;
  createdAt: number;
}

export interface RegradeRecord extends NewRegrade {
  status: RegradeStatus;
  /** The submissions it grades, chosen when it was created. */
  total: number;
  done: number;
  counts: Record<RegradeOutcome, number>;
  finishedAt: number | null;
  /** Why it failed (or was cancelled), for people. */
  error: string | null;
}

/** One submission's result in a regrade. `change` describes what moved (null when nothing did). */
export interface RegradeItemResult {
  outcome: RegradeOutcome;
  change: unknown;
}

export interface RegradeItem extends RegradeItemResult {
  submission: string;
}

/**
 * Grading history and regrade jobs (issue #16). A regrade chooses its submissions when created (the
 * items), records each item's result as it goes, so a restart resumes with the items not yet done.
 */
export interface RegradeStore {
  /**
   * Stores a running regrade and chooses its items: the assignment's graded or rejected submissions
   * (scope "all"), or the latest of each student, those without a student counting one each ("latest").
   */
  createRegrade(regrade: NewRegrade): Promise<RegradeRecord>;
  getRegrade(id: string): Promise<RegradeRecord | undefined>;
  /** Regrades still running (at start: the ones a stop cut off). */
  runningRegrades(): Promise<RegradeRecord[]>;
  /** The submission ids of a regrade not yet done, in submission order. */
  pendingRegradeItems(id: string): Promise<string[]>;
  /** A dry run's (or a failed grading's) result for one item; stores nothing about the submission. */
  recordRegradeItem(id: string, submission: string, result: RegradeItemResult): Promise<void>;
  /**
   * A real regrade's result for one item, in one transaction: the submission's feedback and score
   * become `feedback`'s, a grading (reason regrade) is added to its history, and the item is done.
   * With `webhookEventId` (a changed score and a callback URL) a `submission.regraded` webhook becomes
   * pending. Nothing happens (undefined) if the regrade is no longer running or the item is done.
   */
  applyRegradeItem(id: string, submission: string, feedback: Feedback, result: RegradeItemResult, now: number, webhookEventId: string | null): Promise<SubmissionRecord | undefined>;
  /** The items done, in submission order; `changed` keeps only those whose change is not null. */
  regradeItems(id: string, options: { changedOnly: boolean }): Promise<RegradeItem[]>;
  /** running -> done | failed | cancelled (once: false if it was not running). */
  finishRegrade(id: string, status: Exclude<RegradeStatus, "running">, now: number, error: string | null): Promise<boolean>;
  /** A submission's gradings, oldest first (the first is `submitted`). */
  gradings(submission: string): Promise<Grading[]>;
}

/** A list cursor that no page of this store handed out. */
export class InvalidCursorError extends Error {
  override name = "InvalidCursorError";
}
