import t from "tap";
import request from "supertest";
import { buildApp } from "../helpers/app.js";
import { OUTPUT_CUT, PRAIRIELEARN_MAX_BYTES, type PrairieLearnResults } from "../../src/formats/prairielearn.js";
import { packFile } from "../helpers/files.js";
import { claimsAllPassed, failsOnlyHidden, formatValidator, reference, submitAs, syntaxError, throwsAtTopLevel } from "./support.js";

// The default limits: these submissions are honest or wrong, never hostile, and a 25-call grading must
// not miss a 400 ms limit on a loaded machine.
const app = await buildApp();
t.teardown(() => app.close());

const validate = formatValidator("prairielearn");

async function grade(source: string): Promise<PrairieLearnResults> {
  const response = await submitAs(app, "prairielearn", source);
  t.equal(response.status, 200, "a submission is answered with 200");
  const results = response.body as PrairieLearnResults;
  t.ok(validate(results), `the results match submissions-schema/formats/prairielearn.schema.json ${JSON.stringify(validate.errors)}`);
  return results;
}

function gradable(results: PrairieLearnResults) {
  if (!results.gradable) throw new Error(`not gradable: ${results.message}`);
  return results;
}

t.test("the reference solution scores 1 in PrairieLearn's results, every test with its points", async (t) => {
  const results = gradable(await grade(reference));
  t.equal(results.score, 1);
  t.equal(results.message, "All tests passed.");
  t.same(results.tests.map((test) => test.name), ["forward_propagation", "backward_propagation", "gradient_check", "gradient_check_n"], "one entry per all-or-nothing exercise");
  t.ok(results.tests.every((test) => test.points === test.max_points && test.max_points > 0));
  t.equal(Math.round(results.tests.reduce((total, test) => total + test.max_points, 0)), 100, "the tests' max_points add up to the assignment's points");
  t.match(results.output, /Your backward propagation works perfectly fine!/);
  t.notMatch(results.output, /\u001b/, "without ANSI colours");
});

t.test("a submission that fails only hidden tests scores 0.75 and is told that hidden tests failed", async (t) => {
  const results = gradable(await grade(failsOnlyHidden));
  t.equal(results.score, 0.75);
  t.equal(results.message, "All 5 public tests passed, but 7 of 20 hidden tests failed (in gradient_check_n).");
  t.notOk(claimsAllPassed(JSON.stringify(results)));
  const exercise = results.tests.find((test) => test.name === "gradient_check_n");
  if (exercise === undefined) throw new Error("no entry for gradient_check_n");
  t.equal(exercise.points, 0);
  t.equal(exercise.max_points, 25);
  t.equal(exercise.message, "7 of 9 tests failed: this exercise earns its points only when every test passes.");
  t.match(exercise.output, /^\[passed\] gradient-check-n-notebook: Passed\./, "the passed public test is listed as passed");
  t.equal(exercise.output.match(/^\[FAILED\] Hidden test \d of gradient_check_n failed\. /gm)?.length, 7);
});

/** What an entry's message says: that what it stands for passed. */
function saysPassed(test: { message: string }): boolean {
  return /^(Passed\.|Hidden test \d+ of \w+ passed\.|All \d+ tests passed\.)$/.test(test.message);
}

t.test("PrairieLearn draws an entry green only when it passed: points equal max_points exactly when its message says passed", async (t) => {
  const activations = (source: string) => submitAs(app, "prairielearn", source, { assignment: "activations" });
  const checked: Array<[string, PrairieLearnResults]> = [
    ["a submission failing only hidden tests of an all-or-nothing exercise", await grade(failsOnlyHidden)],
    ["the activations reference", (await activations(packFile("reference/solution.mjs", "activations"))).body as PrairieLearnResults],
    ["an activations mutant failing proportional softmax tests", (await activations(packFile("mutants/softmax-no-max-subtraction.mjs", "activations"))).body as PrairieLearnResults],
  ];
  for (const [what, results] of checked) {
    const entries = gradable(results).tests;
    t.ok(validate(results), `${what}: the results match the schema`);
    for (const test of entries) t.equal(test.points === test.max_points, saysPassed(test), `${what}: ${test.name} [${test.points}/${test.max_points}] "${test.message}"`);
  }
  const mutant = gradable(checked[2]![1]);
  t.ok(mutant.tests.some((test) => test.name.startsWith("softmax: ") || test.name.startsWith("softmax (hidden")), "a proportional exercise keeps one entry per test");
  t.ok(mutant.tests.some((test) => !saysPassed(test)), "the mutant fails some entry");
  t.ok(mutant.score < 1);
});

t.test("a syntax error is not gradable: no attempt is charged and format_errors says where", async (t) => {
  const results = await grade(syntaxError);
  t.equal(results.gradable, false);
  if (results.gradable) return;
  t.equal(results.format_errors.length, 1);
  t.match(results.format_errors[0], /^SyntaxError: .*\(line 5, column \d+\)$/);
  t.notOk("score" in results, "no score: PrairieLearn ignores it for an ungradable submission");
  const typescript = (await submitAs(app, "prairielearn", "enum Step { Plus }\nexport const forward_propagation = (x: number, theta: number): number => theta * x;\n", { language: "typescript" })).body as PrairieLearnResults;
  t.equal(typescript.gradable, false, "TypeScript that cannot run once its types are removed is not gradable either");
});

t.test("a module that throws at top level is gradable and scores 0, with the error in the message", async (t) => {
  const results = gradable(await grade(throwsAtTopLevel));
  t.equal(results.score, 0);
  t.match(results.message, /^Not graded: the module could not be loaded \(module_threw\)\. .*RangeError: no way/);
  t.ok(results.tests.every((test) => test.points === 0 && test.message === "Not run: the module could not be loaded."));
});

t.test("results.json stays under PrairieLearn's 1 MB limit when OUTPUT_KIB is near its maximum, cutting the output first", async (t) => {
  const noisy = await buildApp({ OUTPUT_KIB: "4096" });
  t.teardown(() => noisy.close());
  // Quotes and backslashes double in JSON: 4 MiB of them would be 8 MiB of results.json.
  const source = `console.log('"\\\\'.repeat(1_400_000));\n${reference}`;
  const response = await submitAs(noisy, "prairielearn", source);
  t.equal(response.status, 200);
  const bytes = Buffer.byteLength(response.text, "utf8");
  t.ok(bytes <= PRAIRIELEARN_MAX_BYTES && bytes < 1024 * 1024, `results.json is ${bytes} bytes`);
  t.ok(bytes > PRAIRIELEARN_MAX_BYTES - 10_000, "the output is cut no more than it has to be");
  const results = gradable(response.body as PrairieLearnResults);
  t.ok(validate(results));
  t.equal(results.score, 1, "the score is unchanged");
  t.equal(results.message, "All tests passed.");
  t.ok(results.output.endsWith(OUTPUT_CUT), "the output ends with a marker saying it was cut");
  t.equal(results.tests.length, 4, "every entry is still there");
});

t.test("the format may be given in the body instead of the query string", async (t) => {
  const response = await request(app.server).post("/v1/submissions").send({ assignment: "gradient-checking", source: reference, format: "prairielearn" });
  t.equal(response.status, 200);
  t.equal(response.body.gradable, true);
  t.equal(response.body.score, 1);
});
