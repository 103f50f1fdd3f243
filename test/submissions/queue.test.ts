import t from "tap";
import { rmSync } from "node:fs";
import { openSqliteStore } from "../../src/store/sqlite/index.js";
import { buildApp, tempDataDir } from "../helpers/app.js";
import { fixture } from "../helpers/files.js";

/**
 * The grading queue's leases on one node (SQLite). Several nodes on one PostgreSQL, and the roles
 * (which need it), are in several-nodes.test.ts.
 */

t.test("a grading longer than LEASE_S keeps its lease by renewing it: it is graded once, in one attempt", async (t) => {
  const dataDir = tempDataDir();
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  // BUDGETS=off: the slow but correct submission spins 2.5 s, past any budget learnt from the reference.
  const app = await buildApp({ DATA_DIR: dataDir, LEASE_S: "1", EVAL_TIMEOUT_MS: "10000", SUBMISSION_WALL_MS: "20000", BUDGETS: "off" });
  const source = fixture("slow/correct-after-2500ms.mjs");
  const accepted = await app.inject({ method: "POST", url: "/v1/submissions", headers: { prefer: "respond-async" }, payload: { assignment: "gradient-checking", source } });
  t.equal(accepted.statusCode, 202);
  const id = accepted.json().id as string;
  let record: { status: string; score?: number; attempts?: number } = { status: "queued" };
  for (let i = 0; i < 600 && (record.status === "queued" || record.status === "running"); i++) {
    await new Promise((r) => setTimeout(r, 100));
    record = (await app.inject({ method: "GET", url: `/v1/submissions/${id}` })).json();
  }
  t.equal(record.status, "graded");
  t.equal(record.score, 100);
  await app.close();
  const store = openSqliteStore({ dataDir });
  t.teardown(() => store.close());
  const stored = await store.get(id);
  t.equal(stored?.attempts, 1, "the lease never ran out, so no second attempt started");
  t.ok((stored?.finishedAt ?? 0) - (stored?.startedAt ?? 0) > 1000, "the grading did last longer than the lease");
});
