import t from "tap";
import { randomUUID } from "node:crypto";
import { rmSync } from "node:fs";
import { buildApp } from "../helpers/app.js";
import { openPostgresStore } from "../../src/store/postgres/index.js";
import { postgresForTests } from "../helpers/postgres.js";
import { ASSIGNMENT, getRegrade, getSubmission, privateGraders, regradeEnv, seedCohort, startRegrade, waitForRegrade } from "../helpers/regrades.js";

// Two nodes on one PostgreSQL: a regrade runs on the node that created it, and when that node stops,
// the other claims it and finishes it, each submission regraded once; the same when a node dies
// (its lease runs out instead of ending).
const cluster = await postgresForTests(t);
if (cluster !== undefined) {
  t.test("a regrade created on one node, whose node stops or dies, is finished by the other node, each submission regraded once", async (t) => {
    const gradersDir = privateGraders();
    t.teardown(() => rmSync(gradersDir, { recursive: true, force: true }));
    // A short lease, so that the other node looks for claimable regrades every second.
    const url = await cluster.createDatabase();
    const env = regradeEnv(gradersDir, { DATABASE_URL: url, LEASE_S: "3", REGRADE_WORKERS: "1" });
    const a = await buildApp(env);
    const b = await buildApp(env);
    // The database as a third party sees it (the regrade's claim count).
    const store = await openPostgresStore({ url, poolMax: 1, isolated: true });
    let aClosed = false;
    t.teardown(async () => {
      if (!aClosed) await a.close();
      await b.close();
      await store.close();
    });
    const cohort = await seedCohort(a);
    const started = (await startRegrade(a, { dryRun: false, scope: "all" })).body as { id: string; total: number };
    t.equal(started.total, cohort.length);
    // One grading at a time, so that the stop comes partway through.
    let before = await getRegrade(b, started.id);
    while (before.done < 2) {
      await new Promise((r) => setTimeout(r, 50));
      before = await getRegrade(b, started.id);
    }
    t.equal(before.status, "running", `stopped partway (${before.done} of ${before.total} done)`);
    t.equal((await store.getRegrade(started.id))?.claim, 1, "while its creator runs it, the other node (looking every second) does not claim it");
    await a.close();
    aClosed = true;
    const done = await waitForRegrade(b, started.id);
    t.match(done, { status: "done", total: cohort.length, done: cohort.length, counts: { unchanged: cohort.length } }, "finished by the other node");
    t.equal((await store.getRegrade(started.id))?.claim, 2, "claimed once, by the other node");
    for (const s of cohort) {
      const history = (await getSubmission(b, s.id)).gradings;
      t.same(history.map((g) => g.reason), ["submitted", "regrade"], `${s.label}: one grading from the regrade, not two`);
    }
  
    // A node that died right after creating a regrade: it never renews nor ends its lease (2 s here).
    const orphan = await store.createRegrade({ id: randomUUID(), assignment: ASSIGNMENT, version: done.version, dryRun: false, scope: "all", draft: null, createdAt: Date.now() }, 2000);
    const adopted = await waitForRegrade(b, orphan.id);
    t.match(adopted, { status: "done", done: cohort.length }, "the regrade of a node that died is finished by the other once its lease runs out");
    t.equal((await store.getRegrade(orphan.id))?.claim, 2);
    for (const s of cohort) {
      const history = (await getSubmission(b, s.id)).gradings;
      t.same(history.map((g) => g.regrade ?? null), [null, started.id, orphan.id], `${s.label}: one grading per regrade`);
    }
  });
}
