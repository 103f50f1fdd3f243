import t from "tap";
import { PassThrough } from "node:stream";
import { buildApp, fastLimits } from "../helpers/app.js";
import { byId, HIDDEN_TEST_KEYS, hiddenAllFailed, distinctiveNumbers, hiddenCases, hiddenTests, honestStillScores100, hostile, reference, score, submit } from "./support.js";
import { readRepoFile } from "../helpers/files.js";
import { readdirSync } from "node:fs";
import path from "node:path";
import { root } from "../helpers/app.js";

// Issue 4, tampering and state: a submission may rewrite anything inside its isolate (prototypes, JSON, Math,
// Function.prototype.call, Promise.prototype.then…), mutate its arguments, and keep state between calls. None
// of it may change a verdict, leak a hidden case, or reach the next submission.
//
// The service's log says which worker graded each submission ("workerId" on the "graded" line): the residue test
// checks that both of its submissions ran in the same worker process.
const log: Array<{ msg?: string; submission?: string; workerId?: number }> = [];
const logStream = new PassThrough();
logStream.on("data", (chunk: Buffer) => {
  for (const line of chunk.toString("utf8").split("\n")) if (line.trim() !== "") log.push(JSON.parse(line) as (typeof log)[number]);
});
const app = await buildApp({ ...fastLimits }, { logStream });
t.teardown(() => app.close());

function workerOf(submission: string): number | undefined {
  return log.find((entry) => entry.msg === "graded" && entry.submission === submission)?.workerId;
}

const referenceOutput =
  "\x1b[92mYour backward propagation works perfectly fine! difference = 7.814075313343006e-11\x1b[0m\n"
  + "\x1b[93mThere is a mistake in the backward propagation! difference = 0.2850931567761623\x1b[0m\n";

t.test("globals and prototypes a submission pollutes are gone for the next submission in the same worker", async (t) => {
  const polluter = await submit(t, app, hostile("residue-pollutes-everything.mjs"));
  t.equal(polluter.feedback.status, "graded");
  const next = await submit(t, app, hostile("residue-checks-for-leftovers.mjs"));
  // Submissions sent one after the other go to the first idle worker: the same one.
  t.type(workerOf(polluter.feedback.id), "number");
  t.equal(workerOf(next.feedback.id), workerOf(polluter.feedback.id), "both ran in the same worker process");
  t.equal(next.feedback.output, `leftovers: none\n${referenceOutput}`, "the next submission finds no leftovers");
  t.equal(next.feedback.score, 100);
  t.equal((await submit(t, app, reference)).feedback.score, 100);
});

t.test("a correct solution that pollutes prototypes (then, Array.prototype[0] setter, toJSON, outcome/kind/value getters) still scores 100", async (t) => {
  const { feedback } = await submit(t, app, hostile("tampers-prototypes-correct.mjs"));
  t.equal(feedback.status, "graded");
  t.equal(feedback.score, 100);
  t.equal(feedback.output, referenceOutput, "and prints exactly what the reference prints");
  await honestStillScores100(t, app);
});

t.test("a correct solution that replaces JSON, Math, Function.prototype.call/apply, Reflect and Promise.prototype.then still scores 100", async (t) => {
  const { feedback } = await submit(t, app, hostile("tampers-intrinsics-correct.mjs"));
  t.equal(feedback.status, "graded");
  t.equal(feedback.score, 100);
  t.equal(feedback.output, referenceOutput);
  await honestStillScores100(t, app);
});

t.test("a wrong solution that tampers to look right still fails exactly the tests it should", async (t) => {
  const { feedback } = await submit(t, app, hostile("tampers-wrong-solution.mjs"));
  t.equal(feedback.status, "graded");
  t.equal(byId(feedback, "forward-notebook")?.status, "failed");
  t.match(byId(feedback, "forward-notebook")?.detail, /^Wrong type: expected a finite number, received an object/);
  t.equal(byId(feedback, "backward-notebook")?.status, "failed");
  t.equal(byId(feedback, "backward-notebook")?.detail, "Wrong value: received 4.");
  for (const hidden of [...hiddenTests(feedback, "forward_propagation"), ...hiddenTests(feedback, "backward_propagation")]) {
    t.equal(hidden.status, "failed", `${hidden.id} fails`);
  }
  t.same(feedback.exercises.map((e) => [e.name, e.score]), [
    ["forward_propagation", 0],
    ["backward_propagation", 0],
    ["gradient_check", 25],
    ["gradient_check_n", 25],
  ]);
  t.equal(feedback.score, 50);
  await honestStillScores100(t, app);
});

t.test("a correct solution that wrecks its arguments after each call still scores 100: every call gets fresh arguments", async (t) => {
  const { feedback } = await submit(t, app, hostile("mutates-inputs.mjs"));
  t.equal(feedback.score, 100);
  t.ok(hiddenTests(feedback, "gradient_check_n").length >= 2, "several gradient_check_n cases ran after the first was wrecked");
  await honestStillScores100(t, app);
});

t.test("a solution that caches its first answer passes the public case and fails every hidden one", async (t) => {
  const { feedback } = await submit(t, app, hostile("caches-first-answer.mjs"));
  for (const [id, exercise] of [["forward-notebook", "forward_propagation"], ["backward-notebook", "backward_propagation"]] as const) {
    t.equal(byId(feedback, id)?.status, "passed", `${id}, called first, passes`);
    const hidden = hiddenTests(feedback, exercise);
    t.ok(hidden.length >= 2);
    hiddenAllFailed(t, feedback, exercise);
    t.equal(score(feedback, exercise), 0);
  }
  await honestStillScores100(t, app);
});

t.test("a solution that records every call's arguments in a global and prints, throws and returns them leaks no hidden case", async (t) => {
  const { feedback, text } = await submit(t, app, hostile("records-arguments.mjs"));
  t.match(feedback.output, /^seen so far: forward_propagation\[2,4\]\n/, "public calls' output comes back");
  // Numbers that public cases also use may appear; anything only a hidden case has may not.
  const publicNumbers = new Set(
    readdirSync(path.join(root, "graders", "gradient-checking", "cases"))
      .map((f) => JSON.parse(readRepoFile("graders", "gradient-checking", "cases", f)) as { visibility: string; args: unknown; expect: unknown })
      .filter((c) => c.visibility === "public")
      .flatMap((c) => [...distinctiveNumbers(c.args), ...distinctiveNumbers(c.expect)]),
  );
  const hidden = hiddenCases();
  t.ok(hidden.length >= 10, "there are hidden cases to check");
  for (const c of hidden) {
    const secret = [...distinctiveNumbers(c.args), ...distinctiveNumbers(c.expect.value ?? c.expect.anyOf)].filter((n) => !publicNumbers.has(n));
    for (const number of secret) t.notOk(text.includes(number), `${c.id}: ${number} is not in the response`);
    t.notOk(text.includes(JSON.stringify(c.args).slice(0, 40)), `${c.id}: its arguments are not in the response`);
  }
  for (const x of feedback.exercises.flatMap((e) => e.tests).filter((x) => x.visibility === "hidden")) {
    t.same(Object.keys(x).sort(), HIDDEN_TEST_KEYS[x.status as "passed" | "failed"], `${x.id} carries no details`);
  }
  await honestStillScores100(t, app);
});
