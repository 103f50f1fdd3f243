/**
 * Every SQL statement of the SQLite engine, in one place (as pg-boss keeps its plans.js): to review
 * a query, an index or a lock, read this file. Parameters are named (@name) and always bound, never
 * spliced into the text.
 */

export const createMigrationsTable = `
CREATE TABLE IF NOT EXISTS schema_migrations (
  version INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  applied_at INTEGER NOT NULL
)`;

export const appliedMigrations = "SELECT version FROM schema_migrations ORDER BY version";

export const recordMigration = "INSERT INTO schema_migrations (version, name, applied_at) VALUES (@version, @name, @appliedAt)";

export const insertSubmission = `
INSERT INTO submissions (
  id, assignment, assignment_version, language, exercises, format, source, source_sha256, student, metadata,
  limits, idempotency_key, idempotency_slot, request_hash, client_id, callback_url, mode, background, status, received_at
) VALUES (
  @id, @assignment, @assignmentVersion, @language, @exercises, @format, @source, @sourceSha256, @student, @metadata,
  @limits, @idempotencyKey, @idempotencyKey, @requestHash, @clientId, @callbackUrl, @mode, @background, 'queued', @receivedAt
)`;

export const byIdempotencySlot = "SELECT * FROM submissions WHERE COALESCE(client_id, '') = COALESCE(@clientId, '') AND idempotency_slot = @key";

export const releaseIdempotencySlot = "UPDATE submissions SET idempotency_slot = NULL WHERE seq = @seq";

export const byId = "SELECT * FROM submissions WHERE id = @id AND (@clientId IS NULL OR client_id = @clientId)";

// Newest first. A filter left NULL matches everything; the cursor is the last seq of the previous page.
export const list = `
SELECT id, assignment, student, status, score, max_score, received_at, seq FROM submissions
WHERE (@assignment IS NULL OR assignment = @assignment)
  AND (@student IS NULL OR student = @student)
  AND (@status IS NULL OR status = @status)
  AND (@clientId IS NULL OR client_id = @clientId)
  AND (@before IS NULL OR seq < @before)
ORDER BY seq DESC
LIMIT @limit`;

export const start = `
UPDATE submissions SET status = 'running', attempts = attempts + 1, started_at = @now, lease_until = @leaseUntil
WHERE id = @id AND status = 'queued'
RETURNING *`;

export const oldestQueuedSync = "SELECT seq, attempts FROM submissions WHERE status = 'queued' AND background = 0 ORDER BY seq LIMIT 1";

export const oldestQueuedBackground = "SELECT seq, attempts FROM submissions WHERE status = 'queued' AND background = 1 ORDER BY seq LIMIT 1";

export const expiredLeases = "SELECT seq, attempts FROM submissions WHERE status = 'running' AND lease_until < @now ORDER BY seq LIMIT 1";

export const claim = `
UPDATE submissions SET status = 'running', attempts = attempts + 1, started_at = @now, lease_until = @leaseUntil, background = 1
WHERE seq = @seq
RETURNING *`;

// How a grading ends; shared by finish (the grading ran) and exhaust (it was started too often).
const finishedSet = `
  status = @status, feedback = @feedback, error_code = @errorCode, error_message = @errorMessage,
  score = @score, max_score = @maxScore, assignment_version = COALESCE(@assignmentVersion, assignment_version),
  finished_at = @now, lease_until = NULL,
  idempotency_slot = CASE WHEN @status = 'failed' THEN NULL ELSE idempotency_slot END,
  webhook_state = CASE WHEN callback_url IS NOT NULL AND @eventId IS NOT NULL THEN 'pending' ELSE NULL END,
  webhook_event_id = CASE WHEN callback_url IS NOT NULL THEN @eventId ELSE NULL END,
  webhook_next_at = CASE WHEN callback_url IS NOT NULL AND @eventId IS NOT NULL THEN @now ELSE NULL END,
  webhook_event = NULL`;

// With an attempt, only under that claim: a node whose lease ran out and whose submission was claimed
// again cannot overwrite the result (or finish it twice).
export const finish = `UPDATE submissions SET ${finishedSet} WHERE id = @id AND status = 'running' AND (@attempt IS NULL OR attempts = @attempt) RETURNING *`;

export const withdraw = `UPDATE submissions SET ${finishedSet} WHERE id = @id AND status = 'queued' RETURNING *`;

export const renewLease = "UPDATE submissions SET lease_until = @leaseUntil WHERE id = @id AND status = 'running' AND attempts = @attempt";

export const exhaust = `UPDATE submissions SET ${finishedSet} WHERE seq = @seq AND status IN ('queued', 'running') RETURNING *`;

export const release = "UPDATE submissions SET status = 'queued', lease_until = NULL, background = 1 WHERE id = @id AND status = 'running' AND (@attempt IS NULL OR attempts = @attempt)";

export const recover = "UPDATE submissions SET status = 'queued', lease_until = NULL, background = 1 WHERE status IN ('queued', 'running')";

export const countQueued = "SELECT COUNT(*) AS n FROM submissions WHERE status = 'queued' AND background = 1";

export const dueWebhooks = "SELECT * FROM submissions WHERE webhook_state = 'pending' AND webhook_next_at <= @now ORDER BY webhook_next_at LIMIT @limit";

// A claimed webhook is held (its next attempt moved to @holdUntil) while one node sends it.
export const holdWebhook = "UPDATE submissions SET webhook_next_at = @holdUntil WHERE seq = @seq AND webhook_state = 'pending'";

export const nextWebhookAt = "SELECT MIN(webhook_next_at) AS at FROM submissions WHERE webhook_state = 'pending'";

export const recordWebhookAttempt = `
UPDATE submissions SET
  webhook_attempts = webhook_attempts + 1, webhook_last_status = @status, webhook_last_error = @error,
  webhook_state = @state, webhook_next_at = @nextAttemptAt, webhook_first_at = COALESCE(webhook_first_at, @at)
WHERE id = @id AND webhook_state = 'pending'`;

export const blankSources = `
UPDATE submissions SET source = '', source_blanked = 1
WHERE source_blanked = 0 AND finished_at IS NOT NULL AND received_at < @before`;

// The first grading of a submission (finish, when graded or rejected): its history's first entry.
export const insertSubmittedGrading = `
INSERT INTO gradings (submission_id, version, score, max_score, graded_at, reason, feedback)
SELECT id, assignment_version, score, max_score, finished_at, 'submitted', feedback FROM submissions
WHERE id = @id AND status IN ('graded', 'rejected') AND feedback IS NOT NULL`;

export const gradings = "SELECT * FROM gradings WHERE submission_id = @id ORDER BY seq";

export const insertRegrade = `
INSERT INTO regrades (id, assignment, version, dry_run, scope, draft, status, total, created_at, claims, lease_until)
VALUES (@id, @assignment, @version, @dryRun, @scope, @draft, 'running', 0, @createdAt, 1, @leaseUntil)`;

// Scope "latest": the newest graded or rejected submission of each student; those without a student count one each.
export const insertRegradeItems = `
INSERT INTO regrade_items (regrade_id, submission_seq, submission_id)
SELECT @id, s.seq, s.id FROM submissions s
WHERE s.assignment = @assignment AND s.status IN ('graded', 'rejected')
  AND (@scope = 'all' OR s.student IS NULL OR s.seq = (
    SELECT MAX(l.seq) FROM submissions l WHERE l.student = s.student AND l.assignment = s.assignment AND l.status IN ('graded', 'rejected')))
ORDER BY s.seq`;

export const setRegradeTotal = "UPDATE regrades SET total = (SELECT COUNT(*) FROM regrade_items WHERE regrade_id = @id) WHERE id = @id";

export const regradeById = "SELECT * FROM regrades WHERE id = @id";

export const runningRegrades = "SELECT * FROM regrades WHERE status = 'running' ORDER BY created_at";

export const regradeCounts = "SELECT outcome, COUNT(*) AS n FROM regrade_items WHERE regrade_id = @id AND outcome IS NOT NULL GROUP BY outcome";

export const pendingRegradeItems = "SELECT submission_id FROM regrade_items WHERE regrade_id = @id AND outcome IS NULL ORDER BY submission_seq";

// Only while the regrade runs (under @claim, when given) and the item is not done: a cancelled regrade, or a node that lost it, records nothing more.
export const recordRegradeItem = `
UPDATE regrade_items SET outcome = @outcome, change = @change
WHERE regrade_id = @id AND submission_id = @submission AND outcome IS NULL
  AND EXISTS (SELECT 1 FROM regrades WHERE id = @id AND status = 'running' AND (@claim IS NULL OR claims = @claim))`;

// The oldest running regrade nobody holds (its lease ran out, or ended): one more claim, a new lease.
export const claimRegrade = `
UPDATE regrades SET claims = claims + 1, lease_until = @leaseUntil
WHERE id = (SELECT id FROM regrades WHERE status = 'running' AND (lease_until IS NULL OR lease_until <= @now) ORDER BY created_at LIMIT 1)
RETURNING *`;

export const renewRegradeLease = "UPDATE regrades SET lease_until = @leaseUntil WHERE id = @id AND status = 'running' AND claims = @claim";

export const releaseRegrade = "UPDATE regrades SET lease_until = NULL WHERE id = @id AND status = 'running' AND claims = @claim";

// At start on an engine only this process uses: no other node holds a running regrade.
export const recoverRegrades = "UPDATE regrades SET lease_until = NULL WHERE status = 'running'";

export const regradeItems = `
SELECT submission_id, outcome, change FROM regrade_items
WHERE regrade_id = @id AND outcome IS NOT NULL AND (@changedOnly = 0 OR change IS NOT NULL)
ORDER BY submission_seq`;

// A regrade's new grading becomes the submission's; its status stays graded or rejected (the feedback's).
export const applyRegrade = `
UPDATE submissions SET
  status = @status, feedback = @feedback, score = @score, max_score = @maxScore, assignment_version = @version,
  webhook_state = CASE WHEN callback_url IS NOT NULL AND @eventId IS NOT NULL THEN 'pending' ELSE webhook_state END,
  webhook_event_id = CASE WHEN callback_url IS NOT NULL AND @eventId IS NOT NULL THEN @eventId ELSE webhook_event_id END,
  webhook_event = CASE WHEN callback_url IS NOT NULL AND @eventId IS NOT NULL THEN 'submission.regraded' ELSE webhook_event END,
  webhook_attempts = CASE WHEN callback_url IS NOT NULL AND @eventId IS NOT NULL THEN 0 ELSE webhook_attempts END,
  webhook_last_status = CASE WHEN callback_url IS NOT NULL AND @eventId IS NOT NULL THEN NULL ELSE webhook_last_status END,
  webhook_last_error = CASE WHEN callback_url IS NOT NULL AND @eventId IS NOT NULL THEN NULL ELSE webhook_last_error END,
  webhook_first_at = CASE WHEN callback_url IS NOT NULL AND @eventId IS NOT NULL THEN NULL ELSE webhook_first_at END,
  webhook_next_at = CASE WHEN callback_url IS NOT NULL AND @eventId IS NOT NULL THEN @now ELSE webhook_next_at END
WHERE id = @submission AND status IN ('graded', 'rejected')
RETURNING *`;

export const insertRegradeGrading = `
INSERT INTO gradings (submission_id, version, score, max_score, graded_at, reason, regrade_id, feedback)
VALUES (@submission, @version, @score, @maxScore, @now, 'regrade', @id, @feedback)`;

export const finishRegrade = `
UPDATE regrades SET status = @status, finished_at = @now, error = @error, lease_until = NULL
WHERE id = @id AND status = 'running' AND (@claim IS NULL OR claims = @claim)`;

// The packs installed through the API: the last install of each id; every save takes the next sequence.
export const savePack = `
INSERT INTO packs (id, version, files, installed_at, seq)
VALUES (@id, @version, @files, @installedAt, (SELECT COALESCE(MAX(seq), 0) + 1 FROM packs))
ON CONFLICT (id) DO UPDATE SET version = excluded.version, files = excluded.files, installed_at = excluded.installed_at, seq = excluded.seq
RETURNING *`;

export const packById = "SELECT * FROM packs WHERE id = @id";

export const allPacks = "SELECT * FROM packs ORDER BY id";
