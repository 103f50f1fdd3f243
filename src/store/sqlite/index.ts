import { canonicalJson } from "../../canonical.js";
import { randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import { mkdirSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import type { Feedback } from "../../grading/feedback.js";
import {
  type CreateResult,
  type ListQuery,
  type NewSubmission,
  type NewRegrade,
  type RegradeItemResult,
  type Outcome,
  type SubmissionRecord,
  type StoreEvent,
  type SubmissionStore,
  type RegradeRecord,
  type RegradeOutcome,
} from "../store.js";
import { migrations as allMigrations, type Migration } from "./migrations/index.js";
import * as sql from "./queries.js";
import { decodeCursor, parseJson, toGrading, toRecord, toRegrade as toRegradeRecord, toStoredPack, toSummaryPage, type GradingRow, type PackRow, type RegradeRow, type SubmissionRow } from "../rows.js";

type Row = SubmissionRow;



/** Applies the migrations not yet recorded, each in its own transaction. */
export function migrate(db: Database.Database, migrations: readonly Migration[] = allMigrations): number[] {
  db.exec(sql.createMigrationsTable);
  const applied = new Set((db.prepare(sql.appliedMigrations).all() as Array<{ version: number }>).map((r) => r.version));
  const record = db.prepare(sql.recordMigration);
  for (const migration of migrations) {
    if (applied.has(migration.version)) continue;
    db.transaction(() => {
      db.exec(migration.sql);
      record.run({ version: migration.version, name: migration.name, appliedAt: Date.now() });
    })();
  }
  return (db.prepare(sql.appliedMigrations).all() as Array<{ version: number }>).map((r) => r.version);
}

export interface SqliteOptions {
  /** A folder for gradebox.db (created if absent), or ":memory:" for a database that dies with the process. */
  dataDir: string;
}

export const DATABASE_FILE = "gradebox.db";

/**
 * The embedded engine: better-sqlite3, in WAL mode (readers never wait for the one writer, and a
 * commit is one append to the log). better-sqlite3 is synchronous; each call here is one short
 * statement or transaction on an indexed table, which is cheaper than a thread hop would be.
 */
export function openSqliteStore(options: SqliteOptions): SubmissionStore {
  let file = ":memory:";
  if (options.dataDir !== ":memory:") {
    mkdirSync(options.dataDir, { recursive: true });
    file = path.join(options.dataDir, DATABASE_FILE);
  }
  const db = new Database(file);
  db.pragma("journal_mode = WAL");
  // In WAL mode, NORMAL loses no committed transaction when the process dies (SIGKILL, OOM kill); a
  // power loss may lose the last ones. FULL fsyncs every commit, and better-sqlite3 runs on the event
  // loop, so an fsync on a busy disk would stall every request. So: NORMAL by default, and FULL for
  // the one commit that is a promise to a client who will not wait, the async submission before its
  // 202 (its fsync also makes every earlier commit durable). After a power loss the worst case is a
  // grading done again (start/finish lost: the submission is back to queued) or a sync submission that
  // was answered but not kept.
  db.pragma("synchronous = NORMAL");
  db.pragma("busy_timeout = 5000");
  db.pragma("foreign_keys = ON");
  const applied = migrate(db);

  const s = Object.fromEntries(
    Object.entries(sql).filter(([name]) => !["createMigrationsTable", "appliedMigrations", "recordMigration"].includes(name)).map(([name, text]) => [name, db.prepare(text)]),
  ) as Record<Exclude<keyof typeof sql, "createMigrationsTable" | "appliedMigrations" | "recordMigration">, Database.Statement>;

  const create = db.transaction((submission: NewSubmission, windowMs: number): CreateResult => {
    if (submission.idempotencyKey !== null) {
      const existing = s.byIdempotencySlot.get({ clientId: submission.clientId, key: submission.idempotencyKey }) as Row | undefined;
      if (existing !== undefined) {
        const expired = submission.receivedAt - existing.received_at >= windowMs;
        if (!expired && existing.status !== "failed") {
          return { kind: existing.request_hash === submission.requestHash ? "replayed" : "conflict", record: toRecord(existing) };
        }
        s.releaseIdempotencySlot.run({ seq: existing.seq });
      }
    }
    s.insertSubmission.run({
      ...submission,
      exercises: submission.exercises === null ? null : JSON.stringify(submission.exercises),
      metadata: submission.metadata === null || submission.metadata === undefined ? null : canonicalJson(submission.metadata),
      limits: submission.limits === null ? null : JSON.stringify(submission.limits),
      background: submission.mode === "async" ? 1 : 0,
    });
    return { kind: "created", record: toRecord(s.byId.get({ id: submission.id, clientId: null }) as Row) };
  });

  // Only this process uses the file, so its wake-ups are in-process; they go out after the commit,
  // on a later microtask (as a PostgreSQL notification arrives later), never inside a transaction.
  const events = new EventEmitter();
  events.setMaxListeners(0);
  const emit = (event: StoreEvent) => queueMicrotask(() => events.emit("event", event));

  const claimNext = db.transaction((now: number, leaseMs: number, maxAttempts: number, exhausted: { code: string; message: string }, sync: boolean, background: boolean) => {
    const failed: SubmissionRecord[] = [];
    for (;;) {
      const next = ((sync ? s.oldestQueuedSync.get() : undefined) ?? (background ? s.expiredLeases.get({ now }) ?? s.oldestQueuedBackground.get() : undefined)) as { seq: number; attempts: number } | undefined;
      if (next === undefined) return { failed };
      if (next.attempts < maxAttempts) return { claimed: toRecord(s.claim.get({ seq: next.seq, now, leaseUntil: now + leaseMs }) as Row), failed };
      // Started maxAttempts times and never finished: the service, not the student, keeps dying on it.
      const done = s.exhaust.get({
        seq: next.seq, status: "failed", feedback: null, score: null, maxScore: null, assignmentVersion: null, now,
        errorCode: exhausted.code, errorMessage: exhausted.message, eventId: randomUUID(),
      }) as Row;
      failed.push(toRecord(done));
    }
  });

  const claimWebhooks = db.transaction((now: number, limit: number, holdMs: number) => {
    const due = s.dueWebhooks.all({ now, limit }) as Row[];
    for (const row of due) s.holdWebhook.run({ seq: row.seq, holdUntil: now + holdMs });
    return due.map((row) => toRecord({ ...row, webhook_next_at: now + holdMs }));
  });

  const finished = (row: Row | undefined): SubmissionRecord | undefined => {
    if (row === undefined) return undefined;
    emit({ kind: "finished", id: row.id });
    return toRecord(row);
  };

  const finish = db.transaction((params: Record<string, unknown>): Row | undefined => {
    const row = s.finish.get(params) as Row | undefined;
    if (row !== undefined) s.insertSubmittedGrading.run({ id: row.id });
    return row;
  });

  const createRegrade = db.transaction((regrade: NewRegrade, leaseMs: number) => {
    s.insertRegrade.run({ ...regrade, dryRun: regrade.dryRun ? 1 : 0, draft: regrade.draft === null ? null : JSON.stringify(regrade.draft), leaseUntil: regrade.createdAt + leaseMs });
    s.insertRegradeItems.run({ id: regrade.id, assignment: regrade.assignment, scope: regrade.scope });
    s.setRegradeTotal.run({ id: regrade.id });
  });

  const toRegrade = (row: RegradeRow): RegradeRecord => toRegradeRecord(row, s.regradeCounts.all({ id: row.id }) as Array<{ outcome: RegradeOutcome; n: number }>);

  const isRunning = (id: string, claim: number | null) => {
    const row = s.regradeById.get({ id }) as RegradeRow | undefined;
    return row?.status === "running" && (claim === null || row.claims === claim);
  };

  const applyRegradeItem = db.transaction((id: string, submission: string, feedback: Feedback, result: RegradeItemResult, now: number, eventId: string | null, claim: number | null): Row | undefined => {
    if (!isRunning(id, claim)) return undefined;
    const item = { id, submission, outcome: result.outcome, change: result.change === null ? null : JSON.stringify(result.change), claim };
    if (s.recordRegradeItem.run(item).changes === 0) return undefined;
    const text = JSON.stringify(feedback);
    const common = { id, submission, version: feedback.assignmentVersion, score: feedback.score, maxScore: feedback.maxScore, now, feedback: text };
    const row = s.applyRegrade.get({ ...common, status: feedback.status, eventId }) as Row | undefined;
    // A submission no longer graded (it cannot happen today: graded is final) keeps its item done, untouched.
    if (row !== undefined) s.insertRegradeGrading.run(common);
    return row;
  });

  return {
    async create(submission, windowMs) {
      let result: CreateResult;
      if (submission.mode !== "async") {
        result = create(submission, windowMs);
      } else {
        db.pragma("synchronous = FULL");
        try {
          result = create(submission, windowMs);
        } finally {
          db.pragma("synchronous = NORMAL");
        }
      }
      if (result.kind === "created") emit({ kind: "queued" });
      return result;
    },
    async get(id, clientId) {
      const row = s.byId.get({ id, clientId: clientId ?? null }) as Row | undefined;
      return row === undefined ? undefined : toRecord(row);
    },
    async list(query: ListQuery) {
      const before = query.cursor === undefined ? null : decodeCursor(query.cursor);
      const rows = s.list.all({
        assignment: query.assignment ?? null,
        student: query.student ?? null,
        status: query.status ?? null,
        clientId: query.clientId ?? null,
        before,
        limit: query.limit + 1,
      }) as Array<Row>;
      return toSummaryPage(rows, query.limit);
    },
    async start(id, now, leaseMs) {
      const row = s.start.get({ id, now, leaseUntil: now + leaseMs }) as Row | undefined;
      return row === undefined ? undefined : toRecord(row);
    },
    async claimNext(now, leaseMs, maxAttempts, exhausted, options) {
      const result = claimNext(now, leaseMs, maxAttempts, exhausted, options?.sync === true, options?.background !== false);
      for (const failed of result.failed) emit({ kind: "finished", id: failed.id });
      return result;
    },
    async finish(id, outcome: Outcome, now, eventId, attempt) {
      const row = finish({
        id,
        attempt: attempt ?? null,
        status: outcome.status,
        now,
        eventId,
        ...(outcome.status === "failed"
          ? { feedback: null, score: null, maxScore: null, assignmentVersion: null, errorCode: outcome.error.code, errorMessage: outcome.error.message }
          : {
            feedback: JSON.stringify(outcome.feedback), score: outcome.feedback.score, maxScore: outcome.feedback.maxScore,
            assignmentVersion: outcome.feedback.assignmentVersion, errorCode: null, errorMessage: null,
          }),
      });
      return finished(row);
    },
    async release(id, attempt) {
      if (s.release.run({ id, attempt: attempt ?? null }).changes > 0) emit({ kind: "queued" });
    },
    async renewLease(claim, now, leaseMs) {
      return s.renewLease.run({ id: claim.id, attempt: claim.attempt, leaseUntil: now + leaseMs }).changes > 0;
    },
    async withdraw(id, error, now) {
      return finished(s.withdraw.get({
        id, status: "failed", now, feedback: null, score: null, maxScore: null, assignmentVersion: null,
        errorCode: error.code, errorMessage: error.message, eventId: randomUUID(),
      }) as Row | undefined);
    },
    subscribe(listener) {
      events.on("event", listener);
      return () => events.off("event", listener);
    },
    async recover() {
      s.recoverRegrades.run();
      const changes = s.recover.run().changes;
      if (changes > 0) emit({ kind: "queued" });
      return changes;
    },
    async countQueued() {
      return (s.countQueued.get() as { n: number }).n;
    },
    async dueWebhooks(now, limit) {
      return (s.dueWebhooks.all({ now, limit }) as Row[]).map(toRecord);
    },
    async claimWebhooks(now, limit, holdMs) {
      return claimWebhooks(now, limit, holdMs);
    },
    async nextWebhookAt() {
      return (s.nextWebhookAt.get() as { at: number | null }).at;
    },
    async recordWebhookAttempt(id, attempt) {
      s.recordWebhookAttempt.run({ id, ...attempt });
    },
    async blankSources(before) {
      return s.blankSources.run({ before }).changes;
    },
    async createRegrade(regrade, leaseMs) {
      createRegrade(regrade, leaseMs);
      return toRegrade(s.regradeById.get({ id: regrade.id }) as RegradeRow);
    },
    async getRegrade(id) {
      const row = s.regradeById.get({ id }) as RegradeRow | undefined;
      return row === undefined ? undefined : toRegrade(row);
    },
    async runningRegrades() {
      return (s.runningRegrades.all() as RegradeRow[]).map(toRegrade);
    },
    async pendingRegradeItems(id) {
      return (s.pendingRegradeItems.all({ id }) as Array<{ submission_id: string }>).map((r) => r.submission_id);
    },
    async claimRegrade(now, leaseMs) {
      const row = s.claimRegrade.get({ now, leaseUntil: now + leaseMs }) as RegradeRow | undefined;
      return row === undefined ? undefined : toRegrade(row);
    },
    async renewRegradeLease(id, claim, now, leaseMs) {
      return s.renewRegradeLease.run({ id, claim, leaseUntil: now + leaseMs }).changes === 1;
    },
    async releaseRegrade(id, claim) {
      s.releaseRegrade.run({ id, claim });
    },
    async recordRegradeItem(id, submission, result, claim) {
      return s.recordRegradeItem.run({ id, submission, outcome: result.outcome, change: result.change === null ? null : JSON.stringify(result.change), claim: claim ?? null }).changes === 1;
    },
    async applyRegradeItem(id, submission, feedback, result, now, eventId, claim) {
      const row = applyRegradeItem(id, submission, feedback, result, now, eventId, claim ?? null);
      return row === undefined ? undefined : toRecord(row);
    },
    async regradeItems(id, options) {
      return (s.regradeItems.all({ id, changedOnly: options.changedOnly ? 1 : 0 }) as Array<{ submission_id: string; outcome: RegradeOutcome; change: string | null }>)
        .map((r) => ({ submission: r.submission_id, outcome: r.outcome, change: parseJson<unknown>(r.change) }));
    },
    async finishRegrade(id, status, now, error, claim) {
      return s.finishRegrade.run({ id, status, now, error, claim: claim ?? null }).changes === 1;
    },
    async gradings(submission) {
      return (s.gradings.all({ id: submission }) as GradingRow[]).map(toGrading);
    },
    async savePack(pack) {
      const row = s.savePack.get({ id: pack.id, version: pack.version, files: JSON.stringify(pack.files), installedAt: pack.installedAt }) as PackRow;
      emit({ kind: "pack", id: pack.id });
      return toStoredPack(row);
    },
    async installedPacks() {
      return (s.allPacks.all() as PackRow[]).map(toStoredPack);
    },
    async installedPack(id) {
      const row = s.packById.get({ id }) as PackRow | undefined;
      return row === undefined ? undefined : toStoredPack(row);
    },
    async migrations() {
      return applied;
    },
    async close() {
      events.removeAllListeners();
      if (db.open) db.close();
    },
  };
}
