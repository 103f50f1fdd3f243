import { randomUUID } from "node:crypto";
import { canonicalJson } from "../../canonical.js";
import {
  type CreateResult,
  type ListQuery,
  type NewSubmission,
  type Outcome,
  type SubmissionRecord,
  type StoreEvent,
  type SubmissionStore,
} from "../store.js";
import { decodeCursor, toRecord, toSummaryPage, type SubmissionRow } from "../rows.js";
import { Database, sharedDatabase, type Queryable } from "./database.js";
import { Listener } from "./listener.js";
import { postgresPacks } from "./packs.js";
import { postgresRegrades } from "./regrades.js";
import { migrations as allMigrations, type Migration } from "./migrations/index.js";
import * as sql from "./queries.js";
import { bind } from "./statement.js";

type Row = SubmissionRow;

/** Applies the migrations not yet recorded, all in one transaction, one node at a time. */
export async function migrate(db: Database, migrations: readonly Migration[] = allMigrations): Promise<number[]> {
  return db.transaction(async (client) => {
    await client.query(sql.lockMigrations);
    await client.query(sql.createMigrationsTable);
    const applied = new Set((await client.query<{ version: number }>(sql.appliedMigrations)).rows.map((r) => r.version));
    for (const migration of migrations) {
      if (applied.has(migration.version)) continue;
      await client.query(migration.sql);
      await client.query(sql.recordMigration, [migration.version, migration.name, Date.now()]);
    }
    return (await client.query<{ version: number }>(sql.appliedMigrations)).rows.map((r) => r.version);
  });
}

export interface PostgresOptions {
  /** postgres://user:password@host:port/database (DATABASE_URL). */
  url: string;
  /** Connections at most in this store's pool (DATABASE_POOL_MAX). */
  poolMax: number;
  /** Told when the database becomes unreachable (with why) and when it is back (null). */
  onStateChange?: (reason: string | null) => void;
  /**
   * A pool of its own instead of the process's shared one (sharedDatabase): for tests that play
   * several nodes in one process.
   */
  isolated?: boolean;
}

/** A PostgreSQL store: what the service uses, plus what only a server engine has. */
export interface PostgresStore extends SubmissionStore {
  /** Why the database is unreachable now, or null (for /health). */
  unavailable(): string | null;
  /** The connection pool's layer (the bench counts round trips through it). */
  readonly database: Database;
}

function outcomeValues(outcome: Outcome, prefix = ""): Record<string, unknown> {
  const values = outcome.status === "failed"
    ? { status: "failed", feedback: null, score: null, maxScore: null, assignmentVersion: null, errorCode: outcome.error.code, errorMessage: outcome.error.message }
    : {
      status: outcome.status, feedback: JSON.stringify(outcome.feedback), score: outcome.feedback.score, maxScore: outcome.feedback.maxScore,
      assignmentVersion: outcome.feedback.assignmentVersion, errorCode: null, errorMessage: null,
    };
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [`${prefix}${k}`, v]));
}

const UNIQUE_VIOLATION = "23505";

/**
 * The server engine: any number of gradebox processes share one PostgreSQL database. Claims take
 * rows with FOR UPDATE SKIP LOCKED and hold them with a lease (lease_until); a finish is conditional
 * on the row still running, so exactly one result is stored. Opening applies the migrations.
 */
export async function openPostgresStore(options: PostgresOptions): Promise<PostgresStore> {
  const dbOptions = { url: options.url, poolMax: options.poolMax, ...(options.onStateChange !== undefined ? { onStateChange: options.onStateChange } : {}) };
  const db = options.isolated === true ? new Database(dbOptions) : sharedDatabase(dbOptions);
  let applied: number[];
  try {
    applied = await migrate(db);
  } catch (error) {
    await db.close();
    throw error;
  }

  const listener = new Listener(options.url);
  await listener.start();

  const one = async (q: Parameters<typeof bind>[0], values?: Record<string, unknown>, client: Queryable = db): Promise<Row | undefined> =>
    (await client.query<Row>(bind(q, values))).rows[0];

  const createOnce = (submission: NewSubmission, windowMs: number) => db.transaction(async (client): Promise<CreateResult> => {
    if (submission.idempotencyKey !== null) {
      const existing = await one(sql.byIdempotencySlot, { clientId: submission.clientId, key: submission.idempotencyKey }, client);
      if (existing !== undefined) {
        const expired = submission.receivedAt - existing.received_at >= windowMs;
        if (!expired && existing.status !== "failed") {
          return { kind: existing.request_hash === submission.requestHash ? "replayed" : "conflict", record: toRecord(existing) };
        }
        await client.query(bind(sql.releaseIdempotencySlot, { seq: existing.seq }));
      }
    }
    const row = await one(sql.insertSubmission, insertValues(submission), client);
    return { kind: "created", record: toRecord(row as Row) };
  });

  return {
    ...postgresRegrades<Row>(db, toRecord),
    ...postgresPacks(db),
    database: db,
    unavailable: () => db.unavailable(),
    async create(submission, windowMs) {
      // Without a key, one INSERT (one round trip, committed before the 202).
      if (submission.idempotencyKey === null) return { kind: "created", record: toRecord((await one(sql.insertSubmission, insertValues(submission))) as Row) };
      for (let attempt = 1; ; attempt++) {
        try {
          return await createOnce(submission, windowMs);
        } catch (error) {
          // Two nodes inserted the same new key at once: the unique index let one win; the other
          // looks again and replays (or conflicts with) the winner.
          if ((error as { code?: string }).code !== UNIQUE_VIOLATION || attempt >= 3) throw error;
        }
      }
    },
    async get(id, clientId) {
      const row = await one(sql.byId, { id, clientId: clientId ?? null });
      return row === undefined ? undefined : toRecord(row);
    },
    async list(query: ListQuery) {
      const before = query.cursor === undefined ? null : decodeCursor(query.cursor);
      const rows = (await db.query<Row>(bind(sql.list, {
        assignment: query.assignment ?? null,
        student: query.student ?? null,
        status: query.status ?? null,
        clientId: query.clientId ?? null,
        before,
        limit: query.limit + 1,
      }))).rows;
      return toSummaryPage(rows, query.limit);
    },
    async start(id, now, leaseMs) {
      const row = await one(sql.start, { id, now, leaseUntil: now + leaseMs });
      return row === undefined ? undefined : toRecord(row);
    },
    async claimNext(now, leaseMs, maxAttempts, exhausted, claimOptions) {
      const failed: SubmissionRecord[] = [];
      for (;;) {
        const row = await one(sql.claim, {
          now, leaseUntil: now + leaseMs, maxAttempts, sync: claimOptions?.sync === true, background: claimOptions?.background !== false,
          // Started maxAttempts times and never finished: the service, not the student, keeps dying on it.
          ...outcomeValues({ status: "failed", error: exhausted }, "x_"), x_eventId: randomUUID(),
        }) as (Row & { claimed: boolean }) | undefined;
        if (row === undefined) return { failed };
        if (row.claimed) return { claimed: toRecord(row), failed };
        failed.push(toRecord(row));
      }
    },
    async finish(id, outcome: Outcome, now, eventId, attempt) {
      const row = await one(sql.finish, { id, now, eventId, attempt: attempt ?? null, ...outcomeValues(outcome) });
      return row === undefined ? undefined : toRecord(row);
    },
    async release(id, attempt) {
      await db.query(bind(sql.release, { id, attempt: attempt ?? null }));
    },
    async renewLease(claim, now, leaseMs) {
      return ((await db.query(bind(sql.renewLease, { id: claim.id, attempt: claim.attempt, leaseUntil: now + leaseMs }))).rowCount ?? 0) > 0;
    },
    async withdraw(id, error, now) {
      const row = await one(sql.withdraw, { id, now, eventId: randomUUID(), ...outcomeValues({ status: "failed", error }) });
      return row === undefined ? undefined : toRecord(row);
    },
    subscribe(subscriber: (event: StoreEvent) => void) {
      return listener.subscribe(subscriber);
    },
    /**
     * On a shared database, a starting node must not take back what other nodes are grading now: a
     * running submission is theirs while its lease holds. What a dead node left running becomes
     * claimable when its lease runs out (claimNext takes expired leases), and queued work is
     * claimable as it is; so nothing is reset here.
     */
    async recover() {
      return 0;
    },
    async countQueued() {
      return (await one(sql.countQueued) as unknown as { n: number }).n;
    },
    async dueWebhooks(now, limit) {
      return (await db.query<Row>(bind(sql.dueWebhooks, { now, limit }))).rows.map(toRecord);
    },
    async claimWebhooks(now, limit, holdMs) {
      return (await db.query<Row>(bind(sql.claimWebhooks, { now, limit, holdUntil: now + holdMs }))).rows.map(toRecord);
    },
    async nextWebhookAt() {
      return (await one(sql.nextWebhookAt) as unknown as { at: number | null }).at;
    },
    async recordWebhookAttempt(id, attempt) {
      await db.query(bind(sql.recordWebhookAttempt, { id, ...attempt }));
    },
    async blankSources(before) {
      return (await db.query(bind(sql.blankSources, { before }))).rowCount ?? 0;
    },
    async migrations() {
      return applied;
    },
    async close() {
      await listener.close();
      await db.close();
    },
  };
}

function insertValues(submission: NewSubmission): Record<string, unknown> {
  return {
    ...submission,
    exercises: submission.exercises === null ? null : JSON.stringify(submission.exercises),
    metadata: submission.metadata === null || submission.metadata === undefined ? null : canonicalJson(submission.metadata),
    limits: submission.limits === null ? null : JSON.stringify(submission.limits),
    background: submission.mode === "async",
  };
}
