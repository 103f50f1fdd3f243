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

export interface WebhookState {
  state: WebhookStateName;
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

export interface SubmissionStore {
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
  /** running -> graded | rejected | failed. With a callback URL, the webhook becomes pending now. */
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
  /**
   * Why the store cannot be reached now, or null. Only a server engine (PostgreSQL) has this; an
   * embedded one (SQLite) is reachable as long as the process runs.
   */
  unavailable?(): string | null;
  /** The applied migrations, for tests and the logs. */
  migrations(): Promise<number[]>;
  close(): Promise<void>;
}

/** A list cursor that no page of this store handed out. */
export class InvalidCursorError extends Error {
  override name = "InvalidCursorError";
}

/**
 * The store cannot be reached now (a database server restarting or out of reach). Not the client's
 * fault and not a bug: the API answers 503 store_unavailable with Retry-After.
 */
export class StoreUnavailableError extends Error {
  override name = "StoreUnavailableError";
  constructor(readonly reason: string, readonly retryAfterS: number) {
    super(reason);
  }
}
