import t from "tap";
import request from "supertest";
import { rmSync } from "node:fs";
import { Webhook } from "standardwebhooks";
import { buildApp } from "../helpers/app.js";
import { webhookReceiver } from "../helpers/webhook-receiver.js";
import {
  ADMIN_TOKEN, ASSIGNMENT, draftWithoutHidden, getRegrade, getSubmission, privateGraders, regradeEnv, seedCohort, startRegrade, waitForRegrade,
} from "../helpers/regrades.js";

const receiver = await webhookReceiver(t);
const { received, secret } = receiver;

const gradersDir = privateGraders();
t.teardown(() => rmSync(gradersDir, { recursive: true, force: true }));
const app = await buildApp(regradeEnv(gradersDir, { WEBHOOK_SECRET: secret, CALLBACK_HOSTS: receiver.host, WEBHOOK_TIMEOUT_MS: "5000", WEBHOOK_RETRY_MS: "200" }));
t.teardown(() => app.close());

async function until<T>(what: string, check: () => T | undefined | Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const events = (type: string) => received.map((r) => ({ ...r, json: JSON.parse(r.body) as { type: string; data: Record<string, unknown> } })).filter((r) => r.json.type === type);

// Every submission has a callback; the first webhooks are delivered before any regrade.
const cohort = await seedCohort(app, (label) => `${receiver.url}/hook/${label}`);
await until("the submission.completed webhooks", () => events("submission.completed").length === cohort.length);
const latest = cohort.filter((s) => s.label !== "twice-first");

t.test("a real regrade with a draft installs it, stores a new grading for each submission, and sends signed submission.regraded webhooks only for changed scores", async (t) => {
  const mutantFeedback = new Map(await Promise.all(cohort.filter((s) => s.label.startsWith("mutant:")).map(async (s) => [s.label.slice("mutant:".length), await getSubmission(app, s.id)] as const)));
  const before = new Map(await Promise.all(cohort.map(async (s) => [s.id, await getSubmission(app, s.id)] as const)));
  const draft = await draftWithoutHidden(gradersDir, "relu", mutantFeedback);
  const started = await startRegrade(app, { dryRun: false, scope: "latest", pack: { files: draft } });
  t.equal(started.status, 202, JSON.stringify(started.body));
  const live = await request(app.server).get(`/v1/assignments/${ASSIGNMENT}`);
  t.equal(live.body.assignmentVersion, started.body.version, "the draft is the live pack");
  const done = await waitForRegrade(app, started.body.id);
  t.match(done, { status: "done", dryRun: false, total: latest.length, done: latest.length, counts: { worsened: 0, errored: 0 } });
  t.ok(done.counts.improved > 0, "some scores moved");
  const changed = new Map(done.changes.filter((c) => c.outcome !== "unchanged").map((c) => [c.submission, c]));

  for (const s of cohort) {
    const now = await getSubmission(app, s.id);
    const old = before.get(s.id)!;
    if (s.label === "twice-first") {
      t.same(now, old, "a submission out of scope (not its student's latest) is untouched");
      continue;
    }
    const change = changed.get(s.id);
    t.equal(now.score, change?.after.score ?? old.score, `${s.label}: the latest score`);
    t.equal(now.assignmentVersion, done.version);
    t.match(now.gradings, [
      { reason: "submitted", score: old.score, version: old.assignmentVersion },
      { reason: "regrade", score: now.score, version: done.version, regrade: done.id },
    ], `${s.label}: its history`);
    t.equal(now.gradings.length, 2);
  }

  const signer = new Webhook(secret);
  await until("the submission.regraded webhooks", () => events("submission.regraded").length >= changed.size);
  // Every webhook a regrade makes pending is pending when the regrade is done: once these are delivered, no other can come.
  await until("every webhook delivered", async () => {
    const states = await Promise.all(latest.map(async (s) => (await request(app.server).get(`/v1/submissions/${s.id}`).set("authorization", `Bearer ${ADMIN_TOKEN}`)).body.webhook?.state));
    return states.every((state) => state === "delivered");
  });
  const regraded = events("submission.regraded");
  t.same(regraded.map((e) => e.json.data.id).sort(), [...changed.keys()].sort(), "one webhook per changed score, none for the others");
  for (const event of regraded) {
    t.doesNotThrow(() => signer.verify(event.body, event.headers), "signed like the other webhooks");
    const change = changed.get(event.json.data.id as string)!;
    t.match(event.json.data, { assignment: ASSIGNMENT, regrade: done.id, before: change.before, after: { ...change.after, version: done.version }, result: { score: change.after.score } });
    t.equal(event.path, `/hook/${cohort.find((s) => s.id === event.json.data.id)?.label}`, "sent to the submission's callbackUrl");
  }
});

t.test("a regrade can be cancelled midway: what is done stays, the rest is not graded", async (t) => {
  const started = await startRegrade(app, { dryRun: false, scope: "all" });
  t.equal(started.status, 202);
  const cancelled = await request(app.server).delete(`/v1/regrades/${started.body.id}`).set("authorization", `Bearer ${ADMIN_TOKEN}`);
  t.equal(cancelled.status, 200);
  t.match(cancelled.body, { status: "cancelled", error: "cancelled by a client" });
  // A grading in flight at the cancel ends, but its result is not recorded: give it time to try.
  await new Promise((r) => setTimeout(r, 1500));
  const final = await getRegrade(app, started.body.id);
  t.equal(final.status, "cancelled");
  t.ok(final.done < final.total, `stopped midway (${final.done} of ${final.total})`);
  t.equal(final.done, cancelled.body.done, "what was done stays done, and nothing more is");
  const histories = await Promise.all(cohort.map((s) => getSubmission(app, s.id)));
  const regradedByIt = histories.filter((h) => h.gradings.some((g) => g.regrade === started.body.id));
  t.equal(regradedByIt.length, final.done, "exactly the submissions it did have a grading from it");
  const again = await request(app.server).delete(`/v1/regrades/${started.body.id}`).set("authorization", `Bearer ${ADMIN_TOKEN}`);
  t.equal(again.status, 200, "cancelling again answers the regrade as it is");
  t.equal(again.body.done, final.done);
});
