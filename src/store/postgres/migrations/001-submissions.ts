/**
 * The submissions table, as SQLite's 001 (same columns, same meaning), in PostgreSQL's types:
 * timestamps are BIGINT ms since the epoch, flags are BOOLEAN, JSON stays TEXT (kept byte for byte,
 * as SQLite keeps it; nothing queries inside it). `seq` orders the queue and the listing.
 */
export default {
  version: 1,
  name: "submissions",
  sql: `
CREATE TABLE submissions (
  seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  assignment TEXT NOT NULL,
  assignment_version TEXT NOT NULL,
  language TEXT NOT NULL,
  exercises TEXT,
  format TEXT NOT NULL,
  source TEXT NOT NULL,
  source_sha256 TEXT NOT NULL,
  source_blanked BOOLEAN NOT NULL DEFAULT FALSE,
  student TEXT,
  metadata TEXT,
  limits TEXT,
  idempotency_key TEXT,
  idempotency_slot TEXT,
  request_hash TEXT,
  client_id TEXT,
  callback_url TEXT,
  mode TEXT NOT NULL CHECK (mode IN ('sync', 'async')),
  background BOOLEAN NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'graded', 'rejected', 'failed')),
  attempts INTEGER NOT NULL DEFAULT 0,
  lease_until BIGINT,
  feedback TEXT,
  error_code TEXT,
  error_message TEXT,
  score DOUBLE PRECISION,
  max_score DOUBLE PRECISION,
  received_at BIGINT NOT NULL,
  started_at BIGINT,
  finished_at BIGINT,
  webhook_state TEXT CHECK (webhook_state IN ('pending', 'delivered', 'gave_up')),
  webhook_event_id TEXT,
  webhook_attempts INTEGER NOT NULL DEFAULT 0,
  webhook_last_status INTEGER,
  webhook_last_error TEXT,
  webhook_next_at BIGINT,
  webhook_first_at BIGINT
);
CREATE UNIQUE INDEX submissions_idempotency ON submissions (COALESCE(client_id, ''), idempotency_slot) WHERE idempotency_slot IS NOT NULL;
-- The queue's lanes, each a small partial index: claims read them under FOR UPDATE SKIP LOCKED.
CREATE INDEX submissions_queued ON submissions (seq) WHERE status = 'queued' AND background;
CREATE INDEX submissions_queued_sync ON submissions (seq) WHERE status = 'queued' AND NOT background;
CREATE INDEX submissions_lease ON submissions (lease_until) WHERE status = 'running';
CREATE INDEX submissions_webhook_due ON submissions (webhook_next_at) WHERE webhook_state = 'pending';
CREATE INDEX submissions_assignment ON submissions (assignment, seq);
CREATE INDEX submissions_student ON submissions (student, seq);
CREATE INDEX submissions_client ON submissions (client_id, seq);
CREATE INDEX submissions_status ON submissions (status, seq);
CREATE INDEX submissions_received ON submissions (received_at) WHERE NOT source_blanked AND finished_at IS NOT NULL;
`,
};
