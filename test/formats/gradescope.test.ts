import t from "tap";
import { buildApp } from "../helpers/app.js";
import type { GradescopeResults } from "../../src/formats/gradescope.js";
import { claimsAllPassed, failsOnlyHidden, formatValidator, reference, submitAs, syntaxError } from "./support.js";

// The default limits: these submissions are honest or wrong, never hostile, and a 25-call grading must
// not miss a 400 ms limit on a loaded machine.
const app = await buildApp();
t.teardown(() => app.close());

const validate = formatValidator("gradescope");

async function grade(source: string): Promise<GradescopeResults> {
  const response = await submitAs(app, "gradescope", source);
  t.equal(response.status, 200, "a submission is answered with 200");
  t.match(response.headers["content-type"], /^application\/json/);
  const results = response.body as GradescopeResults;
  t.ok(validate(results), `the results match submissions-schema/formats/gradescope.schema.json ${JSON.stringify(validate.errors)}`);
  return results;
}

const sum = (results: GradescopeResults) => Math.round(results.tests.reduce((total, test) => total + test.score, 0) * 100) / 100;

t.test("the reference solution gets the full score in Gradescope's results.json, every test passed", async (t) => {
  const results = await grade(reference);
  t.equal(results.score, 100);
  t.equal(sum(results), 100, "the tests' scores add up to the score");
  t.equal(results.tests.length, 25, "one entry per test, hidden ones included");
  t.ok(results.tests.every((test) => test.status === "passed" && test.score === test.max_score));
  t.match(results.output, /^All tests passed\.\n/);
  t.match(results.output, /Your backward propagation works perfectly fine!/, "the console output is in the top-level output");
  t.notMatch(results.output, /\u001b/, "without ANSI colours");
  t.equal(results.output_format, "text", "the top-level output is not rendered as HTML");
  t.equal(results.test_output_format, "text");
  t.same(results.tests.slice(0, 3).map((test) => [test.name, test.number, test.tags]), [
    ["forward_propagation: forward-notebook", "1.1", ["forward_propagation", "public"]],
    ["forward_propagation (hidden test 1)", "1.2", ["forward_propagation", "hidden"]],
    ["forward_propagation (hidden test 2)", "1.3", ["forward_propagation", "hidden"]],
  ]);
  t.equal(results.extra_data.gradebox.status, "graded");
  t.equal(results.extra_data.gradebox.maxScore, 100);
});

t.test("a submission that passes the public tests but fails hidden ones is not told that all tests passed", async (t) => {
  const results = await grade(failsOnlyHidden);
  t.equal(results.score, 75);
  t.equal(sum(results), 75);
  t.match(results.output, /^All 5 public tests passed, but 7 of 20 hidden tests failed \(in gradient_check_n\)\./);
  t.notOk(claimsAllPassed(JSON.stringify(results)), "no 'All tests passed' anywhere");
  const failed = results.tests.filter((test) => test.status === "failed");
  t.same(failed.map((test) => test.name), [1, 3, 4, 5, 6, 7, 8].map((n) => `gradient_check_n (hidden test ${n})`));
  for (const test of failed) {
    t.match(test.output, /^Hidden test \d of gradient_check_n failed\. Hidden tests call the function with other arguments/, `${test.name} says only that it failed, with a generic hint`);
    t.equal(test.score, 0);
    t.equal(test.visibility, "visible");
  }
  const publicNotebook = results.tests.find((test) => test.name === "gradient_check_n: gradient-check-n-notebook");
  t.equal(publicNotebook?.status, "passed");
  t.equal(publicNotebook?.score, 0, "an all-or-nothing exercise earns no points for its passing tests when one fails");
});

t.test("a syntax error scores 0, says why in the output and marks every test failed without running it", async (t) => {
  const results = await grade(syntaxError);
  t.equal(results.score, 0);
  t.match(results.output, /^Not graded: the module could not be loaded \(syntax_error\)/);
  t.match(results.output, /SyntaxError: .*\(line 5, column \d+\)/);
  t.equal(results.extra_data.gradebox.rejection, "syntax_error");
  t.ok(results.tests.every((test) => test.status === "failed" && test.score === 0 && test.output.endsWith("Not run: the module could not be loaded.")));
  t.notOk(claimsAllPassed(JSON.stringify(results)));
});

t.test("a student's output is passed on as text, with control characters removed", async (t) => {
  const source = reference.replace("export function forward_propagation(x, theta) {", 'export function forward_propagation(x, theta) {\n  console.log("<script>alert(1)</script>\\u0007\\u001b[31mred\\u001b[0m");');
  t.not(source, reference, "the edit applied");
  const results = await grade(source);
  const notebook = results.tests.find((test) => test.name === "forward_propagation: forward-notebook");
  t.match(notebook?.output, /Output:\n<script>alert\(1\)<\/script>red$/, "shown as text (output_format text), without the bell and the colours");
});
