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

/**
 * What the store tells every node that shares it (in-process on SQLite; LISTEN/NOTIFY on PostgreSQL),
 * so that nodes wait for events instead of polling:
 * - `queued`: a submission became claimable (created, released, or a sync one);
 * - `finished`: a submission reached its final state (graded, rejected, failed; its webhook may be pending);
 * - `pack`: a pack was installed through the API (on any node): its stored files changed;
 * - `resync`: events may have been missed (the connection to the database was lost and is back): look again.
 */
export type StoreEvent =
  | { kind: "queued" }
  | { kind: "finished"; id: string }
  | { kind: "pack"; id: string }
  | { kind: "resync" };

/**
 * A node's hold on a running submission: its id and the attempt number its claim produced. Every
 * claim counts one more attempt, so the attempt is a fencing token: a node whose lease ran out and
 * whose submission another node claimed again holds a stale attempt, and its renewals and its
 * result are refused.
 */
export interface Claim {
  id: string;
  attempt: number;
}

export interface SubmissionStore extends RegradeStore, PackStore {
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
   * With `sync: true`, a queued sync submission (oldest first) is claimed before anything else: a
   * client holds a connection open for it, on whichever node received it. With `background: false`
   * (a draining node), only sync submissions are claimed.
   */
  claimNext(now: number, leaseMs: number, maxAttempts: number, exhausted: { code: string; message: string }, options?: { sync?: boolean; background?: boolean }): Promise<{ claimed?: SubmissionRecord; failed: SubmissionRecord[] }>;
  /**
   * running -> graded | rejected | failed. With a callback URL, the webhook becomes pending now.
   * With `attempt`, only while the submission is still running under that claim (see Claim): of two
   * nodes that race to finish one submission, exactly one stores its result; the other gets undefined.
   */
  finish(id: string, outcome: Outcome, now: number, webhookEventId: string | null, attempt?: number): Promise<SubmissionRecord | undefined>;
  /** running -> queued in the background lane (the service could not grade it now; the attempt counts). With `attempt`, only under that claim. */
  release(id: string, attempt?: number): Promise<void>;
  /**
   * Extends the lease of a submission running under this claim to `now + leaseMs`. False when the
   * node lost it (finished elsewhere, or claimed again by another node after the lease ran out).
   */
  renewLease(claim: Claim, now: number, leaseMs: number): Promise<boolean>;
  /**
   * queued -> failed with `error`, only while no node has started it (a sync submission that waited
   * too long for a worker anywhere). Undefined when it was already started or finished.
   */
  withdraw(id: string, error: { code: string; message: string }, now: number): Promise<SubmissionRecord | undefined>;
  /**
   * Wake-ups from every node that shares the store (see StoreEvent). Returns the unsubscribe function.
   * Listeners run after the change is committed and must not throw.
   */
  subscribe(listener: (event: StoreEvent) => void): () => void;
  /**
   * At start, on an engine only this process uses (SQLite): everything queued or running goes to the
   * background lane, leases expired, and running regrades' leases end (the next claimRegrade takes them). An engine that several nodes share must not take running work
   * from live nodes here (their leases decide): it returns 0 and changes nothing.
   */
  recover(): Promise<number>;
  /** Background submissions waiting to be claimed (what ASYNC_QUEUE_MAX bounds). */
  countQueued(): Promise<number>;
  /** Pending webhooks whose next attempt is due, oldest first. */
  dueWebhooks(now: number, limit: number): Promise<SubmissionRecord[]>;
  /**
   * Like dueWebhooks, but each one returned is held for `holdMs` (its next attempt moves to now +
   * holdMs), so that another node does not send it at the same moment. A node that dies while
   * sending leaves it due again when the hold runs out: delivery is at least once.
   */
  claimWebhooks(now: number, limit: number, holdMs: number): Promise<SubmissionRecord[]>;
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

/** A pack as the last install through the API left it: what every node that shares the store makes live. */
export interface NewStoredPack {
  /** The assignment id. */
  id: string;
  /** The pack's version (its hash, a submission's assignmentVersion). */
  version: string;
  /** The pack's files, by path in the pack (assignment.json, cases/…), as a PUT uploads them. */
  files: Record<string, string>;
  installedAt: number;
}

export interface StoredPack extends NewStoredPack {
  /** Counted up by every save of any pack: a later save has a greater sequence. */
  seq: number;
}

/**
 * The packs installed through the API, shared by every node (issue #15's gap: a PUT used to install on
 * one node only). Only the last install of each id is kept; the files on each node's GRADERS_DIR are
 * that node's copy.
 */
export interface PackStore {
  /** Stores (or replaces) the pack of `pack.id` and tells every node (a `pack` event) once committed. */
  savePack(pack: NewStoredPack): Promise<StoredPack>;
  /** Every stored pack, by id. */
  installedPacks(): Promise<StoredPack[]>;
  installedPack(id: string): Promise<StoredPack | undefined>;
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
  /**
   * The fencing token of the node that holds it: how many times it was claimed (1 for its creator).
   * A node whose lease ran out and whose regrade another node claimed holds a stale claim, and its
   * renewals, items and finish are refused (see Claim for submissions).
   */
  claim: number;
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
  createRegrade(regrade: NewRegrade, leaseMs: number): Promise<RegradeRecord>;
  /**
   * Claims the oldest running regrade whose lease ran out (or that nobody holds): it gets a new lease
   * to `now + leaseMs` and one more claim (the returned record's `claim`). Of nodes that race for one,
   * exactly one gets it; undefined when none is claimable.
   */
  claimRegrade(now: number, leaseMs: number): Promise<RegradeRecord | undefined>;
  /** Extends the lease of a regrade running under this claim to `now + leaseMs`. False when the node lost it (finished, cancelled, or claimed by another node). */
  renewRegradeLease(id: string, claim: number, now: number, leaseMs: number): Promise<boolean>;
  /** Ends the lease of a regrade running under this claim (a node that stops): another node may claim it at once. */
  releaseRegrade(id: string, claim: number): Promise<void>;
  getRegrade(id: string): Promise<RegradeRecord | undefined>;
  /** Regrades still running (at start: the ones a stop cut off). */
  runningRegrades(): Promise<RegradeRecord[]>;
  /** The submission ids of a regrade not yet done, in submission order. */
  pendingRegradeItems(id: string): Promise<string[]>;
  /**
   * A dry run's (or a failed grading's) result for one item; stores nothing about the submission.
   * With `claim`, only while the regrade runs under that claim. False when nothing was recorded.
   */
  recordRegradeItem(id: string, submission: string, result: RegradeItemResult, claim?: number): Promise<boolean>;
  /**
   * A real regrade's result for one item, in one transaction: the submission's feedback and score
   * become `feedback`'s, a grading (reason regrade) is added to its history, and the item is done.
   * With `webhookEventId` (a changed score and a callback URL) a `submission.regraded` webhook becomes
   * pending. Nothing happens (undefined) if the regrade is no longer running or the item is done,
   * or, with `claim`, if the regrade is no longer held under that claim (a node that lost its lease).
   */
  applyRegradeItem(id: string, submission: string, feedback: Feedback, result: RegradeItemResult, now: number, webhookEventId: string | null, claim?: number): Promise<SubmissionRecord | undefined>;
  /** The items done, in submission order; `changed` keeps only those whose change is not null. */
  regradeItems(id: string, options: { changedOnly: boolean }): Promise<RegradeItem[]>;
  /**
   * running -> done | failed | cancelled (once: false if it was not running). With `claim`, only while
   * held under that claim (its holder finishing it); without, from any node (a client's cancel).
   */
  finishRegrade(id: string, status: Exclude<RegradeStatus, "running">, now: number, error: string | null, claim?: number): Promise<boolean>;
  /** A submission's gradings, oldest first (the first is `submitted`). */
  gradings(submission: string): Promise<Grading[]>;
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
