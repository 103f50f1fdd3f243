import t from "tap";
import { buildApp, fastLimits } from "../helpers/app.js";
import type { XqueueResult } from "../../src/formats/xqueue.js";
import { claimsAllPassed, failsOnlyHidden, formatValidator, reference, submitAs, syntaxError, xmlProblem } from "./support.js";

const app = await buildApp({ ...fastLimits });
t.teardown(() => app.close());

const validate = formatValidator("xqueue");

async function grade(source: string): Promise<XqueueResult> {
  const response = await submitAs(app, "xqueue", source);
  t.equal(response.status, 200, "a submission is answered with 200");
  const result = response.body as XqueueResult;
  t.ok(validate(result), `the reply matches submissions-schema/formats/xqueue.schema.json ${JSON.stringify(validate.errors)}`);
  t.equal(xmlProblem(result.msg), undefined, "msg parses as XML with one root element, as the LMS requires");
  return result;
}

t.test("the reference solution is correct with score 1", async (t) => {
  const result = await grade(reference);
  t.equal(result.correct, true);
  t.equal(result.score, 1);
  t.match(result.msg, /^<div class="gradebox-feedback">\n<p>All tests passed\.<\/p>/);
  t.match(result.msg, /<p>Score: 100 \/ 100<\/p>/);
  t.match(result.msg, /<li>Hidden test 1 of forward_propagation passed\.<\/li>/);
});

t.test("a submission that fails only hidden tests is not correct, scores 0.75 and is told so", async (t) => {
  const result = await grade(failsOnlyHidden);
  t.equal(result.correct, false, "correct only with full credit");
  t.equal(result.score, 0.75);
  t.match(result.msg, /<p>All 5 public tests passed, but 7 of 20 hidden tests failed \(in gradient_check_n\)\.<\/p>/);
  t.notOk(claimsAllPassed(result.msg));
  t.equal(result.msg.match(/Hidden test \d of gradient_check_n failed\./g)?.length, 7);
});

t.test("a syntax error is not correct, scores 0 and shows the error", async (t) => {
  const result = await grade(syntaxError);
  t.equal(result.correct, false);
  t.equal(result.score, 0);
  t.match(result.msg, /<p>SyntaxError: .*\(line 5, column \d+\)<\/p>/);
});

t.test("everything a student wrote is escaped: output, messages and received values cannot inject HTML", async (t) => {
  const source = reference
    .replace("export function forward_propagation(x, theta) {", 'export function forward_propagation(x, theta) {\n  console.log("<script>alert(\\"out\\")</script> & \\u001b[31mred\\u001b[0m\\u0000");')
    .replace("export function backward_propagation(x, theta) {", 'export function backward_propagation(x, theta) {\n  throw new Error("<img src=x onerror=alert(1)>");');
  t.not(source, reference, "the edits applied");
  const result = await grade(source);
  t.notMatch(result.msg, /<script|<img/i, "no tag from the student survives");
  t.match(result.msg, /&lt;script&gt;alert\(&quot;out&quot;\)&lt;\/script&gt; &amp; red/, "the output is shown escaped, without colours or NUL");
  t.match(result.msg, /&lt;img src=x onerror=alert\(1\)&gt;/, "the error message is shown escaped");
});
