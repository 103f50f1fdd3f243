/**
 * A regrade job is held by one node at a time, as a submission is: `lease_until` (ms since the epoch;
 * NULL: nobody holds it, claimable now) and `claims`, counted up by each claim, the fencing token a
 * node presents to renew the lease, record an item or finish the job. Regrades left running by an
 * older version have no holder: the next node to start claims them.
 */
export default {
  version: 3,
  name: "regrade-leases",
  sql: `
ALTER TABLE regrades ADD COLUMN lease_until INTEGER;
ALTER TABLE regrades ADD COLUMN claims INTEGER NOT NULL DEFAULT 0;
CREATE INDEX regrades_lease ON regrades (status, lease_until);
`,
};
