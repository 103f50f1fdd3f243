import t from "tap";
import path from "node:path";
import { buildApp, fastLimits, root } from "../helpers/app.js";
import type { Limits } from "../../src/config.js";
import { grade } from "../../src/grading/grade.js";
import type { GradablePack } from "../../src/packs/types.js";
import { readPackDir } from "../../src/packs/pack-files.js";
import { parsePack } from "../../src/packs/pack.js";
import { SandboxPool, type PoolOptions } from "../../src/sandbox/pool.js";
import { byId, honestStillScores100, hostile, post, reference, submit, waitForBusyWorker, waitForIdleWorkers } from "./support.js";

// Issue 4, the pool that supervises worker processes from the HTTP process: a worker that misses the service's
// own wall-clock deadline is killed and the submission still gets a verdict; workers are replaced after
// WORKER_MAX_GRADINGS gradings and after their isolate had to be disposed; a full queue is refused at once with
// 503 queue_full and Retry-After; and a worker whose resident memory passes WORKER_RSS_MB is killed, with a
// memory verdict.

// The service: two workers, no queue, and an RSS cap far below the isolate's heap limit. Built first, so that its
// start (which self-tests the pack) does not compete with the pools below.
const env = { ...fastLimits, WORKERS: "2", QUEUE_LENGTH: "0", ISOLATE_MEMORY_MB: "1024", WORKER_RSS_MB: "128", CALL_TIMEOUT_MS: "3000" };
const app = await buildApp(env);
t.teardown(() => app.close());

// ---- pools built directly, with limits the service would never be configured with ----------------------------

const { pack } = parsePack(await readPackDir(path.join(root, "graders", "gradient-checking")), "gradient-checking");
if (pack === undefined) throw new Error("the gradient-checking pack does not parse");

const silent = { debug() {}, info() {}, warn() {}, error() {} };

function pool(options: Partial<PoolOptions> = {}): SandboxPool {
  return new SandboxPool({ size: 1, maxGradings: 50, rssMb: 512, spawnTimeoutMs: 20_000, killGraceMs: 300, queueLength: 10, resultMaxDepth: 32, logger: silent, ...options });
}

function limits(overrides: Partial<Limits> = {}): Limits {
  return { callTimeoutMs: 400, evalTimeoutMs: 400, submissionWallMs: 4000, isolateMemoryMb: 64, outputKiB: 64, resultKiB: 64, ...overrides };
}

async function gradeWith(p: SandboxPool, source: string, lim: Limits) {
  const gradable: GradablePack = { pack: pack as NonNullable<typeof pack>, referenceValues: new Map(), limits: lim };
  return grade(gradable, source, lim, { pool: p, resultMaxDepth: 32 });
}

t.test("a worker that misses the service's deadline (its own watchdog set too late) is killed, the submission gets module_timeout, and the worker is replaced", async (t) => {
  // The worker's watchdog would fire at EVAL_TIMEOUT_MS + KILL_GRACE_MS = 2100 ms; the service's deadline is
  // SUBMISSION_WALL_MS + 2 × KILL_GRACE_MS = 400 ms. The spinning message getter escapes isolated-vm's timeout.
  const p = pool({ killGraceMs: 100 });
  t.teardown(() => p.close());
  await p.ready();
  const tight = limits({ evalTimeoutMs: 2000, callTimeoutMs: 2000, submissionWallMs: 200 });
  const started = Date.now();
  const { feedback, report } = await gradeWith(p, hostile("throws-spinning-message-at-top-level.mjs"), tight);
  const ms = Date.now() - started;
  t.equal(report.workerDeath, "killed: missed the 200 ms deadline");
  t.ok(ms < 1500, `answered in ${ms} ms, at the service's deadline rather than the worker's watchdog`);
  t.equal(feedback.status, "rejected");
  t.equal(feedback.reason?.code, "module_timeout");
  const next = await gradeWith(p, reference, limits());
  t.not(next.report.workerId, report.workerId, "the next submission runs in a new worker");
  t.equal(next.feedback.score, 100, "and scores 100");
  t.equal(p.stats().workers, 1);
});

t.test("a submission that spends its whole time budget in timeouts: the tests after it are not run, and nothing is killed", async (t) => {
  // Each call may take CALL_TIMEOUT_MS (400 ms), but the worker caps it at what is left of SUBMISSION_WALL_MS
  // (1000 ms, counted from the start of loading). Public cases run first; five of them would need 2000 ms.
  const p = pool();
  t.teardown(() => p.close());
  await p.ready();
  const started = Date.now();
  const { feedback, report } = await gradeWith(p, hostile("loops-in-every-export.mjs"), limits({ submissionWallMs: 1000 }));
  const ms = Date.now() - started;
  t.ok(ms < 1000 + 2 * 300, `answered in ${ms} ms, within the budget and its grace`);
  t.equal(report.workerDeath, undefined, "the worker kept to the budget by itself");
  t.equal(byId(feedback, "forward-notebook")?.message, "forward_propagation did not finish within 400 ms.");
  // Where exactly the budget ends depends on how long loading took; the last public case is past it in any case.
  t.equal(byId(feedback, "gradient-check-n-notebook")?.message, "Not run: the submission used up its time budget of 1000 ms before this test.");
  t.ok(feedback.exercises.every((e) => e.tests.every((x) => x.status === (x.visibility === "public" ? "timeout" : "failed"))), "every public test is a timeout, every hidden one failed");
  const next = await gradeWith(p, reference, limits());
  t.equal(next.report.workerId, report.workerId, "the same worker grades the next submission");
  t.equal(next.feedback.score, 100);
});

t.test("a worker whose isolate had to be disposed by its watchdog answers, then is replaced before the next submission", async (t) => {
  const p = pool();
  t.teardown(() => p.close());
  await p.ready();
  const { feedback, report } = await gradeWith(p, hostile("throws-spinning-message-at-top-level.mjs"), limits());
  t.equal(report.workerDeath, undefined, "the worker answered by itself (no kill during the grading)");
  t.equal(feedback.reason?.code, "module_timeout");
  const next = await gradeWith(p, reference, limits());
  t.not(next.report.workerId, report.workerId, "a tainted worker is not reused");
  t.equal(next.feedback.score, 100);
});

t.test("a pool is ready only once all its workers are: with no queue, as many gradings as workers are accepted at once", async (t) => {
  // The service's start self-tests the pack with one lane per worker; with QUEUE_LENGTH=0 a lane that found its
  // worker still starting used to be refused queue_full, and the service did not start.
  const p = pool({ size: 2, queueLength: 0 });
  t.teardown(() => p.close());
  await p.ready();
  t.equal(p.stats().ready, 2, "both workers are ready");
  const both = await Promise.all([gradeWith(p, reference, limits()), gradeWith(p, reference, limits())]);
  t.same(both.map((r) => r.feedback.score), [100, 100], "two gradings at once are both accepted and graded");
  t.not(both[0]?.report.workerId, both[1]?.report.workerId, "one per worker");
});

t.test("workers are recycled after WORKER_MAX_GRADINGS gradings", async (t) => {
  const p = pool({ maxGradings: 3 });
  t.teardown(() => p.close());
  await p.ready();
  const ids: number[] = [];
  for (let i = 0; i < 7; i++) {
    const { feedback, report } = await gradeWith(p, reference, limits());
    t.equal(feedback.score, 100, `grading ${i + 1} scores 100`);
    ids.push(report.workerId);
  }
  const [a, b, c] = [ids[0], ids[3], ids[6]];
  t.same(ids, [a, a, a, b, b, b, c], `three gradings per worker (${ids.join(", ")})`);
  t.ok(a !== b && b !== c && a !== c, "three different workers");
});

t.test("with every worker busy and QUEUE_LENGTH=0, a submission is refused at once with 503 queue_full and Retry-After", async (t) => {
  await waitForIdleWorkers(app, 2);
  const slow = [post(app, hostile("loop-at-top-level.mjs")), post(app, hostile("loop-at-top-level.mjs"))];
  const busy = await waitForBusyWorker(app, 2);
  t.equal(busy.busy, 2, "both workers are busy with a looping submission");
  const refused = await post(app, reference);
  t.equal(refused.status, 503);
  t.equal(refused.feedback.status, undefined, "no feedback");
  const body = refused.feedback as unknown as { error: { code: string; message: string } };
  t.equal(body.error.code, "queue_full");
  t.match(body.error.message, /^All graders are busy and the queue is full; retry after \d+ s$/);
  t.match(refused.headers["retry-after"], /^[1-9]\d*$/, "Retry-After is a whole number of seconds");
  t.ok(refused.ms < 1000, `refused in ${refused.ms} ms, without waiting`);
  for (const answer of await Promise.all(slow)) {
    t.equal(answer.status, 200, "a submission that was running is answered");
    t.equal(answer.feedback.reason?.code, "module_timeout");
  }
  await waitForIdleWorkers(app, 2);
  await honestStillScores100(t, app, env);
});

t.test("a worker whose resident memory passes WORKER_RSS_MB is killed: a memory verdict naming the cap, and a new worker", async (t) => {
  await waitForIdleWorkers(app, 2);
  // The isolate may use 1024 MB of heap, so only the service's RSS cap (128 MB) can stop this.
  const { feedback } = await submit(t, app, hostile("memory-grows-until-the-limit.mjs"), {}, env);
  t.equal(byId(feedback, "forward-notebook")?.status, "memory");
  t.equal(byId(feedback, "forward-notebook")?.message, "forward_propagation ran out of memory (limit 128 MB).");
  t.equal(byId(feedback, "backward-notebook")?.message, "Not run: an earlier test exhausted the sandbox (time or memory).");
  const after = await waitForIdleWorkers(app, 2);
  t.equal(after.ready, 2, "a new worker took its place");
  await honestStillScores100(t, app, env);
});
