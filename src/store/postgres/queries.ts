import { statement } from "./statement.js";

/**
 * Every SQL statement of the PostgreSQL engine, in one place (as pg-boss keeps its plans.js, and as
 * src/store/sqlite/queries.ts does for SQLite): to review a query, an index or a lock, read this
 * file. Parameters are named (@name) and always bound, never spliced into the text.
 */

/**
 * The channel of the store's wake-ups (LISTEN/NOTIFY): payload `q` (work was queued) or `f:<id>`
 * (a submission finished). A notification is sent by the statement that makes the change, so it
 * costs no extra round trip, and PostgreSQL delivers it only if that change commits.
 */
export const CHANNEL = "gradebox";
export const listen = `LISTEN ${CHANNEL}`;
// Joined to a statement's returned rows: one notification per row, and no column in the result.
const notifyQueued = `CROSS JOIN LATERAL (SELECT pg_notify('${CHANNEL}', 'q')) AS notified`;
const notifyFinished = (table: string) => `CROSS JOIN LATERAL (SELECT pg_notify('${CHANNEL}', 'f:' || ${table}.id)) AS notified`;

export const createMigrationsTable = `
CREATE TABLE IF NOT EXISTS schema_migrations (
  version INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  applied_at BIGINT NOT NULL
)`;

/**
 * Several nodes may start at once against a new database; the migrations of one run at a time. A
 * transaction-scoped advisory lock is the usual way (node-pg-migrate, Flyway do the same): it is
 * released by the COMMIT or ROLLBACK, or when the connection dies, so it cannot be left behind.
 */
export const lockMigrations = "SELECT pg_advisory_xact_lock(hashtext('gradebox.migrations'))";

export const appliedMigrations = "SELECT version FROM schema_migrations ORDER BY version";

export const recordMigration = "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)";

export const insertSubmission = statement("insert_submission", `
WITH inserted AS (
INSERT INTO submissions (
  id, assignment, assignment_version, language, exercises, format, source, source_sha256, student, metadata,
  limits, idempotency_key, idempotency_slot, request_hash, client_id, callback_url, mode, background, status, received_at
) VALUES (
  @id, @assignment, @assignmentVersion, @language, @exercises, @format, @source, @sourceSha256, @student, @metadata,
  @limits, @idempotencyKey, @idempotencyKey, @requestHash, @clientId, @callbackUrl, @mode, @background, 'queued', @receivedAt
)
RETURNING *
)
SELECT inserted.* FROM inserted ${notifyQueued}`);

// FOR UPDATE: a concurrent create with the same key (on another node) waits for this one's decision.
export const byIdempotencySlot = statement("by_idempotency_slot", `
SELECT * FROM submissions WHERE COALESCE(client_id, '') = COALESCE(@clientId::text, '') AND idempotency_slot = @key
FOR UPDATE`);

export const releaseIdempotencySlot = statement("release_idempotency_slot", "UPDATE submissions SET idempotency_slot = NULL WHERE seq = @seq");

export const byId = statement("by_id", "SELECT * FROM submissions WHERE id = @id AND (@clientId::text IS NULL OR client_id = @clientId::text)");

// Newest first. A filter left NULL matches everything; the cursor is the last seq of the previous page.
export const list = statement("list", `
SELECT id, assignment, student, status, score, max_score, received_at, seq FROM submissions
WHERE (@assignment::text IS NULL OR assignment = @assignment::text)
  AND (@student::text IS NULL OR student = @student::text)
  AND (@status::text IS NULL OR status = @status::text)
  AND (@clientId::text IS NULL OR client_id = @clientId::text)
  AND (@before::bigint IS NULL OR seq < @before::bigint)
ORDER BY seq DESC
LIMIT @limit`);

export const start = statement("start", `
UPDATE submissions SET status = 'running', attempts = attempts + 1, started_at = @now::bigint, lease_until = @leaseUntil::bigint
WHERE id = @id AND status = 'queued'
RETURNING *`);

// How a grading ends; shared by finish (the grading ran) and the claim's exhaustion (it was started too often).
const finishedSet = (p: string) => `
  status = @${p}status::text, feedback = @${p}feedback::text, error_code = @${p}errorCode::text, error_message = @${p}errorMessage::text,
  score = @${p}score::double precision, max_score = @${p}maxScore::double precision,
  assignment_version = COALESCE(@${p}assignmentVersion::text, assignment_version),
  finished_at = @now::bigint, lease_until = NULL,
  idempotency_slot = CASE WHEN @${p}status::text = 'failed' THEN NULL ELSE idempotency_slot END,
  webhook_state = CASE WHEN callback_url IS NOT NULL AND @${p}eventId::text IS NOT NULL THEN 'pending' ELSE NULL END,
  webhook_event_id = CASE WHEN callback_url IS NOT NULL THEN @${p}eventId::text ELSE NULL END,
  webhook_next_at = CASE WHEN callback_url IS NOT NULL AND @${p}eventId::text IS NOT NULL THEN @now::bigint ELSE NULL END`;

/**
 * The conditional finish: only a running submission finishes, so when two nodes race to finish the
 * same one (a lease ran out while its first node was still grading), exactly one result is stored
 * and the other gets no row back.
 */
export const finish = statement("finish", `
WITH finished AS (
  UPDATE submissions SET ${finishedSet("")}
  WHERE id = @id AND status = 'running' AND (@attempt::integer IS NULL OR attempts = @attempt::integer)
  RETURNING *
)
SELECT finished.* FROM finished ${notifyFinished("finished")}`);

/** queued -> failed, only while no node has started it (a sync submission no worker took in time). */
export const withdraw = statement("withdraw", `
WITH finished AS (
  UPDATE submissions SET ${finishedSet("")} WHERE id = @id AND status = 'queued' RETURNING *
)
SELECT finished.* FROM finished ${notifyFinished("finished")}`);

/** The attempt is the claim's fencing token: a node that lost its claim cannot renew it. */
export const renewLease = statement("renew_lease", "UPDATE submissions SET lease_until = @leaseUntil::bigint WHERE id = @id AND status = 'running' AND attempts = @attempt::integer");

/**
 * A claim in one round trip. The candidate is, with @sync, the oldest queued sync submission (a
 * client waits for it on some node); else, with @background, the oldest running submission whose
 * lease ran out (its node died), else the oldest queued background one; FOR UPDATE SKIP LOCKED lets concurrent claims
 * (other workers, other nodes) each take a different row without waiting on each other. Under
 * MAX_ATTEMPTS it becomes running with a new lease; at MAX_ATTEMPTS it fails with `exhausted` (the
 * caller claims again). The two UPDATEs see the same candidate and exclude each other on attempts.
 */
export const claim = statement("claim", `
WITH sync AS (
  SELECT seq FROM submissions WHERE @sync::boolean AND status = 'queued' AND NOT background ORDER BY seq LIMIT 1 FOR UPDATE SKIP LOCKED
),
expired AS (
  SELECT seq FROM submissions WHERE @background::boolean AND NOT EXISTS (SELECT 1 FROM sync)
    AND status = 'running' AND lease_until < @now::bigint ORDER BY seq LIMIT 1 FOR UPDATE SKIP LOCKED
),
queued AS (
  SELECT seq FROM submissions WHERE @background::boolean AND NOT EXISTS (SELECT 1 FROM sync) AND NOT EXISTS (SELECT 1 FROM expired)
    AND status = 'queued' AND background ORDER BY seq LIMIT 1 FOR UPDATE SKIP LOCKED
),
candidate AS (SELECT seq FROM sync UNION ALL SELECT seq FROM expired UNION ALL SELECT seq FROM queued),
claimed AS (
  UPDATE submissions s SET status = 'running', attempts = s.attempts + 1, started_at = @now::bigint, lease_until = @leaseUntil::bigint, background = TRUE
  FROM candidate WHERE s.seq = candidate.seq AND s.attempts < @maxAttempts
  RETURNING s.*
),
exhausted AS (
  UPDATE submissions s SET ${finishedSet("x_")}
  FROM candidate WHERE s.seq = candidate.seq AND s.attempts >= @maxAttempts
  RETURNING s.*
)
SELECT TRUE AS claimed, claimed.* FROM claimed
UNION ALL
SELECT FALSE AS claimed, exhausted.* FROM exhausted ${notifyFinished("exhausted")}`);

export const release = statement("release", `
WITH released AS (
  UPDATE submissions SET status = 'queued', lease_until = NULL, background = TRUE
  WHERE id = @id AND status = 'running' AND (@attempt::integer IS NULL OR attempts = @attempt::integer)
  RETURNING id
)
SELECT released.id FROM released ${notifyQueued}`);

export const countQueued = statement("count_queued", "SELECT COUNT(*) AS n FROM submissions WHERE status = 'queued' AND background");

export const dueWebhooks = statement("due_webhooks", "SELECT * FROM submissions WHERE webhook_state = 'pending' AND webhook_next_at <= @now::bigint ORDER BY webhook_next_at LIMIT @limit");

/**
 * Due webhooks, each held (its next attempt moved to @holdUntil) while this node sends it; SKIP
 * LOCKED lets another node claiming at the same moment take other ones instead of waiting.
 */
export const claimWebhooks = statement("claim_webhooks", `
WITH due AS (
  SELECT seq, webhook_next_at AS due_at FROM submissions WHERE webhook_state = 'pending' AND webhook_next_at <= @now::bigint
  ORDER BY webhook_next_at LIMIT @limit FOR UPDATE SKIP LOCKED
),
held AS (
  UPDATE submissions s SET webhook_next_at = @holdUntil::bigint FROM due WHERE s.seq = due.seq RETURNING s.*, due.due_at
)
SELECT * FROM held ORDER BY due_at, seq`);

export const nextWebhookAt = statement("next_webhook_at", "SELECT MIN(webhook_next_at) AS at FROM submissions WHERE webhook_state = 'pending'");

export const recordWebhookAttempt = statement("record_webhook_attempt", `
UPDATE submissions SET
  webhook_attempts = webhook_attempts + 1, webhook_last_status = @status::integer, webhook_last_error = @error::text,
  webhook_state = @state, webhook_next_at = @nextAttemptAt::bigint, webhook_first_at = COALESCE(webhook_first_at, @at::bigint)
WHERE id = @id AND webhook_state = 'pending'`);

export const blankSources = statement("blank_sources", `
UPDATE submissions SET source = '', source_blanked = TRUE
WHERE NOT source_blanked AND finished_at IS NOT NULL AND received_at < @before`);
