import type { Feedback } from "../../grading/feedback.js";
import {
  type RegradeOutcome,
  type RegradeRecord,
  type RegradeStore,
  type SubmissionRecord,
} from "../store.js";
import type { Database } from "./database.js";
import * as sql from "./queries.js";
import { toGrading, toRegrade as toRegradeRecord, type GradingRow, type RegradeRow } from "../rows.js";
import { bind } from "./statement.js";

/**
 * Grading history and regrade jobs (issue #16) on PostgreSQL: the same behaviour as the SQLite
 * engine's, against the shared store suite. A regrade may run on one node while another serves its
 * GET or DELETE, so applying an item locks the regrade's row: a cancel waits for the item in flight,
 * and no item is applied after it.
 */


export function postgresRegrades<Row extends { id: string }>(db: Database, toRecord: (row: Row) => SubmissionRecord): RegradeStore {
  const toRegrade = async (row: RegradeRow): Promise<RegradeRecord> =>
    toRegradeRecord(row, (await db.query<{ outcome: RegradeOutcome; n: number }>(bind(sql.regradeCounts, { id: row.id }))).rows);
  const regradeRow = async (id: string) => (await db.query<RegradeRow>(bind(sql.regradeById, { id }))).rows[0];

  return {
    async createRegrade(regrade, leaseMs) {
      await db.transaction(async (client) => {
        await client.query(bind(sql.insertRegrade, { ...regrade, draft: regrade.draft === null ? null : JSON.stringify(regrade.draft), leaseUntil: regrade.createdAt + leaseMs }));
        await client.query(bind(sql.insertRegradeItems, { id: regrade.id, assignment: regrade.assignment, scope: regrade.scope }));
        await client.query(bind(sql.setRegradeTotal, { id: regrade.id }));
      });
      return toRegrade((await regradeRow(regrade.id)) as RegradeRow);
    },
    async getRegrade(id) {
      const row = await regradeRow(id);
      return row === undefined ? undefined : toRegrade(row);
    },
    async runningRegrades() {
      return Promise.all((await db.query<RegradeRow>(bind(sql.runningRegrades))).rows.map(toRegrade));
    },
    async pendingRegradeItems(id) {
      return (await db.query<{ submission_id: string }>(bind(sql.pendingRegradeItems, { id }))).rows.map((r) => r.submission_id);
    },
    async claimRegrade(now, leaseMs) {
      const row = (await db.query<RegradeRow>(bind(sql.claimRegrade, { now, leaseUntil: now + leaseMs }))).rows[0];
      return row === undefined ? undefined : toRegrade(row);
    },
    async renewRegradeLease(id, claim, now, leaseMs) {
      return (await db.query(bind(sql.renewRegradeLease, { id, claim, leaseUntil: now + leaseMs }))).rowCount === 1;
    },
    async releaseRegrade(id, claim) {
      await db.query(bind(sql.releaseRegrade, { id, claim }));
    },
    async recordRegradeItem(id, submission, result, claim) {
      return (await db.query(bind(sql.recordRegradeItem, { id, submission, outcome: result.outcome, change: result.change === null ? null : JSON.stringify(result.change), claim: claim ?? null }))).rowCount === 1;
    },
    async applyRegradeItem(id, submission, feedback: Feedback, result, now, eventId, claim) {
      const row = await db.transaction(async (client): Promise<Row | undefined> => {
        // The regrade's row lock also fences the claim: a node that claims it waits for the item in flight.
        if ((await client.query(bind(sql.lockRunningRegrade, { id, claim: claim ?? null }))).rowCount === 0) return undefined;
        const item = { id, submission, outcome: result.outcome, change: result.change === null ? null : JSON.stringify(result.change), claim: claim ?? null };
        if ((await client.query(bind(sql.recordRegradeItem, item))).rowCount === 0) return undefined;
        const common = { id, submission, version: feedback.assignmentVersion, score: feedback.score, maxScore: feedback.maxScore, now, feedback: JSON.stringify(feedback) };
        const updated = (await client.query<Row>(bind(sql.applyRegrade, { ...common, status: feedback.status, eventId }))).rows[0];
        // A submission no longer graded (it cannot happen today: graded is final) keeps its item done, untouched.
        if (updated !== undefined) await client.query(bind(sql.insertRegradeGrading, common));
        return updated;
      });
      return row === undefined ? undefined : toRecord(row);
    },
    async regradeItems(id, options) {
      return (await db.query<{ submission_id: string; outcome: RegradeOutcome; change: string | null }>(bind(sql.regradeItems, { id, changedOnly: options.changedOnly })))
        .rows.map((r) => ({ submission: r.submission_id, outcome: r.outcome, change: r.change === null ? null : (JSON.parse(r.change) as unknown) }));
    },
    async finishRegrade(id, status, now, error, claim) {
      return (await db.query(bind(sql.finishRegrade, { id, status, now, error, claim: claim ?? null }))).rowCount === 1;
    },
    async gradings(submission) {
      return (await db.query<GradingRow>(bind(sql.gradings, { id: submission }))).rows.map(toGrading);
    },
  };
}
