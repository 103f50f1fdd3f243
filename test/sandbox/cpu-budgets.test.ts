import t from "tap";
import { spawn, type ChildProcess } from "node:child_process";
import { availableParallelism } from "node:os";
import path from "node:path";
import { grade } from "../../src/grading/grade.js";
import { readPackDir } from "../../src/packs/pack-files.js";
import { preparePack } from "../../src/packs/self-test.js";
import { poolOptions, SandboxPool } from "../../src/sandbox/pool.js";
import { root, testConfig } from "../helpers/app.js";
import { fixture } from "../helpers/files.js";

/**
 * Budgets learnt from the reference, enforced in the worker: a call that overruns its CPU budget is stopped
 * there (not at CALL_TIMEOUT_MS), the rest of the submission is still graded, and an honest but slow solution
 * passes however busy the machine is, because the budget counts CPU time, not the clock.
 */

// The service's defaults: budgets learnt (BUDGETS=learnt), a 1 s call limit that the budgets sit far below.
const config = testConfig();
const silent = { debug() {}, info() {}, warn() {}, error() {} };
const pool = new SandboxPool({ ...poolOptions(config, silent), maxGradings: 100, queueLength: 256 });
t.teardown(() => pool.close());
const prepared = await preparePack(await readPackDir(path.join(root, "graders", "gradient-checking")), "gradient-checking", config.limits, { pool, resultMaxDepth: config.resultMaxDepth, concurrency: 2, budget: config.budget });
const gradable = prepared.gradable;
if (gradable?.budgets === undefined) throw new Error("the bundled pack did not prepare with budgets");
const budgets = gradable.budgets;
const options = { pool, resultMaxDepth: config.resultMaxDepth };

function testOf(feedback: Awaited<ReturnType<typeof grade>>["feedback"], id: string) {
  return feedback.exercises.flatMap((e) => e.tests).find((test) => test.id === id);
}

t.test("a looping export is stopped at its case's learnt budget, far below the call limit, and the other cases are still graded", async (t) => {
  const budget = budgets.cases.get("forward-notebook") as number;
  t.ok(budget < config.limits.callTimeoutMs, `the learnt budget (${budget} ms) is below CALL_TIMEOUT_MS (${config.limits.callTimeoutMs} ms)`);
  const { feedback, report, cases } = await grade(gradable, fixture("budgets/loops-when-x-is-2.mjs"), gradable.limits, options);
  const loop = testOf(feedback, "forward-notebook");
  t.equal(loop?.status, "timeout");
  t.equal(loop?.message, `forward_propagation did not finish within ${budget} ms.`, "the student reads the budget that stopped the call");
  const index = cases.findIndex((c) => c.id === "forward-notebook");
  t.same(report.calls[index]?.outcome, { kind: "timeout", limitMs: budget });
  // The calls after the stopped one ran in a fresh isolate: the exercises that never reach x = 2 pass.
  for (const name of ["backward_propagation", "gradient_check_n"]) {
    t.equal(feedback.exercises.find((e) => e.name === name)?.passed, true, `${name} is graded and passes`);
  }
  t.equal(testOf(feedback, "gradient-check-public-tests")?.status, "timeout", "gradient_check(2, 4) reaches the loop too");
  t.equal(testOf(feedback, "gradient-check-notebook")?.status, "passed", "gradient_check(3, 4, …) does not");
});

t.test("a top-level infinite loop is stopped at the learnt load budget", async (t) => {
  t.ok(budgets.loadMs < config.limits.evalTimeoutMs, `the load budget (${budgets.loadMs} ms) is below EVAL_TIMEOUT_MS`);
  const { feedback } = await grade(gradable, fixture("hostile/loop-at-top-level.mjs"), gradable.limits, options);
  t.equal(feedback.status, "rejected");
  t.equal(feedback.reason?.code, "module_timeout");
  t.equal(feedback.reason?.message, `The module's top-level code did not finish within ${budgets.loadMs} ms.`);
});

t.test("correct but slow variants pass with the learnt budgets while busy loops saturate every core", async (t) => {
  const hogs: ChildProcess[] = [];
  for (let i = 0; i < Math.max(2, availableParallelism()); i++) {
    hogs.push(spawn(process.execPath, ["-e", "for (;;) {}"], { stdio: "ignore" }));
  }
  t.teardown(() => {
    for (const hog of hogs) hog.kill("SIGKILL");
  });
  // Give the busy loops a moment to take the cores before grading starts.
  await new Promise((resolve) => setTimeout(resolve, 200));
  for (const file of ["correct-naive-copies.mjs", "correct-own-loops.mjs", "correct-flattened.mjs", "correct-np-helpers.mjs"]) {
    for (let run = 1; run <= 2; run++) {
      const { feedback } = await grade(gradable, fixture(`gradient-checking/${file}`), gradable.limits, options);
      const failed = feedback.exercises.flatMap((e) => e.tests).filter((test) => test.status !== "passed").map((test) => `${test.id}: ${test.message}`);
      t.same(failed, [], `${file}, run ${run}: every test passes`);
      t.equal(feedback.score, feedback.maxScore);
    }
  }
  t.ok(hogs.every((hog) => hog.exitCode === null), "the busy loops ran throughout");
});

t.test("with BUDGETS=off the budgets are the wall-clock limits and a loop runs to the call limit", async (t) => {
  const off = testConfig({ BUDGETS: "off", CALL_TIMEOUT_MS: "300", KILL_GRACE_MS: "200" });
  const unbudgeted = await preparePack(await readPackDir(path.join(root, "graders", "gradient-checking")), "gradient-checking", off.limits, { pool, resultMaxDepth: off.resultMaxDepth, concurrency: 2, budget: off.budget });
  t.equal(unbudgeted.gradable?.budgets?.enforced, false);
  t.equal(unbudgeted.gradable?.budgets?.cases.get("forward-notebook"), 300);
  const { feedback } = await grade(unbudgeted.gradable as NonNullable<typeof unbudgeted.gradable>, fixture("budgets/loops-when-x-is-2.mjs"), off.limits, options);
  t.equal(testOf(feedback, "forward-notebook")?.message, "forward_propagation did not finish within 300 ms.");
});
