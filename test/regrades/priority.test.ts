import t from "tap";
import request from "supertest";
import { rmSync } from "node:fs";
import { buildApp, tempDataDir } from "../helpers/app.js";
import { openSqliteStore } from "../../src/store/sqlite/index.js";
import { packFile } from "../helpers/files.js";
import { ADMIN_TOKEN, ASSIGNMENT, getRegrade, privateGraders, regradeEnv, seedCohort, startRegrade, waitForRegrade } from "../helpers/regrades.js";

// One worker, shared by the regrade and live traffic: which one it takes next is the whole question.
const gradersDir = privateGraders();
const dataDir = tempDataDir();
t.teardown(() => {
  rmSync(gradersDir, { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
});
const app = await buildApp(regradeEnv(gradersDir, { WORKERS: "1", DATA_DIR: dataDir }));
t.teardown(() => app.close());
// A second connection to the same database (WAL: readers do not block the service) for the times the API does not show.
const store = openSqliteStore({ dataDir });
t.teardown(() => store.close());
const cohort = await seedCohort(app);
const source = packFile("reference/solution.mjs", ASSIGNMENT);

/** How many of the regrade's gradings were recorded while a live submission waited (received, not yet started). */
async function regradedWhileWaiting(regrade: string, live: string): Promise<number> {
  const record = await store.get(live);
  if (record?.startedAt === null || record === undefined) throw new Error("the live submission never started");
  const gradings = (await Promise.all(cohort.map((s) => store.gradings(s.id)))).flat().filter((g) => g.regrade === regrade);
  return gradings.filter((g) => g.gradedAt >= record.receivedAt && g.gradedAt <= (record.startedAt ?? 0)).length;
}

t.test("live submissions, sync and async, take the worker before a running regrade's next submission", async (t) => {
  const started = await startRegrade(app, { dryRun: false, scope: "all" });
  t.equal(started.status, 202);
  const sync = await request(app.server).post("/v1/submissions").send({ assignment: ASSIGNMENT, source });
  t.equal(sync.status, 200);
  // Behind the regrade's queue it would wait for all of it; as live work it waits at most for the grading in flight
  // (and one the regrade started while the request was being stored).
  t.ok(await regradedWhileWaiting(started.body.id, sync.body.id) <= 2, "the sync submission waited for at most the regrade's grading in flight");
  t.ok((await getRegrade(app, started.body.id)).done < cohort.length - 2, "the regrade was still running");

  const accepted = await request(app.server).post("/v1/submissions").set("prefer", "respond-async").send({ assignment: ASSIGNMENT, source });
  t.equal(accepted.status, 202);
  let graded: { status: string } | undefined;
  while (graded?.status !== "graded") {
    await new Promise((r) => setTimeout(r, 20));
    graded = (await request(app.server).get(`/v1/submissions/${accepted.body.id}`).set("authorization", `Bearer ${ADMIN_TOKEN}`)).body;
  }
  t.ok(await regradedWhileWaiting(started.body.id, accepted.body.id) <= 2, "the async submission waited for at most the regrade's grading in flight");
  t.match(await waitForRegrade(app, started.body.id), { status: "done", done: cohort.length });
});
