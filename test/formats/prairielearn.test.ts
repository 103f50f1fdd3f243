import t from "tap";
import request from "supertest";
import { buildApp, fastLimits } from "../helpers/app.js";
import type { PrairieLearnResults } from "../../src/formats/prairielearn.js";
import { claimsAllPassed, failsOnlyHidden, formatValidator, reference, submitAs, syntaxError, throwsAtTopLevel } from "./support.js";

const app = await buildApp({ ...fastLimits });
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
  t.equal(results.tests.length, 25);
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
  const hidden = results.tests.filter((test) => test.name.startsWith("gradient_check_n (hidden test"));
  t.equal(hidden.length, 8);
  const failed = hidden.filter((test) => /failed\./.test(test.message));
  t.equal(failed.length, 7);
  for (const test of failed) {
    t.equal(test.points, 0);
    t.match(test.message, /^Hidden test \d of gradient_check_n failed\. /);
    t.equal(test.output, "", "a hidden test has no output");
    t.equal(test.description, "A hidden test of gradient_check_n: its arguments and expected value are not shown.");
  }
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

t.test("the format may be given in the body instead of the query string", async (t) => {
  const response = await request(app.server).post("/v1/submissions").send({ assignment: "gradient-checking", source: reference, format: "prairielearn" });
  t.equal(response.status, 200);
  t.equal(response.body.gradable, true);
  t.equal(response.body.score, 1);
});
