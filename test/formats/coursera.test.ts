import t from "tap";
import { buildApp } from "../helpers/app.js";
import { COURSERA_MAX_BYTES, OUTPUT_CUT, REPORT_CUT, type CourseraResult } from "../../src/formats/coursera.js";
import { claimsAllPassed, failsOnlyHidden, formatValidator, reference, submitAs, syntaxError } from "./support.js";

// The default limits: these submissions are honest or wrong, never hostile, and a 25-call grading must
// not miss a 400 ms limit on a loaded machine.
const app = await buildApp();
t.teardown(() => app.close());

const validate = formatValidator("coursera");

async function grade(source: string): Promise<CourseraResult> {
  const response = await submitAs(app, "coursera", source);
  t.equal(response.status, 200, "a submission is answered with 200");
  const result = response.body as CourseraResult;
  t.ok(validate(result), `the feedback matches submissions-schema/formats/coursera.schema.json ${JSON.stringify(validate.errors)}`);
  t.notMatch(result.feedback, /[\u0000-\u0008\u000b-\u001f]/, "plain text: no ANSI colours or other control characters");
  return result;
}

t.test("the reference solution gets fractionalScore 1 and a plain-text report", async (t) => {
  const result = await grade(reference);
  t.equal(result.fractionalScore, 1);
  t.match(result.feedback, /^All tests passed\.\n\nScore: 100 \/ 100\n\nExercise 1 - forward_propagation: 25 \/ 25\n {2}\[passed\] forward-notebook: Passed\.\n {2}\[passed\] Hidden test 1 of forward_propagation passed\./);
  t.match(result.feedback, /\n\nConsole output:\nYour backward propagation works perfectly fine! difference = 7\.814075313343006e-11\n/);
});

t.test("a submission that fails only hidden tests gets 0.75 and is told which exercise's hidden tests failed", async (t) => {
  const result = await grade(failsOnlyHidden);
  t.equal(result.fractionalScore, 0.75);
  t.match(result.feedback, /^All 5 public tests passed, but 7 of 20 hidden tests failed \(in gradient_check_n\)\./);
  t.notOk(claimsAllPassed(result.feedback));
  t.match(result.feedback, /Exercise 4 - gradient_check_n: 0 \/ 25\n {2}\[passed\] gradient-check-n-notebook: Passed\./);
  t.equal(result.feedback.match(/\[FAILED\] Hidden test \d of gradient_check_n failed\. Hidden tests call the function/g)?.length, 7);
});

t.test("a syntax error gets 0 and the error, and lists no test that did not run", async (t) => {
  const result = await grade(syntaxError);
  t.equal(result.fractionalScore, 0);
  t.match(result.feedback, /^Not graded: the module could not be loaded \(syntax_error\)\.\n\nSyntaxError: .*\(line 5, column \d+\)\n\nScore: 0 \/ 100/);
  t.notMatch(result.feedback, /\[(passed|FAILED)\]/);
});

t.test("feedback.json never exceeds Coursera's 64 KB: the console output is cut first and says so, the report stays whole", async (t) => {
  // The default OUTPUT_KIB (64) alone overflows 64 KB once the report is added.
  const source = `console.log("x".repeat(200_000));\n${reference}`;
  const response = await submitAs(app, "coursera", source);
  t.equal(response.status, 200);
  const bytes = Buffer.byteLength(response.text, "utf8");
  t.ok(bytes <= COURSERA_MAX_BYTES, `feedback.json is ${bytes} bytes`);
  t.ok(bytes > COURSERA_MAX_BYTES - 200, "the output is cut no more than it has to be");
  const result = response.body as CourseraResult;
  t.ok(validate(result));
  t.equal(result.fractionalScore, 1);
  t.match(result.feedback, /^All tests passed\.\n\nScore: 100 \/ 100\n\nExercise 1 - forward_propagation/, "the summary and score come first");
  t.match(result.feedback, /\[passed\] Hidden test \d of gradient_check_n passed\./, "every exercise's tests are still listed");
  t.ok(result.feedback.endsWith(OUTPUT_CUT), "the feedback ends with the marker saying the output was cut");
});

t.test("when even the tests overflow 64 KB, the end of the report is cut with a marker, never the summary", async (t) => {
  const noisy = await buildApp({ OUTPUT_KIB: "1024" });
  t.teardown(() => noisy.close());
  // Each public test prints 100 KB of its own: the tests' details alone are far over 64 KB.
  const source = reference.replace("export function forward_propagation(x, theta) {", 'export function forward_propagation(x, theta) {\n  console.log("é".repeat(50_000));');
  t.not(source, reference);
  const response = await submitAs(noisy, "coursera", source);
  const bytes = Buffer.byteLength(response.text, "utf8");
  t.ok(bytes <= COURSERA_MAX_BYTES, `feedback.json is ${bytes} bytes`);
  const result = response.body as CourseraResult;
  t.ok(validate(result));
  // forward_propagation's noise is printed inside gradient_check too, whose messages are graded: its
  // message cases fail, and the summary saying so comes first, whole.
  t.match(result.feedback, /^1 of 5 public tests failed \(in gradient_check\); and 3 of 20 hidden tests failed \(in gradient_check\)\.\n\nScore: 75 \/ 100\n/);
  t.ok(result.feedback.endsWith(REPORT_CUT) || result.feedback.endsWith(OUTPUT_CUT), "a marker says what was cut");
});

t.test("the schema does not allow feedbackType, which would send Coursera looking for a file gradebox never writes", async (t) => {
  t.notOk(validate({ fractionalScore: 1, feedback: "ok", feedbackType: "HTML" }));
  t.notOk(validate({ fractionalScore: 1, feedback: "ok", feedbackType: "TXT" }));
});
