import t from "tap";
import type { Test } from "tap";
import { buildApp, fastLimits } from "../helpers/app.js";
import type { Feedback } from "../../src/grading/feedback.js";
import { byId, hostile, post, reference, waitForIdleWorkers } from "./support.js";

// Issue 4, "many honest and hostile submissions at once: every honest one is graded correctly and on time".
// Two workers; hostile submissions that loop, exhaust the heap, spin where only the watchdog can stop them, and
// take their worker process down (abort or RSS cap) are mixed with honest ones and all sent at once.
//
// The ceilings are generous so that the process-aborting bombs are "memory" however busy the machine is; the
// looping submissions lower their own limits to 400 ms in the request.
const env = {
  ...fastLimits,
  WORKERS: "2",
  ISOLATE_MEMORY_MB: "16",
  WORKER_RSS_MB: "160",
  CALL_TIMEOUT_MS: "5000",
  EVAL_TIMEOUT_MS: "5000",
  SUBMISSION_WALL_MS: "15000",
};
const app = await buildApp(env);
t.teardown(() => app.close());

const fast = { limits: { callTimeoutMs: 400, evalTimeoutMs: 400 } };

interface Hostile {
  file: string;
  extra: Record<string, unknown>;
  check: (t: Test, feedback: Feedback) => void;
}

const hostiles: Hostile[] = [
  {
    file: "loop-at-top-level.mjs",
    extra: fast,
    check: (t, f) => t.equal(f.reason?.code, "module_timeout", "the top-level loop is module_timeout"),
  },
  {
    file: "throws-spinning-message-at-top-level.mjs",
    extra: fast,
    check: (t, f) => t.equal(f.reason?.code, "module_timeout", "the top-level spinning getter is module_timeout"),
  },
  {
    file: "loop-in-export.mjs",
    extra: fast,
    check: (t, f) => {
      t.equal(byId(f, "forward-notebook")?.status, "timeout", "the looping export times out");
      t.equal(f.exercises.find((e) => e.name === "backward_propagation")?.score, 25, "its correct neighbour is graded");
    },
  },
  {
    file: "memory-grows-until-the-limit.mjs",
    extra: {},
    check: (t, f) => t.equal(byId(f, "forward-notebook")?.status, "memory", "the heap bomb is a memory verdict"),
  },
  {
    file: "memory-array-fill-1e8.mjs",
    extra: {},
    check: (t, f) => t.equal(byId(f, "forward-notebook")?.status, "memory", "new Array(1e8).fill(0) is a memory verdict"),
  },
  {
    file: "memory-millions-of-keys.mjs",
    extra: {},
    check: (t, f) => t.equal(byId(f, "forward-notebook")?.status, "memory", "millions of keys is a memory verdict"),
  },
  {
    file: "memory-array-from-5e7.mjs",
    extra: {},
    check: (t, f) => t.equal(byId(f, "forward-notebook")?.status, "memory", "Array.from({ length: 5e7 }) is a memory verdict"),
  },
];

t.test("many honest and hostile submissions at once: every honest one is graded correctly and on time", async (t) => {
  const honestCount = 12;
  const started = Date.now();
  // Interleaved: a hostile submission after every second honest one (and the rest at the end).
  const sends: Array<Promise<{ kind: "honest"; index: number; answer: Awaited<ReturnType<typeof post>> } | { kind: "hostile"; hostile: Hostile; answer: Awaited<ReturnType<typeof post>> }>> = [];
  for (let i = 0; i < Math.max(honestCount, hostiles.length * 2); i++) {
    if (i < honestCount) sends.push(post(app, reference).then((answer) => ({ kind: "honest" as const, index: i, answer })));
    const h = hostiles[(i - 1) / 2];
    if (i % 2 === 1 && h !== undefined) sends.push(post(app, hostile(h.file), h.extra).then((answer) => ({ kind: "hostile" as const, hostile: h, answer })));
  }
  const results = await Promise.all(sends);
  const totalMs = Date.now() - started;

  const honest = results.filter((r) => r.kind === "honest");
  t.equal(honest.length, honestCount);
  for (const r of honest) {
    t.equal(r.answer.status, 200, `honest #${r.index} answered 200`);
    t.equal(r.answer.feedback.status, "graded", `honest #${r.index} graded`);
    t.equal(r.answer.feedback.score, 100, `honest #${r.index} scores 100 (answered in ${r.answer.ms} ms)`);
    t.ok(r.answer.feedback.exercises.every((e) => e.tests.every((x) => x.status === "passed")), `honest #${r.index}: every test passed, none timed out`);
  }
  t.equal(results.filter((r) => r.kind === "hostile").length, hostiles.length, "every hostile submission was sent");
  for (const r of results) {
    if (r.kind !== "hostile") continue;
    t.equal(r.answer.status, 200, `${r.hostile.file} answered 200`);
    r.hostile.check(t, r.answer.feedback);
  }
  // All of it is about 20 gradings on two workers, some of which must be killed and replaced.
  t.ok(totalMs < 30_000, `everything was answered in ${totalMs} ms`);
  const slowestHonest = Math.max(...honest.map((r) => r.answer.ms));
  t.ok(slowestHonest < 20_000, `the slowest honest submission, queued behind the hostile ones, was answered in ${slowestHonest} ms`);

  const after = await waitForIdleWorkers(app, 2);
  t.equal(after.workers, 2, "both workers are there afterwards (killed ones were replaced)");
  t.equal(after.ready, 2);
  const again = await post(app, reference);
  t.equal(again.feedback.score, 100, "and grading goes on");
});
