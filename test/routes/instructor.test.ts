import t from "tap";
import { SqliteKeyStore } from "../../src/auth/sqlite-keys.js";
import { buildApp, root, tempDataDir } from "../helpers/app.js";
import { packFile } from "../helpers/files.js";
import { cp, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { bucketOf, SCORE_BUCKETS } from "../../src/submissions/activity.js";

// The instructor's /v1 routes the console reads: every case, the pack's files, trials that are not
// stored, the cohort's figures, and a submission's source.

const ADMIN_TOKEN = "instructor routes token";
const dataDir = tempDataDir();
const keyStore = new SqliteKeyStore(dataDir);
const platform = keyStore.create({ name: "platform", scopes: ["submit", "read"] });
const other = keyStore.create({ name: "another platform", scopes: ["submit", "read"] });
keyStore.close();
// A private copy of the packs: a PUT writes to GRADERS_DIR.
const gradersDir = await mkdtemp(path.join(tmpdir(), "gradebox-graders-"));
await cp(path.join(root, "graders"), gradersDir, { recursive: true });
const app = await buildApp({ DATA_DIR: dataDir, GRADERS_DIR: gradersDir, ADMIN_TOKEN, CALL_TIMEOUT_MS: "5000", SUBMISSION_WALL_MS: "20000" });
t.teardown(async () => {
  await app.close();
  await rm(dataDir, { recursive: true, force: true });
  await rm(gradersDir, { recursive: true, force: true });
});
const ASSIGNMENT = "gradient-checking";
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
const asPlatform = { authorization: `Bearer ${platform.secret}` };
const TWENTY_FIVE = "export const forward_propagation = (x, theta) => theta * x;\nexport const backward_propagation = (x, theta) => theta;\n";

async function submit(student: string, source: string, headers = asPlatform): Promise<string> {
  const response = await app.inject({ method: "POST", url: "/v1/submissions", headers, payload: { assignment: ASSIGNMENT, source, student } });
  if (response.statusCode !== 200) throw new Error(response.body);
  return response.json().id as string;
}
await submit("ana", TWENTY_FIVE);
await submit("ana", packFile("reference/solution.mjs"));
const benId = await submit("ben", TWENTY_FIVE);
await submit("cy", packFile("starter/solution.mjs"));

t.test("every case, hidden ones with their inputs, for admins only, each with the test id students see", async (t) => {
  t.equal((await app.inject({ url: `/v1/assignments/${ASSIGNMENT}/cases` })).statusCode, 401, "no key");
  const refused = await app.inject({ url: `/v1/assignments/${ASSIGNMENT}/cases`, headers: asPlatform });
  t.equal(refused.statusCode, 403);
  t.equal(refused.json().error.code, "forbidden");
  const answer = await app.inject({ url: `/v1/assignments/${ASSIGNMENT}/cases`, headers: admin });
  t.equal(answer.statusCode, 200);
  const { cases, selfTest } = answer.json();
  t.equal(selfTest.state, "passed");
  t.ok(cases.some((c: { visibility: string; args: unknown[] }) => c.visibility === "hidden" && Array.isArray(c.args)), "hidden inputs");
  // The ids match the feedback's: ben's hidden tests are found among the cases' test ids.
  const feedback = (await app.inject({ url: `/v1/submissions/${benId}`, headers: admin })).json();
  const hiddenIds = feedback.exercises.flatMap((e: { tests: Array<{ id: string; visibility: string }> }) => e.tests.filter((x) => x.visibility === "hidden").map((x) => x.id));
  const testIds = new Set(cases.map((c: { testId: string }) => c.testId));
  t.ok(hiddenIds.length > 0 && hiddenIds.every((id: string) => testIds.has(id)), "every hidden test of a feedback names a case");
});

t.test("the pack's files come as a PUT body, and PUT back they replace the pack unchanged", async (t) => {
  t.equal((await app.inject({ url: `/v1/assignments/${ASSIGNMENT}/pack`, headers: asPlatform })).statusCode, 403);
  const { files } = (await app.inject({ url: `/v1/assignments/${ASSIGNMENT}/pack`, headers: admin })).json();
  t.equal(files["reference/solution.mjs"], packFile("reference/solution.mjs"));
  const before = (await app.inject({ url: `/v1/assignments/${ASSIGNMENT}`, headers: asPlatform })).json().assignmentVersion;
  const put = await app.inject({ method: "PUT", url: `/v1/assignments/${ASSIGNMENT}`, headers: admin, payload: { files } });
  t.equal(put.statusCode, 200);
  t.equal(put.json().assignment.assignmentVersion, before, "the same content, the same version");
});

t.test("a trial grades like a submission and stores nothing", async (t) => {
  const count = async () => (await app.inject({ url: `/v1/submissions?limit=200`, headers: admin })).json().items.length as number;
  const stored = await count();
  const trial = await app.inject({ method: "POST", url: `/v1/assignments/${ASSIGNMENT}/trials`, headers: admin, payload: { source: TWENTY_FIVE } });
  t.equal(trial.statusCode, 200);
  const submitted = (await app.inject({ url: `/v1/submissions/${benId}`, headers: admin })).json();
  t.equal(trial.json().score, submitted.score, "the same score as the stored submission of the same source");
  t.equal(trial.json().summary, submitted.summary);
  t.equal(await count(), stored, "no submission stored");
  t.equal((await app.inject({ method: "POST", url: `/v1/assignments/${ASSIGNMENT}/trials`, headers: asPlatform, payload: { source: TWENTY_FIVE } })).statusCode, 403, "admins only");
  const unknown = await app.inject({ method: "POST", url: `/v1/assignments/${ASSIGNMENT}/trials`, headers: admin, payload: { source: TWENTY_FIVE, exercises: ["nope"] } });
  t.equal(unknown.json().error.code, "unknown_exercise");
  const big = await app.inject({ method: "POST", url: `/v1/assignments/${ASSIGNMENT}/trials`, headers: admin, payload: { source: "x".repeat(300 * 1024) } });
  t.equal(big.statusCode, 413, "a source over SOURCE_KIB is refused");
});

t.test("the activity counts submissions, buckets each student's latest score and ranks the failed tests", async (t) => {
  t.equal((await app.inject({ url: `/v1/assignments/${ASSIGNMENT}/activity`, headers: asPlatform })).statusCode, 403);
  t.equal((await app.inject({ url: `/v1/assignments/nope/activity`, headers: admin })).statusCode, 404);
  const activity = (await app.inject({ url: `/v1/assignments/${ASSIGNMENT}/activity`, headers: admin })).json();
  const all = (await app.inject({ url: `/v1/submissions?assignment=${ASSIGNMENT}&limit=200`, headers: admin })).json().items as Array<{ id: string; student: string; score: number; maxScore: number }>;
  t.equal(activity.submissions.total, all.length);
  t.equal(activity.submissions.last24h, all.length);
  t.equal(activity.perDay.at(-1).count, all.length, "all today");
  t.equal(activity.perDay.length, 30);
  // Independently: the newest submission of each student, bucketed.
  const latest = new Map<string, { id: string; score: number; maxScore: number }>();
  for (const s of all) if (!latest.has(s.student)) latest.set(s.student, s);
  const counts = Array.from({ length: SCORE_BUCKETS }, () => 0);
  for (const s of latest.values()) counts[bucketOf(s.score, s.maxScore)]!++;
  t.same(activity.scores.buckets.map((b: { count: number }) => b.count), counts);
  t.equal(activity.scores.submissions, 3, "ana's first submission is not her latest");
  const top = activity.mostFailed[0];
  t.ok(top.failed >= 2, "the most failed test is failed by ben and cy at least");
  t.ok(activity.mostFailed.every((x: { failed: number }, i: number, list: Array<{ failed: number }>) => i === 0 || list[i - 1]!.failed >= x.failed), "most often first");
});

t.test("a submission's source is its client's and an admin's to read, no one else's", async (t) => {
  const own = await app.inject({ url: `/v1/submissions/${benId}/source`, headers: asPlatform });
  t.equal(own.statusCode, 200);
  t.equal(own.json().source, TWENTY_FIVE);
  t.equal((await app.inject({ url: `/v1/submissions/${benId}/source`, headers: admin })).json().source, TWENTY_FIVE);
  const theirs = await app.inject({ url: `/v1/submissions/${benId}/source`, headers: { authorization: `Bearer ${other.secret}` } });
  t.equal(theirs.statusCode, 404, "another client's submission is answered like a missing one");
  t.equal(theirs.json().error.code, "submission_not_found");
});

t.test("bucketOf puts a full score in the last bucket and clamps odd scores", async (t) => {
  t.equal(bucketOf(100, 100), SCORE_BUCKETS - 1);
  t.equal(bucketOf(0, 100), 0);
  t.equal(bucketOf(25, 100), 2);
  t.equal(bucketOf(5, 0), 0);
});
