/**
 * The submissions table: one row per submission, its grading and its webhook. Timestamps are ms
 * since the epoch. `seq` orders the queue and the listing (ids are random UUIDs). `idempotency_slot`
 * holds the key while it still replays; it is cleared (the key itself stays) when the window has
 * passed or the grading failed, so the unique index lets the key be used again.
 */
export default {
  version: 1,
  name: "submissions",
  sql: `
CREATE TABLE submissions (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  assignment TEXT NOT NULL,
  assignment_version TEXT NOT NULL,
  language TEXT NOT NULL,
  exercises TEXT,
  format TEXT NOT NULL,
  source TEXT NOT NULL,
  source_sha256 TEXT NOT NULL,
  source_blanked INTEGER NOT NULL DEFAULT 0,
  student TEXT,
  metadata TEXT,
  limits TEXT,
  idempotency_key TEXT,
  idempotency_slot TEXT,
  request_hash TEXT,
  client_id TEXT,
  callback_url TEXT,
  mode TEXT NOT NULL CHECK (mode IN ('sync', 'async')),
  background INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'graded', 'rejected', 'failed')),
  attempts INTEGER NOT NULL DEFAULT 0,
  lease_until INTEGER,
  feedback TEXT,
  error_code TEXT,
  error_message TEXT,
  score REAL,
  max_score REAL,
  received_at INTEGER NOT NULL,
  started_at INTEGER,
  finished_at INTEGER,
  webhook_state TEXT CHECK (webhook_state IN ('pending', 'delivered', 'gave_up')),
  webhook_event_id TEXT,
  webhook_attempts INTEGER NOT NULL DEFAULT 0,
  webhook_last_status INTEGER,
  webhook_last_error TEXT,
  webhook_next_at INTEGER,
  webhook_first_at INTEGER
);
CREATE UNIQUE INDEX submissions_idempotency ON submissions (COALESCE(client_id, ''), idempotency_slot) WHERE idempotency_slot IS NOT NULL;
CREATE INDEX submissions_queue ON submissions (status, background, seq);
CREATE INDEX submissions_lease ON submissions (status, lease_until);
CREATE INDEX submissions_webhook_due ON submissions (webhook_state, webhook_next_at);
CREATE INDEX submissions_assignment ON submissions (assignment, seq);
CREATE INDEX submissions_student ON submissions (student, seq);
CREATE INDEX submissions_client ON submissions (client_id, seq);
CREATE INDEX submissions_received ON submissions (finished_at, received_at) WHERE source_blanked = 0;
`,
};
