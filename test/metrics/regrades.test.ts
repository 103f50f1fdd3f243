import t from "tap";
import request from "supertest";
import { buildApp } from "../helpers/app.js";
import { fixture, packFile, packMutant } from "../helpers/files.js";
import { metricValue, scrape } from "../helpers/metrics.js";
import { ADMIN_TOKEN, getRegrade, waitForRegrade, type RegradeAnswer } from "../helpers/regrades.js";

// Issue 16's leftover: a regrade is visible in /metrics (how many ran and how they ended, each item by
// how its score moved, what is running now), not only over its own route.

const ASSIGNMENT = "gradient-checking";
const OUTCOMES = ["improved", "worsened", "unchanged", "errored"] as const;

// One worker and one regrade lane, so that a slow submission holds the lane for long enough that a
// scrape finds it in flight on a loaded machine. BUDGETS=off: the slow fixture's 2.5 s of top-level
// work must not be cut by a budget learnt from the reference (EVAL_TIMEOUT_MS above it).
const app = await buildApp({
  ADMIN_TOKEN, WORKERS: "1", REGRADE_WORKERS: "1", BUDGETS: "off", EVAL_TIMEOUT_MS: "10000", CALL_TIMEOUT_MS: "3000", SUBMISSION_WALL_MS: "20000",
  RATE_LIMIT_PER_MIN: "1000000",
});
t.teardown(() => app.close());

// Stored submissions, the slow ones first (a regrade takes them in submission order): a cancel right after
// the start lands midway.
const sources = [
  fixture("slow/correct-after-2500ms.mjs"),
  fixture("slow/correct-after-2500ms.mjs"),
  packFile("reference/solution.mjs"),
  packMutant("hardcoded-forward"),
  "export function forward_propagation(x, theta) {\n  return x *;\n}\n",
];
for (const [i, source] of sources.entries()) {
  const response = await request(app.server).post("/v1/submissions").send({ assignment: ASSIGNMENT, source, student: `student-${i}` });
  if (response.status !== 200) throw new Error(`seeding: ${response.status} ${JSON.stringify(response.body)}`);
}

async function startRegrade(dryRun: boolean): Promise<RegradeAnswer> {
  const response = await request(app.server).post(`/v1/assignments/${ASSIGNMENT}/regrades`).set("authorization", `Bearer ${ADMIN_TOKEN}`).send({ dryRun, scope: "all" });
  if (response.status !== 202) throw new Error(`regrade answered ${response.status}: ${JSON.stringify(response.body)}`);
  return response.body as RegradeAnswer;
}

/** Scrapes until `done` holds of the text (bounded). */
async function scrapeUntil(what: string, done: (text: string) => boolean, timeoutMs = 120_000): Promise<string> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const text = await scrape(app);
    if (done(text)) return text;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const itemsRecorded = (text: string, kind: string) => OUTCOMES.reduce((sum, outcome) => sum + metricValue(text, `gradebox_regrade_items_total{kind="${kind}",outcome="${outcome}"}`), 0);
const idleNow = (text: string) => metricValue(text, 'gradebox_regrades_running{kind="dry_run"}') + metricValue(text, 'gradebox_regrades_running{kind="real"}') === 0 && metricValue(text, "gradebox_regrade_gradings_in_flight") === 0;

t.test("every regrade series is there from the start, at zero", async (t) => {
  const text = await scrape(app);
  for (const kind of ["dry_run", "real"]) {
    for (const status of ["done", "failed", "cancelled"]) t.match(text, new RegExp(`^gradebox_regrades_total\\{kind="${kind}",status="${status}"\\} 0$`, "m"));
    for (const outcome of OUTCOMES) t.match(text, new RegExp(`^gradebox_regrade_items_total\\{kind="${kind}",outcome="${outcome}"\\} 0$`, "m"));
  }
  t.match(text, /^gradebox_regrade_gradings_in_flight 0$/m);
  t.match(text, /^gradebox_regrade_items_waiting 0$/m);
  t.match(text, /^gradebox_regrades_running\{kind="real"\} 0$/m);
});

t.test("a running dry run shows in the gauges (running, its grading in flight, the submissions it has yet to start), and when done it counts once, each item by how its score moved", async (t) => {
  const before = await scrape(app);
  const started = await startRegrade(true);
  const during = await scrapeUntil("a regrade grading in flight", (text) => metricValue(text, "gradebox_regrade_gradings_in_flight") === 1);
  t.equal(metricValue(during, 'gradebox_regrades_running{kind="dry_run"}'), 1, "one dry run running");
  t.equal(metricValue(during, 'gradebox_regrades_running{kind="real"}'), 0);
  const recorded = itemsRecorded(during, "dry_run") - itemsRecorded(before, "dry_run");
  const waiting = metricValue(during, "gradebox_regrade_items_waiting");
  t.equal(recorded + 1 + waiting, started.total, `recorded (${recorded}), in flight (1) and waiting (${waiting}) add up to the regrade's submissions`);

  const done = await waitForRegrade(app, started.id);
  t.equal(done.status, "done");
  const after = await scrapeUntil("the regrade to leave the gauges", idleNow);
  const delta = (series: string) => metricValue(after, series) - metricValue(before, series);
  t.equal(delta('gradebox_regrades_total{kind="dry_run",status="done"}'), 1, "the dry run ended done, counted once");
  t.equal(delta('gradebox_regrades_total{kind="real",status="done"}'), 0, "not as a real one");
  for (const outcome of OUTCOMES) t.equal(delta(`gradebox_regrade_items_total{kind="dry_run",outcome="${outcome}"}`), done.counts[outcome], `${outcome}: as many as the regrade's own counts`);
  t.equal(itemsRecorded(after, "dry_run") - itemsRecorded(before, "dry_run"), sources.length, "every stored submission once");
  t.equal(metricValue(after, "gradebox_regrade_items_waiting"), 0, "nothing left waiting");
});

t.test("a real regrade counts as real, done, with its items", async (t) => {
  const before = await scrape(app);
  const done = await waitForRegrade(app, (await startRegrade(false)).id);
  t.equal(done.status, "done");
  const after = await scrapeUntil("the regrade to leave the gauges", idleNow);
  const delta = (series: string) => metricValue(after, series) - metricValue(before, series);
  t.equal(delta('gradebox_regrades_total{kind="real",status="done"}'), 1);
  for (const outcome of OUTCOMES) t.equal(delta(`gradebox_regrade_items_total{kind="real",outcome="${outcome}"}`), done.counts[outcome], `${outcome}: as many as the regrade's own counts`);
  t.equal(itemsRecorded(after, "dry_run") - itemsRecorded(before, "dry_run"), 0, "no dry-run item");
});

t.test("a regrade cancelled midway counts as cancelled, not done, with only the items it did", async (t) => {
  const before = await scrape(app);
  const started = await startRegrade(false);
  const cancelled = await request(app.server).delete(`/v1/regrades/${started.id}`).set("authorization", `Bearer ${ADMIN_TOKEN}`);
  t.equal(cancelled.body.status, "cancelled");
  const after = await scrapeUntil("the cancelled regrade to stop", idleNow);
  const final = await getRegrade(app, started.id);
  t.ok(final.done < final.total, `stopped midway (${final.done} of ${final.total})`);
  const delta = (series: string) => metricValue(after, series) - metricValue(before, series);
  t.equal(delta('gradebox_regrades_total{kind="real",status="cancelled"}'), 1, "counted once, as cancelled");
  t.equal(delta('gradebox_regrades_total{kind="real",status="done"}'), 0, "and not as done");
  t.equal(itemsRecorded(after, "real") - itemsRecorded(before, "real"), final.done, "only the items it did");
  t.equal(metricValue(after, "gradebox_regrade_items_waiting"), 0, "its unstarted submissions are no longer waiting");
});
