import { statement } from "./statement.js";

/**
 * Every SQL statement of the PostgreSQL engine, in one place (as pg-boss keeps its plans.js, and as
 * src/store/sqlite/queries.ts does for SQLite): to review a query, an index or a lock, read this
 * file. Parameters are named (@name) and always bound, never spliced into the text.
 */

/**
 * The channel of the store's wake-ups (LISTEN/NOTIFY): payload `q` (work was queued), `f:<id>`
 * (a submission finished) or `p:<id>` (a pack was installed). A notification is sent by the statement that makes the change, so it
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
  webhook_next_at = CASE WHEN callback_url IS NOT NULL AND @${p}eventId::text IS NOT NULL THEN @now::bigint ELSE NULL END,
  webhook_event = NULL`;

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
),
-- A graded or rejected submission's first grading starts its history (issue #16), in the same statement.
history AS (
  INSERT INTO gradings (submission_id, version, score, max_score, graded_at, reason, feedback)
  SELECT id, assignment_version, score, max_score, finished_at, 'submitted', feedback FROM finished
  WHERE status IN ('graded', 'rejected') AND feedback IS NOT NULL
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

// Issue #16: grading history and regrade jobs (the same statements as SQLite's, in PostgreSQL's dialect).

export const gradings = statement("gradings", "SELECT * FROM gradings WHERE submission_id = @id ORDER BY seq");

export const insertRegrade = statement("insert_regrade", `
INSERT INTO regrades (id, assignment, version, dry_run, scope, draft, status, total, created_at, claims, lease_until)
VALUES (@id, @assignment, @version, @dryRun, @scope, @draft, 'running', 0, @createdAt, 1, @leaseUntil)`);

// Scope "latest": the newest graded or rejected submission of each student; those without a student count one each.
export const insertRegradeItems = statement("insert_regrade_items", `
INSERT INTO regrade_items (regrade_id, submission_seq, submission_id)
SELECT @id::text, s.seq, s.id FROM submissions s
WHERE s.assignment = @assignment::text AND s.status IN ('graded', 'rejected')
  AND (@scope::text = 'all' OR s.student IS NULL OR s.seq = (
    SELECT MAX(l.seq) FROM submissions l WHERE l.student = s.student AND l.assignment = s.assignment AND l.status IN ('graded', 'rejected')))
ORDER BY s.seq`);

export const setRegradeTotal = statement("set_regrade_total", "UPDATE regrades SET total = (SELECT COUNT(*) FROM regrade_items WHERE regrade_id = @id::text) WHERE id = @id::text");

export const regradeById = statement("regrade_by_id", "SELECT * FROM regrades WHERE id = @id");

export const runningRegrades = statement("running_regrades", "SELECT * FROM regrades WHERE status = 'running' ORDER BY created_at");

export const regradeCounts = statement("regrade_counts", "SELECT outcome, COUNT(*) AS n FROM regrade_items WHERE regrade_id = @id AND outcome IS NOT NULL GROUP BY outcome");

export const pendingRegradeItems = statement("pending_regrade_items", "SELECT submission_id FROM regrade_items WHERE regrade_id = @id AND outcome IS NULL ORDER BY submission_seq");

// Only while the regrade runs (under @claim, when given) and the item is not done: a cancelled regrade, or a node that lost it, records nothing more.
export const recordRegradeItem = statement("record_regrade_item", `
UPDATE regrade_items SET outcome = @outcome::text, change = @change::text
WHERE regrade_id = @id::text AND submission_id = @submission::text AND outcome IS NULL
  AND EXISTS (SELECT 1 FROM regrades WHERE id = @id::text AND status = 'running' AND (@claim::integer IS NULL OR claims = @claim::integer))`);

// The oldest running regrade nobody holds (its lease ran out, or ended): one more claim, a new lease.
// SKIP LOCKED: nodes that race take different ones (or none), each row goes to one of them.
export const claimRegrade = statement("claim_regrade", `
UPDATE regrades SET claims = claims + 1, lease_until = @leaseUntil::bigint
WHERE id = (SELECT id FROM regrades WHERE status = 'running' AND (lease_until IS NULL OR lease_until <= @now::bigint)
  ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED)
  AND status = 'running' AND (lease_until IS NULL OR lease_until <= @now::bigint)
RETURNING *`);

export const renewRegradeLease = statement("renew_regrade_lease", "UPDATE regrades SET lease_until = @leaseUntil::bigint WHERE id = @id::text AND status = 'running' AND claims = @claim::integer");

export const releaseRegrade = statement("release_regrade", "UPDATE regrades SET lease_until = NULL WHERE id = @id::text AND status = 'running' AND claims = @claim::integer");

export const regradeItems = statement("regrade_items", `
SELECT submission_id, outcome, change FROM regrade_items
WHERE regrade_id = @id AND outcome IS NOT NULL AND (NOT @changedOnly::boolean OR change IS NOT NULL)
ORDER BY submission_seq`);

/** Locks the regrade's row, so that a cancel and an item's application do not interleave. */
export const lockRunningRegrade = statement("lock_running_regrade", "SELECT status FROM regrades WHERE id = @id::text AND status = 'running' AND (@claim::integer IS NULL OR claims = @claim::integer) FOR UPDATE");

// A regrade's new grading becomes the submission's; its status stays graded or rejected (the feedback's).
const regraded = "callback_url IS NOT NULL AND @eventId::text IS NOT NULL";
export const applyRegrade = statement("apply_regrade", `
UPDATE submissions SET
  status = @status::text, feedback = @feedback::text, score = @score::double precision, max_score = @maxScore::double precision, assignment_version = @version::text,
  webhook_state = CASE WHEN ${regraded} THEN 'pending' ELSE webhook_state END,
  webhook_event_id = CASE WHEN ${regraded} THEN @eventId::text ELSE webhook_event_id END,
  webhook_event = CASE WHEN ${regraded} THEN 'submission.regraded' ELSE webhook_event END,
  webhook_attempts = CASE WHEN ${regraded} THEN 0 ELSE webhook_attempts END,
  webhook_last_status = CASE WHEN ${regraded} THEN NULL ELSE webhook_last_status END,
  webhook_last_error = CASE WHEN ${regraded} THEN NULL ELSE webhook_last_error END,
  webhook_first_at = CASE WHEN ${regraded} THEN NULL ELSE webhook_first_at END,
  webhook_next_at = CASE WHEN ${regraded} THEN @now::bigint ELSE webhook_next_at END
WHERE id = @submission::text AND status IN ('graded', 'rejected')
RETURNING *`);

export const insertRegradeGrading = statement("insert_regrade_grading", `
INSERT INTO gradings (submission_id, version, score, max_score, graded_at, reason, regrade_id, feedback)
VALUES (@submission, @version, @score, @maxScore, @now, 'regrade', @id, @feedback)`);

export const finishRegrade = statement("finish_regrade", `
UPDATE regrades SET status = @status::text, finished_at = @now::bigint, error = @error::text, lease_until = NULL
WHERE id = @id::text AND status = 'running' AND (@claim::integer IS NULL OR claims = @claim::integer)`);

// The packs installed through the API (the same statements as SQLite's): the last install of each id,
// every save with the next sequence, and a notification `p:<id>` that wakes every node to install it.
export const savePack = statement("save_pack", `
WITH saved AS (
  INSERT INTO packs (id, version, files, installed_at) VALUES (@id::text, @version::text, @files::text, @installedAt::bigint)
  ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version, files = EXCLUDED.files, installed_at = EXCLUDED.installed_at, seq = EXCLUDED.seq
  RETURNING *
)
SELECT saved.* FROM saved CROSS JOIN LATERAL (SELECT pg_notify('${CHANNEL}', 'p:' || saved.id)) AS notified`);

export const packById = statement("pack_by_id", "SELECT * FROM packs WHERE id = @id");

export const allPacks = statement("all_packs", "SELECT * FROM packs ORDER BY id");
