/**
 * Issue #16: every grading of a submission (the first one, `submitted`, and each regrade's), and
 * regrade jobs with their items. A regrade chooses its items when it starts; an item's outcome is
 * NULL until it is done, so a restart resumes with the rest. The gradings already in the submissions
 * table become their first history entries. `webhook_event` says which event a pending webhook
 * carries (NULL: submission.completed, as before this migration).
 */
export default {
  version: 2,
  name: "regrades",
  sql: `
CREATE TABLE gradings (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  submission_id TEXT NOT NULL REFERENCES submissions (id),
  version TEXT NOT NULL,
  score REAL NOT NULL,
  max_score REAL NOT NULL,
  graded_at INTEGER NOT NULL,
  reason TEXT NOT NULL CHECK (reason IN ('submitted', 'regrade')),
  regrade_id TEXT,
  feedback TEXT NOT NULL
);
CREATE INDEX gradings_submission ON gradings (submission_id, seq);
INSERT INTO gradings (submission_id, version, score, max_score, graded_at, reason, feedback)
  SELECT id, assignment_version, score, max_score, COALESCE(finished_at, received_at), 'submitted', feedback FROM submissions
  WHERE status IN ('graded', 'rejected') AND feedback IS NOT NULL AND score IS NOT NULL AND max_score IS NOT NULL
  ORDER BY seq;
CREATE TABLE regrades (
  id TEXT PRIMARY KEY,
  assignment TEXT NOT NULL,
  version TEXT NOT NULL,
  dry_run INTEGER NOT NULL,
  scope TEXT NOT NULL CHECK (scope IN ('latest', 'all')),
  draft TEXT,
  status TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed', 'cancelled')),
  total INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  finished_at INTEGER,
  error TEXT
);
CREATE INDEX regrades_status ON regrades (status);
CREATE TABLE regrade_items (
  regrade_id TEXT NOT NULL REFERENCES regrades (id),
  submission_seq INTEGER NOT NULL,
  submission_id TEXT NOT NULL,
  outcome TEXT CHECK (outcome IN ('improved', 'worsened', 'unchanged', 'errored')),
  change TEXT,
  PRIMARY KEY (regrade_id, submission_seq)
) WITHOUT ROWID;
ALTER TABLE submissions ADD COLUMN webhook_event TEXT CHECK (webhook_event IN ('submission.completed', 'submission.regraded'));
`,
};
