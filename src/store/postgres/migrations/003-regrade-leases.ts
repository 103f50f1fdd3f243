/**
 * As SQLite's 003: a regrade job is held by one node at a time. `lease_until` (ms since the epoch;
 * NULL: nobody holds it) and `claims`, counted up by each claim, the fencing token a node presents
 * to renew the lease, record an item or finish the job.
 */
export default {
  version: 3,
  name: "regrade-leases",
  sql: `
ALTER TABLE regrades ADD COLUMN lease_until BIGINT;
ALTER TABLE regrades ADD COLUMN claims INTEGER NOT NULL DEFAULT 0;
CREATE INDEX regrades_lease ON regrades (status, lease_until);
`,
};
