import t from "tap";
import request from "supertest";
import { buildApp, fastLimits } from "../helpers/app.js";
import { packFile } from "../helpers/files.js";
import type { Feedback } from "../../src/grading/feedback.js";

// The second pack exercises what the first does not: arrays with shapes, ranges, a reference
// expectation and proportional scoring, through the same API.
const app = await buildApp(fastLimits);
t.teardown(() => app.close());

async function submit(source: string): Promise<Feedback> {
  const response = await request(app.server).post("/v1/submissions").send({ assignment: "activations", source });
  t.equal(response.status, 200);
  return response.body as Feedback;
}

const file = (name: string) => packFile(name, "activations");

t.test("the activations reference scores 100, arrays and all", async (t) => {
  const feedback = await submit(file("reference/solution.mjs"));
  t.equal(feedback.score, 100);
  t.same(feedback.exercises.map((e) => [e.name, e.maxScore, e.scoring]), [
    ["sigmoid", 20, "all-or-nothing"],
    ["relu", 20, "all-or-nothing"],
    ["softmax", 40, "proportional"],
    ["sigmoid_derivative", 20, "proportional"],
  ]);
});

t.test("a softmax without the max subtraction loses only the share of the tests that overflow", async (t) => {
  const feedback = await submit(file("mutants/softmax-no-max-subtraction.mjs"));
  const softmax = feedback.exercises.find((e) => e.name === "softmax");
  const total = softmax?.tests.length ?? 0;
  const passed = softmax?.tests.filter((x) => x.status === "passed").length ?? 0;
  t.ok(passed > 0 && passed < total, `${passed} of ${total} softmax tests pass`);
  t.equal(softmax?.score, Math.round((40 * passed / total) * 100) / 100, "proportional: 40 points times the share passed");
  t.equal(feedback.exercises.find((e) => e.name === "sigmoid")?.score, 20, "the other exercises keep their points");
});

t.test("softmax over rows instead of columns fails the public column case with its shape and values shown", async (t) => {
  const feedback = await submit(file("mutants/softmax-over-rows.mjs"));
  const column = feedback.exercises.find((e) => e.name === "softmax")?.tests.find((x) => x.id === "softmax-column");
  t.equal(column?.status, "failed");
  t.match(column?.expected, /^an array of numbers of shape \[3, 1\] equal to \[\[0\.09003057317038046\], \[0\.24472847105479764\], \[0\.6652409557748218\]\] \(rtol 1e-12\)$/);
  t.equal(column?.received, "[[1], [1], [1]]");
});

t.test("a flat array where a 2-D one is expected is the wrong shape, with the pack's message", async (t) => {
  const feedback = await submit(file("mutants/relu-returns-flat.mjs"));
  const relu = feedback.exercises.find((e) => e.name === "relu");
  t.equal(relu?.score, 0);
  const failedPublic = relu?.tests.find((x) => x.visibility === "public" && x.status === "failed");
  t.ok(failedPublic, "a public relu test fails");
  t.match(failedPublic?.message, /2-D/);
});

t.test("an all-or-nothing exercise stops at its first timeout, a proportional one runs every case", async (t) => {
  const reference = file("reference/solution.mjs");
  const looping = (name: string) => reference.replace(new RegExp(`export function ${name}\\(([^)]*)\\) \\{`), (head) => `${head}\n  for (;;) {}`);
  const sigmoid = await submit(looping("sigmoid"));
  const sigmoidTests = sigmoid.exercises.find((e) => e.name === "sigmoid")?.tests ?? [];
  const publicSigmoid = sigmoidTests.filter((x) => x.visibility === "public");
  t.ok(publicSigmoid.length >= 2, "sigmoid has several public cases");
  t.match(publicSigmoid[0]?.message, /did not finish within 400 ms/);
  for (const x of publicSigmoid.slice(1)) t.equal(x.message, "Not run: an earlier test of sigmoid timed out, and sigmoid is scored all or nothing.");
  t.same(sigmoid.exercises.filter((e) => e.name === "relu" || e.name === "softmax").map((e) => e.score), [20, 40], "the exercises that do not use sigmoid keep their points");
  const softmax = await submit(looping("softmax"));
  const softmaxPublic = softmax.exercises.find((e) => e.name === "softmax")?.tests.filter((x) => x.visibility === "public") ?? [];
  t.ok(softmaxPublic.length >= 2 && softmaxPublic.every((x) => /did not finish within 400 ms/.test(x.message)), "every softmax case ran (and timed out): proportional scoring gives credit case by case");
});

t.test("the activations contract names its own helper, not the gradient-checking one", async (t) => {
  const response = await request(app.server).get("/v1/assignments/activations");
  t.equal(response.status, 200);
  const body = response.body as { imports: string[]; contract: { module: string } };
  for (const specifier of body.imports) t.match(body.contract.module, `from "${specifier}"`, `the contract shows how to import ${specifier}`);
  t.notMatch(body.contract.module, /gc_utils/);
});
