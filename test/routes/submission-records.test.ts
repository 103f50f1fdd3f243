import t from "tap";
import request from "supertest";
import http from "node:http";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { FastifyInstance } from "fastify";
import { buildApp, fastLimits } from "../helpers/app.js";
import { fixture, packFile, packMutant } from "../helpers/files.js";

const reference = packFile("reference/solution.mjs");
const mutant = packMutant("hardcoded-forward");
// Honest calls get a wide margin (a loaded machine must not turn the reference's answer into a
// timeout); hostile ones here loop at top level, which EVAL_TIMEOUT_MS (fastLimits') bounds.
const honestLimits = { ...fastLimits, CALL_TIMEOUT_MS: "3000", SUBMISSION_WALL_MS: "10000" };
const app = await buildApp(honestLimits);
t.teardown(() => app.close());

/** GETs the submission until it is no longer queued or running (bounded). */
async function settled(server: FastifyInstance, id: string): Promise<request.Response> {
  for (let i = 0; i < 400; i++) {
    const response = await request(server.server).get(`/v1/submissions/${id}`);
    if (response.status !== 200 || !["queued", "running"].includes(response.body.status)) return response;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`submission ${id} did not finish`);
}

t.test("Prefer: respond-async answers 202 at once with Location and Preference-Applied; GET has the feedback later", async (t) => {
  const accepted = await request(app.server).post("/v1/submissions").set("prefer", "respond-async").send({ assignment: "gradient-checking", source: reference, student: "ada" });
  t.equal(accepted.status, 202);
  t.equal(accepted.headers["preference-applied"], "respond-async");
  t.equal(accepted.headers.location, `/v1/submissions/${accepted.body.id}`);
  t.same(Object.keys(accepted.body).sort(), ["assignment", "id", "receivedAt", "status"]);
  t.match(accepted.body, { status: "queued", assignment: "gradient-checking" });
  t.ok(!Number.isNaN(Date.parse(accepted.body.receivedAt)), "receivedAt is a timestamp");
  const done = await settled(app, accepted.body.id);
  t.equal(done.status, 200);
  t.match(done.body, { id: accepted.body.id, status: "graded", score: 100, maxScore: 100 });
  const xqueue = await request(app.server).get(`${accepted.headers.location}?format=xqueue`);
  t.same(Object.keys(xqueue.body).sort(), ["correct", "msg", "score"], "the stored feedback in another format");
  t.equal(xqueue.body.correct, true);
});

t.test("other preferences beside respond-async are fine, and without it the answer stays synchronous", async (t) => {
  const accepted = await request(app.server).post("/v1/submissions").set("prefer", "return=minimal, Respond-Async; x=1").send({ assignment: "gradient-checking", source: mutant });
  t.equal(accepted.status, 202);
  const sync = await request(app.server).post("/v1/submissions").set("prefer", "return=minimal").send({ assignment: "gradient-checking", source: mutant });
  t.equal(sync.status, 200);
  t.equal(sync.headers["preference-applied"], undefined);
  t.equal((await settled(app, accepted.body.id)).body.score, sync.body.score, "both modes grade alike");
});

t.test("a synchronous grading is stored: GET returns the same feedback later", async (t) => {
  const sync = await request(app.server).post("/v1/submissions").send({ assignment: "gradient-checking", source: mutant, format: "coursera" });
  t.equal(sync.status, 200);
  const listed = await request(app.server).get("/v1/submissions?limit=1");
  const id = listed.body.items[0].id as string;
  const stored = await request(app.server).get(`/v1/submissions/${id}`);
  t.same(stored.body, sync.body, "in the format it was submitted with");
  const native = await request(app.server).get(`/v1/submissions/${id}?format=native`);
  t.equal(native.body.id, id);
  t.equal(native.body.status, "graded");
});

t.test("an unknown submission is 404 submission_not_found; a bad format or query is 400", async (t) => {
  const missing = await request(app.server).get("/v1/submissions/00000000-0000-0000-0000-000000000000");
  t.equal(missing.status, 404);
  t.equal(missing.body.error.code, "submission_not_found");
  t.equal((await request(app.server).get("/v1/submissions/x?format=pdf")).status, 400);
  for (const query of ["limit=0", "limit=201", "limit=ten", "status=lost", "cursor=bm9wZQ", "colour=red"]) {
    const response = await request(app.server).get(`/v1/submissions?${query}`);
    t.equal(response.status, 400, query);
    t.equal(response.body.error.code, "invalid_request", query);
  }
});

t.test("the list gives summaries newest first, filters by student and status, and pages with a cursor", async (t) => {
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) {
    const accepted = await request(app.server).post("/v1/submissions").set("prefer", "respond-async").send({ assignment: "gradient-checking", source: i === 1 ? mutant : reference, student: "grace" });
    ids.push(accepted.body.id);
  }
  for (const id of ids) await settled(app, id);
  const first = await request(app.server).get("/v1/submissions?student=grace&limit=2");
  t.equal(first.status, 200);
  t.same(first.body.items.map((i: { id: string }) => i.id), [ids[2], ids[1]]);
  t.same(Object.keys(first.body.items[0]).sort(), ["assignment", "id", "maxScore", "receivedAt", "score", "status", "student"]);
  t.match(first.body.items[0], { student: "grace", status: "graded", score: 100, maxScore: 100, assignment: "gradient-checking" });
  t.type(first.body.nextCursor, "string");
  const second = await request(app.server).get(`/v1/submissions?student=grace&limit=2&cursor=${first.body.nextCursor}`);
  t.same(second.body.items.map((i: { id: string }) => i.id), [ids[0]]);
  t.equal(second.body.nextCursor, null);
  const graded = await request(app.server).get("/v1/submissions?student=grace&status=queued");
  t.same(graded.body.items, []);
});

t.test("a sync request goes ahead of an async backlog: it is answered while the backlog still waits", async (t) => {
  const loop = fixture("hostile/loop-at-top-level.mjs");
  const backlog: string[] = [];
  for (let i = 0; i < 12; i++) {
    backlog.push((await request(app.server).post("/v1/submissions").set("prefer", "respond-async").send({ assignment: "gradient-checking", source: loop, student: "backlog" })).body.id);
  }
  const sync = await request(app.server).post("/v1/submissions").send({ assignment: "gradient-checking", source: reference });
  t.equal(sync.body.score, 100);
  const waiting = (await request(app.server).get("/v1/submissions?student=backlog&status=queued&limit=200")).body.items.length;
  t.ok(waiting > 0, `${waiting} of the ${backlog.length} async submissions received before it were still queued when it was answered`);
  for (const id of backlog) t.equal((await settled(app, id)).body.reason?.code, "module_timeout");
});

t.test("a client that hangs up does not cancel its synchronous grading: it completes and is stored", async (t) => {
  await app.listen({ port: 0, host: "127.0.0.1" });
  const { port } = app.server.address() as { port: number };
  const body = JSON.stringify({ assignment: "gradient-checking", source: reference, student: "hangs-up" });
  await new Promise<void>((resolve) => {
    const req = http.request({ port, host: "127.0.0.1", method: "POST", path: "/v1/submissions", headers: { "content-type": "application/json" } });
    req.on("error", () => resolve());
    req.end(body, () => setTimeout(() => {
      req.destroy();
      resolve();
    }, 5));
  });
  let summary: { id: string; status: string } | undefined;
  for (let i = 0; i < 200; i++) {
    summary = (await request(app.server).get("/v1/submissions?student=hangs-up")).body.items[0];
    if (summary !== undefined && summary.status === "graded") break;
    await new Promise((r) => setTimeout(r, 25));
  }
  t.match(summary, { status: "graded" });
  t.equal((await request(app.server).get(`/v1/submissions/${summary?.id}`)).body.score, 100);
});

t.test("an Idempotency-Key replays the same id and feedback after a restart, in both modes", async (t) => {
  const dataDir = await mkdtemp(path.join(tmpdir(), "gradebox-restart-"));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const env = { ...honestLimits, WORKERS: "1", DATA_DIR: dataDir };
  const before = await buildApp(env);
  const sync = await request(before.server).post("/v1/submissions").set("idempotency-key", "k-sync").send({ assignment: "gradient-checking", source: mutant });
  const async = await request(before.server).post("/v1/submissions").set("idempotency-key", "k-async").set("prefer", "respond-async").send({ assignment: "gradient-checking", source: reference });
  await settled(before, async.body.id);
  await before.close();

  const after = await buildApp(env);
  t.teardown(() => after.close());
  const syncAgain = await request(after.server).post("/v1/submissions").set("idempotency-key", "k-sync").send({ assignment: "gradient-checking", source: mutant });
  t.equal(syncAgain.status, 200);
  t.equal(syncAgain.headers["idempotent-replayed"], "true");
  t.same(syncAgain.body, sync.body, "the same id and feedback, not a new grading");
  const asyncAgain = await request(after.server).post("/v1/submissions").set("idempotency-key", "k-async").set("prefer", "respond-async").send({ assignment: "gradient-checking", source: reference });
  t.equal(asyncAgain.status, 202);
  t.equal(asyncAgain.body.id, async.body.id);
  t.equal(asyncAgain.body.status, "graded", "the replay tells it is already graded");
  const syncOfAsync = await request(after.server).post("/v1/submissions").set("idempotency-key", "k-async").send({ assignment: "gradient-checking", source: reference });
  t.equal(syncOfAsync.body.id, async.body.id, "a synchronous replay of an async submission answers its feedback");
  t.equal(syncOfAsync.body.score, 100);
  const conflict = await request(after.server).post("/v1/submissions").set("idempotency-key", "k-sync").send({ assignment: "gradient-checking", source: reference });
  t.equal(conflict.status, 409);
});
