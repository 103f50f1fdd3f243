import t from "tap";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { buildApp, tempDataDir } from "../helpers/app.js";
import { metricValue, scrape } from "../helpers/metrics.js";
import {
  ASSIGNMENT, draftWithoutHidden, getRegrade, getSubmission, privateGraders, regradeEnv, seedCohort, startRegrade, waitForRegrade,
} from "../helpers/regrades.js";

// One DATA_DIR and GRADERS_DIR for every generation of the service, as after a restart.
const gradersDir = privateGraders();
const dataDir = tempDataDir();
t.teardown(() => {
  rmSync(gradersDir, { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
});
const env = regradeEnv(gradersDir, { DATA_DIR: dataDir });

const first = await buildApp(env);
const cohort = await seedCohort(first);
const mutantFeedback = new Map(await Promise.all(cohort.filter((s) => s.label.startsWith("mutant:")).map(async (s) => [s.label.slice("mutant:".length), await getSubmission(first, s.id)] as const)));
const draft = await draftWithoutHidden(gradersDir, "relu", mutantFeedback);
// Cut off at once: a real regrade of the live pack and a dry run of a draft.
const real = (await startRegrade(first, { dryRun: false, scope: "all" })).body as { id: string; total: number };
const dry = (await startRegrade(first, { dryRun: true, scope: "latest", pack: { files: draft } })).body as { id: string; total: number };
await first.close();

t.test("a regrade cut off by a stop resumes after the restart, and grades each submission once", async (t) => {
  const second = await buildApp(env);
  t.teardown(() => second.close());
  const done = await waitForRegrade(second, real.id);
  t.match(done, { status: "done", total: cohort.length, done: cohort.length, counts: { unchanged: cohort.length } });
  for (const s of cohort) {
    const history = (await getSubmission(second, s.id)).gradings;
    t.same(history.map((g) => g.reason), ["submitted", "regrade"], `${s.label}: one grading from the regrade, not two`);
  }
  const preview = await waitForRegrade(second, dry.id);
  t.match(preview, { status: "done", done: dry.total }, "a dry run's draft is prepared again and the preview finishes");
  t.ok(preview.counts.improved > 0);
  for (const s of cohort) t.equal((await getSubmission(second, s.id)).gradings.length, 2, "the dry run stored nothing");
});

t.test("a regrade whose pack changed while the service was stopped is marked failed, with what was done", async (t) => {
  const third = await buildApp(env);
  const started = (await startRegrade(third, { dryRun: false, scope: "all" })).body as { id: string };
  await third.close();
  const file = path.join(gradersDir, ASSIGNMENT, "assignment.json");
  const assignment = JSON.parse(readFileSync(file, "utf8")) as { title: string };
  writeFileSync(file, JSON.stringify({ ...assignment, title: `${assignment.title} (revised)` }, null, 2));
  const fourth = await buildApp(env);
  t.teardown(() => fourth.close());
  const failed = await getRegrade(fourth, started.id);
  t.equal(failed.status, "failed");
  t.match(failed.error, /the pack changed since it started/);
  t.match(failed.error, new RegExp(`${failed.done} of ${failed.total} were done`));
  t.equal(metricValue(await scrape(fourth), 'gradebox_regrades_total{kind="real",status="failed"}'), 1, "the node that found it could not resume counts it failed");
});
