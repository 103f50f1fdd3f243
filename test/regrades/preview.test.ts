import t from "tap";
import request from "supertest";
import { readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { buildApp } from "../helpers/app.js";
import {
  ADMIN_TOKEN, ASSIGNMENT, draftWithoutHidden, failedOnlyHidden, getSubmission, hiddenCases, privateGraders, regradeEnv, seedCohort, startRegrade, waitForRegrade,
} from "../helpers/regrades.js";

const gradersDir = privateGraders();
t.teardown(() => rmSync(gradersDir, { recursive: true, force: true }));
const app = await buildApp(regradeEnv(gradersDir));
t.teardown(() => app.close());
const cohort = await seedCohort(app);
const stored = new Map(await Promise.all(cohort.map(async (s) => [s.id, await getSubmission(app, s.id)] as const)));
const mutantFeedback = new Map(cohort.filter((s) => s.label.startsWith("mutant:")).map((s) => [s.label.slice("mutant:".length), stored.get(s.id)!]));
// scope latest: the second of the student who submitted twice, and every other one (one each).
const latest = cohort.filter((s) => s.label !== "twice-first");

t.test("a dry run against the live pack grades every latest submission again and finds 0 changes", async (t) => {
  const started = await startRegrade(app, { dryRun: true, scope: "latest" });
  t.equal(started.status, 202);
  t.equal(started.headers.location, `/v1/regrades/${started.body.id}`);
  t.match(started.body, { assignment: ASSIGNMENT, dryRun: true, scope: "latest", status: "running", total: latest.length });
  const done = await waitForRegrade(app, started.body.id);
  t.match(done, { status: "done", total: latest.length, done: latest.length, counts: { improved: 0, worsened: 0, unchanged: latest.length, errored: 0 } });
  t.same(done.changes, []);
  t.same(done.perCase, {});
  const all = await waitForRegrade(app, (await startRegrade(app, { dryRun: true, scope: "all" })).body.id);
  t.match(all, { status: "done", total: cohort.length, counts: { unchanged: cohort.length } }, "scope all takes every stored submission");
});

t.test("a draft without relu's hidden cases shows exactly the submissions that failed only those cases as improved, and stores nothing", async (t) => {
  const removed = await hiddenCases(gradersDir, "relu");
  t.ok(removed.length > 0);
  const draft = await draftWithoutHidden(gradersDir, "relu", mutantFeedback);
  // Expected from the stored feedback: the submissions whose only failed tests were relu's hidden ones.
  const expected = latest.filter((s) => failedOnlyHidden(stored.get(s.id)!, "relu")).map((s) => s.id).sort();
  t.ok(expected.length >= 2, `the cohort has submissions that failed only hidden relu cases (${expected.length})`);
  const before = await Promise.all(cohort.map((s) => getSubmission(app, s.id)));
  const liveVersion = (await request(app.server).get(`/v1/assignments/${ASSIGNMENT}`)).body.assignmentVersion as string;
  const assignmentFile = readFileSync(path.join(gradersDir, ASSIGNMENT, "assignment.json"), "utf8");

  const started = await startRegrade(app, { dryRun: true, scope: "latest", pack: { files: draft } });
  t.equal(started.status, 202, JSON.stringify(started.body));
  t.not(started.body.version, liveVersion, "graded against the draft's version");
  const done = await waitForRegrade(app, started.body.id);
  t.equal(done.status, "done");
  t.same(done.changes.filter((c) => c.outcome === "improved").map((c) => c.submission).sort(), expected);
  t.equal(done.counts.improved, expected.length);
  t.equal(done.counts.worsened, 0);
  t.equal(done.counts.errored, 0);
  t.equal(done.counts.unchanged, latest.length - expected.length);
  const failedHiddenRelu = latest.filter((s) => stored.get(s.id)!.exercises.some((e) => e.name === "relu" && e.tests.some((test) => test.visibility === "hidden" && test.status !== "passed")));
  t.same(done.changes.map((c) => c.submission).sort(), failedHiddenRelu.map((s) => s.id).sort(), "the changes are the submissions that failed a removed case; one that passed them all did not change");
  for (const change of done.changes) {
    t.ok(change.cases.every((id) => removed.includes(id)), `only removed cases moved for ${change.submission}`);
    t.same(change.exercises.map((e) => e.name), change.outcome === "improved" ? ["relu"] : [], "only relu's score moved");
    t.equal(change.after.score - change.before.score, change.outcome === "improved" ? 20 : 0, "relu's 20 points");
    t.equal(change.student, cohort.find((s) => s.id === change.submission)?.student);
  }
  t.equal(done.perExercise.relu, expected.length);
  for (const id of removed) t.equal(done.perCase[id] ?? 0, done.changes.filter((c) => c.cases.includes(id)).length);

  const csv = await request(app.server).get(`/v1/regrades/${done.id}?format=csv`).set("authorization", `Bearer ${ADMIN_TOKEN}`);
  t.equal(csv.status, 200);
  t.match(csv.headers["content-type"], /^text\/csv/);
  const lines = csv.text.trim().split("\r\n");
  t.equal(lines[0], "submission,student,outcome,before_score,before_max,after_score,after_max,exercises,cases");
  t.equal(lines.length, done.changes.length + 1, "one row per changed submission");
  for (const id of expected) t.ok(lines.some((line) => line.startsWith(`${id},`) && line.includes(",improved,")));

  t.same(await Promise.all(cohort.map((s) => getSubmission(app, s.id))), before, "every stored submission, feedback and history, is as before");
  t.equal((await request(app.server).get(`/v1/assignments/${ASSIGNMENT}`)).body.assignmentVersion, liveVersion, "the live pack is unchanged");
  t.equal(readFileSync(path.join(gradersDir, ASSIGNMENT, "assignment.json"), "utf8"), assignmentFile, "the draft was not written");
});

t.test("an invalid draft is refused like a PUT, and nothing starts", async (t) => {
  const answer = await startRegrade(app, { dryRun: true, pack: { files: { "assignment.json": "{}" } } });
  t.equal(answer.status, 422);
  t.equal(answer.body.error.code, "invalid_pack");
});

t.test("regrades are an admin's: no token is 401, an unknown assignment 404, a bad body 400, an unknown regrade 404", async (t) => {
  const anonymous = await request(app.server).post(`/v1/assignments/${ASSIGNMENT}/regrades`).send({ dryRun: true });
  t.equal(anonymous.status, 401);
  t.equal((await request(app.server).get("/v1/regrades/x")).status, 401, "reading one needs the admin token too");
  const unknown = await request(app.server).post("/v1/assignments/no-such/regrades").set("authorization", `Bearer ${ADMIN_TOKEN}`).send({ dryRun: true });
  t.equal(unknown.status, 404);
  t.equal(unknown.body.error.code, "assignment_not_found");
  const bad = await startRegrade(app, { dryRun: "yes", scope: "some" });
  t.equal(bad.status, 400);
  t.equal(bad.body.error.code, "invalid_request");
  const missing = await request(app.server).delete("/v1/regrades/nope").set("authorization", `Bearer ${ADMIN_TOKEN}`);
  t.equal(missing.status, 404);
  t.equal(missing.body.error.code, "regrade_not_found");
});
