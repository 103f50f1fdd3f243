import t from "tap";
import { rmSync } from "node:fs";
import { buildApp } from "../helpers/app.js";
import { postgresForTests } from "../helpers/postgres.js";
import { getRegrade, getSubmission, privateGraders, regradeEnv, seedCohort, startRegrade, waitForRegrade } from "../helpers/regrades.js";

// Two nodes on one PostgreSQL: a regrade runs on the node that created it, and when that node stops,
// the other claims it and finishes it, each submission regraded once.
const cluster = await postgresForTests(t);
if (cluster !== undefined) {
  t.test("a regrade created on one node, whose node stops, is finished by the other node, each submission regraded once", async (t) => {
    const gradersDir = privateGraders();
    t.teardown(() => rmSync(gradersDir, { recursive: true, force: true }));
    // A short lease, so that the other node looks for claimable regrades every second.
    const env = regradeEnv(gradersDir, { DATABASE_URL: await cluster.createDatabase(), LEASE_S: "3" });
    const a = await buildApp(env);
    const b = await buildApp(env);
    t.teardown(() => b.close());
    const cohort = await seedCohort(a);
    const started = (await startRegrade(a, { dryRun: false, scope: "all" })).body as { id: string; total: number };
    t.equal(started.total, cohort.length);
    // Longer than a renewal period of b's look for claimable regrades: the one a holds is not taken.
    await new Promise((r) => setTimeout(r, 2000));
    t.equal((await b.store.getRegrade(started.id))?.claim, 1, "while its creator runs it, the other node does not claim it");
    const before = await getRegrade(b, started.id);
    await a.close();
    const done = await waitForRegrade(b, started.id);
    t.match(done, { status: "done", total: cohort.length, done: cohort.length, counts: { unchanged: cohort.length } }, `finished by the other node (${before.done} were done before the stop)`);
    t.equal((await b.store.getRegrade(started.id))?.claim, 2, "claimed once, by the other node");
    for (const s of cohort) {
      const history = (await getSubmission(b, s.id)).gradings;
      t.same(history.map((g) => g.reason), ["submitted", "regrade"], `${s.label}: one grading from the regrade, not two`);
    }
  });
}
